// Package scsredis is a Redis session store for scs
// (github.com/alexedwards/scs/v2) over go-redis v9: a single node, Sentinel or
// Cluster client, every key with an absolute expiry, sessions keyed by a
// SHA-256 of the token (no usable token at rest), and a per-user index so an
// scs app can list a user's devices and log them out, one, all but this one, or
// all, without iterating over every session. It is a drop-in scs.Store and
// scs.CtxStore; a session becomes its user's when the app puts the user key
// ("user_id" by default) in it.
//
//	rdb := redis.NewClient(&redis.Options{
//		Addr:        "localhost:6379",
//		DialTimeout: 2 * time.Second, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
//		ContextTimeoutEnabled: true, // the request's deadline bounds each command, even if Redis stalls
//	})
//	store := scsredis.New(rdb, scsredis.Options{})
//	sm := scs.New()
//	sm.Store = store
//	sm.IdleTimeout = 30 * time.Minute
//	if err := store.CheckManager(sm); err != nil { log.Fatal(err) } // cookie, codec, lifetime
//	http.ListenAndServe(":8080", scsredis.RecordDevice(sm.LoadAndSave(mux)))
//
// # Users and their devices
//
// A session belongs to a user once its "user_id" value (Options.Core.UserKey)
// names one, by core.UserIDOf's rule: a string, an integer (42 is user "42")
// or a fmt.Stringer; a value of another type makes the commit fail rather
// than keep the session where RevokeUser cannot find it. At login,
// store.Login(ctx, sm, id) puts it and renews the token (sm.RenewToken) in
// one call. The operations on this request's session and user take the
// request's context and the manager, as scs's own methods do: UserID,
// Handle, Sessions (the user's devices), RevokeSession (one device) and
// RevokeOthers (every device but this one); scs itself renews
// (sm.RenewToken) and logs out (sm.Destroy). The admin operations take a
// user id: UserSessions and RevokeUser. gorillaredis and ginredis use the
// same names for the same operations. RecordDevice is optional: it records the
// user agent and address shown in device lists (the plain Find/Commit/Delete
// get no request context, so a manager that only calls those records none).
// scs's RenewToken starts a new session under a new token and restarts scs's
// Lifetime; the store follows: the old token is deleted at once, its index
// entry gives way to the new token's when that is committed (see "No
// resurrection").
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
// not change" is decided on gob's wire format (gobwire.go: values of gob's
// predefined types, no decoding) or, for other values, on the decoded
// deadline and values. The deadline scs
// writes in each session (sm.Lifetime from its creation, restarted by
// RenewToken) is the session's deadline in Redis too; the store's own cap
// (Options.Core.Lifetime) is DefaultLifetime unless set, and CheckManager reports
// one shorter than sm.Lifetime. Expiries are carried over as durations from now,
// so a store given its own clock (Options.Core.Now, as tests do) stays in
// step with scs, which reads time.Now.
//
// # No resurrection
//
// scs's Commit does not say whether a session is new, and a request still
// running when its session is revoked, logged out elsewhere or renewed must
// not write it back. scs hands FindCtx, CommitCtx and DeleteCtx the
// request's context, so the store keeps what it learns about the request's
// tokens with the request, found by the context's Done channel and dropped
// when the request ends: a token found in this request is written only over
// its existing key; a token deleted in this request is never written again;
// any other token is a new session, written only where no key exists (if one
// does, it is read and updated, never created). No guarantee depends on how
// long a request runs. sm.RenewToken deletes the old token at once and
// commits the new one when the handler returns: the store deletes the old
// session and leaves a retirement marker in its index until then, so a
// revoke in between turns it into a revocation and the new token is refused
// (the client is logged out). The plain Find, Commit and Delete
// (and a context that is never done, such as context.Background) carry no
// request: there a commit cannot tell a session found earlier and revoked
// since from a new one, so pass the request's context to the Ctx methods,
// as scs itself does.
//
// # Cookies
//
// scs writes the session cookie itself, from sm.Cookie; the store never
// sees it. For a "__Host-" name (host-only, recommended) set
// sm.Cookie.Secure (false by default in scs) and keep Path "/" and Domain
// empty, or browsers silently refuse the cookie; CheckManager(sm) at
// startup reports such a configuration.
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
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// Options configures a Store. The zero value is ready to use.
type Options struct {
	// Core configures the engine: key prefix, size limit, user key ("user_id"
	// by default), an absolute lifetime cap over scs's own (DefaultLifetime
	// when zero; CheckManager reports one below sm.Lifetime) and IdleTimeout (used
	// only to estimate "last seen" in device lists; set it to
	// sm.IdleTimeout).
	Core core.Options

	// Codec decodes session blobs to find the user and the deadline. It
	// must be the manager's Codec; nil means scs.GobCodec. Bytes it cannot
	// decode are still stored and returned byte for byte, but bound to no
	// user and counted in Core().Counters().Opaque; CheckManager reports the
	// mismatch at startup.
	Codec scs.Codec

	// Migrate, if set, adopts the live sessions of the scs store this one
	// replaces (redisstore, goredisstore) until Migrate.Until: see
	// Migration. Nil, or a zero Until, means none.
	Migrate *Migration
}

