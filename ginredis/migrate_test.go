package ginredis_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-gonic/gin"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/gorillaredis"
)

var oldKey = [][]byte{[]byte("legacy-hash-key-legacy-hash-key!")}

// migrateApp is the app of the swap: /login binds the user, /incr writes a
// counter (so gin-contrib saves), /show only reads.
func migrateApp(store sessions.Store) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, store))
	r.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user_id", "alice")
		s.Set("n", 1)
		_ = s.Save()
	})
	r.GET("/incr", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, "%v n=%d", s.Get("user_id"), n+1)
	})
	r.GET("/show", func(c *gin.Context) {
		s := sessions.Default(c)
		c.String(http.StatusOK, "%v n=%v", s.Get("user_id"), s.Get("n"))
	})
	return r
}

// TestMigrateFromCookieStore: a user logged in under gin-contrib's cookie
// store stays logged in after the swap to ginredis, values intact, bound to
// their user; a tampered legacy cookie is no session.
func TestMigrateFromCookieStore(t *testing.T) {
	e := newEnv(t)
	e.store = ginredis.NewStoreWithOptions(e.srv.NewClient(t, e.count), ginredis.Options{
		Core: core.Options{Prefix: e.srv.Prefix, Now: e.srv.Now},
		Migrate: &gorillaredis.Migration{
			Until:    time.Now().Add(time.Hour),
			From:     gorillaredis.FromCookieStore,
			KeyPairs: oldKey,
		},
	}, testKeys...)

	old := cookieNamed(serve(migrateApp(cookie.NewStore(oldKey...)), "/login"), cookieName)
	if old == nil {
		t.Fatal("the cookie store sent no cookie")
	}
	app := migrateApp(e.store)

	// Read-only: gin-contrib does not save, the legacy cookie still works.
	w := serve(app, "/show", old)
	if w.Body.String() != "alice n=1" || cookieNamed(w, cookieName) != nil {
		t.Fatalf("/show with the legacy cookie: %q, cookie %v", w.Body.String(), cookieNamed(w, cookieName))
	}
	// A write saves, and adopts.
	w = serve(app, "/incr", old)
	if w.Body.String() != "alice n=2" {
		t.Fatalf("/incr with the legacy cookie: %q", w.Body.String())
	}
	ours := cookieNamed(w, cookieName)
	if ours == nil || ours.Value == old.Value {
		t.Fatal("the adoption did not replace the legacy cookie")
	}
	if w := serve(app, "/show", ours); w.Body.String() != "alice n=2" {
		t.Fatalf("/show with the new cookie: %q", w.Body.String())
	}
	list, err := e.store.UserSessions(context.Background(), "alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("alice's sessions: %v %v", list, err)
	}
	if n := e.store.Core().Counters().Adopted; n != 1 {
		t.Fatalf("Adopted = %d", n)
	}
	// The adopted legacy cookie, and a tampered one, are no session.
	tampered := *old
	tampered.Value = old.Value[:len(old.Value)-4] + "AAAA"
	for name, c := range map[string]*http.Cookie{"replayed": old, "tampered": &tampered} {
		if w := serve(app, "/show", c); w.Body.String() != "<nil> n=<nil>" {
			t.Errorf("/show with a %s legacy cookie: %q", name, w.Body.String())
		}
	}
	if got := fmt.Sprint(e.store.Core().Counters().Adopted); got != "1" {
		t.Fatalf("Adopted = %s", got)
	}
}
