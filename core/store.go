package core

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store is the Redis engine shared by every adapter. It is safe for
// concurrent use; a *Session is not.
type Store struct {
	client  redis.UniversalClient
	opts    Options
	ordered bool // pipelines fan out in parallel (Cluster): send dependent steps one after another
	layout  layout
	stats   counters
	guard   guard
	deny    denyList      // Options.Sensitive
	sent    []atomic.Bool // per script (script.n): sent whole once, so EVALSHA from then on
	// noSPublish is set once a Cluster answered SPUBLISH as unknown
	// (before Redis 7): broadcasts then use PUBLISH.
	noSPublish atomic.Bool
}

// New returns a Store over client, which may be a single node, a Sentinel
// failover client or a Cluster client. The client is the caller's: Store never
// closes it.
func New(client redis.UniversalClient, opts Options) *Store {
	s := &Store{client: client, opts: opts.withDefaults(), layout: newLayout(opts.Layout),
		deny: newDenyList(opts.Sensitive), sent: make([]atomic.Bool, len(scripts))}
	if _, ok := client.(*redis.ClusterClient); ok {
		s.ordered = true
	}
	return s
}

// Options returns the options in force, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// NewSession returns a session with a fresh token, created now, that exists
// only in memory until Save. It costs no round trip.
func (s *Store) NewSession(dev Device) *Session {
	x, _ := s.NewSessionWithToken(NewToken(), dev)
	return x
}

// NewSessionWithToken is NewSession for frameworks that mint their own
// tokens (scs). The token must pass ValidToken or ErrInvalidToken is
// returned. Never pass it a token
// that came from a client: that is session fixation.
func (s *Store) NewSessionWithToken(token string, dev Device) (*Session, error) {
	if !s.validToken(token) {
		s.stats.rejected.Add(1)
		return nil, ErrInvalidToken
	}
	now := s.nowMillis()
	x := &Session{
		created:    now,
		lastSeen:   now,
		deadline:   now + s.opts.Lifetime.Milliseconds(),
		userAgent:  truncate(dev.UserAgent, maxUserAgent),
		remoteAddr: truncate(dev.RemoteAddr, maxRemoteAddr),
		layout:     s.layout,
	}
	x.setToken(token)
	return x, nil
}

func (s *Store) validToken(token string) bool { return ValidToken(token) }

// Handle returns the public handle of a token this store accepts, "" for one
// it would refuse.
func (s *Store) Handle(token string) string {
	if !s.validToken(token) {
		return ""
	}
	return hashToken(token)
}

// Load returns the session stored under token and slides its expiry to
// now+IdleTimeout (capped by its deadline) in the same command: one round
// trip. In the last IdleTimeout of a session's life Load costs a second
// round trip to pull the expiry back to the deadline.
//
// A malformed token returns ErrInvalidToken without touching Redis. An
// unknown, expired or revoked token, and bytes that are not a record, return
// an error that matches ErrNotFound.
func (s *Store) Load(ctx context.Context, token string) (*Session, error) {
	return s.load(ctx, token, true)
}

// Peek is Load without sliding the expiry (a plain GET), for frameworks that
// set the expiry themselves on every commit.
func (s *Store) Peek(ctx context.Context, token string) (*Session, error) {
	return s.load(ctx, token, false)
}

