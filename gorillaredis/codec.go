package gorillaredis

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"time"
)

// GobSerializer's stored format.
//
// A session whose keys are all strings is stored in the compact format:
//
//	0x00 version(1) uvarint(n) n × (uvarint(len) key value)
//
// with the entries sorted by key, so equal values always make equal bytes
// and a Save can tell "unchanged" by comparing bytes, with nothing decoded.
// A value is a tag byte and its payload:
//
//	0 nil   1 false   2 true   3 string: uvarint(len) bytes
//	4..8   int, int8, int16, int32, int64: zigzag varint
//	9..13  uint, uint8, uint16, uint32, uint64: uvarint
//	14 float32: 4 bytes LE IEEE 754   15 float64: 8 bytes
//	16 []byte: uvarint(len+1) bytes, 0 for nil
//	17 time.Time: uvarint(len) time.MarshalBinary
//	32..37 []string, []int, []int64, []float64, []bool, []interface{}:
//	       uvarint(n+1), 0 for nil, then n elements (untagged, but for
//	       []interface{}, whose elements are values)
//	48..53 map[string] of string, int, int64, float64, bool, interface{}:
//	       the same, n × (uvarint(len) key element), sorted by key
//	64 anything else: uvarint(len) gob of the value as an interface value,
//	   as gob.Register requires of it in a whole gob map
//
// Each value decodes to the type it was saved as, as with gob; the types
// above need no gob.Register. A map with a key that is not a string is
// stored as one gob map, as before this format existed. Gob's encoding
// never starts with a zero byte (its first message has a length), so a
// payload that does not start with one is read as gob: the sessions written
// before this format still load.
const (
	compactMagic   = 0x00
	compactVersion = 1
	// maxDepth bounds the nesting of []interface{} and
	// map[string]interface{}, so a crafted payload cannot exhaust the stack.
	maxDepth = 32
)

const (
	tagNil byte = iota
	tagFalse
	tagTrue
	tagString
	tagInt
	tagInt8
	tagInt16
	tagInt32
	tagInt64
	tagUint
	tagUint8
	tagUint16
	tagUint32
	tagUint64
	tagFloat32
	tagFloat64
	tagBytes
	tagTime
)

const (
	tagStrings byte = 32 + iota
	tagInts
	tagInt64s
	tagFloat64s
	tagBools
	tagValues
)

const (
	tagStringMap byte = 48 + iota
	tagIntMap
	tagInt64Map
	tagFloat64Map
	tagBoolMap
	tagValueMap
)

const tagGob byte = 64

var errCompact = errors.New("gorillaredis: malformed session payload")

// isCompact reports whether data is in the compact format (or claims to be).
func isCompact(data []byte) bool { return len(data) > 0 && data[0] == compactMagic }

// encodeCompact encodes values in the compact format; ok is false when a
// key is not a string, and the caller stores gob instead.
func encodeCompact(values map[interface{}]interface{}) (b []byte, ok bool, err error) {
	keys := make([]string, 0, len(values))
	for k := range values {
		ks, isString := k.(string)
		if !isString {
			return nil, false, nil
		}
		keys = append(keys, ks)
	}
	sort.Strings(keys)
	b = make([]byte, 0, 64+16*len(keys))
	b = append(b, compactMagic, compactVersion)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
		if b, err = appendValue(b, values[k], 0); err != nil {
			return nil, false, fmt.Errorf("gorillaredis: value %q: %w", k, err)
		}
	}
	return b, true, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendValue appends v, tagged; a value of a type the format does not
// know is appended as gob.
func appendValue(b []byte, v interface{}, depth int) ([]byte, error) {
	if t, ok := appendKnown(b, v, depth); ok {
		return t, nil
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&v); err != nil {
		return nil, fmt.Errorf("gob encode: %w", err)
	}
	b = append(b, tagGob)
	b = binary.AppendUvarint(b, uint64(buf.Len()))
	return append(b, buf.Bytes()...), nil
}

