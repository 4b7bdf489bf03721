package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Layout selects how a session is kept in Redis.
type Layout int

const (
	// LayoutString keeps a session as one string: the record with the
	// adapter's payload (Session.Data) as an opaque blob. A save writes the
	// whole session, so of two requests of one session in flight, the last
	// to save wins.
	LayoutString Layout = iota

	// LayoutHash keeps a session as a hash: one field for the metadata and
	// one per session value (Session.Fields). A save writes only the fields
	// that changed (HSET) and removes only those deleted (HDEL), so two
	// requests that change different values of one session both keep their
	// change. Redis keeps a hash in its compact listpack encoding only while
	// it has at most hash-max-listpack-entries fields (128) and every field
	// and value is at most hash-max-listpack-value bytes (64): the metadata
	// field holds the user agent, so most sessions exceed that unless the
	// operator raises hash-max-listpack-value (256 keeps typical sessions
	// compact). Frameworks that hand the store one blob (scs) cannot use it.
	LayoutHash
)

func (l Layout) String() string {
	if l == LayoutHash {
		return "hash"
	}
	return "string"
}

// ErrFieldName reports a session value whose name cannot be a hash field
// (empty, or starting with a NUL byte).
var ErrFieldName = fmt.Errorf("redisession: session value name not allowed in the hash layout")

// loadHash reads a hash-layout session, sliding its expiry to exp in the
// same round trip when slide is set.
func (s *Store) loadHash(ctx context.Context, key string, slide bool, exp int64) (map[string]string, error) {
	if !slide {
		get := hgetallCmd(ctx, key)
		err := s.client.Process(ctx, get)
		return get.Val(), err
	}
	cmd := hashLoadScript.cmd(ctx, []string{key}, exp)
	if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
		return nil, err
	}
	flat, err := cmd.StringSlice()
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		m[flat[i]] = flat[i+1]
	}
	return m, nil
}

// decodeHash turns a hash into a record and its value fields. A hash
// without a well-formed metadata field is not ours.
func decodeHash(m map[string]string) (record, map[string][]byte, error) {
	meta, ok := m[metaField]
	if !ok {
		return record{}, nil, errMalformed
	}
	rec, tail, err := decodeRecordString(meta)
	if err != nil || len(tail) != 0 {
		return record{}, nil, errMalformed
	}
	fields := make(map[string][]byte, len(m)-1)
	for k, v := range m {
		if k != metaField {
			fields[k] = []byte(v)
		}
	}
	return rec, fields, nil
}

func hashSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// maxHashFields bounds the values of a hash-layout session, so a save is
// refused (ErrTooLarge) before anything is written rather than failing
// half-way inside Redis.
const maxHashFields = 1000

// hashChanges returns the fields a save of a hash-layout session deletes and
// the field/value pairs it sets (all of them for a new session, the metadata
// first), after checking names, count and size.
func (s *Store) hashChanges(x *Session, meta []byte) (del, set []interface{}, err error) {
	size := len(metaField) + len(meta)
	for k, v := range x.Fields {
		if k == "" || strings.HasPrefix(k, metaField) {
			return nil, nil, fmt.Errorf("%w: %q", ErrFieldName, k)
		}
		size += len(k) + len(v)
	}
	if size > s.opts.MaxRecordSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, s.opts.MaxRecordSize)
	}
	set = []interface{}{metaField, meta}
	for k, v := range x.Fields {
		if old, ok := x.savedFields[k]; !x.stored || !ok || old != string(v) {
			set = append(set, k, v)
		}
	}
	if x.stored {
		for k := range x.savedFields {
			if _, ok := x.Fields[k]; !ok {
				del = append(del, k)
			}
		}
	}
	if n := len(x.Fields) + len(del); n > maxHashFields {
		return nil, nil, fmt.Errorf("%w: %d values set or deleted, limit %d", ErrTooLarge, n, maxHashFields)
	}
	return del, set, nil
}

// fieldsModified reports whether Fields differ from what is stored.
func (x *Session) fieldsModified() bool {
	if len(x.Fields) != len(x.savedFields) {
		return true
	}
	for k, v := range x.Fields {
		if old, ok := x.savedFields[k]; !ok || old != string(v) {
			return true
		}
	}
	return false
}

func (x *Session) rememberFields() {
	x.savedFields = make(map[string]string, len(x.Fields))
	for k, v := range x.Fields {
		x.savedFields[k] = string(v)
	}
}

// metaCmd reads what a listing needs of a session: the whole record in the
// string layout, the metadata field in the hash layout.
func (s *Store) metaCmd(ctx context.Context, key string) *redis.StringCmd {
	if s.opts.Layout == LayoutHash {
		return hgetMetaCmd(ctx, key)
	}
	return getCmd(ctx, key)
}
