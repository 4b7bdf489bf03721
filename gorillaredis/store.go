// Package gorillaredis is a Redis session store for gorilla/sessions: a
// drop-in replacement for sessions.NewCookieStore when sessions outgrow a
// cookie or must be revocable. The cookie carries only a random token,
// signed (and optionally encrypted) with securecookie key pairs; the values
// live in Redis through the redisession core, with a sliding idle timeout and
// an absolute lifetime, a per-user index of sessions (list, revoke one, all,
// or all but the current one) and token renewal at login. It works over any
// redis.UniversalClient: a single node, Sentinel or Cluster.
//
//	store := gorillaredis.NewStore(rdb, []byte(os.Getenv("SESSION_KEY")))
//	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
//		session, _ := store.Get(r, "session")
//		session.Values["visits"] = visits(session) + 1
//		if err := session.Save(r, w); err != nil { ... }
//	})
//
// Every Redis call takes the request's context. Build rdb with
// ContextTimeoutEnabled and the timeouts README's "Configure" shows: without
// it go-redis ignores the context's deadline on the socket, and a stalled
// Redis holds the request for its ReadTimeout or longer.
//
// # Semantics
//
// Get and New never return a nil session. A cookie that fails its signature
// or is not a well-formed token is ignored without touching Redis; a token
// that names no live session (unknown, expired, revoked) is never adopted:
// the session is new, and its first Save mints a fresh token. Only a Redis
// failure is returned as an error (with a usable, new session); Save then
// returns the same error and writes nothing, so an outage cannot replace a
// user's session with an empty one.
//
// Loading a session slides its expiry to now+IdleTimeout, capped by its
// absolute deadline (created+Lifetime), in the same command that reads it:
// a request that only reads costs one round trip and needs no Save. A Save
// whose values did not change writes nothing to Redis, and with
// GobSerializer (the default) it decodes nothing either: its format is
// canonical, so the stored bytes tell (see GobSerializer). With another
// serializer the stored values are decoded and compared.
//
// Save always sends the cookie, as gorilla's stores do, so its Expires moves
// with each Save. Its signature is made again only when it must be: for a
// new token, for a cookie an older key signed, and when the signature the
// request came with would lapse before the cookie can no longer be used
// (its MaxAge, the session's IdleTimeout or its deadline, whichever comes
// first). With the default MaxAge (the session's Lifetime) a cookie is signed
// once per token. The cookies NewStore's codecs sign carry the token as it
// is, not gob-encoded. A new session with no values is not written and gets
// no cookie. Options.MaxAge means:
//
//   - MaxAge > 0: the cookie, and its signature (the codecs' MaxAge), last
//     MaxAge seconds from the Save that sent them. The default is the core
//     Lifetime, so a cookie sent at creation lasts as long as the session
//     can. The server keeps the session for IdleTimeout after its last use,
//     or for MaxAge after a Save when MaxAge is shorter than IdleTimeout. If
//     you set MaxAge below Lifetime, call Save on read-only requests too
//     (it costs no round trip) or the browser drops the cookie MaxAge after
//     the last Save however active the user is.
//   - MaxAge == 0: a browser-session cookie (no Max-Age); the server keeps
//     the session for IdleTimeout after its last use, up to its Lifetime.
//   - MaxAge < 0: Save deletes the session and its index entry in Redis and
//     expires the cookie (logout).
//
// The server is authoritative: whatever the browser keeps, a cookie is
// worthless once its session is idle past IdleTimeout, past its Lifetime,
// or revoked.
//
// A Save that finds its session deleted meanwhile (logout in another tab,
// revoked from another device, renewed by a concurrent request) does not
// write it back: it writes nothing, expires the cookie and returns nil, as
// if the session had been logged out before the request began.
//
// # Hash layout
//
// With Options.Core.Layout = core.LayoutHash each value is its own hash
// field (encoded with the serializer's FieldSerializer methods) and a Save
// writes only the values that changed, so two requests of one session in
// flight at once (two tabs, a page and an XHR) that change different values
// both keep their change; with the default string layout the last Save
// wins. Session keys must then be strings.
//
// A session named "__Host-…" or "__Secure-…" is always sent Secure (and,
// for "__Host-", with Path=/ and no Domain), whatever the options say:
// browsers drop such cookies otherwise.
//
// # Users and their devices
//
// A session belongs to a user once Values["user_id"] (core.Options.UserKey)
// names one, by core.UserIDOf's rule: a string, an integer (42 is user
// "42") or a fmt.Stringer; a value of another type makes Save fail rather
// than keep the session where RevokeUser cannot find it. Login sets it and
// renews the token in one call:
//
//	if err := store.Login(r, session, user.ID); err != nil { ... }
//	_ = session.Save(r, w)
//
// The operations on "this request's session and user" take the request and
// the session, as gorilla's own methods do: UserID, Handle, Sessions (the
// user's devices), RevokeSession (one device), RevokeOthers (every device
// but this one), Renew and Login; log out with Options.MaxAge = -1 and Save.
// The admin operations take a user id: UserSessions and RevokeUser.
// scsredis and ginredis use the same names for the same operations.
//
// Session.ID holds the session's public handle, which is safe to log and
// show; the token itself only ever travels in the cookie, and Redis keys
// hold its SHA-256.
package gorillaredis

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
)

