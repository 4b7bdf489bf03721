package reference_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/redisession/redisession/conformance"
	"github.com/redisession/redisession/conformance/reference"
	"github.com/redisession/redisession/core"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, harness{})
}

// harness serves the suite's app through the reference adapter.
type harness struct{}

// Layouts: the reference adapter supports both.
func (harness) Layouts() []core.Layout { return []core.Layout{core.LayoutString, core.LayoutHash} }

var _ conformance.Layouter = harness{}

func (harness) Open(t testing.TB, env conformance.Env, app conformance.App) conformance.Adapter {
	store := reference.New(core.New(env.Client, env.Options))
	store.Cookie.Name = env.CookieName
	if env.LooseCookie {
		store.Cookie.Secure, store.Cookie.Path, store.Cookie.Domain = false, "/app", "example.com"
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := store.Load(r)
		v := view{x, store, r, new(error)}
		res := app(v, r)
		if *v.putErr != nil {
			http.Error(w, (*v.putErr).Error(), http.StatusInternalServerError)
			return
		}
		if err := store.Save(w, r, x); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
	})
	return conformance.Adapter{
		Handler:    h,
		CookieName: store.Cookie.Name,
		Cookie:     func(token string) string { return token },
	}
}

// view is the suite's Session over a reference.Session.
type view struct {
	*reference.Session
	store  *reference.Store
	r      *http.Request
	putErr *error // a Put the session refused: the request fails, nothing is saved
}

func (v view) ctx() context.Context { return v.r.Context() }
func (v view) Renew() error         { return v.Session.Renew(v.r) }
func (v view) Login(u string) error { return v.Session.Login(v.r, u) }
func (v view) Put(k string, val any) {
	if err := v.Session.Put(k, val); err != nil {
		*v.putErr = err
	}
}
func (v view) Destroy() error { return v.Session.Destroy(v.r) }
func (v view) Sessions() ([]core.SessionInfo, error) {
	if v.UserID() == "" {
		return []core.SessionInfo{}, nil // an anonymous session has no devices
	}
	return v.store.Core.UserSessions(v.ctx(), v.UserID())
}
func (v view) RevokeSession(h string) error {
	return v.store.Core.RevokeSession(v.ctx(), v.UserID(), h)
}
func (v view) RevokeOthers() (int, error) {
	return v.store.Core.RevokeOthers(v.ctx(), v.UserID(), v.Handle())
}
func (v view) RevokeUser(u string) (int, error) { return v.store.Core.RevokeUser(v.ctx(), u) }
