// Package ginredis is a Redis session store for gin, through
// github.com/gin-contrib/sessions: a replacement for gin-contrib's cookie
// and redigo stores that works over any redis.UniversalClient (single node,
// Sentinel, Cluster), slides a session's expiry on every request that reads
// it, never adopts a session id a client made up, and can list and revoke a
// user's sessions. It is a thin layer over gorillaredis, whose package
// documentation describes the semantics (MaxAge, change detection, sessions
// revoked while a request runs).
//
//	store := ginredis.NewStore(rdb, []byte(os.Getenv("SESSION_KEY")))
//	r := gin.Default()
//	r.Use(sessions.Sessions("mysession", store))
//	r.GET("/incr", func(c *gin.Context) {
//		session := sessions.Default(c)
//		count, _ := session.Get("count").(int)
//		session.Set("count", count+1)
//		_ = session.Save()
//	})
//
// Every Redis call takes the request's context (c.Request.Context()). Build
// rdb with ContextTimeoutEnabled and the timeouts README's "Configure" shows:
// without it go-redis ignores the context's deadline on the socket, and a
// stalled Redis holds the request for its ReadTimeout or longer.
//
// # Reads slide the expiry
//
// gin-contrib's session Save does nothing unless a value was written, so a
// user who only reads pages never causes a Save. That is enough here: the
// load that a handler's first Get (or any other use of the session) causes
// moves the expiry to now+IdleTimeout, capped by the session's lifetime, in
// the same command that reads it: one round trip, no Save needed. A handler
// that never touches the session does not load it, and does not slide it.
//
// # Cookies
//
// Until Options is called the cookie is HttpOnly, Secure, SameSite=Lax,
// Path "/", with MaxAge the core Lifetime. The store's Options keeps
// HttpOnly, Secure and SameSite=Lax where its argument leaves them zero, so
// the usual store.Options(sessions.Options{MaxAge: 3600}) still sends a
// cookie scripts cannot read and plain http never carries. Path and Domain
// are as given (gin-contrib's store tester requires that an empty Path is
// not sent): pass Path "/" as gin-contrib's documentation does. To serve
// plain http in development, turn Secure off after Options:
//
//	store.Options(sessions.Options{Path: "/", MaxAge: 86400})
//	store.Gorilla().Options.Secure = false // development over http only
//
// A session's own Options (session.Options in a handler) is gin-contrib's
// and replaces the cookie options wholesale. The attributes come in the
// order net/http writes them, as with every gin-contrib store.
//
// # Users and their devices
//
// A session belongs to a user once its "user_id" value
// (core.Options.UserKey) names one, by core.UserIDOf's rule. The operations
// on this request's session and user are functions of the gin context and
// the session, in gin-contrib's style: Login (bind the user and renew the
// token), UserID, Handle, Sessions (the user's devices), RevokeSession (one
// device), RevokeOthers (every device but this one), Renew and Destroy
// (logout), each followed by session.Save() where it changes the session:
//
//	r.POST("/login", func(c *gin.Context) {
//		session := sessions.Default(c)
//		if err := ginredis.Login(c, session, user.ID); err != nil { ... }
//		_ = session.Save()
//	})
//
// The admin operations take a user id and are methods of the Store:
// UserSessions and RevokeUser. scsredis and gorillaredis use the same names
// for the same operations.
package ginredis

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"
	gsessions "github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

// Store is a gin-contrib sessions.Store kept in Redis.
type Store interface {
	sessions.Store
	// UserSessions lists userID's live sessions with their device facts,
	// most recently active first, in two round trips: an admin view. An
	// empty userID returns core.ErrNoUser.
	UserSessions(ctx context.Context, userID string) ([]core.SessionInfo, error)
	// RevokeUser ends every session of userID (password change, disabled
	// account, admin action) and returns how many it ended. An empty userID
	// returns core.ErrNoUser.
	RevokeUser(ctx context.Context, userID string) (int, error)
	// Core returns the engine, for its counters and options.
	Core() *core.Store
	// Gorilla returns the gorilla store underneath, for its cookie
	// options and codecs.
	Gorilla() *gorillaredis.Store
}

// Options configures a Store beyond what NewStore takes. Zero values mean
// the documented defaults.
type Options struct {
	// Core configures the engine: key prefix, IdleTimeout, Lifetime, the
	// user key, the size limit. See core.Options for its defaults.
	Core core.Options
	// Serializer encodes session values. Nil means
	// gorillaredis.GobSerializer, which stores what gin-contrib's own
	// stores do.
	Serializer gorillaredis.Serializer
	// Migrate, when set and its window is open, adopts the sessions of the
	// store this one replaces: gin-contrib/sessions' cookie store
	// (gorillaredis.FromCookieStore) or its redis store
	// (gorillaredis.FromRediStore, which is boj/redistore underneath). See
	// gorillaredis.Migration. gin-contrib saves a session only when a
	// handler wrote to it, so an adoption completes at the first such
	// Save; until then each request reads the legacy session again. Nil
	// means no migration.
	Migrate *gorillaredis.Migration
}

// NewStore returns a Store over client with the default options, signing
// cookies with keyPairs as gin-contrib's cookie store does: a hash key of at
// least 32 bytes, then optionally an encryption key (16, 24 or 32 bytes),
// for each pair.
func NewStore(client redis.UniversalClient, keyPairs ...[]byte) Store {
	return NewStoreWithOptions(client, Options{}, keyPairs...)
}