// DefaultLifetime is the absolute cap a Store puts on sessions when
// Options.Core.Lifetime is zero: 400 days, as long as browsers keep a
// cookie, so the deadline scs writes in each session (sm.Lifetime from its
// creation or renewal) is the one that counts.
const DefaultLifetime = 400 * 24 * time.Hour

// abandonTimeout bounds the clean-up a request leaves behind when it ends.
const abandonTimeout = 5 * time.Second

// Store is an scs.Store and scs.CtxStore backed by Redis. It is safe for
// concurrent use.
type Store struct {
	core    *core.Store
	codec   scs.Codec
	userKey string
	gob     bool // codec is scs.GobCodec: commits read its wire format (gobwire.go)
	reqs    requests
	decoded decodedBlobs
	migrate *migration // nil: no migration
	// migrateErr is why Options.Migrate was refused, for CheckManager.
	migrateErr error
}

var (
	_ scs.Store    = (*Store)(nil)
	_ scs.CtxStore = (*Store)(nil)
)

// New returns a Store over client, which may be a single node, a Sentinel
// failover client or a Cluster client. The client stays the caller's.
func New(client redis.UniversalClient, opts Options) *Store {
	co := opts.Core
	if co.Lifetime <= 0 {
		co.Lifetime = DefaultLifetime
	}
	if opts.Codec == nil {
		opts.Codec = scs.GobCodec{}
	}
	c := core.New(client, co)
	_, isGob := opts.Codec.(scs.GobCodec)
	s := &Store{core: c, codec: opts.Codec, userKey: c.Options().UserKey, gob: isGob}
	s.migrate = newMigration(opts.Migrate, client)
	if s.migrate != nil && c.Overlaps(s.migrate.prefix) {
		// The old keys would be ours: never read them (CheckManager says why).
		s.migrateErr = fmt.Errorf("scsredis: Migration.Prefix %q lies in the store's own keys (Options.Core.Prefix %q): the migration is off", s.migrate.prefix, c.Options().Prefix)
		s.migrate = nil
	}
	s.reqs.abandon = func(ctx context.Context, x *core.Session) {
		// The request is over: its context is done, its values still count.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
		defer cancel()
		_ = c.Abandon(ctx, x) // left behind, the marker goes with its deadline
	}
	return s
}

// validToken reports whether s has the shape of a token scs gives a store:
// 32 random bytes as unpadded base64url (43 characters); with
// HashTokenInStore, scs hands over their SHA-256 in the same encoding and
// shape. Anything else is refused before Redis.
func validToken(s string) bool { return core.ValidToken(s) }

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
// During a migration (Options.Migrate) a token we do not hold may be the
// old store's: see Migration.
func (s *Store) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	x, err := s.core.Peek(ctx, token)
	switch {
	case err == nil:
	case errors.Is(err, core.ErrNotFound):
		if s.migrate == nil {
			return nil, false, nil
		}
		if x, err = s.adopt(ctx, token); x == nil || err != nil {
			return nil, false, err
		}
	case errors.Is(err, core.ErrInvalidToken):
		return nil, false, nil
	default:
		return nil, false, err
	}
	if req := s.reqs.of(ctx); req != nil {
		req.mu.Lock()
		e := req.get(token)
		e.x, e.dead = x, false
		req.mu.Unlock()
	}
	// x.Data is this load's own copy (scs only decodes it); the request
	// keeps x to compare the commit with.
	return x.Data, true, nil
}

