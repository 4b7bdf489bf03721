package scsredis_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/hostcookie"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// hostServer serves an scs counter over HTTPS with the cookie sm is
// configured for: /incr adds one (and stores 10 KiB with ?big=1), /logout
// destroys the session.
func hostServer(t *testing.T, configure func(*scs.SessionManager)) (*httptest.Server, *scs.SessionManager) {
	t.Helper()
	srv := redistest.Start(t)
	store := scsredis.New(srv.NewClient(t, nil), scsredis.Options{Core: core.Options{Prefix: srv.Prefix}})
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = 30 * time.Minute
	configure(sm)
	mux := http.NewServeMux()
	mux.HandleFunc("/incr", func(w http.ResponseWriter, r *http.Request) {
		n := sm.GetInt(r.Context(), "n") + 1
		sm.Put(r.Context(), "n", n)
		if r.URL.Query().Get("big") != "" {
			sm.Put(r.Context(), "big", strings.Repeat("x", 10<<10))
		}
		fmt.Fprintf(w, "n=%d", n)
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) {
		if err := sm.Destroy(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		io.WriteString(w, "bye")
	})
	ts := httptest.NewTLSServer(scsredis.RecordDevice(sm.LoadAndSave(mux)))
	t.Cleanup(ts.Close)
	return ts, sm
}

// hostGet returns the body and the Set-Cookie of name, failing the test if a
// browser would refuse it.
func hostGet(t *testing.T, c *http.Client, ts *httptest.Server, path, name string) (string, *http.Cookie, string) {
	t.Helper()
	res, err := c.Get(ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, body)
	}
	for i, ck := range res.Cookies() {
		if ck.Name == name {
			line := res.Header.Values("Set-Cookie")[i]
			if err := hostcookie.Check(ck); err != nil {
				t.Errorf("GET %s: Set-Cookie %q: %v", path, line, err)
			}
			return string(body), ck, line
		}
	}
	return string(body), nil, ""
}

// TestHostPrefix: with sm.Cookie.Name "__Host-session" and Secure set, a
// session round-trips through a cookie jar over HTTPS; every Set-Cookie is
// Secure, Path=/ and without Domain; CheckCookie accepts the manager. With
// scs's default Secure=false, or a Domain, CheckCookie says why browsers
// would refuse it.
func TestHostPrefix(t *testing.T) {
	const name = "__Host-session"
	ts, sm := hostServer(t, func(sm *scs.SessionManager) {
		sm.Cookie.Name = name
		sm.Cookie.Secure = true
	})
	if err := scsredis.CheckCookie(sm); err != nil {
		t.Fatalf("CheckCookie: %v", err)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: ts.Client().Transport, Jar: jar}
	for i := 1; i <= 2; i++ {
		body, ck, line := hostGet(t, c, ts, "/incr", name)
		if body != fmt.Sprintf("n=%d", i) {
			t.Fatalf("request %d: %q: the session did not round-trip", i, body)
		}
		if ck == nil || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("request %d: Set-Cookie %q, want Secure, Path=/, no Domain, HttpOnly, SameSite=Lax", i, line)
		}
	}
	if _, ck, line := hostGet(t, c, ts, "/logout", name); ck == nil || ck.MaxAge >= 0 {
		t.Errorf("logout: Set-Cookie %q, want the cookie expired", line)
	}
	u, _ := url.Parse(ts.URL)
	if len(jar.Cookies(u)) != 0 {
		t.Errorf("the jar still holds %v after logout", jar.Cookies(u))
	}

	for what, configure := range map[string]func(*scs.SessionManager){
		"scs's default Secure=false": func(sm *scs.SessionManager) { sm.Cookie.Name = name },
		"a Domain": func(sm *scs.SessionManager) {
			sm.Cookie.Name, sm.Cookie.Secure, sm.Cookie.Domain = name, true, "example.com"
		},
		"another Path": func(sm *scs.SessionManager) {
			sm.Cookie.Name, sm.Cookie.Secure, sm.Cookie.Path = "__host-s", true, "/app"
		},
		"__Secure- without Secure": func(sm *scs.SessionManager) { sm.Cookie.Name = "__Secure-session" },
	} {
		sm := scs.New()
		configure(sm)
		if err := scsredis.CheckCookie(sm); err == nil || !strings.Contains(err.Error(), "refused by browsers") {
			t.Errorf("CheckCookie with %s: %v, want an error saying browsers refuse it", what, err)
		}
	}
	if err := scsredis.CheckCookie(scs.New()); err != nil {
		t.Errorf("CheckCookie with scs's defaults (no prefix): %v", err)
	}
}

// TestCookieSize: scs's cookie carries only the token: it stays within 4096
// bytes, attributes included, however much the session holds.
func TestCookieSize(t *testing.T) {
	const name = "__Host-session"
	ts, _ := hostServer(t, func(sm *scs.SessionManager) { sm.Cookie.Name, sm.Cookie.Secure = name, true })
	c := &http.Client{Transport: ts.Client().Transport} // no jar: every request is a new session
	for _, path := range []string{"/incr", "/incr?big=1"} {
		_, _, line := hostGet(t, c, ts, path, name)
		if line == "" || len(line) > hostcookie.MaxSize {
			t.Errorf("%s: Set-Cookie of %d bytes, want 1..%d: %.80q", path, len(line), hostcookie.MaxSize, line)
		}
	}
}