// appendKnown appends v if the format has a tag for its type (and for
// everything inside it); otherwise it returns b unchanged and false.
func appendKnown(b []byte, v interface{}, depth int) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(b, tagNil), true
	case bool:
		if x {
			return append(b, tagTrue), true
		}
		return append(b, tagFalse), true
	case string:
		return appendString(append(b, tagString), x), true
	case int:
		return binary.AppendVarint(append(b, tagInt), int64(x)), true
	case int8:
		return binary.AppendVarint(append(b, tagInt8), int64(x)), true
	case int16:
		return binary.AppendVarint(append(b, tagInt16), int64(x)), true
	case int32:
		return binary.AppendVarint(append(b, tagInt32), int64(x)), true
	case int64:
		return binary.AppendVarint(append(b, tagInt64), x), true
	case uint:
		return binary.AppendUvarint(append(b, tagUint), uint64(x)), true
	case uint8:
		return binary.AppendUvarint(append(b, tagUint8), uint64(x)), true
	case uint16:
		return binary.AppendUvarint(append(b, tagUint16), uint64(x)), true
	case uint32:
		return binary.AppendUvarint(append(b, tagUint32), uint64(x)), true
	case uint64:
		return binary.AppendUvarint(append(b, tagUint64), x), true
	case float32:
		return binary.LittleEndian.AppendUint32(append(b, tagFloat32), math.Float32bits(x)), true
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, tagFloat64), math.Float64bits(x)), true
	case []byte:
		return appendBytes(append(b, tagBytes), x), true
	case time.Time:
		t, err := x.MarshalBinary()
		if err != nil {
			return b, false // gob reports the same error
		}
		b = binary.AppendUvarint(append(b, tagTime), uint64(len(t)))
		return append(b, t...), true
	case []string:
		b = appendLen(append(b, tagStrings), len(x), x == nil)
		for _, e := range x {
			b = appendString(b, e)
		}
		return b, true
	case []int:
		b = appendLen(append(b, tagInts), len(x), x == nil)
		for _, e := range x {
			b = binary.AppendVarint(b, int64(e))
		}
		return b, true
	case []int64:
		b = appendLen(append(b, tagInt64s), len(x), x == nil)
		for _, e := range x {
			b = binary.AppendVarint(b, e)
		}
		return b, true
	case []float64:
		b = appendLen(append(b, tagFloat64s), len(x), x == nil)
		for _, e := range x {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(e))
		}
		return b, true
	case []bool:
		b = appendLen(append(b, tagBools), len(x), x == nil)
		for _, e := range x {
			b = append(b, boolByte(e))
		}
		return b, true
	case []interface{}:
		if depth >= maxDepth {
			return b, false
		}
		start := len(b)
		b = appendLen(append(b, tagValues), len(x), x == nil)
		for _, e := range x {
			var ok bool
			if b, ok = appendKnown(b, e, depth+1); !ok {
				return b[:start], false
			}
		}
		return b, true
	case map[string]string:
		b = appendLen(append(b, tagStringMap), len(x), x == nil)
		for _, k := range sortedKeys(x) {
			b = appendString(appendString(b, k), x[k])
		}
		return b, true
	case map[string]int:
		b = appendLen(append(b, tagIntMap), len(x), x == nil)
		for _, k := range sortedKeys(x) {
			b = binary.AppendVarint(appendString(b, k), int64(x[k]))
		}
		return b, true
	case map[string]int64:
		b = appendLen(append(b, tagInt64Map), len(x), x == nil)
		for _, k := range sortedKeys(x) {
			b = binary.AppendVarint(appendString(b, k), x[k])
		}
		return b, true
	case map[string]float64:
		b = appendLen(append(b, tagFloat64Map), len(x), x == nil)
		for _, k := range sortedKeys(x) {
			b = binary.LittleEndian.AppendUint64(appendString(b, k), math.Float64bits(x[k]))
		}
		return b, true
	case map[string]bool:
		b = appendLen(append(b, tagBoolMap), len(x), x == nil)
		for _, k := range sortedKeys(x) {
			b = append(appendString(b, k), boolByte(x[k]))
		}
		return b, true
	case map[string]interface{}:
		if depth >= maxDepth {
			return b, false
		}
		start := len(b)
		b = appendLen(append(b, tagValueMap), len(x), x == nil)
		for _, k := range sortedKeys(x) {
			var ok bool
			if b, ok = appendKnown(appendString(b, k), x[k], depth+1); !ok {
				return b[:start], false
			}
		}
		return b, true
	}
	return b, false
}

