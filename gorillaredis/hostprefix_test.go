package gorillaredis_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/hostcookie"
)

// namedApp serves a counter in the session called name: /incr adds one,
// /big stores size bytes, /logout ends the session.
func namedApp(store sessions.Store, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		n, _ := s.Values["n"].(int)
		switch r.URL.Path {
		case "/incr":
			n++
			s.Values["n"] = n
		case "/big":
			s.Values["big"] = strings.Repeat("x", 10<<10)
		case "/logout":
			s.Options.MaxAge = -1
		}
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "n=%d", n)
	})
}

// sessionCookie returns the Set-Cookie of name in res, failing if there is
// not exactly one, or if a browser would refuse it.
func sessionCookie(t testing.TB, res *http.Response, name string) (*http.Cookie, string) {
	t.Helper()
	var found *http.Cookie
	var line string
	for i, c := range res.Cookies() {
		if c.Name == name {
			if found != nil {
				t.Fatalf("two Set-Cookie for %s: %q", name, res.Header.Values("Set-Cookie"))
			}
			found, line = c, res.Header.Values("Set-Cookie")[i]
		}
	}
	if found == nil {
		t.Fatalf("no Set-Cookie for %s in %q", name, res.Header.Values("Set-Cookie"))
	}
	if err := hostcookie.Check(found); err != nil {
		t.Errorf("Set-Cookie %q: %v", line, err)
	}
	return found, line
}

func fetch(t testing.TB, c *client, path string) (*http.Response, string) {
	t.Helper()
	res, err := c.c.Get(c.ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, b)
	}
	return res, string(b)
}

// TestHostPrefix: a session named "__Host-session" round-trips through a
// browser's cookie jar over HTTPS, and every Set-Cookie for it (login,
// update, logout) is Secure, Path=/ and without Domain, as browsers demand.
func TestHostPrefix(t *testing.T) {
	const name = "__Host-session"
	e := newEnv(t, gorillaredis.Options{})
	ts := httptest.NewTLSServer(namedApp(e.store, name))
	defer ts.Close()
	c := newClient(t, ts)

	for i, want := range []string{"n=1", "n=2"} {
		res, body := fetch(t, c, "/incr")
		if body != want {
			t.Fatalf("request %d: %q, want %q: the session did not round-trip", i+1, body, want)
		}
		ck, line := sessionCookie(t, res, name)
		if !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
			t.Errorf("Set-Cookie %q: want Secure, Path=/, no Domain, HttpOnly, SameSite=Lax", line)
		}
	}
	if c.cookie(name) == "" {
		t.Fatalf("the cookie jar holds no %s", name)
	}
	res, _ := fetch(t, c, "/logout")
	if ck, line := sessionCookie(t, res, name); ck.MaxAge >= 0 {
		t.Errorf("logout Set-Cookie %q does not expire the cookie", line)
	}
	if v := c.cookie(name); v != "" {
		t.Errorf("the cookie jar still holds %s after logout", name)
	}
	if _, body := fetch(t, c, "/show"); body != "n=0" {
		t.Errorf("after logout: %q, want a fresh session", body)
	}
}

// TestHostPrefixEnforced: options that break the "__Host-" prefix (not
// Secure, another Path, a Domain) are overridden for a "__Host-" session,
// and left alone for any other name.
func TestHostPrefixEnforced(t *testing.T) {
	for _, name := range []string{"__Host-session", "__host-session"} {
		e := newEnv(t, gorillaredis.Options{})
		e.store.Options.Secure = false
		e.store.Options.Path = "/app"
		e.store.Options.Domain = "example.com"
		ts := httptest.NewTLSServer(namedApp(e.store, name))
		c := newClient(t, ts)
		for _, path := range []string{"/incr", "/logout"} {
			res, _ := fetch(t, c, path)
			if ck, line := sessionCookie(t, res, name); !ck.Secure || ck.Path != "/" || ck.Domain != "" {
				t.Errorf("%s %s: Set-Cookie %q, want Secure, Path=/, no Domain", name, path, line)
			}
		}
		ts.Close()
	}
	e := newEnv(t, gorillaredis.Options{})
	e.store.Options.Secure = false
	e.store.Options.Path = "/app"
	ts := httptest.NewTLSServer(namedApp(e.store, "session"))
	defer ts.Close()
	res, _ := fetch(t, newClient(t, ts), "/incr")
	if ck, line := sessionCookie(t, res, "session"); ck.Secure || ck.Path != "/app" {
		t.Errorf("an unprefixed session: Set-Cookie %q, want the options as given", line)
	}
}

// TestCookieSize: the session cookie, attributes included, stays within
// the 4096 bytes browsers keep, however the store signs it and however
// much the session holds (values live in Redis, not in the cookie).
func TestCookieSize(t *testing.T) {
	keys := map[string][][]byte{
		"bare token":                   {},
		"signed":                       {[]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")},
		"signed and encrypted":         {[]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), []byte("0123456789abcdef0123456789abcdef")},
		"two rotated pairs, encrypted": {[]byte("new-hash-key-0123456789abcdef012"), []byte("0123456789abcdef"), []byte("old-hash-key-0123456789abcdef012"), []byte("fedcba9876543210")},
	}
	for what, kp := range keys {
		t.Run(what, func(t *testing.T) {
			if len(kp) == 0 {
				kp = nil
			}
			e := newEnv(t, gorillaredis.Options{}, kp...)
			if kp == nil {
				e.store.Codecs = nil
			}
			ts := httptest.NewTLSServer(namedApp(e.store, "__Host-session"))
			defer ts.Close()
			c := newClient(t, ts)
			small, _ := fetch(t, c, "/incr")
			_, line := sessionCookie(t, small, "__Host-session")
			big, _ := fetch(t, c, "/big")
			_, bigLine := sessionCookie(t, big, "__Host-session")
			for _, l := range []string{line, bigLine} {
				if len(l) > hostcookie.MaxSize {
					t.Errorf("Set-Cookie of %d bytes, over %d: %.80q…", len(l), hostcookie.MaxSize, l)
				}
			}
			if len(bigLine) > len(line)+16 { // Expires may differ by a digit or so
				t.Errorf("Set-Cookie grew from %d to %d bytes with 10 KiB in the session", len(line), len(bigLine))
			}
			t.Logf("%s: Set-Cookie %d bytes", what, len(line))
		})
	}
}
