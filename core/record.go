package core

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync"
	"time"
)

// A record is what one session key holds. The encoding is compact binary so a
// session with a 1 KB payload costs little more than its payload in Redis:
//
//	byte    0xB1 (format 1), or 0xB2: the same, with the payload deflated
//	uvarint created, unix ms
//	uvarint last seen − created, ms
//	uvarint deadline − created, ms
//	uvarint len, bytes   user id
//	uvarint len, bytes   user agent
//	uvarint len, bytes   remote address
//	rest                 the adapter's payload (raw-deflate compressed in format 0xB2)
//
// Payloads of at least Options.CompressAbove bytes are compressed when that
// makes them smaller: session payloads are mostly JSON or gob of repetitive
// structure, and Redis memory per session is what operators pay for.
//
// Anything else under a session key (another program's data, a truncated
// write, garbage) fails to decode and loads as a miss.
type record struct {
	created    int64 // unix ms
	lastSeen   int64
	deadline   int64
	userID     string
	userAgent  string
	remoteAddr string
	data       []byte
	compressed bool // data is deflated (format 0xB2)
}

const (
	recordFormat1 = 0xB1
	recordDeflate = 0xB2
)

var errMalformed = errors.New("malformed record")

// encode returns the record's bytes, deflating a payload of at least
// compressAbove bytes (0: never) when that makes it smaller.
func (r *record) encode(compressAbove int) []byte {
	if compressAbove > 0 && len(r.data) >= compressAbove {
		if c := deflate(r.data); len(c) < len(r.data) {
			plain := *r
			plain.data = c
			b := plain.encode(0)
			b[0] = recordDeflate
			return b
		}
	}
	last := r.lastSeen - r.created
	if last < 0 {
		last = 0
	}
	dead := r.deadline - r.created
	if dead < 0 {
		dead = 0
	}
	n := 1 + 3*binary.MaxVarintLen64 + 3*binary.MaxVarintLen32 +
		len(r.userID) + len(r.userAgent) + len(r.remoteAddr) + len(r.data)
	b := make([]byte, 0, n)
	b = append(b, recordFormat1)
	b = binary.AppendUvarint(b, uint64(r.created))
	b = binary.AppendUvarint(b, uint64(last))
	b = binary.AppendUvarint(b, uint64(dead))
	for _, s := range [...]string{r.userID, r.userAgent, r.remoteAddr} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return append(b, r.data...)
}

// size is the length of the record encoded without compression.
func (r *record) size() int {
	n := 1
	for _, v := range [...]uint64{uint64(r.created), uint64(r.lastSeen - r.created), uint64(r.deadline - r.created),
		uint64(len(r.userID)), uint64(len(r.userAgent)), uint64(len(r.remoteAddr))} {
		n += uvarintLen(v)
	}
	return n + len(r.userID) + len(r.userAgent) + len(r.remoteAddr) + len(r.data)
}

func uvarintLen(v uint64) int {
	n := 1
	for ; v >= 0x80; v >>= 7 {
		n++
	}
	return n
}

// decodeRecordString parses a record as Redis returned it, without copying:
// the strings alias s, and tail is the payload as stored (deflated when
// r.compressed); r.data is left nil.
func decodeRecordString(s string) (r record, tail string, err error) {
	if len(s) == 0 || (s[0] != recordFormat1 && s[0] != recordDeflate) {
		return r, "", errMalformed
	}
	r.compressed = s[0] == recordDeflate
	s = s[1:]
	var nums [3]uint64
	for i := range nums {
		v, n := uvarint(s)
		if n <= 0 || v > maxMillis {
			return r, "", errMalformed
		}
		nums[i] = v
		s = s[n:]
	}
	r.created = int64(nums[0])
	r.lastSeen = r.created + int64(nums[1])
	r.deadline = r.created + int64(nums[2])
	if r.lastSeen > maxMillis || r.deadline > maxMillis {
		return r, "", errMalformed
	}
	var strs [3]string
	for i := range strs {
		l, n := uvarint(s)
		if n <= 0 || l > uint64(len(s)-n) {
			return r, "", errMalformed
		}
		strs[i] = s[n : n+int(l)]
		s = s[n+int(l):]
	}
	r.userID, r.userAgent, r.remoteAddr = strs[0], strs[1], strs[2]
	return r, s, nil
}

// uvarint is binary.Uvarint over a string.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1) // overflow
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	return 0, 0
}

var (
	deflaters = sync.Pool{New: func() interface{} {
		w, _ := flate.NewWriter(nil, flate.BestSpeed)
		return w
	}}
	inflaters sync.Pool
)

func deflate(data []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(data) / 2)
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, _ = w.Write(data)
	_ = w.Close()
	deflaters.Put(w)
	return buf.Bytes()
}

func inflate(data string, max int) ([]byte, error) {
	src := strings.NewReader(data)
	var r io.ReadCloser
	if pooled, ok := inflaters.Get().(io.ReadCloser); ok {
		r = pooled
		_ = r.(flate.Resetter).Reset(src, nil)
	} else {
		r = flate.NewReader(src)
	}
	defer inflaters.Put(r)
	buf := bytes.NewBuffer(make([]byte, 0, 3*len(data)))
	n, err := io.Copy(buf, io.LimitReader(r, int64(max)+1))
	if err != nil || n > int64(max) {
		return nil, errMalformed
	}
	return buf.Bytes(), nil
}

// maxMillis bounds every stored time (year 2500) so that sums cannot overflow.
const maxMillis = 16725225600000

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms) }