// Options configures a Store beyond what NewStore takes. Zero values mean
// the documented defaults.
type Options struct {
	// Core configures the engine: key prefix, IdleTimeout, Lifetime, the
	// user key, the size limit. See core.Options for its defaults.
	Core core.Options
	// Serializer encodes session values. Nil means GobSerializer.
	Serializer Serializer
}

// Store is a gorilla/sessions Store that keeps sessions in Redis. Options
// and Codecs may be changed before the store serves requests, as with
// gorilla's own stores; the Store is safe for concurrent use after that.
type Store struct {
	// Options is the default cookie configuration of new sessions:
	// Path "/", MaxAge the core Lifetime in seconds, HttpOnly, Secure and
	// SameSite=Lax. Each session gets a copy it may change.
	Options *sessions.Options
	// Codecs sign (and encrypt, with an encryption key) the token in the
	// cookie; decoding tries each in turn, so a key pair can be rotated by
	// putting the new pair first. With no key pairs the cookie carries the
	// bare token.
	Codecs []securecookie.Codec

	core       *core.Store
	serializer Serializer
	keyErr     error // the key pairs NewStore was given are unusable

	// signer is the first codec as MaxAge last configured it, and window
	// the signature lifetime it gave it: while Codecs[0] is still that
	// codec, a cookie it signed can be sent again (see cookieFor).
	signer *securecookie.SecureCookie
	window time.Duration
}

// minHashKeySize is the shortest cookie hash key a Store accepts: 32
// random bytes, as securecookie recommends for its HMAC-SHA256.
const minHashKeySize = 32

// checkKeys reports key pairs that would sign cookies weakly or not at all:
// each hash key must be at least minHashKeySize bytes, each encryption key
// 16, 24 or 32 bytes (or absent).
func checkKeys(pairs [][]byte) error {
	for i := 0; i < len(pairs); i += 2 {
		if n := len(pairs[i]); n < minHashKeySize {
			return fmt.Errorf("redisession: cookie hash key %d is %d bytes, want at least %d random bytes "+
				"(is SESSION_KEY set? make one with: head -c 32 /dev/urandom | base64)", i/2+1, n, minHashKeySize)
		}
		if i+1 < len(pairs) {
			if n := len(pairs[i+1]); n != 0 && n != 16 && n != 24 && n != 32 {
				return fmt.Errorf("redisession: cookie encryption key %d is %d bytes, want 16, 24 or 32", i/2+1, n)
			}
		}
	}
	return nil
}

