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

// metaField is the hash field holding the record's metadata (no payload).
// Value fields may not start with a NUL byte, so they cannot collide with it.
const metaField = "\x00"

// ErrFieldName reports a session value whose name cannot be a hash field
// (empty, or starting with a NUL byte).
var ErrFieldName = fmt.Errorf("redisession: session value name not allowed in the hash layout")

// hashSaveScript writes a hash-layout session on the condition that it
// exists (XX) or does not (NX), deletes and sets the given fields and sets
// the absolute expiry, atomically: a half-written session, or one without a
// TTL, cannot exist. It touches one key, so it runs on Cluster.
//
// KEYS[1] session key; ARGV[1] "xx" or "nx"; ARGV[2] expiry (unix ms);
// ARGV[3] number of fields to delete; then those fields; then field, value
// pairs to set.
var hashSaveScript = `
local exists = redis.call('EXISTS', KEYS[1])
if (ARGV[1] == 'xx' and exists == 0) or (ARGV[1] == 'nx' and exists == 1) then return 0 end
local ndel = tonumber(ARGV[3])
if ndel > 0 then redis.call('HDEL', KEYS[1], unpack(ARGV, 4, 3 + ndel)) end
if #ARGV > 3 + ndel then redis.call('HSET', KEYS[1], unpack(ARGV, 4 + ndel)) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
`

// hashLoadScript reads a hash-layout session and, if it exists, slides its
// expiry: one round trip, and a missing key or another type is left as it
// is. KEYS[1] session key; ARGV[1] expiry (unix ms).
var hashLoadScript = `
local m = redis.call('HGETALL', KEYS[1])
if #m > 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return m
`

// loadHash reads a hash-layout session, sliding its expiry to exp in the
// same round trip when slide is set.
func (s *Store) loadHash(ctx context.Context, key string, slide bool, exp int64) (map[string]string, error) {
	if !slide {
		get := redis.NewMapStringStringCmd(ctx, "hgetall", key)
		err := s.client.Process(ctx, get)
		return get.Val(), err
	}
	cmd := redis.NewStringSliceCmd(ctx, "eval", hashLoadScript, 1, key, exp)
	if err := s.client.Process(ctx, cmd); err != nil {
		return nil, err
	}
	flat := cmd.Val()
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

// hashWrite builds the save of a hash-layout session: the fields that
// changed since it was stored (all of them for a new one) and those removed.
func (s *Store) hashWrite(ctx context.Context, x *Session, key string, meta []byte, mode string, exp int64) (*redis.Cmd, error) {
	size := len(metaField) + len(meta)
	for k, v := range x.Fields {
		if k == "" || strings.HasPrefix(k, metaField) {
			return nil, fmt.Errorf("%w: %q", ErrFieldName, k)
		}
		size += len(k) + len(v)
	}
	if size > s.opts.MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, s.opts.MaxRecordSize)
	}
	var del []interface{}
	set := []interface{}{metaField, meta}
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
	args := make([]interface{}, 0, 7+len(del)+len(set))
	args = append(args, "eval", hashSaveScript, 1, key, mode, exp, len(del))
	args = append(args, del...)
	args = append(args, set...)
	return redis.NewCmd(ctx, args...), nil
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
		return redis.NewStringCmd(ctx, "hget", key, metaField)
	}
	return redis.NewStringCmd(ctx, "get", key)
}

// isWrongType reports a WRONGTYPE reply: a key of the other layout, or
// another program's data.
func isWrongType(err error) bool {
	return err != nil && strings.Contains(err.Error(), "WRONGTYPE")
}
