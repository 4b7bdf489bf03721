package core

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
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
	stats   counters
}

// New returns a Store over client, which may be a single node, a Sentinel
// failover client or a Cluster client. The client is the caller's: Store never
// closes it.
func New(client redis.UniversalClient, opts Options) *Store {
	s := &Store{client: client, opts: opts.withDefaults()}
	if _, ok := client.(*redis.ClusterClient); ok {
		s.ordered = true
	}
	return s
}

// Options returns the options in force, defaults filled in.
func (s *Store) Options() Options { return s.opts }

// Device is what a session records about the client that created it.
type Device struct {
	UserAgent  string
	RemoteAddr string
}

// Longest device strings kept; longer ones are cut, not refused.
const (
	maxUserAgent  = 512
	maxRemoteAddr = 128
	// MaxUserIDLen is the longest user id a session can be bound to.
	MaxUserIDLen = 512
)

// Session is one session as an adapter sees it between load and save. Set
// Data (or Fields, in the hash layout) and UserID, then Save. A Session is
// not safe for concurrent use.
type Session struct {
	// Data is the adapter's opaque payload (string layout).
	Data []byte
	// Fields are the session's values, one hash field each (hash layout;
	// see LayoutHash). Replace a value rather than editing its bytes in place.
	Fields map[string][]byte
	// UserID binds the session to a user's index when saved; "" is anonymous.
	UserID string

	token      string
	handle     string // hashToken(token), computed once
	created    int64
	lastSeen   int64
	deadline   int64
	userAgent  string
	remoteAddr string

	stored      bool              // exists in Redis as of the last load or save
	gone        bool              // found deleted or revoked by a save: it stays dead
	savedData   string            // Data as stored (a string: immutable, so the adapter cannot change it by editing Data in place)
	savedUID    string            // UserID as stored
	hash        bool              // hash layout: Fields, not Data
	savedFields map[string]string // Fields as stored (hash layout)
	expiresAt   int64             // the key's expiry as of the last load or save, unix ms
}

// Token returns the session's secret token: the value that goes in a cookie.
// Never log it; log Handle instead.
func (x *Session) Token() string { return x.token }

// Handle returns the session's public handle (see the package function Handle).
func (x *Session) Handle() string { return x.handle }

func (x *Session) setToken(token string) {
	x.token, x.handle = token, hashToken(token)
}

// IsNew reports whether the session has not been written to Redis yet.
func (x *Session) IsNew() bool { return !x.stored }

// Modified reports whether a Save would write anything.
func (x *Session) Modified() bool {
	if !x.stored || x.UserID != x.savedUID {
		return true
	}
	if x.hash {
		return x.fieldsModified()
	}
	return string(x.Data) != x.savedData
}

// Created returns when the session was created.
func (x *Session) Created() time.Time { return fromMillis(x.created) }

// LastSeen returns when the session was last written.
func (x *Session) LastSeen() time.Time { return fromMillis(x.lastSeen) }

// Deadline returns the absolute end of the session's life.
func (x *Session) Deadline() time.Time { return fromMillis(x.deadline) }

// ExpiresAt returns when the session key expires unless used again, as of the
// last load or save; zero for a session not yet stored.
func (x *Session) ExpiresAt() time.Time {
	if x.expiresAt == 0 {
		return time.Time{}
	}
	return fromMillis(x.expiresAt)
}

// Device returns the device facts recorded at creation.
func (x *Session) Device() Device { return Device{x.userAgent, x.remoteAddr} }

// ShortenDeadline moves the absolute deadline earlier, never later; adapters
// whose framework keeps its own lifetime (scs) use it to keep the two in step.
func (x *Session) ShortenDeadline(t time.Time) {
	if ms := millis(t); ms < x.deadline {
		x.deadline = ms
	}
}

// NewSession returns a session with a fresh token, created now, that exists
// only in memory until Save. It costs no round trip.
func (s *Store) NewSession(dev Device) *Session {
	x, _ := s.NewSessionWithToken(NewToken(), dev)
	return x
}

// NewSessionWithToken is NewSession for frameworks that mint their own
// tokens (scs). The token must pass the store's token check
// (Options.ValidToken) or ErrInvalidToken is returned. Never pass it a token
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
		hash:       s.opts.Layout == LayoutHash,
	}
	x.setToken(token)
	return x, nil
}

func (s *Store) validToken(token string) bool {
	if s.opts.ValidToken != nil {
		return len(token) > 0 && len(token) <= maxTokenLen && s.opts.ValidToken(token)
	}
	return ValidToken(token)
}