// NewStoreWithOptions is NewStore with the core engine (prefix, timeouts,
// size limit, user key) and the serializer configured by opts.
func NewStoreWithOptions(client redis.UniversalClient, opts Options, keyPairs ...[]byte) Store {
	g := gorillaredis.Options{Core: opts.Core, Serializer: opts.Serializer, Migrate: opts.Migrate}
	return &store{gorillaredis.NewStoreWithOptions(client, g, keyPairs...)}
}

type store struct {
	*gorillaredis.Store
}

// Options sets the cookie options of new sessions, keeping the secure
// defaults where o leaves a field zero: HttpOnly, Secure and SameSite=Lax
// (see the package documentation), and keeps the codecs' signature window
// in step with MaxAge.
func (s *store) Options(o sessions.Options) {
	g := o.ToGorillaOptions()
	g.HttpOnly, g.Secure = true, true
	if g.SameSite == 0 {
		g.SameSite = http.SameSiteLaxMode
	}
	s.Store.Options = g
	s.Store.MaxAge(o.MaxAge)
}

func (s *store) Gorilla() *gorillaredis.Store { return s.Store }

// ErrNotRedis reports a session that is not kept by a ginredis Store.
var ErrNotRedis = errors.New("ginredis: session is not from a ginredis store")

// Renew gives the session a new token now, keeping its values, and ends the
// old one: call it at login, then session.Save() to send the new cookie.
func Renew(c *gin.Context, s sessions.Session) error {
	gs, st, err := open(s)
	if err != nil {
		return err
	}
	if err := st.Renew(c.Request, gs); err != nil {
		return err
	}
	s.Options(ginOptions(gs.Options)) // mark the session written, so Save sends the cookie
	return nil
}

// Destroy ends the session (logout): the following session.Save() deletes
// it in Redis and expires the cookie, with the session's own path and
// domain.
func Destroy(c *gin.Context, s sessions.Session) error {
	gs, _, err := open(s)
	if err != nil {
		return err
	}
	o := ginOptions(gs.Options)
	o.MaxAge = -1
	s.Options(o)
	return nil
}

// Login binds the session to userID and gives it a new token now, keeping
// its values: call it once the user has proven who they are, then
// session.Save() to send the new cookie. An empty userID returns
// core.ErrNoUser and changes nothing.
func Login(c *gin.Context, s sessions.Session, userID string) error {
	gs, st, err := open(s)
	if err != nil {
		return err
	}
	if err := st.Login(c.Request, gs, userID); err != nil {
		return err
	}
	s.Options(ginOptions(gs.Options)) // mark the session written, so Save sends the cookie
	return nil
}

// UserID returns the user the session belongs to, "" if none (see
// core.UserIDOf).
func UserID(c *gin.Context, s sessions.Session) string {
	gs, st, err := open(s)
	if err != nil {
		return ""
	}
	return st.UserID(c.Request, gs)
}

// Handle returns the session's public handle (its ID()): what Sessions
// lists and RevokeSession takes, never the token.
func Handle(c *gin.Context, s sessions.Session) string {
	gs, st, err := open(s)
	if err != nil {
		return ""
	}
	return st.Handle(c.Request, gs)
}

// Sessions lists the sessions of the session's user with their device
// facts, most recently active first; empty for an anonymous session.
func Sessions(c *gin.Context, s sessions.Session) ([]core.SessionInfo, error) {
	gs, st, err := open(s)
	if err != nil {
		return nil, err
	}
	return st.Sessions(c.Request, gs)
}

// RevokeSession ends one of the session's user's sessions, named by its
// handle. A handle that is not one of that user's sessions returns an error
// matching core.ErrNotFound; an anonymous session, core.ErrNoUser.
func RevokeSession(c *gin.Context, s sessions.Session, handle string) error {
	gs, st, err := open(s)
	if err != nil {
		return err
	}
	return st.RevokeSession(c.Request, gs, handle)
}

// RevokeOthers ends every session of the session's user but this one ("log
// out everywhere else") and returns how many it ended.
func RevokeOthers(c *gin.Context, s sessions.Session) (int, error) {
	gs, st, err := open(s)
	if err != nil {
		return 0, err
	}
	return st.RevokeOthers(c.Request, gs)
}

// open returns the gorilla session behind a gin-contrib session, loading it
// if the handler has not yet, and its store.
func open(s sessions.Session) (*gsessions.Session, *gorillaredis.Store, error) {
	g, ok := s.(interface{ Session() *gsessions.Session })
	if !ok {
		return nil, nil, ErrNotRedis
	}
	gs := g.Session()
	if gs == nil {
		return nil, nil, ErrNotRedis
	}
	st, ok := gs.Store().(*gorillaredis.Store)
	if !ok {
		if w, ok := gs.Store().(interface{ Gorilla() *gorillaredis.Store }); ok {
			return gs, w.Gorilla(), nil
		}
		return nil, nil, ErrNotRedis
	}
	return gs, st, nil
}

func ginOptions(o *gsessions.Options) sessions.Options {
	if o == nil {
		return sessions.Options{}
	}
	return sessions.Options{
		Path: o.Path, Domain: o.Domain, MaxAge: o.MaxAge,
		Secure: o.Secure, HttpOnly: o.HttpOnly, SameSite: o.SameSite,
	}
}
