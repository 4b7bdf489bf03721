package conformance

import (
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// Harness is what an adapter's test provides: how to serve an app through
// the adapter. The suite calls Open once per property (some properties open
// more than one adapter), each time with a fresh Env, and drives the handler
// over HTTPS with one cookie jar per device.
type Harness interface {
	// Open builds the adapter's store over env.Client, configured with
	// env.Options (prefix, timeouts, clock, size limit, user key) and the
	// cookie env asks for (CookieName, LooseCookie), and returns an Adapter
	// whose Handler serves app: for every request it loads the session the
	// framework's way (before calling app: a framework that loads lazily,
	// like gin, must be made to load first, or the NoResurrection
	// properties hold a request that has not loaded its session yet), calls
	// app with a Session view of it, saves the session the framework's way
	// (with the framework's default cookie options), and only then writes
	// app's Response. A load or save that fails is answered with status 500
	// and a body that carries the error's text (http.Error(w, err.Error(),
	// 500) will do): Security/ErrorsNameNoToken reads it.
	Open(t testing.TB, env Env, app App) Adapter
}

// Layouter is a Harness whose adapter supports more storage layouts than
// the string layout (core.LayoutString, all a harness gets that does not
// implement it). Run then runs every property once per layout, named
// "<layout>/<property>", passing the layout in Env.Options.Layout.
type Layouter interface {
	Harness
	// Layouts names the layouts the adapter supports.
	Layouts() []core.Layout
}

// ClientMaker is a Harness that builds the Redis clients the suite runs
// on, as the adapter's users would build them: with options of its own
// (timeouts, ContextTimeoutEnabled, TLS, a user), another client type, or
// hooks. Run, FuzzStoredBytes and FuzzCookie then call NewClient for every
// client they would otherwise build themselves.
//
// The server stays the suite's choice (an embedded miniredis, REDIS_ADDR,
// REDIS_CLUSTER_ADDRS or REDIS_SENTINEL_ADDRS), and NewClient must reach
// the one opts name: each property still runs under a key prefix of its
// own, whose keys the suite deletes when the property ends, and on
// miniredis the suite moves that server's clock.
type ClientMaker interface {
	Harness
	// NewClient returns a new client to the Redis opts describe. The suite
	// asks for one for every client it needs: the adapter's (Env.Client), to
	// which it adds a hook that counts round trips and commands, one it
	// inspects Redis with, and for Security/ErrorsNameNoToken one to which
	// it adds a hook that refuses writes. It closes each when t ends.
	NewClient(t testing.TB, opts *redis.UniversalOptions) redis.UniversalClient
}

// Env is what the suite gives a harness for one adapter.
type Env struct {
	// Client is the Redis to build the store on. The suite counts its
	// round trips.
	Client redis.UniversalClient
	// Options are the core options to build the store with. Prefix and Now
	// must be honoured: they isolate the property and move its clock.
	Options core.Options
	// CookieName is the name the session cookie must have: "session", or
	// the "__Host-…" and "__Secure-…" names the Cookie properties ask for.
	// The cookie's other attributes stay as the harness configures them for
	// production use (for scs, with Cookie.Secure set), unless LooseCookie
	// is set.
	CookieName string
	// LooseCookie asks the harness to configure the session cookie against
	// CookieName's prefix, as an app might by mistake: Secure off, Path
	// "/app", Domain "example.com", the other attributes as usual. An
	// adapter that writes the cookie itself still sends a "__Host-" or
	// "__Secure-" cookie with the attributes its prefix requires, and any
	// other cookie as configured; one whose framework writes the cookie
	// reports what its startup check says in Adapter.CookieRefused.
	LooseCookie bool
}

// Adapter is a store opened by a harness.
type Adapter struct {
	// Handler serves the app.
	Handler http.Handler
	// CookieName is the name of the session cookie: Env.CookieName.
	CookieName string
	// Cookie returns the cookie value that presents token to the store, as
	// the adapter itself would write it (signed, for a signed cookie). The
	// suite uses it to present tokens of its choosing: unknown, malformed,
	// or pointing at data it planted.
	Cookie func(token string) string
	// Token is Cookie's inverse: the token a cookie value presents to the
	// store, false if it presents none (a signature that does not hold, or
	// has expired). Security/ErrorsNameNoToken uses it to know the token
	// behind a session's cookie, FuzzCookie to know which values present
	// one; nil means the cookie is the bare token.
	Token func(value string) (token string, ok bool)
	// CookieRefused is, for an adapter whose framework writes the session
	// cookie itself so that the store cannot correct it (scs), the error
	// the adapter's startup check returns for the cookie as configured
	// (scsredis.Store.CheckManager): non-nil when browsers would refuse the cookie,
	// so that the app does not start with it. nil for an adapter that
	// corrects the cookie it sends, and for a cookie browsers keep.
	CookieRefused error
	// ReadRoundTrips is the round trips a request costs that only reads a
	// live session; 0 means 1.
	ReadRoundTrips int
	// ExpiryDrift is how much sooner than now+IdleTimeout a slid expiry may
	// fall because the framework decides expiries on its own clock before
	// the store writes them (scs reads time.Now, then the store turns that
	// absolute time into one on the store's clock: the time in between is
	// lost). 0 for adapters that let the store compute the expiry.
	ExpiryDrift time.Duration
}

// App is the application the suite runs inside the adapter.
type App func(s Session, r *http.Request) Response

// Response is what an App answers; the harness writes it after saving the
// session.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Body is the response body (JSON).
	Body []byte
}

// Session is the adapter's per-request view of its session, in the words of
// its framework. Values are strings, but for Put.
type Session interface {
	// Get returns the value stored under key.
	Get(key string) (string, bool)
	// Set stores value under key. Setting Options.UserKey binds the session
	// to that user.
	Set(key, value string)
	// Put stores a value of any type under key, as the framework's own
	// setter does: Users/Identity puts integers, bools and floats under
	// Options.UserKey.
	Put(key string, value any)
	// Delete removes key.
	Delete(key string)
	// Renew gives the session a new token now, keeping its values.
	Renew() error
	// Destroy ends the session (logout).
	Destroy() error
	// Login binds the session to userID and renews its token: the
	// adapter's Login.
	Login(userID string) error
	// UserID is the user the session belongs to, "" if none: the adapter's
	// UserID.
	UserID() string
	// Handle is the public handle of the session's current token, or "" if
	// it has none yet.
	Handle() string
	// Sessions lists the sessions of the session's user.
	Sessions() ([]core.SessionInfo, error)
	// RevokeSession ends one of the user's sessions by handle.
	RevokeSession(handle string) error
	// RevokeOthers ends every session of the user but this one.
	RevokeOthers() (int, error)
	// RevokeUser ends every session of any user (an admin action).
	RevokeUser(userID string) (int, error)
}
