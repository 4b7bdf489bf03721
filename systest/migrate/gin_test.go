package migrate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	ginredisstore "github.com/gin-contrib/sessions/redis"
	"github.com/gin-gonic/gin"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/gorillaredis"
)

// ginApp is the gin application of the swap: /login logs alice in, /incr
// writes (gin-contrib saves only then), /show reads.
func ginApp(store sessions.Store) *gin.Engine {
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.Use(sessions.Sessions("app", store))
	r.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user_id", "alice")
		s.Set("n", 1)
		s.Set("cart", gorillaCart{Items: []string{"apple"}, Total: 3})
		_ = s.Save()
		c.String(http.StatusOK, "ok")
	})
	r.GET("/incr", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, "%v n=%v %v", s.Get("user_id"), s.Get("n"), s.Get("cart"))
	})
	r.GET("/show", func(c *gin.Context) {
		s := sessions.Default(c)
		c.String(http.StatusOK, "%v n=%v %v", s.Get("user_id"), s.Get("n"), s.Get("cart"))
	})
	return r
}

// ginCheckSwap is gorillaCheckSwap through gin: a tampered legacy cookie is
// no session, a read keeps the legacy session working, the first write
// adopts it with its values, bound to alice, and the legacy cookie is no
// session after.
func ginCheckSwap(t *testing.T, store ginredis.Store, old *http.Cookie, legacyGone func() bool, forged ...*http.Cookie) {
	t.Helper()
	app := ginApp(store)
	const anon = "<nil> n=<nil> <nil>"
	for _, f := range append(forged, gorillaTamper(old)) {
		if body, _ := gorillaGet(t, app, "/show", f); body != anon || legacyGone() {
			t.Fatalf("a forged legacy cookie %q gave %q", f.Value, body)
		}
	}
	if body, c := gorillaGet(t, app, "/show", old); body != "alice n=1 {[apple] 3}" || c != nil {
		t.Fatalf("a read with the legacy cookie: %q, cookie %v", body, c)
	}
	const want = "alice n=2 {[apple] 3}"
	body, ours := gorillaGet(t, app, "/incr", old)
	if body != want || ours == nil || ours.Value == old.Value {
		t.Fatalf("after the swap: %q (cookie %v), want %q and the new store's cookie", body, ours, want)
	}
	if body, _ := gorillaGet(t, app, "/show", ours); body != want {
		t.Fatalf("with the new cookie: %q, want %q", body, want)
	}
	if list, err := store.UserSessions(context.Background(), "alice"); err != nil || len(list) != 1 {
		t.Fatalf("alice's sessions: %v %v", list, err)
	}
	if !legacyGone() {
		t.Fatal("the legacy session is still there after the adoption")
	}
	if body, _ := gorillaGet(t, app, "/show", old); body != anon {
		t.Fatalf("the adopted legacy cookie, sent again, gave %q", body)
	}
}

// TestMigrateFromGinRedis: alice logs in on gin-contrib/sessions/redis
// (boj/redistore underneath, prefix "session_", gob), the app swaps to
// ginredis, and she stays logged in.
func TestMigrateFromGinRedis(t *testing.T) {
	srv, rdb := gorillaRedis(t)
	ctx := context.Background()
	old, err := ginredisstore.NewStore(4, "tcp", srv.Addrs()[0], "", "", gorillaOldKeys...)
	if err != nil {
		t.Fatal(err)
	}
	old.Options(sessions.Options{Path: "/", MaxAge: 86400})
	body, legacy := gorillaGet(t, ginApp(old), "/login", nil)
	if body != "ok" || legacy == nil {
		t.Fatalf("gin-contrib redis login: %q %v", body, legacy)
	}
	rs, err := ginredisstore.GetRedisStore(old)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(legacy)
	s, err := rs.New(r, "app")
	if err != nil || s.IsNew {
		t.Fatalf("gin-contrib's store does not read its session back: %v", err)
	}
	key := "session_" + s.ID
	t.Cleanup(func() { rdb.Del(context.Background(), key) })
	if rdb.Exists(ctx, key).Val() != 1 {
		t.Fatalf("no legacy key %s", key)
	}

	store := ginredis.NewStoreWithOptions(rdb, ginredis.Options{
		Core: core.Options{Prefix: srv.Prefix},
		Migrate: &gorillaredis.Migration{
			Until:    time.Now().Add(time.Hour),
			From:     gorillaredis.FromRediStore,
			KeyPairs: gorillaOldKeys,
		},
	}, gorillaNewKeys...)
	unsigned := &http.Cookie{Name: "app", Value: s.ID} // the id the legacy cookie signs, unsigned
	ginCheckSwap(t, store, legacy, func() bool { return gorillaLegacyEnded(t, rdb, key) }, unsigned)
}

// TestMigrateFromGinCookie: the same from gin-contrib/sessions/cookie
// (gorilla's CookieStore underneath).
func TestMigrateFromGinCookie(t *testing.T) {
	srv, rdb := gorillaRedis(t)
	old := cookie.NewStore(gorillaOldKeys...)
	body, legacy := gorillaGet(t, ginApp(old), "/login", nil)
	if body != "ok" || legacy == nil {
		t.Fatalf("gin-contrib cookie login: %q %v", body, legacy)
	}
	store := ginredis.NewStoreWithOptions(rdb, ginredis.Options{
		Core: core.Options{Prefix: srv.Prefix},
		Migrate: &gorillaredis.Migration{
			Until:    time.Now().Add(time.Hour),
			From:     gorillaredis.FromCookieStore,
			KeyPairs: gorillaOldKeys,
		},
	}, gorillaNewKeys...)
	ginCheckSwap(t, store, legacy, func() bool { return store.Core().Counters().Adopted > 0 })
}
