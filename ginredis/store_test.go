package ginredis_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/cookie"
	"github.com/gin-contrib/sessions/tester"
	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/internal/redistest"
)

// env is one test's Redis and a store over a counted client.
type env struct {
	srv   *redistest.Server
	count *redistest.Counter
	raw   redis.UniversalClient
	store ginredis.Store
}

func newEnv(t testing.TB) *env {
	t.Helper()
	srv := redistest.Start(t)
	e := &env{srv: srv, count: redistest.NewCounter(), raw: srv.NewClient(t, nil)}
	e.store = ginredis.NewStoreWithOptions(srv.NewClient(t, e.count),
		ginredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}}, testKeys...)
	return e
}

func (e *env) key(t testing.TB, name, cookieValue string) string {
	t.Helper()
	var token string
	if err := decode(e.store, name, cookieValue, &token); err != nil {
		t.Fatalf("decode cookie: %v", err)
	}
	return e.store.Gorilla().Core().SessionKey(core.Handle(token))
}

// gin-contrib's own store tests, run on this store.
func TestGinContribTester(t *testing.T) {
	factory := func(t *testing.T) sessions.Store { return newEnv(t).store }
	t.Run("GetSet", func(t *testing.T) { tester.GetSet(t, factory) })
	t.Run("DeleteKey", func(t *testing.T) { tester.DeleteKey(t, factory) })
	t.Run("Flashes", func(t *testing.T) { tester.Flashes(t, factory) })
	t.Run("Clear", func(t *testing.T) { tester.Clear(t, factory) })
	t.Run("Options", func(t *testing.T) { tester.Options(t, factory) })
	t.Run("Many", func(t *testing.T) { tester.Many(t, factory) })
}

// serve sends one request through r with the given cookies and returns the
// response.
func serve(r http.Handler, path string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", "https://example.com"+path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func cookieNamed(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestCookieAttributes: the Set-Cookie header is the one gin-contrib's
// cookie store writes for the same options with our secure defaults filled
// in (HttpOnly, Secure, SameSite=Lax where left zero), attribute for
// attribute and in the same order; nothing else is added.
func TestCookieAttributes(t *testing.T) {
	cases := []sessions.Options{
		{},
		{Domain: "localhost"},
		{Path: "/foo/bar/bat"},
		{Path: "/", MaxAge: 3600, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode},
		{MaxAge: -1},
	}
	shape := func(h string) string {
		h = regexp.MustCompile(`^mysession=[^;]*`).ReplaceAllString(h, "mysession=V")
		return regexp.MustCompile(`Expires=[^;]*`).ReplaceAllString(h, "Expires=T")
	}
	run := func(store sessions.Store, o sessions.Options) string {
		store.Options(o)
		r := gin.New()
		r.Use(sessions.Sessions(cookieName, store))
		r.GET("/set", func(c *gin.Context) {
			s := sessions.Default(c)
			s.Set("k", "v")
			_ = s.Save()
		})
		return shape(serve(r, "/set").Header().Get("Set-Cookie"))
	}
	for _, o := range cases {
		merged := o
		merged.HttpOnly, merged.Secure = true, true
		if merged.SameSite == 0 {
			merged.SameSite = http.SameSiteLaxMode
		}
		want := run(cookie.NewStore(testKeys...), merged)
		got := run(newEnv(t).store, o)
		if got != want {
			t.Errorf("options %+v: Set-Cookie %q, gin-contrib's cookie store writes %q", o, got, want)
		}
	}
}

// TestOptionsKeepSecureDefaults: the usual one-liner that sets only MaxAge
// keeps HttpOnly, Secure and SameSite=Lax; an explicit SameSite is kept;
// Secure can be turned off for development over http.
func TestOptionsKeepSecureDefaults(t *testing.T) {
	header := func(store ginredis.Store) string {
		r := gin.New()
		r.Use(sessions.Sessions(cookieName, store))
		r.GET("/set", func(c *gin.Context) {
			s := sessions.Default(c)
			s.Set("k", "v")
			_ = s.Save()
		})
		return serve(r, "/set").Header().Get("Set-Cookie")
	}
	store := newEnv(t).store
	store.Options(sessions.Options{MaxAge: 3600})
	if h := header(store); !strings.Contains(h, "; Max-Age=3600; HttpOnly; Secure; SameSite=Lax") {
		t.Errorf("Options{MaxAge: 3600}: Set-Cookie %q, want Max-Age=3600, HttpOnly, Secure, SameSite=Lax", h)
	}
	store.Options(sessions.Options{Path: "/", SameSite: http.SameSiteStrictMode})
	if h := header(store); !strings.Contains(h, "Path=/;") || !strings.HasSuffix(h, "; HttpOnly; Secure; SameSite=Strict") {
		t.Errorf("Options{Path: /, SameSite: Strict}: Set-Cookie %q", h)
	}
	store.Options(sessions.Options{Path: "/"})
	store.Gorilla().Options.Secure = false
	if h := header(store); strings.Contains(h, "Secure") || !strings.Contains(h, "HttpOnly") {
		t.Errorf("with Secure turned off: Set-Cookie %q, want HttpOnly and no Secure", h)
	}
}

func TestDefaultCookie(t *testing.T) {
	e := newEnv(t)
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, e.store))
	r.GET("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("k", "v")
		_ = s.Save()
	})
	got := serve(r, "/set").Header().Get("Set-Cookie")
	if want := `; Path=/; Expires=T; Max-Age=86400; HttpOnly; Secure; SameSite=Lax`; !strings.HasSuffix(
		regexp.MustCompile(`Expires=[^;]*`).ReplaceAllString(got, "Expires=T"), want) {
		t.Errorf("default Set-Cookie %q, want it to end %q", got, want)
	}
}

