package scsredis

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"reflect"
	"sync"
	"time"
)

// decodedBlobs remembers what recently stored blobs decode to, for the
// sessions gobwire.go cannot compare on the wire (a custom Codec, or values
// of other types). scs encodes its map of values in Go's random map order,
// so a commit of unchanged values rarely repeats the stored bytes; telling
// it from a change then means comparing decoded values. With this the store
// decodes only the blob scs hands it (once per request): the stored one was
// decoded when it was written or first compared. Keys are SHA-256 of the blob, so a hit is the
// same bytes. It is a cache, not a guarantee: a miss (a blob written by
// another process, or evicted) costs one more decode, nothing else.
type decodedBlobs struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]decodedBlob
}

type decodedBlob struct {
	deadline time.Time
	values   map[string]interface{} // never handed out: only compared
}

// maxDecodedBlobs bounds the cache (about a session's decoded size each).
const maxDecodedBlobs = 4096

func (c *decodedBlobs) get(b []byte) (decodedBlob, bool) {
	k := sha256.Sum256(b)
	c.mu.Lock()
	d, ok := c.m[k]
	c.mu.Unlock()
	return d, ok
}

func (c *decodedBlobs) put(b []byte, d decodedBlob) {
	k := sha256.Sum256(b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[sha256.Size]byte]decodedBlob)
	}
	if len(c.m) >= maxDecodedBlobs {
		for old := range c.m { // evict one, at random
			delete(c.m, old)
			break
		}
	}
	c.m[k] = d
}

// committed is what a commit knows of the bytes scs hands it.
type committed struct {
	b        []byte
	deadline time.Time
	uid      string
	uidErr   error                  // the value under the user key is one core.UserIDOf refuses
	opaque   bool                   // Options.Codec cannot decode it: stored as it is
	values   map[string]interface{} // decoded, if it had to be
	wire     gobBlob                // read without decoding (GobCodec), if wireOK
	wireOK   bool
}

// read learns the deadline and user of b: from gob's wire format when it
// can (GobCodec, values of common types), by decoding otherwise.
func (s *Store) read(b []byte) committed {
	c := committed{b: b}
	if s.gob {
		if c.wire, c.wireOK = readGobBlob(b); c.wireOK {
			var okD, okU bool
			c.deadline, okD = c.wire.Deadline()
			c.uid, okU = c.wire.userID(s.userKey)
			if okD && okU {
				return c
			}
		}
	}
	s.decode(&c)
	return c
}

// decode decodes c.b, once.
func (s *Store) decode(c *committed) {
	if c.values != nil || c.opaque {
		return
	}
	deadline, values, err := s.codec.Decode(c.b)
	if err != nil {
		// scs's store contract is opaque bytes: what Options.Codec cannot
		// decode is stored as it is, bound to no user (see Check).
		c.opaque, c.deadline, c.uid = true, time.Time{}, ""
		return
	}
	if values == nil {
		values = map[string]interface{}{}
	}
	c.deadline, c.values = deadline, values
	c.uid, c.uidErr = userID(values[s.userKey], s.userKey)
}

// same reports whether stored holds what c does: compared on the wire when
// both can be read so, else on decoded values (the stored ones from the
// cache when it has them).
func (s *Store) same(stored []byte, c *committed) bool {
	if c.wireOK {
		// With the same type definitions, entries of predefined types are
		// equal exactly when their bytes are: the answer either way.
		if w, ok := readGobBlob(stored); ok && bytes.Equal(c.wire.types, w.types) {
			return c.wire.same(&w)
		}
	}
	s.decode(c)
	if c.opaque {
		return false
	}
	d, ok := s.decoded.get(stored)
	if !ok {
		dl, v, err := s.codec.Decode(stored)
		if err != nil {
			return false
		}
		d = decodedBlob{dl, v}
		s.decoded.put(stored, d)
	}
	if !d.deadline.Equal(c.deadline) || len(d.values) != len(c.values) {
		return false
	}
	return len(c.values) == 0 || reflect.DeepEqual(d.values, c.values)
}

// checkNames refuses values whose names core.Options.Sensitive denies: the
// names are read off the wire when the blob was (GobCodec), from the
// decoded values otherwise. An opaque blob has no names to check.
func (s *Store) checkNames(c *committed) error {
	check := func(name string) error {
		if err := s.core.CheckName(name); err != nil {
			return fmt.Errorf("scsredis: commit: %w", err)
		}
		return nil
	}
	if len(s.core.Options().Sensitive) == 0 {
		return nil
	}
	if c.values == nil && c.wireOK {
		for _, e := range c.wire.entries {
			r := gobReader{b: e}
			key, _ := r.bytes()
			if err := check(string(key)); err != nil {
				return err
			}
		}
		return nil
	}
	for name := range c.values {
		if err := check(name); err != nil {
			return err
		}
	}
	return nil
}