// NewStore returns a Store over client with the default options, signing
// cookies with keyPairs as sessions.NewCookieStore does: a hash key, then
// optionally an encryption key (16, 24 or 32 bytes), for each pair. A hash
// key shorter than 32 bytes (an unset environment variable, say) or
// an encryption key of another size makes every Get and Save of the store
// return an error that says so, before anything is written.
func NewStore(client redis.UniversalClient, keyPairs ...[]byte) *Store {
	return NewStoreWithOptions(client, Options{}, keyPairs...)
}

// NewStoreWithOptions is NewStore with the core engine and the serializer
// configured by opts.
func NewStoreWithOptions(client redis.UniversalClient, opts Options, keyPairs ...[]byte) *Store {
	s := &Store{
		Codecs:     tokenCodecs(keyPairs),
		core:       core.New(client, opts.Core),
		serializer: opts.Serializer,
		keyErr:     checkKeys(keyPairs),
	}
	if s.serializer == nil {
		s.serializer = GobSerializer{}
	}
	s.Options = &sessions.Options{
		Path:     "/",
		MaxAge:   s.lifetimeSeconds(),
		HttpOnly: true,
		Secure:   true,
		SameSite: http.SameSiteLaxMode,
	}
	s.MaxAge(s.Options.MaxAge)
	return s
}

// Core returns the engine, for its counters and options.
func (s *Store) Core() *core.Store { return s.core }

// Get returns the named session of the request, loading it once per request
// through gorilla's request registry.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the named session of the request, bypassing the registry. It
// never returns a nil session: if the cookie names no live session, the
// session is new. The error is non-nil only when Redis failed or the
// store's keys are unusable (see NewStore).
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.Options
	session.Options = &opts
	session.IsNew = true
	st := &state{err: s.keyErr}
	track(r, session, st)
	if s.keyErr != nil {
		st.cs = s.core.NewSession(device(r))
		session.ID = st.cs.Handle()
		return session, s.keyErr
	}
	var err error
	if in, ok := s.token(r, name); ok {
		st.in = in
		cs, lerr := s.core.Load(r.Context(), in.token)
		switch {
		case lerr == nil:
			if s.decode(cs, session.Values) == nil {
				st.cs = cs
				session.IsNew = false
				session.ID = cs.Handle()
				return session, nil
			}
			// A live key whose payload this serializer cannot read: a miss.
			session.Values = make(map[interface{}]interface{})
		case errors.Is(lerr, core.ErrNotFound), errors.Is(lerr, core.ErrInvalidToken):
		default:
			st.err, err = lerr, lerr
		}
	}
	st.cs = s.core.NewSession(device(r))
	session.ID = st.cs.Handle()
	return session, err
}

// Save writes the session if its values changed and sends its cookie; with
// Options.MaxAge < 0 it deletes the session and expires the cookie. See the
// package documentation for what each case costs.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	st := s.stateOf(r, session)
	if st.err != nil {
		return st.err
	}
	opts := session.Options
	if opts == nil {
		opts = s.Options
	}
	opts = hostCookieOptions(session.Name(), opts)
	ctx := r.Context()
	if opts.MaxAge < 0 {
		if err := s.core.Delete(ctx, st.cs); err != nil {
			return err
		}
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", opts))
		return nil
	}
	if st.cs.IsNew() && len(session.Values) == 0 {
		return nil // nothing to keep: no key, no cookie
	}
	if err := s.sync(st, session); err != nil {
		return err
	}
	if st.cs.Modified() {
		if err := s.checkNames(session.Values); err != nil {
			return err
		}
	}
	// Sign first: a cookie that cannot be made must not leave a session
	// (and a device in the user's list) behind.
	value, err := s.cookieFor(st, session.Name(), opts)
	if err != nil {
		return err
	}
	if idle := s.core.Options().IdleTimeout; opts.MaxAge > 0 && time.Duration(opts.MaxAge)*time.Second < idle {
		err = s.core.SaveUntil(ctx, st.cs, s.core.Options().Now().Add(time.Duration(opts.MaxAge)*time.Second))
	} else {
		err = s.core.Save(ctx, st.cs)
	}
	switch {
	case errors.Is(err, core.ErrNotFound):
		// Ended elsewhere while this request ran: stay ended.
		expired := *opts
		expired.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", &expired))
		return nil
	case err != nil:
		return err
	}
	session.IsNew = false
	session.ID = st.cs.Handle()
	http.SetCookie(w, sessions.NewCookie(session.Name(), value, opts))
	return nil
}