// maxTokenLen bounds tokens accepted by a custom Options.ValidToken.
const maxTokenLen = 256

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
	s.stats.loads.Add(1)
	handle := hashToken(token)
	key := s.sessionKeyForID(s.idOf(token, handle))
	now := s.nowMillis()
	exp := now + s.opts.IdleTimeout.Milliseconds()
	var (
		rec    record
		raw    string
		fields map[string][]byte
		saved  map[string]string
		err    error
	)
	if s.opts.Layout == LayoutHash {
		saved, err = s.loadHash(ctx, key, slide, exp)
		if err == nil && len(saved) == 0 {
			err = redis.Nil
		}
	} else {
		cmd := redis.NewStringCmd(ctx, "get", key)
		if slide {
			cmd = redis.NewStringCmd(ctx, "getex", key, "pxat", exp)
		}
		err = s.client.Process(ctx, cmd)
		raw = cmd.Val()
	}
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
	if size := len(raw) + hashSize(saved); size > s.opts.MaxRecordSize {
		s.stats.malformed.Add(1)
		return nil, fmt.Errorf("%w: %s holds %d bytes, over the %d-byte limit", ErrNotFound, handle, size, s.opts.MaxRecordSize)
	}
	var data []byte
	var savedData string
	if saved != nil {
		rec, fields, err = decodeHash(saved)
		delete(saved, metaField)
	} else if rec, savedData, err = decodeRecordString(raw); err == nil {
		// Data is the adapter's to change; savedData keeps what is stored.
		if rec.compressed {
			if data, err = inflate(savedData, s.opts.MaxRecordSize); err == nil {
				savedData = string(data)
			}
		} else {
			data = []byte(savedData)
		}
	}
	if err != nil {
		// Not ours (or damaged): a miss, and left alone, since it is not ours to delete.
		s.stats.malformed.Add(1)
		return nil, fmt.Errorf("%w: %s: %v", ErrNotFound, handle, err)
	}
	x := &Session{
		Data:        data,
		Fields:      fields,
		UserID:      rec.userID,
		token:       token,
		handle:      handle,
		created:     rec.created,
		lastSeen:    rec.lastSeen,
		deadline:    rec.deadline,
		userAgent:   rec.userAgent,
		remoteAddr:  rec.remoteAddr,
		stored:      true,
		savedData:   savedData,
		savedUID:    rec.userID,
		hash:        saved != nil,
		savedFields: saved,
	}
	if now >= rec.deadline {
		// Past its absolute lifetime: it is gone, whatever its TTL said.
		s.stats.stale.Add(1)
		if err := s.remove(ctx, x); err != nil {
			return nil, fmt.Errorf("redisession: expire %s: %w", x.Handle(), err)
		}
		return nil, ErrNotFound
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
		if err := s.client.Process(ctx, redis.NewIntCmd(ctx, "pexpireat", key, rec.deadline)); err != nil {
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
// with SET XX, so if it was deleted, revoked or expired after it was loaded,
// nothing is written and Save returns ErrNotFound. A new session is written
// with SET NX. Binding to a user (UserID changed) updates the user's index
// before the session is written, in the same round trip on a single node.
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
			if err := s.remove(ctx, x); err != nil {
				return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
			}
		}
		return ErrNotFound
	}
	if x.stored && !x.Modified() {
		return s.touch(ctx, x, exp, expiry.IsZero())
	}
	b, err := s.encode(x, now)
	if err != nil {
		return err
	}
	key := s.sessionKey(x)
	id := x.id(s)
	var bind, set, unbind []redis.Cmder
	if x.UserID != "" && (!x.stored || x.UserID != x.savedUID) {
		bind = append(bind, s.indexAdd(ctx, x.UserID, id, x.deadline, now))
	}
	mode := "nx"
	if x.stored {
		mode = "xx"
	}
	var setCmd redis.Cmder
	if x.hash {
		if setCmd, err = s.hashWrite(ctx, x, key, b, mode, exp); err != nil {
			return err
		}
	} else {
		setCmd = redis.NewStatusCmd(ctx, "set", key, b, mode, "pxat", exp)
	}
	set = append(set, setCmd)
	if x.stored && x.savedUID != "" && x.savedUID != x.UserID {
		unbind = append(unbind, redis.NewIntCmd(ctx, "zrem", s.indexKey(x.savedUID), id))
	}
	if err := s.exec(ctx, bind, set, unbind); err != nil {
		return fmt.Errorf("redisession: save %s: %w", x.Handle(), err)
	}
	if notWritten(setCmd) {
		// Deleted or revoked since it was loaded: stay dead. Take back the
		// index entry this save may have added.
		if len(bind) > 0 {
			_ = s.client.Process(ctx, redis.NewIntCmd(ctx, "zrem", s.indexKey(x.UserID), id))
		}
		x.stored, x.gone = false, true
		return fmt.Errorf("%w: %s was deleted before it could be saved", ErrNotFound, x.Handle())
	}
	if !x.stored {
		s.stats.creates.Add(1)
	}
	s.stats.saves.Add(1)
	x.stored = true
	x.lastSeen = now
	x.expiresAt = exp
	if x.hash {
		x.rememberFields()
	} else {
		x.savedData = string(x.Data)
	}
	x.savedUID = x.UserID
	return nil
}

