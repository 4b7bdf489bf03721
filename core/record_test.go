package core

import (
	"bytes"
	"strings"
	"testing"
)

func TestRecordRoundTrip(t *testing.T) {
	cases := []record{
		{},
		{created: 1764460800000, lastSeen: 1764460800000, deadline: 1764547200000},
		{created: 1, lastSeen: 2, deadline: 3, userID: "42", userAgent: "Mozilla/5.0", remoteAddr: "[::1]:5000", data: []byte("payload")},
		{created: maxMillis - 10, lastSeen: maxMillis - 5, deadline: maxMillis, userID: strings.Repeat("u", 600), data: bytes.Repeat([]byte{0, 0xff}, 3000)},
	}
	for i, want := range cases {
		compress := []int{0, 1, 512}[i%3]
		enc := want.encode(compress)
		if want.size() != len(want.encode(0)) {
			t.Errorf("size() = %d, encoding is %d bytes", want.size(), len(want.encode(0)))
		}
		got, err := decodeRecord(enc)
		if err == nil {
			got.data, err = got.payload(1 << 20)
		}
		if err != nil {
			t.Fatalf("decode(encode(%+v)): %v", want, err)
		}
		if got.created != want.created || got.lastSeen != want.lastSeen || got.deadline != want.deadline ||
			got.userID != want.userID || got.userAgent != want.userAgent || got.remoteAddr != want.remoteAddr ||
			!bytes.Equal(got.data, want.data) {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
	}
}

func TestRecordCompression(t *testing.T) {
	r := record{created: 1, deadline: 2, data: bytes.Repeat([]byte(`{"sku":"A-1042","qty":2},`), 40)}
	enc := r.encode(512)
	if enc[0] != recordDeflate || len(enc) > len(r.data)/2 {
		t.Fatalf("a repetitive 1 KB payload encoded to %d bytes (format %#x), want deflated to under half", len(enc), enc[0])
	}
	random := record{data: make([]byte, 600)}
	for i := range random.data {
		random.data[i] = byte(i * 7919 % 251)
	}
	if enc := random.encode(512); enc[0] != recordFormat1 && len(enc) >= len(random.data) {
		t.Errorf("an incompressible payload was stored bigger")
	}
	// A deflated bomb: a few bytes that inflate past the limit are refused.
	bomb := record{data: make([]byte, 1<<20)}
	dec, err := decodeRecord(bomb.encode(1))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dec.payload(64 << 10); err == nil {
		t.Errorf("a payload inflating to 1 MiB passed a 64 KiB limit")
	}
}

func TestRecordRejects(t *testing.T) {
	valid := (&record{created: 5, deadline: 9, userID: "u", data: []byte("d")}).encode(0)
	bad := map[string][]byte{
		"empty":             nil,
		"json":              []byte(`{"user_id":"42"}`),
		"wrong format byte": append([]byte{0xB3}, valid[1:]...),
		"truncated varint":  {recordFormat1, 0x80},
		"length past end":   {recordFormat1, 1, 0, 0, 0x7f, 'x'},
		"time past 2500":    {recordFormat1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0},
		"cut in the middle": valid[:4],
	}
	for name, b := range bad {
		if _, err := decodeRecord(b); err == nil {
			t.Errorf("%s: decodeRecord(%q) accepted it", name, b)
		}
	}
}

// FuzzDecodeRecord: arbitrary bytes under a session key never panic, and
// whatever decodes re-encodes to the same bytes.
func FuzzDecodeRecord(f *testing.F) {
	f.Add((&record{created: 1764460800000, lastSeen: 1764460801000, deadline: 1764547200000,
		userID: "42", userAgent: "curl/8", remoteAddr: "127.0.0.1:1", data: []byte(`{"cart":[1,2]}`)}).encode(0))
	f.Add([]byte{recordFormat1})
	f.Add((&record{created: 1, deadline: 2, data: bytes.Repeat([]byte("abc"), 300)}).encode(1))
	f.Add([]byte(`{"user":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if r.data, err = r.payload(1 << 16); err != nil {
			return
		}
		if r.lastSeen < r.created || r.deadline < r.created || r.deadline > maxMillis+maxMillis {
			t.Fatalf("decoded inconsistent times %+v", r)
		}
		again, err := decodeRecord(r.encode(0))
		if err != nil || again.userID != r.userID || !bytes.Equal(again.data, r.data) || again.deadline != r.deadline {
			t.Fatalf("re-encode of %+v: %+v, %v", r, again, err)
		}
	})
}

// FuzzValidToken: the shape check never panics, and what it accepts is
// exactly a 32-byte base64url encoding.
func FuzzValidToken(f *testing.F) {
	f.Add(NewToken())
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("_", 43))
	f.Fuzz(func(t *testing.T, s string) {
		ok := ValidToken(s)
		if ok != (Handle(s) != "") {
			t.Fatalf("ValidToken(%q)=%v but Handle=%q", s, ok, Handle(s))
		}
		if !ok {
			return
		}
		b, err := decodeToken(s)
		if err != nil || len(b) != TokenBytes || encodeToken(b) != s {
			t.Fatalf("ValidToken(%q) but it is not the canonical encoding of 32 bytes (%v)", s, err)
		}
	})
}

var sink []byte

// BenchmarkRecordCodec is the CPU cost of compression: encoding (a write)
// and decoding (a read) a ~1 KB JSON session, plain and deflated.
func BenchmarkRecordCodec(b *testing.B) {
	data := []byte(`{"user":{"id":4821337,"name":"qzkfhwpa","email":"mxoteywqcn@example.com","roles":["customer"]},"prefs":{"lang":"en-GB","currency":"EUR","theme":"dark","tz":"Europe/Berlin","newsletter":true},"cart":[{"sku":"KQ-7712","name":"bxlwte ufkqhaz","qty":2,"price":14371},{"sku":"ZM-0193","name":"pwtqgd hxnvdso","qty":1,"price":2814},{"sku":"RA-5521","name":"yjcsqe ralmkbt","qty":3,"price":9902},{"sku":"LD-8830","name":"ewnvbf gqtkzjo","qty":4,"price":611},{"sku":"TC-2047","name":"hsmzul cyqpxew","qty":1,"price":18760},{"sku":"VB-6604","name":"okdrye wlfamtb","qty":2,"price":5053},{"sku":"NE-3318","name":"jufpxq vbznoce","qty":1,"price":12250},{"sku":"GH-9075","name":"ctlwma eqyrsud","qty":3,"price":731},{"sku":"PX-4462","name":"mraiov kdltnfw","qty":2,"price":16644}],"csrf":"Xk2lq9PZtvRk3YJ0m1cXwV0aTbqE7nUoHs5gLdPfCiA","seen":1764512345}`)
	rec := record{created: 1764460800000, lastSeen: 1764460900000, deadline: 1764547200000,
		userID: "4821337", userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		remoteAddr: "203.0.113.9:51234", data: data}
	for _, c := range []struct {
		name  string
		above int
	}{{"plain", 0}, {"deflate", 512}} {
		enc := rec.encode(c.above)
		b.Run(c.name+"/encode", func(b *testing.B) {
			b.ReportAllocs()
			b.ReportMetric(float64(len(enc)), "stored_bytes")
			for i := 0; i < b.N; i++ {
				_ = rec.encode(c.above)
			}
		})
		stored := string(enc) // as Redis returns it
		b.Run(c.name+"/decode", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r, tail, err := decodeRecordString(stored)
				if err == nil && r.compressed {
					_, err = inflate(tail, 64<<10)
				} else {
					sink = []byte(tail) // the adapter's own copy, as Load makes it
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