// MaxAge sets the default cookie MaxAge of new sessions and the window in
// which the codecs accept a signed cookie: age seconds when age > 0, the
// core Lifetime otherwise (a browser-session cookie is still worthless once
// its session's lifetime is over).
func (s *Store) MaxAge(age int) {
	s.Options.MaxAge = age
	window := age
	if window <= 0 {
		window = s.lifetimeSeconds()
	}
	for _, c := range s.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(window)
		}
	}
	s.signer = nil
	if len(s.Codecs) > 0 {
		if sc, ok := s.Codecs[0].(*securecookie.SecureCookie); ok {
			s.signer, s.window = sc, time.Duration(window)*time.Second
		}
	}
}

// CookieValue returns the cookie value that presents token to the store
// under the cookie name: signed with the first codec, or the bare token when
// the store has no codecs. Tests and tools use it; handlers never need it.
func (s *Store) CookieValue(name, token string) (string, error) {
	return s.encodeCookie(name, token)
}

// This request's session and user.

// Renew gives the session a new token now, keeping its values, and kills the
// old one, index included: call it at login and on any privilege change,
// then Save as usual to send the new cookie. A stored session costs two
// round trips; a new one none. If the session was ended meanwhile, Renew
// returns an error matching core.ErrNotFound and the session stays ended.
func (s *Store) Renew(r *http.Request, session *sessions.Session) error {
	st := s.stateOf(r, session)
	if st.err != nil {
		return st.err
	}
	if err := s.sync(st, session); err != nil {
		return err
	}
	if err := s.checkNames(session.Values); err != nil {
		return err
	}
	if err := s.core.Renew(r.Context(), st.cs); err != nil {
		return err
	}
	session.ID = st.cs.Handle()
	return nil
}

// Login binds the session to userID and gives it a new token, as Renew
// does: call it once the user has proven who they are, then Save as usual
// to send the new cookie. It sets Values[core.Options.UserKey]; setting that
// value yourself and calling Renew is the same. An empty userID returns
// core.ErrNoUser and changes nothing.
func (s *Store) Login(r *http.Request, session *sessions.Session, userID string) error {
	if userID == "" {
		return core.ErrNoUser
	}
	key := s.core.Options().UserKey
	old, had := session.Values[key]
	session.Values[key] = userID
	if err := s.Renew(r, session); err != nil {
		if had {
			session.Values[key] = old
		} else {
			delete(session.Values, key)
		}
		return err
	}
	return nil
}

// UserID returns the user the session belongs to, "" if none: the value
// under core.Options.UserKey, read by core.UserIDOf. A value that rule
// refuses names no user here, and makes Save fail.
func (s *Store) UserID(r *http.Request, session *sessions.Session) string {
	id, _ := s.userOf(session)
	return id
}

// userOf is UserID with the error for a value core.UserIDOf refuses.
func (s *Store) userOf(session *sessions.Session) (string, error) {
	id, err := core.UserIDOf(session.Values[s.core.Options().UserKey])
	if err != nil {
		return "", fmt.Errorf("gorillaredis: session value %q: %w", s.core.Options().UserKey, err)
	}
	return id, nil
}

// Handle returns the session's public handle (its Session.ID): what
// Sessions lists and RevokeSession takes, never the token. A new session
// has the handle its first Save will store it under.
func (s *Store) Handle(r *http.Request, session *sessions.Session) string {
	return session.ID
}

// Sessions lists the sessions of the session's user with their device
// facts, most recently active first, in two round trips; empty for an
// anonymous session.
func (s *Store) Sessions(r *http.Request, session *sessions.Session) ([]core.SessionInfo, error) {
	uid, err := s.userOf(session)
	if err != nil || uid == "" {
		return []core.SessionInfo{}, err
	}
	return s.core.UserSessions(r.Context(), uid)
}