func appendLen(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendBytes(b, x []byte) []byte {
	return append(appendLen(b, len(x), x == nil), x...)
}

func boolByte(x bool) byte {
	if x {
		return 1
	}
	return 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeCompact decodes a compact payload into values.
func decodeCompact(data []byte, values map[interface{}]interface{}) error {
	d, n, err := openCompact(data)
	if err != nil {
		return err
	}
	for i := uint64(0); i < n; i++ {
		k, err := d.str()
		if err != nil {
			return err
		}
		v, err := d.value(0)
		if err != nil {
			return fmt.Errorf("%w (value %q)", err, k)
		}
		values[k] = v
	}
	if len(d.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the last value", errCompact, len(d.b))
	}
	return nil
}

// openCompact checks a compact payload's header and returns a decoder at
// its first entry and the number of entries.
func openCompact(data []byte) (*decoder, uint64, error) {
	if len(data) < 2 || data[0] != compactMagic {
		return nil, 0, errCompact
	}
	if data[1] != compactVersion {
		return nil, 0, fmt.Errorf("gorillaredis: session payload of format version %d; this version of the package reads version %d", data[1], compactVersion)
	}
	d := &decoder{b: data[2:]}
	n, err := d.count(2)
	return d, n, err
}

// decoder reads the compact format; every read checks the bytes it needs.
type decoder struct{ b []byte }

func (d *decoder) byte() (byte, error) {
	if len(d.b) == 0 {
		return 0, errCompact
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c, nil
}

func (d *decoder) uvarint() (uint64, error) {
	x, n := binary.Uvarint(d.b)
	if n <= 0 {
		return 0, errCompact
	}
	d.b = d.b[n:]
	return x, nil
}

func (d *decoder) varint() (int64, error) {
	x, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, errCompact
	}
	d.b = d.b[n:]
	return x, nil
}

// count reads an element count, refusing one the remaining bytes cannot
// hold at min bytes per element, so a crafted count allocates nothing.
func (d *decoder) count(min int) (uint64, error) {
	n, err := d.uvarint()
	if err != nil || n > uint64(len(d.b)/min) {
		return 0, errCompact
	}
	return n, nil
}

// length reads a slice or map length: nil, or n elements of at least min
// bytes each.
func (d *decoder) length(min int) (n int, isNil bool, err error) {
	x, err := d.uvarint()
	if err != nil {
		return 0, false, err
	}
	if x == 0 {
		return 0, true, nil
	}
	if x-1 > uint64(len(d.b)/min) {
		return 0, false, errCompact
	}
	return int(x - 1), false, nil
}

func (d *decoder) raw() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil || n > uint64(len(d.b)) {
		return nil, errCompact
	}
	r := d.b[:n:n]
	d.b = d.b[n:]
	return r, nil
}

func (d *decoder) str() (string, error) {
	r, err := d.raw()
	return string(r), err
}

func (d *decoder) u64() (uint64, error) {
	if len(d.b) < 8 {
		return 0, errCompact
	}
	x := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return x, nil
}

func (d *decoder) boolean() (bool, error) {
	c, err := d.byte()
	if err != nil || c > 1 {
		return false, errCompact
	}
	return c == 1, nil
}

// signed reads a zigzag varint that must fit in bits bits.
func (d *decoder) signed(bits uint) (int64, error) {
	x, err := d.varint()
	if err != nil || x < -1<<(bits-1) || x > 1<<(bits-1)-1 {
		return 0, errCompact
	}
	return x, nil
}

// unsigned reads a uvarint that must fit in bits bits.
func (d *decoder) unsigned(bits uint) (uint64, error) {
	x, err := d.uvarint()
	if err != nil || (bits < 64 && x >= 1<<bits) {
		return 0, errCompact
	}
	return x, nil
}

// intBits is the width of int on this platform.
const intBits = 32 << (^uint(0) >> 63)

// value reads one tagged value.
func (d *decoder) value(depth int) (interface{}, error) {
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case tagNil:
		return nil, nil
	case tagFalse:
		return false, nil
	case tagTrue:
		return true, nil
	case tagString:
		return d.str()
	case tagInt:
		x, err := d.signed(intBits)
		return int(x), err
	case tagInt8:
		x, err := d.signed(8)
		return int8(x), err
	case tagInt16:
		x, err := d.signed(16)
		return int16(x), err
	case tagInt32:
		x, err := d.signed(32)
		return int32(x), err
	case tagInt64:
		return d.signed(64)
	case tagUint:
		x, err := d.unsigned(intBits)
		return uint(x), err
	case tagUint8:
		x, err := d.unsigned(8)
		return uint8(x), err
	case tagUint16:
		x, err := d.unsigned(16)
		return uint16(x), err
	case tagUint32:
		x, err := d.unsigned(32)
		return uint32(x), err
	case tagUint64:
		return d.unsigned(64)
	case tagFloat32:
		if len(d.b) < 4 {
			return nil, errCompact
		}
		x := binary.LittleEndian.Uint32(d.b)
		d.b = d.b[4:]
		return math.Float32frombits(x), nil
	case tagFloat64:
		x, err := d.u64()
		return math.Float64frombits(x), err
	case tagBytes:
		n, isNil, err := d.length(1)
		if err != nil || isNil {
			return []byte(nil), err
		}
		out := make([]byte, n)
		copy(out, d.b[:n])
		d.b = d.b[n:]
		return out, nil
	case tagTime:
		r, err := d.raw()
		if err != nil {
			return nil, err
		}
		var t time.Time
		if err := t.UnmarshalBinary(r); err != nil {
			return nil, errCompact
		}
		return t, nil
	case tagGob:
		r, err := d.raw()
		if err != nil {
			return nil, err
		}
		var v interface{}
		if err := gob.NewDecoder(bytes.NewReader(r)).Decode(&v); err != nil {
			return nil, fmt.Errorf("gorillaredis: gob decode: %w", err)
		}
		return v, nil
	case tagValues:
		if depth >= maxDepth {
			return nil, errCompact
		}
		n, isNil, err := d.length(1)
		if err != nil || isNil {
			return []interface{}(nil), err
		}
		out := make([]interface{}, n)
		for i := range out {
			if out[i], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return out, nil
	case tagValueMap:
		if depth >= maxDepth {
			return nil, errCompact
		}
		n, isNil, err := d.length(2)
		if err != nil || isNil {
			return map[string]interface{}(nil), err
		}
		out := make(map[string]interface{}, n)
		for i := 0; i < n; i++ {
			k, err := d.str()
			if err != nil {
				return nil, err
			}
			if out[k], err = d.value(depth + 1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return d.container(tag)
}

// container reads the slices and maps of one element type.
func (d *decoder) container(tag byte) (interface{}, error) {
	switch tag {
	case tagStrings:
		return readSlice(d, 1, (*decoder).str)
	case tagInts:
		return readSlice(d, 1, func(d *decoder) (int, error) { x, err := d.signed(intBits); return int(x), err })
	case tagInt64s:
		return readSlice(d, 1, (*decoder).varint)
	case tagFloat64s:
		return readSlice(d, 8, (*decoder).float64)
	case tagBools:
		return readSlice(d, 1, (*decoder).boolean)
	case tagStringMap:
		return readMap(d, 2, (*decoder).str)
	case tagIntMap:
		return readMap(d, 2, func(d *decoder) (int, error) { x, err := d.signed(intBits); return int(x), err })
	case tagInt64Map:
		return readMap(d, 2, (*decoder).varint)
	case tagFloat64Map:
		return readMap(d, 9, (*decoder).float64)
	case tagBoolMap:
		return readMap(d, 2, (*decoder).boolean)
	}
	return nil, fmt.Errorf("%w: unknown tag %d", errCompact, tag)
}

func (d *decoder) float64() (float64, error) {
	x, err := d.u64()
	return math.Float64frombits(x), err
}

func readSlice[E any](d *decoder, min int, elem func(*decoder) (E, error)) ([]E, error) {
	n, isNil, err := d.length(min)
	if err != nil || isNil {
		return nil, err
	}
	out := make([]E, n)
	for i := range out {
		if out[i], err = elem(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func readMap[V any](d *decoder, min int, elem func(*decoder) (V, error)) (map[string]V, error) {
	n, isNil, err := d.length(min)
	if err != nil || isNil {
		return nil, err
	}
	out := make(map[string]V, n)
	for i := 0; i < n; i++ {
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		if out[k], err = elem(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// skipValue moves past one tagged value without building it, and reports
// whether it is (or holds) a gob value, whose bytes are not canonical.
func (d *decoder) skipValue(depth int) (isGob bool, err error) {
	start := d.b
	tag, err := d.byte()
	if err != nil {
		return false, err
	}
	switch tag {
	case tagNil, tagFalse, tagTrue:
		return false, nil
	case tagString, tagTime:
		_, err = d.raw()
		return false, err
	case tagGob:
		_, err = d.raw()
		return true, err
	case tagBytes:
		n, _, err := d.length(1)
		if err == nil {
			d.b = d.b[n:]
		}
		return false, err
	case tagInt, tagInt8, tagInt16, tagInt32, tagInt64:
		_, err = d.varint()
		return false, err
	case tagUint, tagUint8, tagUint16, tagUint32, tagUint64:
		_, err = d.uvarint()
		return false, err
	case tagFloat32, tagFloat64:
		n := 4
		if tag == tagFloat64 {
			n = 8
		}
		if len(d.b) < n {
			return false, errCompact
		}
		d.b = d.b[n:]
		return false, nil
	}
	// Containers are rare enough in a session that decoding one to skip it
	// costs nothing worth a second reader.
	d.b = start
	_, err = d.value(depth)
	return false, err
}

// sameCompact reports whether the compact payloads old and b hold equal
// values, values being what b encodes. Only entries whose bytes differ
// and that are gob values are decoded: every other encoding is canonical,
// so different bytes mean a different value. ok is false when old is not
// compact (a session written before the format), and then nothing is
// known.
func sameCompact(old, b []byte, values map[interface{}]interface{}) (same, ok bool) {
	od, on, err := openCompact(old)
	if err != nil {
		return false, false
	}
	nd, nn, err := openCompact(b)
	if err != nil || on != nn {
		return false, err == nil
	}
	for i := uint64(0); i < on; i++ {
		ok, err1 := od.raw()
		nk, err2 := nd.raw()
		if err1 != nil || err2 != nil || !bytes.Equal(ok, nk) {
			return false, true
		}
		ostart, nstart := od.b, nd.b
		ogob, err1 := od.skipValue(0)
		ngob, err2 := nd.skipValue(0)
		if err1 != nil || err2 != nil {
			return false, true
		}
		ov, nv := ostart[:len(ostart)-len(od.b)], nstart[:len(nstart)-len(nd.b)]
		if bytes.Equal(ov, nv) {
			continue
		}
		if !ogob || !ngob {
			return false, true
		}
		v, err := (&decoder{b: ov}).value(0)
		if err != nil || !reflect.DeepEqual(v, values[string(nk)]) {
			return false, true
		}
	}
	return true, true
}

// decodeValue decodes what SerializeValue wrote in the compact format.
func decodeValue(data []byte) (interface{}, error) {
	if len(data) < 2 || data[1] != compactVersion {
		return nil, fmt.Errorf("gorillaredis: session value of an unknown format (%d bytes)", len(data))
	}
	d := &decoder{b: data[2:]}
	v, err := d.value(0)
	if err == nil && len(d.b) != 0 {
		err = fmt.Errorf("%w: %d bytes after the value", errCompact, len(d.b))
	}
	return v, err
}
