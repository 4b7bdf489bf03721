package scsredis

import (
	"bytes"
	"slices"
	"strconv"
	"time"

	"github.com/redisession/redisession/core"
)

// What a commit needs of scs's GobCodec bytes (the deadline, the user, and
// whether the values are those stored) without decoding them: decoding
// builds a gob decoder and its types every time, about 200 allocations, and
// scs has decoded the same bytes already. This reads gob's wire format
// (encoding/gob's package doc) just far enough:
//
//	stream   = typedef* value
//	typedef  = uint(len) int(-id) ...                  (skipped, compared whole)
//	value    = uint(len) int(id) fields 0
//	fields   = uint(delta) Deadline | uint(delta) Values
//	Deadline = uint(len) bytes                         (time.Time's MarshalBinary)
//	Values   = uint(count) entry*
//	entry    = string(key) string(name) [int(id) uint(len) bytes]
//
// Values of gob's predefined types only (string, bool, ints, floats,
// []byte: the common session values); a map with any other is decoded.
// Two blobs whose type definitions are the same bytes (so every type id
// means the same type in both), whose deadlines are the same bytes and whose
// entries are the same multiset of byte strings decode to equal values: gob
// encodes a value deterministically once its types are fixed, and only the
// map's order varies from one Encode to the next. Anything this does not
// recognise makes it give up (ok false), and the caller decodes.

// gobBlob is a blob of scs's GobCodec read this far.
type gobBlob struct {
	types    []byte   // the type definitions before the value
	deadline []byte   // Deadline's bytes, nil when the zero time was not sent
	entries  [][]byte // the map's entries, each from its key to its value's end
}

// readGobBlob reads b, or reports false.
func readGobBlob(b []byte) (g gobBlob, ok bool) {
	r := gobReader{b: b}
	for {
		start := r.i
		n, ok := r.uint()
		if !ok || n == 0 || n > uint64(len(r.b)-r.i) {
			return g, false
		}
		end := r.i + int(n)
		id, ok := r.int()
		if !ok {
			return g, false
		}
		if id < 0 { // a type definition
			r.i = end
			continue
		}
		g.types = b[:start]
		msg := gobReader{b: b[:end], i: r.i}
		if !msg.fields(&g) || msg.i != end || end != len(b) {
			return g, false
		}
		return g, true
	}
}

type gobReader struct {
	b []byte
	i int
}

func (r *gobReader) uint() (uint64, bool) {
	if r.i >= len(r.b) {
		return 0, false
	}
	c := r.b[r.i]
	r.i++
	if c < 0x80 {
		return uint64(c), true
	}
	n := 256 - int(c) // the byte count, negated
	if n > 8 || n > len(r.b)-r.i {
		return 0, false
	}
	var x uint64
	for _, c := range r.b[r.i : r.i+n] {
		x = x<<8 | uint64(c)
	}
	r.i += n
	return x, true
}

func (r *gobReader) int() (int64, bool) {
	u, ok := r.uint()
	if u&1 != 0 {
		return ^int64(u >> 1), ok
	}
	return int64(u >> 1), ok
}

// bytes reads a length and that many bytes.
func (r *gobReader) bytes() ([]byte, bool) {
	n, ok := r.uint()
	if !ok || n > uint64(len(r.b)-r.i) {
		return nil, false
	}
	s := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return s, true
}

// fields reads the struct {Deadline time.Time; Values map[string]interface{}}.
func (r *gobReader) fields(g *gobBlob) bool {
	field := -1
	for {
		delta, ok := r.uint()
		if !ok {
			return false
		}
		if delta == 0 {
			return true
		}
		field += int(delta)
		switch field {
		case 0:
			if g.deadline, ok = r.bytes(); !ok {
				return false
			}
		case 1:
			if !r.entries(g) {
				return false
			}
		default:
			return false
		}
	}
}

func (r *gobReader) entries(g *gobBlob) bool {
	count, ok := r.uint()
	if !ok || count > uint64(len(r.b)-r.i) {
		return false
	}
	g.entries = make([][]byte, 0, count)
	for ; count > 0; count-- {
		start := r.i
		if _, ok := r.bytes(); !ok { // key
			return false
		}
		name, ok := r.bytes()
		if !ok {
			return false
		}
		if len(name) > 0 {
			// Only gob's predefined types (ids below 64): a value of any
			// other type may carry its type's definition inline, and its id
			// depends on the map's order.
			if id, ok := r.int(); !ok || id <= 0 || id >= 64 {
				return false
			}
			if _, ok := r.bytes(); !ok { // the value
				return false
			}
		}
		g.entries = append(g.entries, r.b[start:r.i])
	}
	return true
}

// same reports whether g and h surely decode to equal deadlines and values;
// false means they may differ.
func (g *gobBlob) same(h *gobBlob) bool {
	if !bytes.Equal(g.types, h.types) || !bytes.Equal(g.deadline, h.deadline) || len(g.entries) != len(h.entries) {
		return false
	}
	slices.SortFunc(g.entries, bytes.Compare)
	slices.SortFunc(h.entries, bytes.Compare)
	for i := range g.entries {
		if !bytes.Equal(g.entries[i], h.entries[i]) {
			return false
		}
	}
	return true
}

// Deadline returns the deadline the blob holds.
func (g *gobBlob) Deadline() (time.Time, bool) {
	var t time.Time
	if g.deadline == nil {
		return t, true
	}
	return t, t.UnmarshalBinary(g.deadline) == nil
}

// userID returns the user the blob names under userKey, as core.UserIDOf
// does for the decoded value; ok is false when the value is of a type this
// cannot read without decoding.
func (g *gobBlob) userID(userKey string) (string, bool) {
	for _, e := range g.entries {
		r := gobReader{b: e}
		key, _ := r.bytes()
		if string(key) != userKey {
			continue
		}
		name, _ := r.bytes()
		if len(name) == 0 {
			return "", true // nil: names no user
		}
		r.int() // type id
		v, _ := r.bytes()
		val := gobReader{b: v}
		if d, ok := val.uint(); !ok || d != 0 { // a single value: delta 0, then the value
			return "", false
		}
		switch string(name) {
		case "string":
			s, ok := val.bytes()
			if !ok || len(s) > core.MaxUserIDLen {
				return "", false
			}
			return string(s), true
		case "int", "int64", "int32":
			n, ok := val.int()
			if !ok {
				return "", false
			}
			return strconv.FormatInt(n, 10), true
		case "uint", "uint64", "uint32":
			n, ok := val.uint()
			if !ok {
				return "", false
			}
			return strconv.FormatUint(n, 10), true
		}
		return "", false // a Stringer, a float, or a type UserIDOf refuses: decode to tell
	}
	return "", true
}