func (s *Store) load(ctx context.Context, token string, slide bool) (*Session, error) {
	if !s.validToken(token) {
		s.stats.rejected.Add(1)
		return nil, ErrInvalidToken
	}
	if err := s.refuse(ctx); err != nil {
		return nil, err
	}
	s.stats.loads.Add(1)
	handle := hashToken(token)
	key := s.sessionKeyForID(handle)
	now := s.nowMillis()
	exp := now + s.opts.IdleTimeout.Milliseconds()
	c, err := s.layout.read(ctx, s, key, slide, exp)
	switch {
	case err == redis.Nil:
		s.stats.stale.Add(1)
		return nil, ErrNotFound
	case isWrongType(err):
		// The other layout's session, or another program's key: a miss, left alone.
		s.stats.malformed.Add(1)
		return nil, fmt.Errorf("%w: %s holds another type", ErrNotFound, handle)
	case err != nil:
		return nil, fmt.Errorf("redisession: load %s: %w", handle, err)
	}
	if size := c.size(); size > s.opts.MaxRecordSize {
		s.stats.malformed.Add(1)
		return nil, fmt.Errorf("%w: %s holds %d bytes, over the %d-byte limit", ErrNotFound, handle, size, s.opts.MaxRecordSize)
	}
	x := &Session{token: token, handle: handle, stored: true, layout: s.layout}
	rec, err := s.layout.decode(c, x, s.opts.MaxRecordSize)
	if err != nil {
		// Not ours (or damaged): a miss, and left alone, since it is not ours to delete.
		s.stats.malformed.Add(1)
		return nil, fmt.Errorf("%w: %s: %v", ErrNotFound, handle, err)
	}
	x.UserID, x.savedUID = rec.userID, rec.userID
	x.created, x.lastSeen, x.deadline = rec.created, rec.lastSeen, rec.deadline
	x.userAgent, x.remoteAddr = rec.userAgent, rec.remoteAddr
	if now >= rec.deadline {
		// Past its absolute lifetime: it is gone, whatever its TTL said.
		s.stats.stale.Add(1)
		if err := s.remove(ctx, x); err != nil {
			return nil, fmt.Errorf("redisession: expire %s: %w", x.Handle(), err)
		}
		return nil, ErrNotFound
	}
	if ok, err := s.indexed(ctx, x); err != nil {
		return nil, fmt.Errorf("redisession: load %s: read its index entry: %w", handle, err)
	} else if !ok {
		// Its index is gone (evicted): a revoke of its user could not end
		// it, so it is not honoured.
		s.stats.stale.Add(1)
		if err := s.remove(ctx, x); err != nil {
			return nil, fmt.Errorf("redisession: delete unindexed %s: %w", handle, err)
		}
		return nil, fmt.Errorf("%w: %s is not in its user's index (evicted?)", ErrNotFound, handle)
	}
	s.stats.hits.Add(1)
	if !slide {
		return x, nil
	}
	x.expiresAt = exp
	if exp > rec.deadline {
		// GETEX moved the expiry past the deadline: pull it back. Only in the
		// last IdleTimeout of the session's life.
		x.expiresAt = rec.deadline
		if err := s.client.Process(ctx, pexpireatCmd(ctx, key, rec.deadline)); err != nil {
			return nil, fmt.Errorf("redisession: cap %s: %w", x.Handle(), err)
		}
	}
	return x, nil
}

// Save writes the session with its expiry at now+IdleTimeout, capped by its
// deadline. A stored session whose Data and UserID did not change costs no
// round trip (its expiry already slid when it was loaded).
//
// Save never re-creates a session that is gone: a stored session is written
// only over its existing key, so if it was deleted, revoked or expired after
// it was loaded, nothing is written and Save returns ErrNotFound. A new
// session is written only where no key exists. Binding to a user (UserID
// changed) updates the user's index in the same step on a single node (one
// round trip, one script), and before the session on Cluster. A Save that
// Redis refused (an error Redis returned: out of memory, a key of another
// type) has not written the session. One cut short by a timeout or a lost
// connection may or may not have: the command may have reached Redis.
func (s *Store) Save(ctx context.Context, x *Session) error {
	return s.SaveUntil(ctx, x, time.Time{})
}

