// Package scsredis is a Redis session store for scs
// (github.com/alexedwards/scs/v2) over go-redis v9: a single node, Sentinel or
// Cluster client, every key with an absolute expiry, sessions keyed by a
// SHA-256 of the token (no usable token at rest), and a per-user index so an
// scs app can list a user's devices and log them out, one, all but this one, or
// all, without iterating over every session. It is a drop-in scs.Store and
// scs.CtxStore; a session becomes its user's when the app puts the user key
// ("user_id" by default) in it.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379"})
//	store := scsredis.New(rdb, scsredis.Options{})
//	sm := scs.New()
//	sm.Store = store
//	sm.IdleTimeout = 30 * time.Minute
//	http.ListenAndServe(":8080", scsredis.RecordDevice(sm.LoadAndSave(mux)))
//
// In a handler, sm.Put(r.Context(), "user_id", id) after sm.RenewToken binds
// the session; store.Sessions, store.RevokeSession, store.RevokeOthers and
// store.RevokeUser act on the index. RecordDevice is optional: it records the
// user agent and address shown in device lists (the plain Find/Commit/Delete
// get no request context, so a manager that only calls those records none).
// scs's RenewToken starts a new session under a new token and restarts scs's
// Lifetime; the store follows: the old token is deleted with its index entry
// and the new one is indexed when committed.
//
// # Expiry
//
// scs decides expiries (its Lifetime and IdleTimeout) and passes them to
// Commit; the store writes them as absolute times, so a Commit whose expiry
// is already past leaves no key at all rather than a key that never expires.
// Find is one plain read that does not slide the expiry: with IdleTimeout
// scs commits on every request anyway, so a request costs what scs asks for,
// Find + Commit, and a Commit whose values did not change only moves the
// expiry. scs's gob encoding of a map is not byte-for-byte stable, so "did
// not change" is decided on the decoded deadline and values. The store's own
// absolute lifetime (Options.Core.Lifetime, 24 h by default) is a cap: keep
// it at least sm.Lifetime. Expiries are carried over as durations from now,
// so a store given its own clock (Options.Core.Now, as tests do) stays in
// step with scs, which reads time.Now.
//
// # No resurrection
//
// scs's Commit does not say whether a session is new. A request still
// running when its session is revoked, logged out elsewhere or renewed must
// not write it back. The store keeps a small process-local table of the
// tokens it found, committed or deleted: a token it found is written only
// over an existing key; a token it deleted, or found deleted at commit, is
// never written again; a token it has never seen is a new session, written
// only where no key exists (if one does, the session is read and updated,
// never created). scs mints a token in the process that commits it and runs
// Find and Commit of one request in one process, so the table answers for
// every request. Entries are per token, not per request. An entry holds the
// loaded session (about twice its encoded size) from Find to Commit, at most
// an eighth of MaxRequestDuration (a commit after that re-reads the session:
// one more round trip); otherwise, and as a tombstone, about 150 bytes. Entries are dropped Options.MaxRequestDuration (10 minutes by
// default) after their last use: a request that runs longer than that between
// Find and Commit loses the guarantee.
//
// # Cookies
//
// scs writes the session cookie itself, from sm.Cookie; the store never
// sees it. For a "__Host-" name (host-only, recommended) set
// sm.Cookie.Secure (false by default in scs) and keep Path "/" and Domain
// empty, or browsers silently refuse the cookie; CheckCookie(sm) at startup
// reports such a configuration.
//
// # Iteration
//
// Store does not implement scs.IterableStore. All must return every session
// keyed by its token, and the store keeps no token at rest (keys carry a
// SHA-256 of it), keeps no list of every session, and does not scan the
// keyspace. A store that returned hashes would hand Iterate keys that do not
// work with Commit or Delete; one that scanned would make a user's logout
// O(all sessions). sm.Iterate therefore panics, as scs documents for stores
// without iteration; use RevokeUser and UserSessions, which read the user's
// index instead.
//
// # HashTokenInStore
//
// With SessionManager.HashTokenInStore (scs v2.8.0 on, which is why this
// module requires it) scs hashes tokens before they reach the store: the
// store then sees base64url(SHA-256(token)), of the same shape as a token,
// and hashes it once more for its keys. Handles are computed from what the store sees; the helpers take
// the manager and read its HashTokenInStore, so they work either way. scs
// hands the store one opaque blob per session, so core's field-level
// (hash) layout cannot apply: a changed session is written whole.
package scsredis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// DefaultMaxRequestDuration is the default of Options.MaxRequestDuration.
const DefaultMaxRequestDuration = 10 * time.Minute