// CommitCtx writes the session data with the given expiry, overwriting it if
// the token exists, in one round trip. An expiry already past deletes the
// session: no key is left. The session is bound to the user named by its
// values (see Login), and the user's index follows it.
//
// With the request's context (scs passes it), a session found in this
// request and deleted or revoked since is not written back: CommitCtx
// returns nil and writes nothing, and the client's next request starts a
// fresh session. The same holds for a token this request deleted, and for
// the new token of a renewal (sm.RenewToken) whose session was revoked
// before the commit.
func (s *Store) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if !validToken(token) {
		return fmt.Errorf("scsredis: commit: %w", core.ErrInvalidToken)
	}
	blob := s.read(b)
	if blob.opaque {
		s.core.CountOpaque()
	}
	if blob.uidErr != nil {
		return fmt.Errorf("scsredis: commit: %w", blob.uidErr)
	}
	deadline, uid, opaque := blob.deadline, blob.uid, blob.opaque
	// scs reads time.Now; the store may run on its own clock. Carry the
	// expiry and deadline over as durations from now.
	wall, now := time.Now(), s.core.Options().Now()
	until := now.Add(expiry.Sub(wall).Round(time.Millisecond))
	req := s.reqs.of(ctx)
	x, succeeds, skip, err := s.forCommit(req, token, deviceFrom(ctx))
	if skip || err != nil {
		return err
	}
	for {
		if !deadline.IsZero() {
			x.ShortenDeadline(now.Add(deadline.Sub(wall)))
		}
		x.UserID = uid
		if x.IsNew() || (string(x.Data) != string(b) && (opaque || !s.same(x.Data, &blob))) {
			x.Data = b
		}
		wasNew, written := x.IsNew(), x.Modified()
		if written {
			if err := s.checkNames(&blob); err != nil {
				return err
			}
		}
		err = s.core.SaveUntil(ctx, x, until)
		switch {
		case err == nil:
			if written && blob.values != nil {
				s.decoded.put(b, decodedBlob{deadline, blob.values})
			}
			req.committed(token, x)
			return nil
		case !errors.Is(err, core.ErrNotFound):
			return err
		case !until.After(now):
			// An expiry already past: SaveUntil deleted whatever it knew.
			// A session this store never loaded may still hold a key.
			req.kill(token)
			if wasNew && !succeeds {
				return s.core.DeleteToken(ctx, token)
			}
			return nil
		case !wasNew || succeeds:
			// Deleted or revoked while the request ran: stay dead.
			req.kill(token)
			return nil
		}
		// The create found a key: a session this request did not find
		// (found under another context, or by the plain Find). Update it,
		// never create it.
		if x, err = s.core.Peek(ctx, token); err != nil {
			req.kill(token)
			if errors.Is(err, core.ErrNotFound) {
				return nil
			}
			return err
		}
	}
}

// forCommit returns the session a commit of token writes: the one this
// request found or committed, the successor of the one it renewed
// (succeeds), or a new one. skip reports a token that must not be written.
func (s *Store) forCommit(req *request, tok string, dev core.Device) (x *core.Session, succeeds, skip bool, err error) {
	if req != nil {
		req.mu.Lock()
		defer req.mu.Unlock()
		switch e := req.tokens[tok]; {
		case e != nil && e.dead:
			return nil, false, true, nil
		case e != nil && e.x != nil:
			cp := *e.x
			return &cp, false, false, nil
		case req.dead:
			// sm.RenewToken of a session revoked before it was deleted:
			// its new token must not bring it back.
			req.dead = false
			req.get(tok).dead = true
			return nil, false, true, nil
		case req.retired != nil:
			old := req.retired
			req.retired = nil
			x, err = s.core.Successor(old, tok)
			return x, true, false, wrap(err)
		}
	}
	x, err = s.core.NewSessionWithToken(tok, dev)
	return x, false, false, wrap(err)
}

func wrap(err error) error {
	if err != nil {
		return fmt.Errorf("scsredis: commit: %w", err)
	}
	return nil
}

// committed records a successful commit of token.
func (r *request) committed(tok string, x *core.Session) {
	if r == nil {
		return
	}
	r.mu.Lock()
	e := r.get(tok)
	cp := *x
	e.x, e.dead = &cp, false
	r.mu.Unlock()
}

// kill records that token must not be written again in this request.
func (r *request) kill(tok string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	e := r.get(tok)
	e.x, e.dead = nil, true
	r.mu.Unlock()
}