// SaveUntil is Save with the expiry chosen by the caller (capped by the
// deadline); a zero expiry means now+IdleTimeout. An expiry not after now
// deletes the session instead: no key is ever written without a future
// expiry.
func (s *Store) SaveUntil(ctx context.Context, x *Session, expiry time.Time) error {
	if x.gone {
		return fmt.Errorf("%w: %s was revoked", ErrNotFound, x.Handle())
	}
	now := s.nowMillis()
	exp := now + s.opts.IdleTimeout.Milliseconds()
	if !expiry.IsZero() {
		exp = millis(expiry)
	}
	if exp > x.deadline {
		exp = x.deadline
	}
	if exp <= now {
		if x.stored {
			keys := s.keysOf(x)
			if err := s.remove(ctx, x); err != nil {
				return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
			}
			s.emit(ctx, Event{Kind: EventLogout, Handle: x.handle, UserID: x.savedUID, Device: x.Device()})
			if err := s.durable(ctx, keys...); err != nil {
				return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
			}
		}
		return ErrNotFound
	}
	if err := s.refuse(ctx); err != nil {
		return err
	}
	if x.stored && !x.Modified() {
		return s.touch(ctx, x, exp, expiry.IsZero())
	}
	w, err := s.prepare(x, now, exp)
	if err != nil {
		return err
	}
	mode := "nx"
	if x.stored {
		mode = "xx"
	}
	var c change
	if x.UserID != "" && (!x.stored || x.UserID != x.savedUID) {
		c.bind = x.UserID
	}
	if x.stored && x.savedUID != "" && x.savedUID != x.UserID {
		c.unbind = x.savedUID
	}
	if !x.stored {
		c.pred, c.predOwner = x.pred, x.predOwner
	}
	ok, err := s.write(ctx, x.handle, mode, c, w)
	if err != nil {
		return fmt.Errorf("redisession: save %s: %w", x.Handle(), err)
	}
	if !ok {
		// Deleted or revoked since it was loaded, or (a create) the key is
		// taken: stay dead, and leave whatever holds the key alone.
		x.stored, x.gone = false, true
		return fmt.Errorf("%w: %s was deleted before it could be saved", ErrNotFound, x.Handle())
	}
	s.saved(x, now, exp)
	var events []Event
	if c.pred != "" {
		events = append(events, Event{Kind: EventRenew, Handle: x.handle, Previous: c.pred, UserID: x.UserID, Device: x.Device()})
	}
	if c.bind != "" && (c.pred == "" || c.bind != c.predOwner) {
		events = append(events, Event{Kind: EventLogin, Handle: x.handle, UserID: c.bind, Device: x.Device()})
	}
	s.emit(ctx, events...)
	return nil
}

// saved records a successful write in x.
func (s *Store) saved(x *Session, now, exp int64) {
	if !x.stored {
		s.stats.creates.Add(1)
	}
	s.stats.saves.Add(1)
	x.stored = true
	x.lastSeen = now
	x.expiresAt = exp
	x.layout.saved(x)
	x.savedUID = x.UserID
}

// pending is a session write ready to send: what the write step of the
// scripts takes (see write in redis.go).
type pending struct {
	deadline, now int64
	args          []interface{} // expiry, layout, then the record or the field changes
}

// prepare checks and encodes x for a write, before anything is sent: a
// session that cannot be written fails here, with nothing changed in Redis.
func (s *Store) prepare(x *Session, now, exp int64) (pending, error) {
	b, err := s.encode(x, now)
	if err != nil {
		return pending{}, err
	}
	args, err := x.layout.writeArgs(s, x, b, exp)
	if err != nil {
		return pending{}, err
	}
	return pending{deadline: x.deadline, now: now, args: args}, nil
}

// encode returns the record x would be written as, or why it cannot be.
func (s *Store) encode(x *Session, now int64) ([]byte, error) {
	if len(x.UserID) > MaxUserIDLen {
		return nil, fmt.Errorf("redisession: user id of %d bytes is over the %d-byte limit", len(x.UserID), MaxUserIDLen)
	}
	rec := record{
		created: x.created, lastSeen: now, deadline: x.deadline,
		userID: x.UserID, userAgent: x.userAgent, remoteAddr: x.remoteAddr,
	}
	rec.data = x.layout.payload(x)
	// The limit is on the session as the app sees it, compressed or not:
	// what is saved must load.
	if n := rec.size(); n > s.opts.MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, s.opts.MaxRecordSize)
	}
	return rec.encode(s.opts.CompressAbove), nil
}

// change is what a save does to the index besides writing the session:
// the user whose index gains the session, the user whose index loses it,
// and the session it succeeds (see Retire), with the user it was indexed
// under.
type change struct {
	bind, unbind    string
	pred, predOwner string
}