// TestReadOnlySliding: a user who only reads is never logged out while
// active, though gin never saves for them: each read slides the TTL in one
// round trip and sends no cookie.
func TestReadOnlySliding(t *testing.T) {
	e := newEnv(t)
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, e.store))
	r.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("user_id", "u1")
		_ = ginredis.Renew(c, s)
		_ = s.Save()
	})
	r.GET("/read", func(c *gin.Context) {
		u, _ := sessions.Default(c).Get("user_id").(string)
		_ = sessions.Default(c).Save() // not written: gin does nothing
		c.String(http.StatusOK, u)
	})
	ck := cookieNamed(serve(r, "/login"), cookieName)
	if ck == nil {
		t.Fatal("no cookie after login")
	}
	key := e.key(t, cookieName, ck.Value)
	idle := e.store.Gorilla().Core().Options().IdleTimeout
	slack := time.Duration(0)
	if e.srv.Real() {
		slack = time.Second // time passes for real; Advance would sleep 20 minutes
	}
	for i := 0; i < 5; i++ {
		if !e.srv.Real() {
			e.srv.Advance(idle * 2 / 3)
		}
		e.count.Reset()
		w := serve(r, "/read", ck)
		if w.Body.String() != "u1" {
			t.Fatalf("read %d, %v after the last read: logged out (%q)", i, idle*2/3, w.Body)
		}
		if len(w.Header().Values("Set-Cookie")) != 0 {
			t.Errorf("read %d sent a cookie", i)
		}
		if cmds := e.count.Commands(); e.count.RoundTrips() != 1 || cmds["getex"] != 1 {
			t.Errorf("read %d: %d round trips %v, want one GETEX", i, e.count.RoundTrips(), cmds)
		}
		if ttl := e.raw.PTTL(context.Background(), key).Val(); ttl < idle-slack {
			t.Errorf("read %d: TTL %v, want %v", i, ttl, idle)
		}
	}
}

// TestSessionsMany: several named sessions are several Redis sessions.
func TestSessionsMany(t *testing.T) {
	e := newEnv(t)
	r := gin.New()
	r.Use(sessions.SessionsMany([]string{"a", "b"}, e.store))
	r.GET("/set", func(c *gin.Context) {
		for _, n := range []string{"a", "b"} {
			s := sessions.DefaultMany(c, n)
			s.Set("name", n)
			_ = s.Save()
		}
	})
	r.GET("/get", func(c *gin.Context) {
		a, _ := sessions.DefaultMany(c, "a").Get("name").(string)
		b, _ := sessions.DefaultMany(c, "b").Get("name").(string)
		c.String(http.StatusOK, a+b)
	})
	w := serve(r, "/set")
	ca, cb := cookieNamed(w, "a"), cookieNamed(w, "b")
	if ca == nil || cb == nil {
		t.Fatalf("cookies %v, want a and b", w.Result().Cookies())
	}
	if e.key(t, "a", ca.Value) == e.key(t, "b", cb.Value) {
		t.Fatal("two named sessions share a key")
	}
	if got := serve(r, "/get", ca, cb).Body.String(); got != "ab" {
		t.Fatalf("read back %q, want ab", got)
	}
}

