package gorillaredis_test

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

// everyType holds a value of every type GobSerializer encodes compactly,
// edge values included, and a registered struct that goes through gob.
func everyType() map[interface{}]interface{} {
	berlin := time.FixedZone("", 3600)
	return map[interface{}]interface{}{
		"nil": nil, "f": false, "t": true, "s": "héllo\x00", "empty": "",
		"int": -1 << 40, "i8": int8(math.MinInt8), "i16": int16(math.MaxInt16), "i32": int32(math.MinInt32),
		"i64": int64(math.MaxInt64), "uint": uint(math.MaxUint32), "u8": uint8(255), "u16": uint16(7),
		"u32": uint32(math.MaxUint32), "u64": uint64(math.MaxUint64), "f32": float32(-1.5),
		"f64": math.Inf(-1), "neg0": math.Copysign(0, -1), "bytes": []byte{0, 1, 2}, "nobytes": []byte(nil),
		"nobytes0": []byte{}, "utc": time.Date(2026, 12, 2, 15, 4, 5, 6, time.UTC),
		"zone": time.Date(2026, 1, 2, 3, 4, 5, 0, berlin), "zerotime": time.Time{},
		"strs": []string{"a", ""}, "nostrs": []string(nil), "ints": []int{-1, 0, 1 << 50},
		"i64s": []int64{math.MinInt64}, "f64s": []float64{0.1, -2}, "bools": []bool{true, false},
		"vals": []interface{}{"x", 1, []interface{}{nil, map[string]interface{}{"k": int8(1)}}},
		"smap": map[string]string{"b": "2", "a": "1"}, "imap": map[string]int{"x": -3},
		"i64map": map[string]int64{"": 1}, "fmap": map[string]float64{"pi": math.Pi},
		"bmap": map[string]bool{"y": true}, "vmap": map[string]interface{}{"n": 1, "l": []string{"z"}},
		"nomap": map[string]string(nil), "cart": cart{Items: []string{"apple"}, Total: 3},
		"mixed": []interface{}{"x", cart{Total: 1}}, // a gob value inside: the whole value is gob
	}
}

// TestCodecRoundTrip: every value comes back with its type and value,
// nil and empty told apart, as gob would keep them (or better: gob needs
// time.Time and map[string]interface{} registered, the compact format does
// not).
func TestCodecRoundTrip(t *testing.T) {
	in := everyType()
	b, err := gorillaredis.GobSerializer{}.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	out := map[interface{}]interface{}{}
	if err := (gorillaredis.GobSerializer{}).Deserialize(b, out); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d values back, want %d", len(out), len(in))
	}
	for k, want := range in {
		got := out[k]
		if reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%v: type %T, want %T", k, got, want)
		}
		if wt, ok := want.(time.Time); ok {
			gt := got.(time.Time)
			_, wo := wt.Zone()
			_, gof := gt.Zone()
			if !gt.Equal(wt) || wo != gof {
				t.Errorf("%v: %v, want %v", k, gt, wt)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: %#v, want %#v", k, got, want)
		}
	}
	if f := out["neg0"].(float64); !math.Signbit(f) {
		t.Errorf("-0 came back as %v", f)
	}
	nan := map[interface{}]interface{}{"nan": math.NaN()}
	b, _ = gorillaredis.GobSerializer{}.Serialize(nan)
	out = map[interface{}]interface{}{}
	if err := (gorillaredis.GobSerializer{}).Deserialize(b, out); err != nil || !math.IsNaN(out["nan"].(float64)) {
		t.Errorf("NaN: %v, %v", out, err)
	}
}

// TestCodecCanonical: equal values make equal bytes, whatever order the
// maps were built in, so an unchanged Save is found by comparing bytes.
func TestCodecCanonical(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var first []byte
	for i := 0; i < 50; i++ {
		m := map[interface{}]interface{}{}
		for _, j := range r.Perm(20) {
			m[fmt.Sprint("k", j)] = map[string]interface{}{"a": j, "b": map[string]int{"x": j, "y": -j, "z": 0}}
		}
		b, err := gorillaredis.GobSerializer{}.Serialize(m)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("round %d: the same values encoded differently", i)
		}
	}
}