// notWritten reports a conditional write that found its condition false:
// SET NX/XX answers nil, the hash save script 0.
func notWritten(c redis.Cmder) bool {
	if c.Err() == redis.Nil {
		return true
	}
	if cmd, ok := c.(*redis.Cmd); ok {
		n, err := cmd.Int64()
		return err == nil && n == 0
	}
	return false
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
	if !x.hash {
		rec.data = x.Data
	}
	// The limit is on the session as the app sees it, compressed or not:
	// what is saved must load.
	if n := rec.size(); n > s.opts.MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, s.opts.MaxRecordSize)
	}
	return rec.encode(s.opts.CompressAbove), nil
}

// Delete removes the session and its index entry in one round trip (logout).
// Deleting a session that is not stored is a no-op.
func (s *Store) Delete(ctx context.Context, x *Session) error {
	if !x.stored {
		return nil
	}
	if err := s.remove(ctx, x); err != nil {
		return fmt.Errorf("redisession: delete %s: %w", x.Handle(), err)
	}
	s.stats.deletes.Add(1)
	return nil
}

// DeleteToken removes the session stored under token, and its index entry,
// without the caller loading it first (two round trips). An unknown or
// malformed token is a no-op.
func (s *Store) DeleteToken(ctx context.Context, token string) error {
	if !s.validToken(token) {
		s.stats.rejected.Add(1)
		return nil
	}
	handle := hashToken(token)
	id := s.idOf(token, handle)
	key := s.sessionKeyForID(id)
	var cmd *redis.StringCmd
	var err error
	if s.opts.Layout == LayoutHash {
		cmd = s.metaCmd(ctx, key)
		err = s.send(ctx, []redis.Cmder{cmd, redis.NewIntCmd(ctx, "del", key)})
		if err == nil {
			err = cmd.Err()
		}
	} else {
		cmd = redis.NewStringCmd(ctx, "getdel", key)
		err = s.client.Process(ctx, cmd)
	}
	if err == redis.Nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("redisession: delete %s: %w", handle, err)
	}
	s.stats.deletes.Add(1)
	rec, _, err := decodeRecordString(cmd.Val())
	if err != nil || rec.userID == "" {
		return nil
	}
	if err := s.client.Process(ctx, redis.NewIntCmd(ctx, "zrem", s.indexKey(rec.userID), id)); err != nil {
		return fmt.Errorf("redisession: unindex %s: %w", handle, err)
	}
	return nil
}

// Renew gives the session a new token and kills the old one, index included
// (regenerate on login or privilege change). The data, user, creation time
// and deadline carry over: renewing does not extend the absolute lifetime.
//
// The old session is deleted first and the new one written only if that
// delete found it, so a session revoked while the request ran is not brought
// back under a new name: Renew then returns ErrNotFound. Two round trips for
// a stored session; none for a new one.
func (s *Store) Renew(ctx context.Context, x *Session) error {
	if x.gone {
		return fmt.Errorf("%w: %s was revoked", ErrNotFound, x.Handle())
	}
	wasStored := x.stored
	if wasStored {
		// Refuse what the new session could not be written as before the
		// old one is deleted: a failed renew must not lose the session.
		if _, err := s.encode(x, s.nowMillis()); err != nil {
			return err
		}
		del := redis.NewIntCmd(ctx, "del", s.sessionKey(x))
		var unbind []redis.Cmder
		if x.savedUID != "" {
			unbind = append(unbind, redis.NewIntCmd(ctx, "zrem", s.indexKey(x.savedUID), x.id(s)))
		}
		if err := s.exec(ctx, []redis.Cmder{del}, unbind); err != nil {
			return fmt.Errorf("redisession: renew %s: %w", x.Handle(), err)
		}
		x.stored = false
		x.savedUID = ""
		if del.Val() == 0 {
			x.gone = true
			return fmt.Errorf("%w: %s was deleted before it could be renewed", ErrNotFound, x.Handle())
		}
	}
	x.setToken(NewToken())
	s.stats.renews.Add(1)
	if !wasStored {
		return nil
	}
	return s.Save(ctx, x)
}