// write sends a save: the session key of id written under mode ("nx": only
// where no key exists; "xx": only over a session of this layout) with the
// index changes c. It reports whether the session was written. On one node
// it is one script; on Cluster the index is written first, then the
// session, then the entries it replaces are removed, each step only if the
// one before it succeeded.
func (s *Store) write(ctx context.Context, id, mode string, c change, w pending) (bool, error) {
	key := s.sessionKeyForID(id)
	if !s.ordered {
		keys := []string{key}
		pos := map[string]int{}
		at := func(uid string) int {
			if uid == "" {
				return 0
			}
			if pos[uid] == 0 {
				keys = append(keys, s.indexKey(uid))
				pos[uid] = len(keys)
			}
			return pos[uid]
		}
		add, rm, pre := at(c.bind), at(c.unbind), 0
		if c.pred != "" {
			pre = at(c.predOwner)
		}
		args := append([]interface{}{mode, id, w.deadline, add, rm, w.now, c.pred, pre}, w.args...)
		cmd := s.run(ctx, saveScript, keys, args...)
		if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
			return false, err
		}
		return cmd.Val() == int64(1), nil
	}
	// The new entry first, then the predecessor's retirement marker is
	// claimed: a revoke in between sees the new entry, one before it has
	// turned the marker into a revocation.
	claimed := c.pred == "" || c.predOwner == ""
	if c.bind != "" {
		claim := ""
		if !claimed && c.predOwner == c.bind {
			claim, claimed = c.pred, true
		}
		if ok, err := s.indexAdd(ctx, c.bind, id, "", claim, w); err != nil || !ok {
			return false, err
		}
	}
	if !claimed {
		cmd := zremCmd(ctx, s.indexKey(c.predOwner), retiredPrefix+c.pred)
		if err := s.send(ctx, []redis.Cmder{cmd}); err != nil || cmd.Val() == 0 {
			return false, err
		}
	}
	cmd := s.run(ctx, saveScript, []string{key}, append([]interface{}{mode, id, w.deadline, 0, 0, w.now, "", 0}, w.args...)...)
	if err := s.send(ctx, []redis.Cmder{cmd}); err != nil || cmd.Val() != int64(1) {
		return false, err
	}
	// Entries left behind by a failure here name a session that is gone or
	// another user's: a listing skips them, a revoke removes them.
	var rm []redis.Cmder
	if c.unbind != "" {
		rm = append(rm, zremCmd(ctx, s.indexKey(c.unbind), id))
	}
	_ = s.send(ctx, rm)
	return true, nil
}

// marked reports whether id is marked revoked in userID's index.
func (s *Store) marked(ctx context.Context, userID, id string) (bool, error) {
	cmd := zscoreCmd(ctx, s.indexKey(userID), markerPrefix+id)
	if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
		return false, err
	}
	return cmd.Err() == nil, nil
}

// indexAdd adds id to userID's index (Cluster's first step of a bind or a
// renewal); with renewOf set it refuses, reporting false, when that id is
// marked revoked; with claim set it removes that retired id's marker and
// reports false when there was none.
func (s *Store) indexAdd(ctx context.Context, userID, id, renewOf, claim string, w pending) (bool, error) {
	cmd := s.run(ctx, indexAddScript, []string{s.indexKey(userID)}, id, w.deadline, w.now, renewOf, claim)
	if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
		return false, err
	}
	return cmd.Val() == int64(1), nil
}

// Delete removes the session and its index entry in one round trip (logout).
// Deleting a session that is not stored is a no-op.
func (s *Store) Delete(ctx context.Context, x *Session) error {
	if !x.stored {
		return nil
	}
	keys := s.keysOf(x)
	if err := s.remove(ctx, x); err != nil {
		return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
	}
	s.stats.deletes.Add(1)
	s.emit(ctx, Event{Kind: EventLogout, Handle: x.handle, UserID: x.savedUID, Device: x.Device()})
	if err := s.durable(ctx, keys...); err != nil {
		return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
	}
	return nil
}

// keysOf names the keys a delete of x writes.
func (s *Store) keysOf(x *Session) []string {
	keys := []string{s.sessionKey(x)}
	if x.savedUID != "" {
		keys = append(keys, s.indexKey(x.savedUID))
	}
	return keys
}

