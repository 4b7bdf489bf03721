package gorillaredis_test

import (
	"net/http"
	"testing"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/conformance"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, harness{})
}

// harness serves the suite's app the gorilla way: store.Get, the handler,
// session.Save, then the response.
type harness struct{}

// Layouts: the adapter supports both of core's layouts.
func (harness) Layouts() []core.Layout { return []core.Layout{core.LayoutString, core.LayoutHash} }

var _ conformance.Layouter = harness{}

// testKeys sign and encrypt the cookie: the largest cookie the store sends
// (with rotated keys it still encodes with the first pair).
var testKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210")}

func (harness) Open(t testing.TB, env conformance.Env, app conformance.App) conformance.Adapter {
	store := gorillaredis.NewStoreWithOptions(env.Client, gorillaredis.Options{Core: env.Options}, testKeys...)
	name := env.CookieName
	if env.LooseCookie {
		store.Options.Secure, store.Options.Path, store.Options.Domain = false, "/app", "example.com"
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session, err := store.Get(r, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		res := app(view{session, store, r}, r)
		if err := session.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(res.Status)
		_, _ = w.Write(res.Body)
	})
	return conformance.Adapter{
		Handler:    h,
		CookieName: name,
		Cookie: func(token string) string {
			v, err := store.CookieValue(name, token)
			if err != nil {
				t.Fatalf("sign %q: %v", token, err)
			}
			return v
		},
		Token: func(value string) (string, bool) {
			var token string
			return token, securecookie.DecodeMulti(name, value, &token, store.Codecs...) == nil
		},
	}
}

// view is the suite's Session over a gorilla session.
type view struct {
	s     *sessions.Session
	store *gorillaredis.Store
	r     *http.Request
}

func (v view) Get(k string) (string, bool) {
	x, ok := v.s.Values[k].(string)
	return x, ok
}
func (v view) Set(k, val string)            { v.s.Values[k] = val }
func (v view) Put(k string, val any)        { v.s.Values[k] = val }
func (v view) Delete(k string)              { delete(v.s.Values, k) }
func (v view) Renew() error                 { return v.store.Renew(v.r, v.s) }
func (v view) Destroy() error               { v.s.Options.MaxAge = -1; return nil }
func (v view) Login(u string) error         { return v.store.Login(v.r, v.s, u) }
func (v view) UserID() string               { return v.store.UserID(v.r, v.s) }
func (v view) Handle() string               { return v.store.Handle(v.r, v.s) }
func (v view) RevokeSession(h string) error { return v.store.RevokeSession(v.r, v.s, h) }
func (v view) Sessions() ([]core.SessionInfo, error) {
	return v.store.Sessions(v.r, v.s)
}
func (v view) RevokeOthers() (int, error)       { return v.store.RevokeOthers(v.r, v.s) }
func (v view) RevokeUser(u string) (int, error) { return v.store.RevokeUser(v.r.Context(), u) }