// RevokeSession ends one of the session's user's sessions, named by its
// handle (the Handle of a core.SessionInfo). A handle that is not one of
// that user's sessions returns an error matching core.ErrNotFound; an
// anonymous session, core.ErrNoUser.
func (s *Store) RevokeSession(r *http.Request, session *sessions.Session, handle string) error {
	uid, err := s.userOf(session)
	if err != nil {
		return err
	}
	if uid == "" {
		return core.ErrNoUser
	}
	return s.core.RevokeSession(r.Context(), uid, handle)
}

// RevokeOthers ends every session of the session's user but this one ("log
// out everywhere else") and returns how many it ended; an anonymous
// session returns core.ErrNoUser.
func (s *Store) RevokeOthers(r *http.Request, session *sessions.Session) (int, error) {
	uid, err := s.userOf(session)
	if err != nil {
		return 0, err
	}
	if uid == "" {
		return 0, core.ErrNoUser
	}
	return s.core.RevokeOthers(r.Context(), uid, session.ID)
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

// Internals.

// state is what the store keeps about one session between New and Save.
type state struct {
	cs  *core.Session
	err error    // Redis failed while loading: Save refuses to write
	in  incoming // the cookie the request came with
}

// states holds the states of one request's sessions. It lives in the
// request's context, put there in place the way gorilla's registry is, so
// it goes away with the request.
type states struct {
	mu sync.Mutex
	m  map[*sessions.Session]*state
}

type statesKey struct{}

func track(r *http.Request, session *sessions.Session, st *state) {
	ss, ok := r.Context().Value(statesKey{}).(*states)
	if !ok {
		ss = &states{m: make(map[*sessions.Session]*state, 1)}
		*r = *r.WithContext(context.WithValue(r.Context(), statesKey{}, ss))
	}
	ss.mu.Lock()
	ss.m[session] = st
	ss.mu.Unlock()
}

// stateOf returns the state New recorded for session in r. A session New
// never saw in this request (built by hand, or saved with another request)
// is treated as new: it gets a fresh token when saved.
func (s *Store) stateOf(r *http.Request, session *sessions.Session) *state {
	if ss, ok := r.Context().Value(statesKey{}).(*states); ok {
		ss.mu.Lock()
		st := ss.m[session]
		ss.mu.Unlock()
		if st != nil {
			return st
		}
	}
	st := &state{cs: s.core.NewSession(device(r))}
	track(r, session, st)
	return st
}

// decode reads a loaded session's values: one field each in the hash
// layout, one serialized map otherwise.
func (s *Store) decode(cs *core.Session, values map[interface{}]interface{}) error {
	if cs.Fields == nil {
		return s.serializer.Deserialize(cs.Data, values)
	}
	fs, err := s.fieldSerializer()
	if err != nil {
		return err
	}
	for k, b := range cs.Fields {
		v, err := fs.DeserializeValue(b)
		if err != nil {
			return err
		}
		values[k] = v
	}
	return nil
}

func (s *Store) fieldSerializer() (FieldSerializer, error) {
	fs, ok := s.serializer.(FieldSerializer)
	if !ok {
		return nil, fmt.Errorf("gorillaredis: serializer %T cannot encode single values, which the hash layout needs", s.serializer)
	}
	return fs, nil
}

// syncFields is sync for the hash layout: each value becomes a field, and a
// value equal to what is stored keeps its stored bytes, so only the values
// that changed are written.
func (s *Store) syncFields(st *state, values map[interface{}]interface{}) error {
	fs, err := s.fieldSerializer()
	if err != nil {
		return err
	}
	fields := make(map[string][]byte, len(values))
	for k, v := range values {
		name, ok := k.(string)
		if !ok {
			return fmt.Errorf("gorillaredis: hash layout: session key %v of type %T is not a string", k, k)
		}
		b, err := fs.SerializeValue(v)
		if err != nil {
			return err
		}
		if old, ok := st.cs.Fields[name]; ok && string(old) != string(b) {
			if c, isComparer := fs.(comparer); isComparer {
				if _, known := c.sameValue(old, b); known {
					fields[name] = b // canonical bytes: different means changed
					continue
				}
			}
			if ov, err := fs.DeserializeValue(old); err == nil && reflect.DeepEqual(ov, v) {
				b = old // equal value, unstable encoding (a map inside): keep the stored bytes
			}
		}
		fields[name] = b
	}
	st.cs.Fields = fields
	return nil
}

// sync copies the session's values into its core session. When they equal
// what is stored, the stored bytes are kept so core sees no change. Equal
// bytes are equal values; different bytes are compared by the serializer
// when it can (GobSerializer's canonical format), and by decoding the
// stored bytes otherwise (gob encodes maps in random order, so equal values
// can encode differently).
func (s *Store) sync(st *state, session *sessions.Session) error {
	values := session.Values
	if values == nil {
		values = map[interface{}]interface{}{}
	}
	uid, err := s.userOf(session)
	if err != nil {
		return err
	}
	st.cs.UserID = uid
	if s.core.Options().Layout == core.LayoutHash {
		return s.syncFields(st, values)
	}
	b, err := s.serializer.Serialize(values)
	if err != nil {
		return err
	}
	if !st.cs.IsNew() && string(b) != string(st.cs.Data) && st.cs.Data != nil {
		if c, ok := s.serializer.(comparer); ok {
			if same, known := c.same(st.cs.Data, b, values); known {
				if !same {
					st.cs.Data = b
				}
				return nil
			}
		}
		old := make(map[interface{}]interface{}, len(values))
		if s.serializer.Deserialize(st.cs.Data, old) == nil && reflect.DeepEqual(old, values) {
			return nil // unchanged: keep Data as stored
		}
	}
	st.cs.Data = b
	return nil
}

// checkNames refuses values whose names core.Options.Sensitive denies.
func (s *Store) checkNames(values map[interface{}]interface{}) error {
	for k := range values {
		if name, ok := k.(string); ok {
			if err := s.core.CheckName(name); err != nil {
				return fmt.Errorf("gorillaredis: save: %w", err)
			}
		}
	}
	return nil
}

// token returns what the request's cookie carries, if its signature holds.
// Nothing here touches Redis. The first codec is tried alone first: it
// signs every cookie the store sends, and only a cookie it signed may be
// sent again as it is (see cookieFor).
func (s *Store) token(r *http.Request, name string) (incoming, bool) {
	c, err := r.Cookie(name)
	if err != nil || c.Value == "" {
		return incoming{}, false
	}
	if len(s.Codecs) == 0 {
		return incoming{token: c.Value}, true
	}
	var token string
	if err := s.Codecs[0].Decode(name, c.Value, &token); err == nil {
		return incoming{token: token, value: c.Value, signedAt: signedAt(c.Value)}, true
	}
	if len(s.Codecs) == 1 || securecookie.DecodeMulti(name, c.Value, &token, s.Codecs[1:]...) != nil {
		return incoming{}, false
	}
	return incoming{token: token}, true // an older key: sign again with the first
}

func (s *Store) encodeCookie(name, token string) (string, error) {
	if len(s.Codecs) == 0 {
		return token, nil
	}
	v, err := securecookie.EncodeMulti(name, token, s.Codecs...)
	if err != nil {
		return "", fmt.Errorf("gorillaredis: sign cookie %q: %w", name, err)
	}
	return v, nil
}

// lifetimeSeconds is the core Lifetime in whole seconds, rounded up.
func (s *Store) lifetimeSeconds() int {
	return int((s.core.Options().Lifetime + time.Second - 1) / time.Second)
}

func device(r *http.Request) core.Device {
	return core.Device{UserAgent: r.UserAgent(), RemoteAddr: r.RemoteAddr}
}
