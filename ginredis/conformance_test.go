package ginredis_test

import (
	"net/http"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/redisession/redisession/conformance"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/ginredis"
)

func init() { gin.SetMode(gin.TestMode) }

func TestConformance(t *testing.T) {
	conformance.Run(t, harness{})
}

const cookieName = "mysession"

var testKeys = [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210")}

// harness serves the suite's app through a gin.Engine with gin-contrib's
// sessions middleware; the handler saves (a no-op unless written) before
// writing the response.
type harness struct{}

// Layouts: the adapter supports both of core's layouts.
func (harness) Layouts() []core.Layout { return []core.Layout{core.LayoutString, core.LayoutHash} }

var _ conformance.Layouter = harness{}

func (harness) Open(t testing.TB, env conformance.Env, app conformance.App) conformance.Adapter {
	store := ginredis.NewStoreWithOptions(env.Client, ginredis.Options{Core: env.Options}, testKeys...)
	name := env.CookieName
	if env.LooseCookie {
		store.Options(sessions.Options{Path: "/app", Domain: "example.com", MaxAge: int(env.Options.Lifetime.Seconds())})
		store.Gorilla().Options.Secure = false
	}
	r := gin.New()
	r.Use(sessions.Sessions(name, store))
	r.Any("/*path", func(c *gin.Context) {
		s := sessions.Default(c)
		// gin loads a session on its first use; the suite's contract is that
		// it is loaded (and its expiry slid) before the app runs.
		_ = s.ID()
		res := app(view{c, s, store}, c.Request)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, "%s", err)
			return
		}
		c.Data(res.Status, "application/json", res.Body)
	})
	return conformance.Adapter{
		Handler:    r,
		CookieName: name,
		Cookie: func(token string) string {
			v, err := store.Gorilla().CookieValue(name, token)
			if err != nil {
				t.Fatalf("sign %q: %v", token, err)
			}
			return v
		},
		Token: func(value string) (string, bool) {
			var token string
			return token, decode(store, name, value, &token) == nil
		},
	}
}

// view is the suite's Session over a gin-contrib session and the helpers.
type view struct {
	c     *gin.Context
	s     sessions.Session
	store ginredis.Store
}

func (v view) Get(k string) (string, bool) {
	x, ok := v.s.Get(k).(string)
	return x, ok
}
func (v view) Set(k, val string)     { v.s.Set(k, val) }
func (v view) Put(k string, val any) { v.s.Set(k, val) }
func (v view) Delete(k string)       { v.s.Delete(k) }
func (v view) Renew() error          { return ginredis.Renew(v.c, v.s) }
func (v view) Destroy() error        { return ginredis.Destroy(v.c, v.s) }
func (v view) Login(u string) error  { return ginredis.Login(v.c, v.s, u) }
func (v view) UserID() string        { return ginredis.UserID(v.c, v.s) }
func (v view) Handle() string        { return ginredis.Handle(v.c, v.s) }
func (v view) Sessions() ([]core.SessionInfo, error) {
	return ginredis.Sessions(v.c, v.s)
}
func (v view) RevokeSession(h string) error { return ginredis.RevokeSession(v.c, v.s, h) }
func (v view) RevokeOthers() (int, error)   { return ginredis.RevokeOthers(v.c, v.s) }
func (v view) RevokeUser(u string) (int, error) {
	return v.store.RevokeUser(v.c.Request.Context(), u)
}
