package reference_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/redisession/redisession/conformance/reference"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/hostcookie"
	"github.com/redisession/redisession/internal/redistest"
)

// counter serves /incr (with ?big=1, 10 KiB more in the session) and
// /logout over HTTPS through store.
func counter(t *testing.T, store *reference.Store) *httptest.Server {
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		x := store.Load(r)
		n, _ := strconv.Atoi(func() string { v, _ := x.Get("n"); return v }())
		switch r.URL.Path {
		case "/incr":
			n++
			x.Set("n", strconv.Itoa(n))
			if r.URL.Query().Get("big") != "" {
				x.Set("big", strings.Repeat("x", 10<<10))
			}
		case "/logout":
			if err := x.Destroy(r); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		if err := store.Save(w, r, x); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "n=%d", n)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func newStore(t *testing.T) *reference.Store {
	srv := redistest.Start(t)
	return reference.New(core.New(srv.NewClient(t, nil), core.Options{Prefix: srv.Prefix}))
}

// get returns the body and the Set-Cookie of name (nil if none), failing
// the test if a browser would refuse it.
func get(t *testing.T, c *http.Client, ts *httptest.Server, path, name string) (string, *http.Cookie, string) {
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

// TestHostPrefix: a "__Host-session" cookie round-trips through a cookie
// jar over HTTPS and is sent Secure, Path=/ and without Domain, with the
// default template and with one that says otherwise.
func TestHostPrefix(t *testing.T) {
	const name = "__Host-session"
	for what, tweak := range map[string]func(*http.Cookie){
		"default attributes":             func(*http.Cookie) {},
		"attributes breaking the prefix": func(c *http.Cookie) { c.Secure, c.Path, c.Domain = false, "/app", "example.com" },
	} {
		t.Run(what, func(t *testing.T) {
			store := newStore(t)
			store.Cookie.Name = name
			tweak(&store.Cookie)
			ts := counter(t, store)
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: ts.Client().Transport, Jar: jar}
			for i := 1; i <= 2; i++ {
				body, ck, line := get(t, c, ts, "/incr", name)
				if body != fmt.Sprintf("n=%d", i) {
					t.Fatalf("request %d: %q: the session did not round-trip", i, body)
				}
				if i == 1 && (ck == nil || !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode) {
					t.Errorf("Set-Cookie %q, want Secure, Path=/, no Domain, HttpOnly, SameSite=Lax", line)
				}
			}
			if _, ck, line := get(t, c, ts, "/logout", name); ck == nil || ck.MaxAge >= 0 {
				t.Errorf("logout: Set-Cookie %q, want the cookie expired", line)
			}
			u, _ := url.Parse(ts.URL)
			if len(jar.Cookies(u)) != 0 {
				t.Errorf("the jar still holds %v after logout", jar.Cookies(u))
			}
		})
	}
}

// TestCookieSize: the cookie carries only the token: within 4096 bytes,
// attributes included, however much the session holds.
func TestCookieSize(t *testing.T) {
	store := newStore(t)
	store.Cookie.Name = "__Host-session"
	ts := counter(t, store)
	c := &http.Client{Transport: ts.Client().Transport}
	for _, path := range []string{"/incr", "/incr?big=1"} {
		_, _, line := get(t, c, ts, path, store.Cookie.Name)
		if line == "" || len(line) > hostcookie.MaxSize {
			t.Errorf("%s: Set-Cookie of %d bytes, want 1..%d: %.80q", path, len(line), hostcookie.MaxSize, line)
		}
	}
}