// BoundUserKey is the session value Bind writes. It takes precedence over
// the user key.
const BoundUserKey = "__redisession_user"

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Core configures the engine: key prefix, size limit, user key ("user_id"
	// by default), the absolute lifetime cap (24 h by default; keep it ≥
	// sm.Lifetime) and IdleTimeout (used only to estimate "last seen" in
	// device lists; set it to sm.IdleTimeout). ValidToken is
	// set by New.
	Core core.Options

	// Codec decodes session blobs to find the user and to tell unchanged
	// commits. It must be the manager's Codec; nil means scs.GobCodec.
	Codec scs.Codec

	// MaxRequestDuration is how long the store remembers a token after it
	// last found, committed or deleted it (see "No resurrection" in the
	// package doc). Zero or negative means 10 minutes.
	MaxRequestDuration time.Duration
}

// Store is an scs.Store and scs.CtxStore backed by Redis. It is safe for
// concurrent use.
type Store struct {
	core    *core.Store
	codec   scs.Codec
	userKey string
	seen    *tracker
}

var (
	_ scs.Store    = (*Store)(nil)
	_ scs.CtxStore = (*Store)(nil)
)

// New returns a Store over client, which may be a single node, a Sentinel
// failover client or a Cluster client. The client stays the caller's.
func New(client redis.UniversalClient, opts Options) *Store {
	co := opts.Core
	co.ValidToken = nil
	if opts.Codec == nil {
		opts.Codec = scs.GobCodec{}
	}
	if opts.MaxRequestDuration <= 0 {
		opts.MaxRequestDuration = DefaultMaxRequestDuration
	}
	c := core.New(client, co)
	return &Store{
		core:    c,
		codec:   opts.Codec,
		userKey: c.Options().UserKey,
		seen:    newTracker(opts.MaxRequestDuration),
	}
}

// ValidToken reports whether s has the shape of a token scs gives a store:
// 32 random bytes as unpadded base64url (43 characters); with
// HashTokenInStore, scs hands over their SHA-256 in the same encoding and
// shape. Anything else is refused before Redis.
func ValidToken(s string) bool { return core.ValidToken(s) }

// Core returns the engine, for metrics (Counters) and tools.
func (s *Store) Core() *core.Store { return s.core }

// Find returns the data for a session token. An unknown, expired, revoked
// or malformed token returns found=false and a nil error; err is for system
// errors only. It is FindCtx with a background context.
func (s *Store) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

// Commit writes the session data with the given expiry, overwriting it if
// the token exists. It is CommitCtx with a background context.
func (s *Store) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

// Delete removes the session; an unknown token is a no-op. It is DeleteCtx
// with a background context.
func (s *Store) Delete(token string) error {
	return s.DeleteCtx(context.Background(), token)
}

// FindCtx returns the data for a session token in one round trip.
// An unknown, expired, revoked or malformed token, and data under the key
// that this store did not write, return found=false and a nil error.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	x, err := s.core.Peek(ctx, token)
	switch {
	case err == nil:
	case errors.Is(err, core.ErrNotFound), errors.Is(err, core.ErrInvalidToken):
		return nil, false, nil
	default:
		return nil, false, err
	}
	s.seen.found(token, x)
	return append([]byte(nil), x.Data...), true, nil
}