// TestCodecReadsGob: what earlier versions stored (one gob map, and gob
// field values in the hash layout) still loads; a map with a key that is
// not a string is still stored that way.
func TestCodecReadsGob(t *testing.T) {
	in := map[interface{}]interface{}{"n": 3, "cart": cart{Items: []string{"x"}}, "s": "v"}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(in); err != nil {
		t.Fatal(err)
	}
	out := map[interface{}]interface{}{}
	if err := (gorillaredis.GobSerializer{}).Deserialize(buf.Bytes(), out); err != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("old gob payload: %#v, %v", out, err)
	}
	var one bytes.Buffer
	v := interface{}(int16(9))
	if err := gob.NewEncoder(&one).Encode(&v); err != nil {
		t.Fatal(err)
	}
	if got, err := (gorillaredis.GobSerializer{}).DeserializeValue(one.Bytes()); err != nil || got != int16(9) {
		t.Fatalf("old gob field: %#v, %v", got, err)
	}
	intKeys := map[interface{}]interface{}{1: "one", "s": "x"}
	b, err := gorillaredis.GobSerializer{}.Serialize(intKeys)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] == 0 {
		t.Fatalf("a map with an int key was not stored as gob")
	}
	out = map[interface{}]interface{}{}
	if err := (gorillaredis.GobSerializer{}).Deserialize(b, out); err != nil || !reflect.DeepEqual(out, intKeys) {
		t.Fatalf("int keys: %#v, %v", out, err)
	}
}

// TestCodecFieldValues: the hash layout's single values round-trip, and a
// compact one starts with the format's zero byte.
func TestCodecFieldValues(t *testing.T) {
	for k, want := range everyType() {
		b, err := gorillaredis.GobSerializer{}.SerializeValue(want)
		if err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		got, err := gorillaredis.GobSerializer{}.DeserializeValue(b)
		if err != nil {
			t.Fatalf("%v: %v", k, err)
		}
		if _, isTime := want.(time.Time); isTime {
			if !got.(time.Time).Equal(want.(time.Time)) {
				t.Errorf("%v: %v, want %v", k, got, want)
			}
		} else if !reflect.DeepEqual(got, want) || reflect.TypeOf(got) != reflect.TypeOf(want) {
			t.Errorf("%v: %#v, want %#v", k, got, want)
		}
	}
}

// TestCodecRefusesDamage: every truncation and every one-byte change of a
// payload decodes to an error or to some values, never a panic, and a
// payload of a newer format version is refused with an error that says so.
func TestCodecRefusesDamage(t *testing.T) {
	b, err := gorillaredis.GobSerializer{}.Serialize(everyType())
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n < len(b); n++ {
		if err := (gorillaredis.GobSerializer{}).Deserialize(b[:n], map[interface{}]interface{}{}); err == nil {
			t.Fatalf("truncated at %d of %d bytes: no error", n, len(b))
		}
	}
	for i := range b {
		for _, x := range []byte{0, 1, 0x7f, 0x80, 0xff} {
			c := append([]byte(nil), b...)
			c[i] = x
			_ = gorillaredis.GobSerializer{}.Deserialize(c, map[interface{}]interface{}{})
		}
	}
	c := append([]byte(nil), b...)
	c[1] = 9
	if err := (gorillaredis.GobSerializer{}).Deserialize(c, map[interface{}]interface{}{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("version 9")) {
		t.Fatalf("version 9: %v", err)
	}
	// A count the bytes cannot hold allocates nothing and fails.
	huge := []byte{0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}
	if err := (gorillaredis.GobSerializer{}).Deserialize(huge, map[interface{}]interface{}{}); err == nil {
		t.Fatal("a huge count was accepted")
	}
	deep := []byte{0, 1, 1, 1, 'k'}
	for i := 0; i < 100; i++ {
		deep = append(deep, 37, 2) // []interface{} of one element
	}
	deep = append(deep, 0)
	if err := (gorillaredis.GobSerializer{}).Deserialize(deep, map[interface{}]interface{}{}); err == nil {
		t.Fatal("nesting 100 deep was accepted")
	}
}

// FuzzCodec: any bytes decode without a panic; what decodes encodes to
// bytes that decode to equal values again, and re-encoding those gives
// the same bytes (the format is canonical).
func FuzzCodec(f *testing.F) {
	b, _ := gorillaredis.GobSerializer{}.Serialize(everyType())
	f.Add(b)
	b, _ = gorillaredis.GobSerializer{}.Serialize(map[interface{}]interface{}{"n": 1, "s": "x"})
	f.Add(b)
	f.Add([]byte{0, 1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := map[interface{}]interface{}{}
		if err := (gorillaredis.GobSerializer{}).Deserialize(data, v); err != nil || len(data) == 0 || data[0] != 0 {
			return
		}
		b1, err := gorillaredis.GobSerializer{}.Serialize(v)
		if err != nil {
			t.Fatalf("decoded values do not encode: %v", err)
		}
		w := map[interface{}]interface{}{}
		if err := (gorillaredis.GobSerializer{}).Deserialize(b1, w); err != nil {
			t.Fatalf("re-encoded bytes do not decode: %v", err)
		}
		b2, err := gorillaredis.GobSerializer{}.Serialize(w)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("not canonical: %x then %x (%v)", b1, b2, err)
		}
	})
}