// TestClearStored: Clear on a stored session empties it in Redis; a flash
// is read once.
func TestClearStored(t *testing.T) {
	e := newEnv(t)
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, e.store))
	r.GET("/set", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Set("a", 1)
		s.AddFlash("hi")
		_ = s.Save()
	})
	r.GET("/flashes", func(c *gin.Context) {
		s := sessions.Default(c)
		n := len(s.Flashes())
		_ = s.Save()
		c.JSON(http.StatusOK, n)
	})
	r.GET("/clear", func(c *gin.Context) {
		s := sessions.Default(c)
		s.Clear()
		_ = s.Save()
	})
	r.GET("/get", func(c *gin.Context) {
		c.JSON(http.StatusOK, sessions.Default(c).Get("a"))
	})
	ck := cookieNamed(serve(r, "/set"), cookieName)
	for i, want := range []string{"1", "0"} {
		if got := serve(r, "/flashes", ck).Body.String(); got != want {
			t.Fatalf("flashes read %d: %s, want %s", i, got, want)
		}
	}
	if got := serve(r, "/get", ck).Body.String(); got != "1" {
		t.Fatalf("before Clear: %s", got)
	}
	serve(r, "/clear", ck)
	if got := serve(r, "/get", ck).Body.String(); got != "null" {
		t.Fatalf("after Clear: %s, want null", got)
	}
	if e.raw.Exists(context.Background(), e.key(t, cookieName, ck.Value)).Val() != 1 {
		t.Fatal("Clear deleted the session; it should only empty it")
	}
}

// TestHelpers: login renews; list, revoke one, revoke others, revoke the
// user (the admin method), logout, all from gin handlers.
func TestHelpers(t *testing.T) {
	e := newEnv(t)
	r := gin.New()
	r.Use(sessions.Sessions(cookieName, e.store))
	r.GET("/login", func(c *gin.Context) {
		s := sessions.Default(c)
		if err := ginredis.Login(c, s, c.Query("u")); err != nil {
			c.String(500, err.Error())
			return
		}
		_ = s.Save()
		c.String(http.StatusOK, s.ID())
	})
	r.GET("/list", func(c *gin.Context) {
		list, err := ginredis.Sessions(c, sessions.Default(c))
		if err != nil {
			c.String(500, err.Error())
			return
		}
		hs := make([]string, len(list))
		for i, x := range list {
			hs[i] = x.Handle
		}
		c.String(http.StatusOK, strings.Join(hs, ","))
	})
	r.GET("/revoke", func(c *gin.Context) {
		s := sessions.Default(c)
		if err := ginredis.RevokeSession(c, s, c.Query("h")); err != nil {
			c.String(500, err.Error())
		}
		_ = s.Save()
	})
	r.GET("/others", func(c *gin.Context) {
		n, _ := ginredis.RevokeOthers(c, sessions.Default(c))
		c.JSON(http.StatusOK, n)
	})
	r.GET("/all", func(c *gin.Context) {
		n, _ := e.store.RevokeUser(c.Request.Context(), ginredis.UserID(c, sessions.Default(c)))
		c.JSON(http.StatusOK, n)
	})
	r.GET("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		_ = ginredis.Destroy(c, s)
		_ = s.Save()
	})
	r.GET("/who", func(c *gin.Context) {
		c.String(http.StatusOK, ginredis.UserID(c, sessions.Default(c)))
	})
	login := func() (*http.Cookie, string) {
		w := serve(r, "/login?u=u1")
		return cookieNamed(w, cookieName), w.Body.String()
	}
	c1, h1 := login()
	c2, h2 := login()
	c3, _ := login()
	if got := serve(r, "/list", c1).Body.String(); len(strings.Split(got, ",")) != 3 || !strings.Contains(got, h1) || !strings.Contains(got, h2) {
		t.Fatalf("list %q, want 3 sessions with %s and %s", got, h1, h2)
	}
	serve(r, "/revoke?h="+h2, c1)
	if serve(r, "/who", c2).Body.String() != "" || serve(r, "/who", c1).Body.String() != "u1" {
		t.Fatal("revoke one ended the wrong session")
	}
	if got := serve(r, "/others", c1).Body.String(); got != "1" {
		t.Fatalf("revoke others ended %s, want 1", got)
	}
	if serve(r, "/who", c3).Body.String() != "" || serve(r, "/who", c1).Body.String() != "u1" {
		t.Fatal("revoke others ended the wrong sessions")
	}
	c4, _ := login()
	if got := serve(r, "/all", c4).Body.String(); got != "2" {
		t.Fatalf("revoke all ended %s, want 2", got)
	}
	c5, _ := login()
	w := serve(r, "/logout", c5)
	if ck := cookieNamed(w, cookieName); ck == nil || ck.MaxAge >= 0 || ck.Path != "/" {
		t.Fatalf("logout cookie %+v, want expired with Path /", ck)
	}
	if e.raw.Exists(context.Background(), e.key(t, cookieName, c5.Value)).Val() != 0 {
		t.Fatal("logout left the session in Redis")
	}
}