// CommitCtx writes the session data with the given expiry, overwriting it if
// the token exists, in one round trip. When the decoded values and deadline
// did not change it only moves the expiry. An expiry already past deletes the
// session: no key is left. The session is bound to the user named by its
// values (see Bind), and the user's index follows it.
//
// A session that this store found, or saw deleted, and that was deleted or
// revoked since is not written back: CommitCtx returns nil and writes
// nothing, and the client's next request starts a fresh session.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if !ValidToken(token) {
		return fmt.Errorf("scsredis: commit: %w", core.ErrInvalidToken)
	}
	deadline, values, err := s.codec.Decode(b)
	if err != nil {
		return fmt.Errorf("scsredis: commit %s: decode: %w", s.core.Handle(token), err)
	}
	// scs reads time.Now; the store may run on its own clock. Carry the
	// expiry and deadline over as durations from now.
	wall, now := time.Now(), s.core.Options().Now()
	until := now.Add(expiry.Sub(wall).Round(time.Millisecond))
	x, st := s.seen.forCommit(token)
	switch st {
	case dead:
		return nil
	case known:
		// It existed when this store last saw it: update it if it still
		// exists, never create it.
		if x, err = s.peek(ctx, token); x == nil {
			return err
		}
	case unseen:
		x, err = s.core.NewSessionWithToken(token, deviceFrom(ctx))
		if err != nil {
			return fmt.Errorf("scsredis: commit: %w", err)
		}
	}
	for {
		if !deadline.IsZero() {
			x.ShortenDeadline(now.Add(deadline.Sub(wall)))
		}
		x.UserID = userID(values, s.userKey)
		if x.IsNew() || (string(x.Data) != string(b) && !s.same(x.Data, deadline, values)) {
			x.Data = b
		}
		wasNew := x.IsNew()
		err = s.core.SaveUntil(ctx, x, until)
		switch {
		case err == nil:
			s.seen.saved(token, x)
			return nil
		case !errors.Is(err, core.ErrNotFound):
			s.seen.failed(token)
			return err
		case !until.After(now):
			// An expiry already past: SaveUntil deleted whatever it knew.
			// A session this store never loaded may still hold a key.
			s.seen.gone(token)
			if wasNew {
				return s.core.DeleteToken(ctx, token)
			}
			return nil
		case !wasNew:
			// Deleted or revoked while the request ran: stay dead.
			s.seen.gone(token)
			return nil
		}
		// The create found a key: a session this store had not seen (found
		// in another process, or forgotten). Update it, never create it.
		if x, err = s.peek(ctx, token); x == nil {
			return err
		}
	}
}

// peek loads a stored session for update; nil when it is gone.
func (s *Store) peek(ctx context.Context, token string) (*core.Session, error) {
	x, err := s.core.Peek(ctx, token)
	if err != nil {
		s.seen.gone(token)
		if errors.Is(err, core.ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	return x, nil
}

// same reports whether stored data decodes to the given deadline and values.
func (s *Store) same(stored []byte, deadline time.Time, values map[string]interface{}) bool {
	d, v, err := s.codec.Decode(stored)
	return err == nil && d.Equal(deadline) && len(v) == len(values) && reflect.DeepEqual(v, values)
}

// DeleteCtx removes the session and its index entry: one round trip for a
// session this store found, two otherwise. An unknown or malformed token is a
// no-op. A request still holding the session cannot write it back: a token
// this store found and then deleted is never written again.
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	if !ValidToken(token) {
		return nil
	}
	if x := s.seen.kill(token); x != nil {
		return s.core.Delete(ctx, x)
	}
	return s.core.DeleteToken(ctx, token)
}

// Bind binds the request's session to userID from its next commit on, for
// apps whose user key is not Options.Core.UserKey; "" unbinds it. It writes
// BoundUserKey in the session values. Call sm.RenewToken first at login.
func (s *Store) Bind(ctx context.Context, sm *scs.SessionManager, userID string) {
	if userID == "" {
		sm.Remove(ctx, BoundUserKey)
		return
	}
	sm.Put(ctx, BoundUserKey, userID)
}

// UserID returns the user the request's session is bound to, "" if none.
func (s *Store) UserID(ctx context.Context, sm *scs.SessionManager) string {
	values := map[string]interface{}{}
	for _, k := range []string{BoundUserKey, s.userKey} {
		if v := sm.Get(ctx, k); v != nil {
			values[k] = v
		}
	}
	return userID(values, s.userKey)
}

// Handle returns the public handle of the request's session: what device
// lists show and RevokeSession takes, never the token. It is "" until the
// session has a token (scs mints one at its first commit).
func (s *Store) Handle(ctx context.Context, sm *scs.SessionManager) string {
	token := sm.Token(ctx)
	if token == "" {
		return ""
	}
	if sm.HashTokenInStore {
		token = core.Handle(token) // scs hashes exactly so: base64url(SHA-256)
	}
	return s.core.Handle(token)
}

// Sessions lists the sessions of the request's user with their device
// facts, most recently active first; empty for an anonymous session.
func (s *Store) Sessions(ctx context.Context, sm *scs.SessionManager) ([]core.SessionInfo, error) {
	uid := s.UserID(ctx, sm)
	if uid == "" {
		return []core.SessionInfo{}, nil
	}
	return s.core.UserSessions(ctx, uid)
}

// UserSessions lists a user's sessions (an admin view) in two round trips.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]core.SessionInfo, error) {
	return s.core.UserSessions(ctx, userID)
}