// DeleteToken removes the session stored under token, and its index entry,
// without the caller loading it first (two round trips). An unknown or
// malformed token is a no-op.
func (s *Store) DeleteToken(ctx context.Context, token string) error {
	if !s.validToken(token) {
		s.stats.rejected.Add(1)
		return nil
	}
	id := hashToken(token)
	key := s.sessionKeyForID(id)
	cmd, err := s.layout.take(ctx, s, key)
	if err == redis.Nil || isWrongType(err) {
		return nil // no session, or a tombstone or data that is not ours: left alone
	}
	if err != nil {
		return fmt.Errorf("redisession: delete %s: %w", id, err)
	}
	s.stats.deletes.Add(1)
	rec, _, err := decodeRecordString(cmd.Val())
	if err == nil && rec.userID != "" {
		if err := s.client.Process(ctx, zremCmd(ctx, s.indexKey(rec.userID), id)); err != nil {
			return fmt.Errorf("redisession: unindex %s: %w", id, err)
		}
	}
	keys := []string{key}
	if err == nil && rec.userID != "" {
		keys = append(keys, s.indexKey(rec.userID))
	}
	s.emit(ctx, Event{Kind: EventLogout, Handle: id, UserID: rec.userID,
		Device: Device{UserAgent: rec.userAgent, RemoteAddr: rec.remoteAddr}})
	if err := s.durable(ctx, keys...); err != nil {
		return fmt.Errorf("redisession: delete %s: %w", id, err)
	}
	return nil
}

// Renew gives the session a new token and kills the old one, index included
// (regenerate on login or privilege change). The data, user, creation time
// and deadline carry over: renewing does not extend the absolute lifetime.
//
// The new session is written only if the old one still exists and has not
// been marked revoked, so a session deleted or revoked while the request ran
// is not brought back under a new name: Renew then returns ErrNotFound. On
// a single node this is one script (one round trip): a Renew Redis refused
// leaves the session as it was, and one cut short by a timeout either did
// nothing or renewed it (the caller then lacks the new token: logged out).
// On Cluster it takes four steps (index the
// new token, delete the old session, write the new one, unindex the old
// token); an error after the second leaves the user logged out, never a
// session outside its index. None for a session not yet stored.
func (s *Store) Renew(ctx context.Context, x *Session) error {
	if x.gone {
		return fmt.Errorf("%w: %s was revoked", ErrNotFound, x.Handle())
	}
	if !x.stored {
		x.setToken(NewToken())
		s.stats.renews.Add(1)
		return nil
	}
	if err := s.refuse(ctx); err != nil {
		return err
	}
	now := s.nowMillis()
	exp := now + s.opts.IdleTimeout.Milliseconds()
	if exp > x.deadline {
		exp = x.deadline
	}
	if exp <= now {
		return s.SaveUntil(ctx, x, fromMillis(now)) // past its deadline: gone
	}
	// Everything that could make the new session unwritable is refused
	// before anything is sent: a failed renew must not lose the session.
	w, err := s.prepareNew(x, now, exp)
	if err != nil {
		return err
	}
	oldID, newToken := x.handle, NewToken()
	newID := hashToken(newToken)
	res, err := s.rotate(ctx, oldID, newID, x.savedUID, x.UserID, w)
	if err != nil {
		return fmt.Errorf("redisession: renew %s: %w", x.Handle(), err)
	}
	if res != 1 {
		x.stored, x.gone = false, true
		return fmt.Errorf("%w: %s was deleted or revoked before it could be renewed", ErrNotFound, x.Handle())
	}
	oldUID := x.savedUID
	x.setToken(newToken)
	x.stored = false // a create, for the counters
	s.saved(x, now, exp)
	s.stats.renews.Add(1)
	if s.opts.OnEvent != nil || s.opts.Broadcast {
		events := []Event{{Kind: EventRenew, Handle: newID, Previous: oldID, UserID: x.UserID, Device: x.Device()}}
		if x.UserID != "" && x.UserID != oldUID {
			events = append(events, Event{Kind: EventLogin, Handle: newID, UserID: x.UserID, Device: x.Device()})
		}
		s.emit(ctx, events...)
	}
	// The old token must stay dead: wait for it, where asked. The session
	// is renewed whatever this says.
	if err := s.durable(ctx, s.sessionKeyForID(oldID), s.sessionKeyForID(newID)); err != nil {
		return fmt.Errorf("redisession: renew %s: %w", oldID, err)
	}
	return nil
}

