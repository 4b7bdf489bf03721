package scsredis_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redisession/redisession/conformance"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/scsredis"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, harness{})
}

// harness serves the suite's app through scs's LoadAndSave over a Store.
type harness struct{}

func (harness) Open(t testing.TB, env conformance.Env, app conformance.App) conformance.Adapter {
	store := scsredis.New(env.Client, scsredis.Options{Core: env.Options})
	sm := newManager(store, env.Options)
	sm.Cookie.Name = env.CookieName
	if env.LooseCookie {
		sm.Cookie.Secure, sm.Cookie.Path, sm.Cookie.Domain = false, "/app", "example.com"
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res := app(view{sm: sm, store: store, r: r}, r)
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
	})
	return conformance.Adapter{
		Handler:    scsredis.RecordDevice(sm.LoadAndSave(h)),
		CookieName: sm.Cookie.Name,
		Cookie:     func(token string) string { return token }, // scs's cookie is the bare token
		// scs writes the cookie itself: the store cannot correct it, and an
		// app checks it at startup.
		CookieRefused: store.CheckManager(sm),
		// With IdleTimeout scs commits on every request: Find + Commit.
		ReadRoundTrips: 2,
		// scs computes the expiry (time.Now()+IdleTimeout) before it calls
		// CommitCtx; the store carries it over as a duration from its own
		// reading of the clock, a little later. 100 ms covers a busy
		// machine and is far below what a store that stopped sliding
		// would show (two thirds of IdleTimeout).
		ExpiryDrift: 100 * time.Millisecond,
	}
}

// newManager returns an scs manager over store with the suite's timeouts and
// an ErrorFunc that answers in the suite's JSON.
func newManager(store scs.Store, o core.Options) *scs.SessionManager {
	sm := scs.New()
	sm.Store = store
	sm.Lifetime = o.Lifetime
	sm.IdleTimeout = o.IdleTimeout
	sm.Cookie.Secure = true
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		body, _ := json.Marshal(map[string]string{"err": err.Error()})
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(body)
	}
	return sm
}

// view is the suite's Session over scs.
type view struct {
	sm    *scs.SessionManager
	store *scsredis.Store
	r     *http.Request
}

func (v view) Get(key string) (string, bool) {
	s, ok := v.sm.Get(v.r.Context(), key).(string)
	return s, ok
}
func (v view) Set(key, value string)   { v.sm.Put(v.r.Context(), key, value) }
func (v view) Put(key string, val any) { v.sm.Put(v.r.Context(), key, val) }
func (v view) Login(u string) error    { return v.store.Login(v.r.Context(), v.sm, u) }
func (v view) UserID() string          { return v.store.UserID(v.r.Context(), v.sm) }
func (v view) Delete(key string)       { v.sm.Remove(v.r.Context(), key) }
func (v view) Renew() error            { return v.sm.RenewToken(v.r.Context()) }
func (v view) Destroy() error          { return v.sm.Destroy(v.r.Context()) }

// Handle commits a modified session that has no token yet: scs mints tokens
// at commit, so an scs handler that needs its session's handle before the
// response commits first, as this does.
func (v view) Handle() string {
	ctx := v.r.Context()
	if v.sm.Token(ctx) == "" && v.sm.Status(ctx) == scs.Modified {
		if _, _, err := v.sm.Commit(ctx); err != nil {
			return ""
		}
	}
	return v.store.Handle(ctx, v.sm)
}
func (v view) Sessions() ([]core.SessionInfo, error) { return v.store.Sessions(v.r.Context(), v.sm) }
func (v view) RevokeSession(h string) error          { return v.store.RevokeSession(v.r.Context(), v.sm, h) }
func (v view) RevokeOthers() (int, error)            { return v.store.RevokeOthers(v.r.Context(), v.sm) }
func (v view) RevokeUser(u string) (int, error)      { return v.store.RevokeUser(v.r.Context(), u) }