// RevokeSession ends one of the request's user's sessions, named by its
// handle. A handle that is not one of that user's sessions returns an error
// matching core.ErrNotFound; an anonymous session, core.ErrNoUser.
func (s *Store) RevokeSession(ctx context.Context, sm *scs.SessionManager, handle string) error {
	uid := s.UserID(ctx, sm)
	if uid == "" {
		return fmt.Errorf("scsredis: revoke %s: %w", handle, core.ErrNoUser)
	}
	return s.core.RevokeSession(ctx, uid, handle)
}

// RevokeOthers ends every session of the request's user but the request's
// own ("log out everywhere else") and returns how many it ended.
func (s *Store) RevokeOthers(ctx context.Context, sm *scs.SessionManager) (int, error) {
	uid := s.UserID(ctx, sm)
	if uid == "" {
		return 0, fmt.Errorf("scsredis: revoke others: %w", core.ErrNoUser)
	}
	keep := s.Handle(ctx, sm)
	if keep == "" {
		// Not committed yet, so not stored: every stored session is another.
		return s.core.RevokeUser(ctx, uid)
	}
	return s.core.RevokeOthers(ctx, uid, keep)
}

// RevokeUser ends every session of userID (password change, disabled
// account, admin action) and returns how many it ended: a few round trips
// whatever the number of sessions in Redis, never a scan.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	return s.core.RevokeUser(ctx, userID)
}

// userID is the user named by session values: BoundUserKey, else the user
// key. Strings, integers and fmt.Stringers name a user; other types do not.
func userID(values map[string]interface{}, userKey string) string {
	for _, k := range []string{BoundUserKey, userKey} {
		var id string
		switch v := values[k].(type) {
		case string:
			id = v
		case int:
			id = strconv.Itoa(v)
		case int64:
			id = strconv.FormatInt(v, 10)
		case int32:
			id = strconv.FormatInt(int64(v), 10)
		case uint:
			id = strconv.FormatUint(uint64(v), 10)
		case uint64:
			id = strconv.FormatUint(v, 10)
		case uint32:
			id = strconv.FormatUint(uint64(v), 10)
		case fmt.Stringer:
			id = v.String()
		}
		if id != "" {
			return id
		}
	}
	return ""
}

type deviceKey struct{}

// RecordDevice is middleware that records the request's user agent and
// remote address for the session it creates, for device lists. Put it
// outside sm.LoadAndSave.
func RecordDevice(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dev := core.Device{UserAgent: r.UserAgent(), RemoteAddr: r.RemoteAddr}
		next.ServeHTTP(w, r.WithContext(WithDevice(r.Context(), dev)))
	})
}

// WithDevice returns a context carrying the device facts a Commit records
// for a new session (see RecordDevice).
func WithDevice(ctx context.Context, dev core.Device) context.Context {
	return context.WithValue(ctx, deviceKey{}, dev)
}

func deviceFrom(ctx context.Context) core.Device {
	dev, _ := ctx.Value(deviceKey{}).(core.Device)
	return dev
}
