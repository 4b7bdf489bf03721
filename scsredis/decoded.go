package scsredis

import (
	"crypto/sha256"
	"reflect"
	"sync"
	"time"
)

// decodedBlobs remembers what recently stored blobs decode to. scs gob-
// encodes its map of values in Go's random map order, so a commit of
// unchanged values rarely repeats the stored bytes; telling it from a change
// means comparing decoded values. With this the store decodes only the blob
// scs hands it (once per request): the stored one was decoded when it was
// written or first compared. Keys are SHA-256 of the blob, so a hit is the
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

// same reports whether stored decodes to the given deadline and values.
func (s *Store) same(stored []byte, deadline time.Time, values map[string]interface{}) bool {
	d, ok := s.decoded.get(stored)
	if !ok {
		dl, v, err := s.codec.Decode(stored)
		if err != nil {
			return false
		}
		d = decodedBlob{dl, v}
		s.decoded.put(stored, d)
	}
	return d.deadline.Equal(deadline) && len(d.values) == len(values) && reflect.DeepEqual(d.values, values)
}