// touch handles a save of unchanged data. With the default expiry after a
// Load, the load already slid it: nothing to send. Otherwise (an expiry
// chosen by the caller, or a Peek that did not slide) it moves only the
// expiry (PEXPIREAT, which cannot create a key), not the bytes.
func (s *Store) touch(ctx context.Context, x *Session, exp int64, sliding bool) error {
	if exp == x.expiresAt || (sliding && x.expiresAt != 0) {
		return nil // Load already slid it (Peek did not: expiresAt is 0 then)
	}
	cmd := redis.NewIntCmd(ctx, "pexpireat", s.sessionKey(x), exp)
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

// remove deletes the session key, then its index entry.
func (s *Store) remove(ctx context.Context, x *Session) error {
	del := []redis.Cmder{redis.NewIntCmd(ctx, "del", s.sessionKey(x))}
	var unbind []redis.Cmder
	if x.savedUID != "" {
		unbind = append(unbind, redis.NewIntCmd(ctx, "zrem", s.indexKey(x.savedUID), x.id(s)))
	}
	x.stored, x.gone = false, true
	return s.exec(ctx, del, unbind)
}

// exec runs groups of commands in order. On one node they all travel in one
// pipeline: one round trip, executed in order. A Cluster client fans a
// pipeline out to nodes in parallel, so there each group is sent only after
// the one before it answered; that keeps "index before session" and "session
// before index entry" true everywhere. redis.Nil replies are not errors here;
// callers read them from the commands.
func (s *Store) exec(ctx context.Context, groups ...[]redis.Cmder) error {
	var all []redis.Cmder
	for _, g := range groups {
		if s.ordered && len(g) > 0 {
			if err := s.send(ctx, g); err != nil {
				return err
			}
			continue
		}
		all = append(all, g...)
	}
	return s.send(ctx, all)
}

func (s *Store) send(ctx context.Context, cmds []redis.Cmder) error {
	switch len(cmds) {
	case 0:
		return nil
	case 1:
		_ = s.client.Process(ctx, cmds[0])
	default:
		_, perr := s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range cmds {
				_ = p.Process(ctx, c)
			}
			return nil
		})
		// A pipeline that could not be sent at all (no connection) reports
		// it only here, not on its commands.
		if perr != nil && !errors.Is(perr, redis.Nil) && firstErr(cmds) == nil {
			return perr
		}
	}
	return firstErr(cmds)
}

// firstErr is the first error of cmds that is not a nil reply.
func firstErr(cmds []redis.Cmder) error {
	for _, c := range cmds {
		if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
	}
	return nil
}

// hashToken is a token's public handle: unpadded base64url of its SHA-256.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// idOf is what a session is keyed by: its handle, or the raw token when
// Options.StoreRawTokens is set.
func (s *Store) idOf(token, handle string) string {
	if s.opts.StoreRawTokens {
		return token
	}
	return handle
}

func (x *Session) id(s *Store) string { return s.idOf(x.token, x.handle) }

func (s *Store) sessionKey(x *Session) string { return s.sessionKeyForID(x.id(s)) }

func (s *Store) sessionKeyForID(id string) string {
	return s.opts.Prefix + "session:" + id
}

func (s *Store) indexKey(userID string) string {
	return s.opts.Prefix + "user_sessions:" + userID
}

// SessionKey returns the Redis key of the session with the given handle, for
// tools and tests that inspect Redis directly; "" when the store keys
// sessions by raw token, since a handle cannot name those keys.
func (s *Store) SessionKey(handle string) string {
	if s.opts.StoreRawTokens || !ValidHandle(handle) {
		return ""
	}
	return s.sessionKeyForID(handle)
}

// IndexKey returns the Redis key of a user's session index.
func (s *Store) IndexKey(userID string) string { return s.indexKey(userID) }

func (s *Store) nowMillis() int64 { return millis(s.opts.Now()) }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

type counters struct {
	loads, hits, stale, rejected, malformed  atomic.Uint64
	creates, saves, renews, deletes, revokes atomic.Uint64
}

// Counters are totals since the Store was made, for metrics and alerting: a
// rising Rejected or Stale rate is what token guessing looks like.
type Counters struct {
	Loads     uint64 // Load and Peek calls with a well-formed token
	Hits      uint64 // loads that found a live session
	Stale     uint64 // well-formed tokens with no live session (unknown, expired, revoked)
	Rejected  uint64 // malformed tokens, refused before Redis
	Malformed uint64 // keys holding bytes that are not a record, or too many
	Creates   uint64 // new sessions written
	Saves     uint64 // writes of any session
	Renews    uint64 // token regenerations
	Deletes   uint64 // sessions deleted by Delete or DeleteToken
	Revokes   uint64 // sessions deleted through a user's index
}

// Counters returns a snapshot of the store's counters.
func (s *Store) Counters() Counters {
	c := &s.stats
	return Counters{
		Loads: c.loads.Load(), Hits: c.hits.Load(), Stale: c.stale.Load(),
		Rejected: c.rejected.Load(), Malformed: c.malformed.Load(),
		Creates: c.creates.Load(), Saves: c.saves.Load(), Renews: c.renews.Load(),
		Deletes: c.deletes.Load(), Revokes: c.revokes.Load(),
	}
}
