package ginredis_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-gonic/gin"

	"github.com/redisession/redisession/ginredis"
	"github.com/redisession/redisession/internal/hostcookie"
)

// hostApp is a gin app keeping a counter in the session called name.
func hostApp(store sessions.Store, name string) http.Handler {
	r := gin.New()
	r.Use(sessions.Sessions(name, store))
	r.GET("/incr", func(c *gin.Context) {
		s := sessions.Default(c)
		n, _ := s.Get("n").(int)
		s.Set("n", n+1)
		if c.Query("big") != "" {
			s.Set("big", strings.Repeat("x", 10<<10))
		}
		if err := s.Save(); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		c.String(http.StatusOK, "n=%d", n+1)
	})
	r.GET("/logout", func(c *gin.Context) {
		s := sessions.Default(c)
		if err := ginredis.Destroy(c, s); err != nil {
			c.String(http.StatusInternalServerError, err.Error())
			return
		}
		_ = s.Save()
		c.String(http.StatusOK, "bye")
	})
	return r
}

// browser is an HTTPS client with a cookie jar.
type browser struct {
	t  testing.TB
	ts *httptest.Server
	c  *http.Client
}

func newBrowser(t testing.TB, h http.Handler) *browser {
	ts := httptest.NewTLSServer(h)
	t.Cleanup(ts.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, ts: ts, c: &http.Client{Transport: ts.Client().Transport, Jar: jar}}
}

// get returns the body and the Set-Cookie of name (nil if none, failing
// the test if a browser would refuse it) with its header line.
func (b *browser) get(path, name string) (string, *http.Cookie, string) {
	b.t.Helper()
	res, err := b.c.Get(b.ts.URL + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, body)
	}
	for i, c := range res.Cookies() {
		if c.Name == name {
			line := res.Header.Values("Set-Cookie")[i]
			if err := hostcookie.Check(c); err != nil {
				b.t.Errorf("GET %s: Set-Cookie %q: %v", path, line, err)
			}
			return string(body), c, line
		}
	}
	return string(body), nil, ""
}

func (b *browser) has(name string) bool {
	u, _ := url.Parse(b.ts.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return true
		}
	}
	return false
}

// TestHostPrefix: a gin session named "__Host-session" round-trips through
// a cookie jar over HTTPS with the default options, and every Set-Cookie
// for it is Secure, Path=/ and without Domain.
func TestHostPrefix(t *testing.T) {
	const name = "__Host-session"
	b := newBrowser(t, hostApp(newEnv(t).store, name))
	for i := 1; i <= 2; i++ {
		body, c, line := b.get("/incr", name)
		if body != "n="+strconv.Itoa(i) {
			t.Fatalf("request %d: %q: the session did not round-trip", i, body)
		}
		if c == nil || !c.Secure || c.Path != "/" || c.Domain != "" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("request %d: Set-Cookie %q, want Secure, Path=/, no Domain, HttpOnly, SameSite=Lax", i, line)
		}
	}
	if _, c, line := b.get("/logout", name); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout: Set-Cookie %q, want the cookie expired", line)
	}
	if b.has(name) {
		t.Errorf("the jar still holds %s after logout", name)
	}
	if body, _, _ := b.get("/incr", name); body != "n=1" {
		t.Errorf("after logout: %q, want a fresh session", body)
	}
}

// TestHostPrefixEnforced: an app whose Options names no Path, a Domain,
// and turns Secure off still sends a "__Host-" session Secure, Path=/ and
// without Domain.
func TestHostPrefixEnforced(t *testing.T) {
	const name = "__Host-session"
	store := newEnv(t).store
	store.Options(sessions.Options{MaxAge: 3600, Domain: "example.com"})
	store.Gorilla().Options.Secure = false
	b := newBrowser(t, hostApp(store, name))
	for _, path := range []string{"/incr", "/incr", "/logout"} {
		if _, c, line := b.get(path, name); c == nil || !c.Secure || c.Path != "/" || c.Domain != "" {
			t.Errorf("%s: Set-Cookie %q, want Secure, Path=/, no Domain", path, line)
		}
	}
}

// TestCookieSize: the signed and encrypted session cookie, attributes
// included, stays within 4096 bytes however much the session holds.
func TestCookieSize(t *testing.T) {
	const name = "__Host-session"
	b := newBrowser(t, hostApp(newEnv(t).store, name))
	_, _, small := b.get("/incr", name)
	_, _, big := b.get("/incr?big=1", name)
	for _, l := range []string{small, big} {
		if l == "" || len(l) > hostcookie.MaxSize {
			t.Errorf("Set-Cookie of %d bytes, want 1..%d: %.80q", len(l), hostcookie.MaxSize, l)
		}
	}
	if len(big) > len(small)+16 {
		t.Errorf("Set-Cookie grew from %d to %d bytes with 10 KiB in the session", len(small), len(big))
	}
}