// DeleteCtx removes the session and its index entry; an unknown or
// malformed token is a no-op. With the request's context, a token this
// request found and deleted is never written again, and a bound session it
// deletes leaves a retirement marker in its user's index (core.Retire): if
// the request then commits a new token (sm.RenewToken), that is a renewal,
// refused if a revoke ran in between; if not (sm.Destroy), the marker is
// removed when the request's context is done, one round trip off the
// request's path (or, if that fails, with the session's deadline).
func (s *Store) DeleteCtx(ctx context.Context, token string) error {
	if !validToken(token) {
		return nil
	}
	req := s.reqs.of(ctx)
	if req == nil {
		return s.core.DeleteToken(ctx, token)
	}
	req.mu.Lock()
	e := req.get(token)
	x := e.x
	e.x, e.dead = nil, true
	req.mu.Unlock()
	switch {
	case x == nil:
		return s.core.DeleteToken(ctx, token)
	case x.UserID == "":
		return s.core.Delete(ctx, x)
	}
	err := s.core.Retire(ctx, x)
	req.mu.Lock()
	defer req.mu.Unlock()
	switch {
	case err == nil:
		req.retired, req.dead = x, false
	case errors.Is(err, core.ErrNotFound):
		req.retired, req.dead = nil, true
		return nil
	}
	return err
}

// Login binds the request's session to userID and gives it a new token
// (sm.RenewToken): call it once the user has proven who they are. It puts
// userID under Options.Core.UserKey; doing that and calling sm.RenewToken
// yourself is the same. An empty userID returns core.ErrNoUser and changes
// nothing.
func (s *Store) Login(ctx context.Context, sm *scs.SessionManager, userID string) error {
	if userID == "" {
		return fmt.Errorf("scsredis: login: %w", core.ErrNoUser)
	}
	old, had := sm.Get(ctx, s.userKey), sm.Exists(ctx, s.userKey)
	sm.Put(ctx, s.userKey, userID)
	if err := sm.RenewToken(ctx); err != nil {
		if had {
			sm.Put(ctx, s.userKey, old)
		} else {
			sm.Remove(ctx, s.userKey)
		}
		return err
	}
	return nil
}

// UserID returns the user the request's session belongs to, "" if none:
// the value under Options.Core.UserKey, read by core.UserIDOf. A value that
// rule refuses names no user here, and makes the commit fail.
func (s *Store) UserID(ctx context.Context, sm *scs.SessionManager) string {
	id, _ := s.userOf(ctx, sm)
	return id
}

// userOf is UserID with the error for a value core.UserIDOf refuses.
func (s *Store) userOf(ctx context.Context, sm *scs.SessionManager) (string, error) {
	return userID(sm.Get(ctx, s.userKey), s.userKey)
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
// facts, most recently active first, in two round trips; empty for an
// anonymous session.
func (s *Store) Sessions(ctx context.Context, sm *scs.SessionManager) ([]core.SessionInfo, error) {
	uid, err := s.userOf(ctx, sm)
	if err != nil || uid == "" {
		return []core.SessionInfo{}, err
	}
	return s.core.UserSessions(ctx, uid)
}

// RevokeSession ends one of the request's user's sessions, named by its
// handle (the Handle of a core.SessionInfo). A handle that is not one of
// that user's sessions returns an error matching core.ErrNotFound; an
// anonymous session, core.ErrNoUser.
func (s *Store) RevokeSession(ctx context.Context, sm *scs.SessionManager, handle string) error {
	uid, err := s.userOf(ctx, sm)
	if err != nil {
		return err
	}
	if uid == "" {
		return fmt.Errorf("scsredis: revoke %s: %w", handle, core.ErrNoUser)
	}
	return s.core.RevokeSession(ctx, uid, handle)
}

// RevokeOthers ends every session of the request's user but the request's
// own ("log out everywhere else") and returns how many it ended; an
// anonymous session returns core.ErrNoUser.
func (s *Store) RevokeOthers(ctx context.Context, sm *scs.SessionManager) (int, error) {
	uid, err := s.userOf(ctx, sm)
	if err != nil {
		return 0, err
	}
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

// Admin actions by user id.

// UserSessions lists userID's live sessions with their device facts, most
// recently active first, in two round trips: an admin view. An empty userID
// returns core.ErrNoUser.
func (s *Store) UserSessions(ctx context.Context, userID string) ([]core.SessionInfo, error) {
	return s.core.UserSessions(ctx, userID)
}

// RevokeUser ends every session of userID (password change, disabled
// account, admin action), the current one included if it is theirs, and
// returns how many it ended: a few round trips whatever the number of
// sessions in Redis, never a scan. An empty userID returns core.ErrNoUser.
func (s *Store) RevokeUser(ctx context.Context, userID string) (int, error) {
	return s.core.RevokeUser(ctx, userID)
}

// userID is the user the value under the user key names, by
// core.UserIDOf's rule.
func userID(v interface{}, userKey string) (string, error) {
	id, err := core.UserIDOf(v)
	if err != nil {
		return "", fmt.Errorf("scsredis: session value %q: %w", userKey, err)
	}
	return id, nil
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
