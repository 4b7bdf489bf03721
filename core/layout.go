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

// String returns the layout's name: "string" or "hash".
func (l Layout) String() string {
	if l == LayoutHash {
		return "hash"
	}
	return "string"
}

// ErrFieldName reports a session value whose name cannot be a hash field
// (empty, or starting with a NUL byte).
var ErrFieldName = fmt.Errorf("redisession: session value name not allowed in the hash layout")

// layout is the code that differs between LayoutString and LayoutHash:
// how a session's key is read, decoded and written. New picks one from
// Options.Layout, and each Session keeps its store's.
type layout interface {
	// read reads the session at key, sliding its expiry to exp when slide,
	// in one round trip: redis.Nil when there is none.
	read(ctx context.Context, s *Store, key string, slide bool, exp int64) (contents, error)
	// decode sets x's values (and what is stored of them) from c and
	// returns its record; a payload over max bytes is malformed.
	decode(c contents, x *Session, max int) (record, error)
	// meta returns the command that reads the record at key, payload or
	// not: what a listing needs.
	meta(ctx context.Context, key string) *redis.StringCmd
	// take reads the record at key and deletes the session (DeleteToken);
	// the command's value is the record.
	take(ctx context.Context, s *Store, key string) (*redis.StringCmd, error)
	// payload is what of x its record carries.
	payload(x *Session) []byte
	// writeArgs are the write step's arguments (see write in redis.go) for
	// x with its encoded record, expiring at exp.
	writeArgs(s *Store, x *Session, rec []byte, exp int64) ([]interface{}, error)
	// modified reports whether x's values differ from what is stored.
	modified(x *Session) bool
	// saved records x's values as stored.
	saved(x *Session)
}

// newLayout returns the code of l.
func newLayout(l Layout) layout {
	if l == LayoutHash {
		return hashLayout{}
	}
	return stringLayout{}
}

// contents is what a session key held, as a layout read it.
type contents struct {
	raw    string            // string layout
	fields map[string]string // hash layout
}

// size is the number of bytes read.
func (c contents) size() int { return len(c.raw) + hashSize(c.fields) }

// stringLayout keeps a session as one string: the record, with Data as its
// payload.
type stringLayout struct{}

func (stringLayout) read(ctx context.Context, s *Store, key string, slide bool, exp int64) (contents, error) {
	cmd := getCmd(ctx, key)
	if slide {
		cmd = getexCmd(ctx, key, exp)
	}
	err := s.client.Process(ctx, cmd)
	return contents{raw: cmd.Val()}, err
}

func (stringLayout) decode(c contents, x *Session, max int) (record, error) {
	rec, savedData, err := decodeRecordString(c.raw)
	if err != nil {
		return record{}, err
	}
	// Data is the adapter's to change; savedData keeps what is stored.
	var data []byte
	if rec.compressed {
		if data, err = inflate(savedData, max); err != nil {
			return record{}, err
		}
		savedData = string(data)
	} else {
		data = []byte(savedData)
	}
	x.Data, x.savedData = data, savedData
	return rec, nil
}

func (stringLayout) meta(ctx context.Context, key string) *redis.StringCmd { return getCmd(ctx, key) }

func (stringLayout) take(ctx context.Context, s *Store, key string) (*redis.StringCmd, error) {
	cmd := getdelCmd(ctx, key)
	return cmd, s.client.Process(ctx, cmd)
}

func (stringLayout) payload(x *Session) []byte { return x.Data }

func (stringLayout) writeArgs(_ *Store, _ *Session, rec []byte, exp int64) ([]interface{}, error) {
	return writeStringArgs(exp, rec), nil
}

func (stringLayout) modified(x *Session) bool { return string(x.Data) != x.savedData }

func (stringLayout) saved(x *Session) { x.savedData = string(x.Data) }

// hashLayout keeps a session as a hash: the record without payload in
// metaField, and one field per value of Fields.
type hashLayout struct{}

func (hashLayout) read(ctx context.Context, s *Store, key string, slide bool, exp int64) (contents, error) {
	if !slide {
		get := hgetallCmd(ctx, key)
		err := s.client.Process(ctx, get)
		if err == nil && len(get.Val()) == 0 {
			err = redis.Nil
		}
		return contents{fields: get.Val()}, err
	}
	cmd := s.run(ctx, hashLoadScript, []string{key}, exp)
	if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
		return contents{}, err
	}
	flat, err := cmd.StringSlice()
	if err != nil {
		return contents{}, err
	}
	if len(flat) == 0 {
		return contents{}, redis.Nil
	}
	m := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		m[flat[i]] = flat[i+1]
	}
	return contents{fields: m}, nil
}

func (hashLayout) decode(c contents, x *Session, _ int) (record, error) {
	rec, fields, err := decodeHash(c.fields)
	if err != nil {
		return record{}, err
	}
	delete(c.fields, metaField)
	x.Fields, x.savedFields = fields, c.fields
	return rec, nil
}

func (hashLayout) meta(ctx context.Context, key string) *redis.StringCmd {
	return hgetMetaCmd(ctx, key)
}

func (l hashLayout) take(ctx context.Context, s *Store, key string) (*redis.StringCmd, error) {
	cmd := l.meta(ctx, key)
	err := s.send(ctx, []redis.Cmder{cmd})
	if err == nil && cmd.Err() == nil {
		err = s.send(ctx, []redis.Cmder{delCmd(ctx, key)})
	}
	if err == nil {
		err = cmd.Err()
	}
	return cmd, err
}

func (hashLayout) payload(*Session) []byte { return nil }

func (hashLayout) writeArgs(s *Store, x *Session, rec []byte, exp int64) ([]interface{}, error) {
	del, set, err := s.hashChanges(x, rec)
	if err != nil {
		return nil, err
	}
	return writeHashArgs(exp, del, set), nil
}

func (hashLayout) modified(x *Session) bool { return x.fieldsModified() }

func (hashLayout) saved(x *Session) { x.rememberFields() }

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
