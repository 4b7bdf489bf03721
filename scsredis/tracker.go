package scsredis

import (
	"sync"
	"time"

	"github.com/redisession/redisession/core"
)

// What the store knows about a token when scs commits it.
type state int

const (
	unseen state = iota // never found, saved or deleted here: a new session
	stored              // found (or saved) and in flight: write only over an existing key
	known               // existed when last seen: re-read, then write over it
	dead                // deleted or revoked: never write it again
)

// tracker is the process-local table behind "no resurrection" (see the
// package doc). Entries are dropped keep after their last use.
type tracker struct {
	mu    sync.Mutex
	m     map[string]*entry
	keep  time.Duration
	swept time.Time
	now   func() time.Time
}

type entry struct {
	x       *core.Session // as last found or saved, while a request holds it; never modified once here
	pending int           // finds not yet followed by a commit
	dead    bool
	at      time.Time
}

func newTracker(keep time.Duration) *tracker {
	return &tracker{m: map[string]*entry{}, keep: keep, swept: time.Now(), now: time.Now}
}

// get returns the entry of token, made if need be, after dropping old ones.
// t.mu must be held.
func (t *tracker) get(token string, create bool) *entry {
	now := t.now()
	if now.Sub(t.swept) > t.keep/16 {
		for k, e := range t.m {
			switch idle := now.Sub(e.at); {
			case idle > t.keep:
				delete(t.m, k)
			case idle > t.keep/8 && e.x != nil:
				// A find with no commit yet (a read-only request when scs
				// has no IdleTimeout): drop the session, keep the fact that
				// it existed. A late commit re-reads it (state known).
				e.x = nil
			}
		}
		t.swept = now
	}
	e := t.m[token]
	if e == nil && create {
		e = &entry{}
		t.m[token] = e
	}
	if e != nil {
		e.at = now
	}
	return e
}

// found records a session loaded by Find.
func (t *tracker) found(token string, x *core.Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(token, true)
	e.x, e.dead = x, false
	e.pending++
}

// forCommit returns what is known of token, with a private copy of the
// stored session when there is one.
func (t *tracker) forCommit(token string) (*core.Session, state) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(token, false)
	switch {
	case e == nil:
		return nil, unseen
	case e.dead:
		return nil, dead
	case e.x != nil:
		cp := *e.x
		return &cp, stored
	}
	return nil, known
}

// saved records a successful commit. The session is kept only while another
// request that found it has not committed yet.
func (t *tracker) saved(token string, x *core.Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(token, true)
	e.dead = false
	if e.pending > 0 {
		e.pending--
	}
	e.x = nil
	if e.pending > 0 {
		cp := *x
		e.x = &cp
	}
}

// failed records a commit that wrote nothing for a system reason.
func (t *tracker) failed(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.get(token, false); e != nil && e.pending > 0 {
		e.pending--
		if e.pending == 0 {
			e.x = nil
		}
	}
}

// gone records that token's session no longer exists.
func (t *tracker) gone(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(token, true)
	e.x, e.dead, e.pending = nil, true, 0
}

// kill records that token is being deleted and returns a copy of its stored
// session, if one is held, to delete it by. A token this store never saw is
// not held by any request here: it gets no entry.
func (t *tracker) kill(token string) *core.Session {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.get(token, false)
	if e == nil {
		return nil
	}
	var cp *core.Session
	if e.x != nil && !e.dead {
		c := *e.x
		cp = &c
	}
	e.x, e.dead, e.pending = nil, true, 0
	return cp
}

// size returns the number of entries, for tests.
func (t *tracker) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