// decodeCount is a registered type that counts its gob decodes.
type decodeCount struct{ N int }

var gobDecodes atomic.Int64

func (d decodeCount) GobEncode() ([]byte, error) { return []byte{byte(d.N)}, nil }

func (d *decodeCount) GobDecode(b []byte) error {
	gobDecodes.Add(1)
	if len(b) != 1 {
		return fmt.Errorf("decodeCount: %d bytes", len(b))
	}
	d.N = int(b[0])
	return nil
}

func init() { gob.Register(decodeCount{}) }

// TestUnchangedSaveDecodesNothing: a request that loads a session and
// calls Save without changing it decodes each value once, on load, and
// never again to compare (in both layouts); a Save that changed one value
// decodes none of the others to tell, and writes.
func TestUnchangedSaveDecodesNothing(t *testing.T) {
	for _, layout := range []core.Layout{core.LayoutString, core.LayoutHash} {
		t.Run(layout.String(), func(t *testing.T) {
			e := newEnv(t, gorillaredis.Options{Core: core.Options{Layout: layout}})
			mux := http.NewServeMux()
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				s, _ := e.store.Get(r, "app")
				if r.URL.Query().Get("set") != "" {
					s.Values["d"] = decodeCount{N: 7}
					s.Values["m"] = map[string]interface{}{"a": 1, "b": "x", "c": []string{"y"}}
					s.Values["n"] = len(r.URL.Query().Get("set"))
				}
				if err := sessions.Save(r, w); err != nil {
					http.Error(w, err.Error(), 500)
				}
			})
			ts := httptest.NewTLSServer(mux)
			defer ts.Close()
			c := newClient(t, ts)
			c.get("/?set=1")
			for i := 0; i < 5; i++ {
				before := gobDecodes.Load()
				e.count.Reset()
				c.get("/")
				if n := gobDecodes.Load() - before; n != 1 {
					t.Fatalf("request %d: %d gob decodes, want the one of the load", i, n)
				}
				if e.count.Total() != 1 {
					t.Fatalf("request %d: an unchanged Save wrote: %v, want the load alone", i, e.count.Commands())
				}
			}
			e.count.Reset()
			before := gobDecodes.Load()
			c.get("/?set=22")
			if n := gobDecodes.Load() - before; n != 1 {
				t.Fatalf("a Save that changed another value decoded the unchanged gob value again: %d decodes, want the one of the load", n)
			}
			if e.count.Total() != 2 {
				t.Fatalf("a changed value was not written: %v, want the load and a write", e.count.Commands())
			}
		})
	}
}