// Retire deletes a stored session for a framework that renews in two calls
// (scs's RenewToken deletes the old token at once; the new one is committed
// at the end of the request): the second half is Successor and Save. The
// session's index entry becomes a retirement marker ("\x01"+id, until the
// entry's deadline): a revoke in between turns it into a revocation, and the
// successor's Save, which claims the marker, is refused. A retired session
// that gets no successor (a logout) leaves only the marker, which a listing
// skips. Retire returns ErrNotFound when the session was already gone or
// revoked: it must not be succeeded. One round trip on one node.
func (s *Store) Retire(ctx context.Context, x *Session) error {
	if x.gone || !x.stored {
		return fmt.Errorf("%w: %s is not stored", ErrNotFound, x.Handle())
	}
	key := s.sessionKey(x)
	var err error
	var done bool
	switch {
	case x.savedUID == "":
		del := s.run(ctx, delScript, []string{key})
		err = s.send(ctx, []redis.Cmder{del})
		done = del.Val() == int64(1)
	case !s.ordered:
		cmd := s.run(ctx, retireSessionScript, []string{key, s.indexKey(x.savedUID)}, x.handle)
		err = s.send(ctx, []redis.Cmder{cmd})
		done = cmd.Val() == int64(1)
	default:
		del := s.run(ctx, delScript, []string{key})
		marked := s.run(ctx, retireScript, []string{s.indexKey(x.savedUID)}, x.handle)
		err = s.exec(ctx, []redis.Cmder{del}, []redis.Cmder{marked})
		done = del.Val() == int64(1) && marked.Val() == int64(1)
	}
	x.stored, x.gone = false, true
	if err != nil {
		return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
	}
	if !done {
		return fmt.Errorf("%w: %s was deleted or revoked", ErrNotFound, x.Handle())
	}
	s.stats.deletes.Add(1)
	s.emit(ctx, Event{Kind: EventLogout, Handle: x.handle, UserID: x.savedUID, Device: x.Device()})
	if err := s.durable(ctx, s.keysOf(x)...); err != nil {
		return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
	}
	return nil
}

// Abandon removes the retirement marker of a session Retire deleted that
// gets no successor (a logout rather than a renewal), so the index keeps
// nothing of it: one round trip, none for a session never bound. Without
// it the marker goes with the session's deadline. A successor's Save after
// Abandon is refused.
func (s *Store) Abandon(ctx context.Context, x *Session) error {
	if x.savedUID == "" {
		return nil
	}
	if err := s.client.Process(ctx, zremCmd(ctx, s.indexKey(x.savedUID), retiredPrefix+x.handle)); err != nil {
		return fmt.Errorf("redisession: unindex %s: %w", x.Handle(), err)
	}
	return nil
}

// ClaimAdoption records that the session under token is being taken over
// from the store being replaced, whose key for it stays (a migration that
// keeps the old store's key): it returns true for the first claim of
// token and false for every later one until the claim expires at until, in
// one round trip. Claim before writing the adopted session, and let the
// claim outlive the old key (until at or after the old store's deadline for
// it): a session adopted and then logged out or revoked must not be taken
// over again from the key that is still there.
func (s *Store) ClaimAdoption(ctx context.Context, token string, until time.Time) (bool, error) {
	if !s.validToken(token) {
		s.stats.rejected.Add(1)
		return false, ErrInvalidToken
	}
	handle := hashToken(token)
	cmd := setNXAtCmd(ctx, s.adoptedKey(handle), millis(until))
	if err := s.client.Process(ctx, cmd); err != nil && err != redis.Nil {
		return false, fmt.Errorf("redisession: claim %s: %w", handle, err)
	}
	return cmd.Val(), nil
}

// Successor returns a session under token (minted by the framework, as for
// NewSessionWithToken) that takes over a retired session's user, data and
// device, created now. Its Save writes it only if the retired session was
// not revoked since Retire, and claims the retirement marker.
func (s *Store) Successor(old *Session, token string) (*Session, error) {
	x, err := s.NewSessionWithToken(token, old.Device())
	if err != nil {
		return nil, err
	}
	x.UserID = old.savedUID
	x.Data = append([]byte(nil), old.Data...)
	if old.Fields != nil {
		x.Fields = make(map[string][]byte, len(old.Fields))
		for k, v := range old.Fields {
			x.Fields[k] = v
		}
	}
	x.pred, x.predOwner = old.handle, old.savedUID
	return x, nil
}

// prepareNew is prepare for x written afresh under a new id (every field
// set, none to delete).
func (s *Store) prepareNew(x *Session, now, exp int64) (pending, error) {
	stored := x.stored
	x.stored = false
	defer func() { x.stored = stored }()
	return s.prepare(x, now, exp)
}

// rotate moves a session from oldID (indexed under oldUID, "" for none) to
// newID (indexed under newUID). It returns 1 when done, 0 when the old
// session was gone or marked revoked, -1 when newID was taken.
func (s *Store) rotate(ctx context.Context, oldID, newID, oldUID, newUID string, w pending) (int64, error) {
	newKey, oldKey := s.sessionKeyForID(newID), s.sessionKeyForID(oldID)
	if !s.ordered {
		keys := []string{newKey, oldKey}
		unindex, add := "0", 0
		if oldUID != "" {
			keys, unindex = append(keys, s.indexKey(oldUID)), "1"
		}
		if newUID != "" {
			if newUID != oldUID {
				keys = append(keys, s.indexKey(newUID))
			}
			add = len(keys)
		}
		cmd := s.run(ctx, renewScript, keys, append([]interface{}{newID, oldID, w.deadline, unindex, add, w.now}, w.args...)...)
		if err := s.send(ctx, []redis.Cmder{cmd}); err != nil {
			return 0, err
		}
		n, _ := cmd.Int64()
		return n, nil
	}
	// Cluster. 1: index the new id, refused if the old one is marked
	// revoked (a revoke that starts later sees the new id and ends it).
	if oldUID != "" && oldUID != newUID {
		if revoked, err := s.marked(ctx, oldUID, oldID); err != nil || revoked {
			return 0, err
		}
	}
	if newUID != "" {
		renewOf := ""
		if newUID == oldUID {
			renewOf = oldID
		}
		if ok, err := s.indexAdd(ctx, newUID, newID, renewOf, "", w); err != nil || !ok {
			return 0, err
		}
	}
	// 2: the old session must still exist.
	del := s.run(ctx, delScript, []string{oldKey})
	if err := s.send(ctx, []redis.Cmder{del}); err != nil {
		return 0, err
	}
	if del.Val() != int64(1) {
		return 0, nil
	}
	// 3: the new session, only where no key is (a tombstone left by a
	// revoke since step 1 stops it).
	set := s.run(ctx, saveScript, []string{newKey}, append([]interface{}{"nx", newID, w.deadline, 0, 0, w.now, "", 0}, w.args...)...)
	if err := s.send(ctx, []redis.Cmder{set}); err != nil {
		return 0, err
	}
	if set.Val() != int64(1) {
		return 0, nil
	}
	// 4: the old id's entry; one left behind is an entry without a session.
	if oldUID != "" {
		_ = s.send(ctx, []redis.Cmder{zremCmd(ctx, s.indexKey(oldUID), oldID)})
	}
	return 1, nil
}

// touch handles a save of unchanged data. With the default expiry after a
// Load, the load already slid it: nothing to send. Otherwise (an expiry
// chosen by the caller, or a Peek that did not slide) it moves only the
// expiry (PEXPIREAT, which cannot create a key), not the bytes.
func (s *Store) touch(ctx context.Context, x *Session, exp int64, sliding bool) error {
	if exp == x.expiresAt || (sliding && x.expiresAt != 0) {
		return nil // Load already slid it (Peek did not: expiresAt is 0 then)
	}
	cmd := pexpireatCmd(ctx, s.sessionKey(x), exp)
	if err := s.client.Process(ctx, cmd); err != nil {
		return fmt.Errorf("redisession: touch %s: %w", x.Handle(), err)
	}
	if cmd.Val() == 0 {
		x.stored, x.gone = false, true
		return fmt.Errorf("%w: %s was deleted before it could be saved", ErrNotFound, x.Handle())
	}
	x.expiresAt = exp
	return nil
}

// remove deletes the session key, then its index entry: on one node one
// script (removeScript), on Cluster the two steps in that order.
func (s *Store) remove(ctx context.Context, x *Session) error {
	key := s.sessionKey(x)
	x.stored, x.gone = false, true
	if x.savedUID == "" {
		return s.send(ctx, []redis.Cmder{s.run(ctx, delScript, []string{key})})
	}
	idx := s.indexKey(x.savedUID)
	if !s.ordered {
		return s.send(ctx, []redis.Cmder{s.run(ctx, removeScript, []string{key, idx}, x.handle)})
	}
	return s.exec(ctx, []redis.Cmder{s.run(ctx, delScript, []string{key})}, []redis.Cmder{zremCmd(ctx, idx, x.handle)})
}

func (s *Store) nowMillis() int64 { return millis(s.opts.Now()) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
