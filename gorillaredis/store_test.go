package gorillaredis_test

import (
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/redistest"
)

// cart is a registered type that must round-trip, as with CookieStore.
type cart struct {
	Items []string
	Total int
}

func init() { gob.Register(cart{}) }

// env is one test's Redis and a store over a counted client.
type env struct {
	srv   *redistest.Server
	count *redistest.Counter
	raw   redis.UniversalClient
	store *gorillaredis.Store
	// legacyKeys sign the legacy cookies of the migration tests.
	legacyKeys [][]byte
}

func newEnv(t testing.TB, opts gorillaredis.Options, keys ...[]byte) *env {
	t.Helper()
	srv := redistest.Start(t)
	e := &env{srv: srv, count: redistest.NewCounter(), raw: srv.NewClient(t, nil)}
	opts.Core.Prefix = srv.Prefix
	opts.Core.Now = srv.Now
	if keys == nil {
		keys = testKeys
	}
	e.store = gorillaredis.NewStoreWithOptions(srv.NewClient(t, e.count), opts, keys...)
	return e
}

// client is a browser: a cookie jar over an HTTPS test server.
type client struct {
	t   testing.TB
	ts  *httptest.Server
	c   *http.Client
	url *url.URL
}

func newClient(t testing.TB, ts *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(ts.URL)
	return &client{t: t, ts: ts, c: &http.Client{Transport: ts.Client().Transport, Jar: jar}, url: u}
}

// get sends GET path and returns the body and the Set-Cookie headers.
func (c *client) get(path string) (string, []string) {
	c.t.Helper()
	res, err := c.c.Get(c.ts.URL + path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, b)
	}
	return string(b), res.Header.Values("Set-Cookie")
}

func (c *client) cookie(name string) string {
	for _, k := range c.c.Jar.Cookies(c.url) {
		if k.Name == name {
			return k.Value
		}
	}
	return ""
}

func (c *client) setCookie(name, value string) {
	c.c.Jar.SetCookies(c.url, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// app is written against sessions.Store only: the handlers of the swap test.
func app(store sessions.Store) http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, f func(s *sessions.Session, r *http.Request) string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s, err := store.Get(r, "app")
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			out := f(s, r)
			if err := s.Save(r, w); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, out)
		})
	}
	handle("/incr", func(s *sessions.Session, r *http.Request) string {
		n, _ := s.Values["n"].(int)
		s.Values["n"] = n + 1
		return fmt.Sprintf("n=%d", n+1)
	})
	handle("/show", func(s *sessions.Session, r *http.Request) string {
		keys := make([]string, 0, len(s.Values))
		for k, v := range s.Values {
			keys = append(keys, fmt.Sprintf("%v=%#v", k, v))
		}
		sortStrings(keys)
		return fmt.Sprintf("new=%v %s", s.IsNew, strings.Join(keys, " "))
	})
	handle("/cart", func(s *sessions.Session, r *http.Request) string {
		c, _ := s.Values["cart"].(cart)
		c.Items = append(c.Items, r.URL.Query().Get("item"))
		c.Total += 3
		s.Values["cart"] = c
		return fmt.Sprintf("%+v", c)
	})
	handle("/flash", func(s *sessions.Session, r *http.Request) string {
		s.AddFlash("hello")
		s.AddFlash(42)
		return "ok"
	})
	handle("/flashes", func(s *sessions.Session, r *http.Request) string {
		return fmt.Sprintf("%#v", s.Flashes())
	})
	handle("/del", func(s *sessions.Session, r *http.Request) string {
		delete(s.Values, r.URL.Query().Get("k"))
		return "ok"
	})
	handle("/logout", func(s *sessions.Session, r *http.Request) string {
		s.Options.MaxAge = -1
		return "bye"
	})
	return mux
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestSwap runs one set of handlers on sessions.NewCookieStore, then on this
// store, and expects the same bodies.
func TestSwap(t *testing.T) {
	want := runSwap(t, sessions.NewCookieStore(testKeys...))
	got := runSwap(t, newEnv(t, gorillaredis.Options{}).store)
	for i := range swapScript {
		if got[i] != want[i] {
			t.Errorf("GET %s: %q on redis, %q on CookieStore", swapScript[i], got[i], want[i])
		}
	}
}

// swapScript exercises what CookieStore users rely on: ints stay ints,
// registered types round-trip, flashes, delete, logout.
var swapScript = []string{"/show", "/incr", "/incr", "/show", "/cart?item=apple", "/cart?item=pear", "/show",
	"/flash", "/flashes", "/flashes", "/del?k=cart", "/show", "/incr", "/logout", "/show", "/incr"}

// runSwap sends swapScript through app over store and returns the bodies.
func runSwap(t *testing.T, store sessions.Store) []string {
	t.Helper()
	ts := httptest.NewTLSServer(app(store))
	defer ts.Close()
	c := newClient(t, ts)
	var out []string
	for _, p := range swapScript {
		body, _ := c.get(p)
		out = append(out, body)
	}
	return out
}

// TestFixation: a token the client chose is never persisted, signed or not.
func TestFixation(t *testing.T) {
	for _, signed := range []bool{true, false} {
		t.Run(fmt.Sprintf("signed=%v", signed), func(t *testing.T) {
			var e *env
			if signed {
				e = newEnv(t, gorillaredis.Options{})
			} else {
				e = newEnv(t, gorillaredis.Options{}, [][]byte{}...)
			}
			ts := httptest.NewTLSServer(app(e.store))
			defer ts.Close()
			chosen := core.NewToken()
			v, err := e.store.CookieValue("app", chosen)
			if err != nil {
				t.Fatal(err)
			}
			c := newClient(t, ts)
			c.setCookie("app", v)
			c.get("/incr")
			if c.cookie("app") == v {
				t.Fatalf("the client-chosen cookie was kept")
			}
			if n := e.raw.Exists(context.Background(), e.store.Core().SessionKey(core.Handle(chosen))).Val(); n != 0 {
				t.Fatalf("a session was written under the client-chosen token")
			}
			if body, _ := c.get("/incr"); body != "n=2" {
				t.Fatalf("the new session does not reach the client: %q", body)
			}
		})
	}
}

// TestUnchangedSaveWritesNothing: gob encodes maps in random order, yet a
// Save of unchanged values sends nothing, whatever the number of keys.
func TestUnchangedSaveWritesNothing(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{})
	ts := httptest.NewTLSServer(app(e.store))
	defer ts.Close()
	c := newClient(t, ts)
	c.get("/incr")
	c.get("/cart?item=a")
	c.get("/flash")
	for i := 0; i < 20; i++ {
		e.count.Reset()
		c.get("/show")
		if cmds := e.count.Commands(); e.count.RoundTrips() != 1 || cmds["getex"] != 1 || len(cmds) != 1 {
			t.Fatalf("read %d: %d round trips %v, want one GETEX", i, e.count.RoundTrips(), cmds)
		}
	}
	e.count.Reset()
	c.get("/incr")
	if cmds := e.count.Commands(); cmds["set"]+cmds["eval"]+cmds["evalsha"] != 1 {
		t.Fatalf("a changed value was not written (one SET or save script): %v", cmds)
	}
}

func TestCookieDefaults(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{Core: core.Options{Lifetime: 8 * time.Hour}})
	ts := httptest.NewTLSServer(app(e.store))
	defer ts.Close()
	_, set := newClient(t, ts).get("/incr")
	if len(set) != 1 {
		t.Fatalf("Set-Cookie %q, want one cookie", set)
	}
	for _, attr := range []string{"Path=/", "Max-Age=28800", "HttpOnly", "Secure", "SameSite=Lax"} {
		if !strings.Contains(set[0], "; "+attr) {
			t.Errorf("Set-Cookie %q lacks %s", set[0], attr)
		}
	}
}

func TestMaxAge(t *testing.T) {
	t.Run("zero is a browser-session cookie with the idle timeout on the server", func(t *testing.T) {
		e := newEnv(t, gorillaredis.Options{})
		e.store.MaxAge(0)
		ts := httptest.NewTLSServer(app(e.store))
		defer ts.Close()
		c := newClient(t, ts)
		_, set := c.get("/incr")
		if len(set) != 1 || strings.Contains(set[0], "Max-Age") || strings.Contains(set[0], "Expires") {
			t.Fatalf("Set-Cookie %q, want no Max-Age and no Expires", set)
		}
		h := core.Handle(tokenOf(t, e.store, c.cookie("app")))
		ttl := e.raw.PTTL(context.Background(), e.store.Core().SessionKey(h)).Val()
		if idle := e.store.Core().Options().IdleTimeout; ttl <= 0 || ttl > idle {
			t.Fatalf("TTL %v, want in (0, %v]", ttl, idle)
		}
		if body, _ := c.get("/incr"); body != "n=2" {
			t.Fatalf("session lost with MaxAge 0: %q", body)
		}
	})
	t.Run("negative deletes on the server and expires the cookie", func(t *testing.T) {
		e := newEnv(t, gorillaredis.Options{})
		ts := httptest.NewTLSServer(app(e.store))
		defer ts.Close()
		c := newClient(t, ts)
		c.get("/incr")
		old := c.cookie("app")
		h := core.Handle(tokenOf(t, e.store, old))
		_, set := c.get("/logout")
		if len(set) != 1 || !strings.Contains(set[0], "Max-Age=0") {
			t.Fatalf("Set-Cookie %q, want an expired cookie", set)
		}
		if e.raw.Exists(context.Background(), e.store.Core().SessionKey(h)).Val() != 0 {
			t.Fatalf("the session key survived MaxAge -1")
		}
		thief := newClient(t, ts)
		thief.setCookie("app", old)
		if body, _ := thief.get("/show"); body != "new=true " {
			t.Fatalf("the old cookie still reads a session: %q", body)
		}
	})
	t.Run("shorter than the idle timeout caps the server TTL", func(t *testing.T) {
		e := newEnv(t, gorillaredis.Options{})
		e.store.MaxAge(60)
		ts := httptest.NewTLSServer(app(e.store))
		defer ts.Close()
		c := newClient(t, ts)
		c.get("/incr")
		h := core.Handle(tokenOf(t, e.store, c.cookie("app")))
		if ttl := e.raw.PTTL(context.Background(), e.store.Core().SessionKey(h)).Val(); ttl <= 0 || ttl > time.Minute {
			t.Fatalf("TTL %v, want in (0, 1m]", ttl)
		}
	})
}

// tokenOf decodes the token a cookie value carries.
func tokenOf(t testing.TB, store *gorillaredis.Store, value string) string {
	t.Helper()
	var token string
	if err := securecookie.DecodeMulti("app", value, &token, store.Codecs...); err != nil {
		t.Fatalf("decode cookie: %v", err)
	}
	return token
}

func TestSignature(t *testing.T) {
	oldKey, newKey := []byte("old-hash-key-0123456789abcdef012"), []byte("new-hash-key-0123456789abcdef012")
	e := newEnv(t, gorillaredis.Options{}, oldKey)
	tsOld := httptest.NewTLSServer(app(e.store))
	defer tsOld.Close()
	c := newClient(t, tsOld)
	c.get("/incr")
	signedOld := c.cookie("app")

	t.Run("forged cookies never reach Redis", func(t *testing.T) {
		tok := tokenOf(t, e.store, signedOld)
		forger := gorillaredis.NewStore(e.raw, []byte("attacker-key-0123456789abcdef012"))
		forged, _ := forger.CookieValue("app", tok)
		for _, v := range []string{forged, tok, "garbage", signedOld[:len(signedOld)-3]} {
			d := newClient(t, tsOld)
			d.setCookie("app", v)
			e.count.Reset()
			if body, _ := d.get("/show"); body != "new=true " {
				t.Errorf("cookie %.20q: %q, want a new session", v, body)
			}
			if n := e.count.Total(); n != 0 {
				t.Errorf("cookie %.20q: %d Redis commands, want 0: %v", v, n, e.count.Commands())
			}
		}
	})
	t.Run("rotation accepts the old key and signs with the new", func(t *testing.T) {
		rotated := gorillaredis.NewStoreWithOptions(e.srv.NewClient(t, nil),
			gorillaredis.Options{Core: e.store.Core().Options()}, newKey, nil, oldKey, nil)
		ts := httptest.NewTLSServer(app(rotated))
		defer ts.Close()
		d := newClient(t, ts)
		d.setCookie("app", signedOld)
		if body, _ := d.get("/incr"); body != "n=2" {
			t.Fatalf("after rotation the old cookie lost its session: %q", body)
		}
		// The store's cookies sign the token's bytes as they are.
		plain := securecookie.New(newKey, nil).SetSerializer(securecookie.NopEncoder{})
		var token []byte
		if err := plain.Decode("app", d.cookie("app"), &token); err != nil || !core.ValidToken(string(token)) {
			t.Fatalf("the cookie is not signed with the new key: %v (token %q)", err, token)
		}
	})
}

// TestRevokedInFlight: a save that finds its session revoked writes nothing
// and expires the cookie.
func TestRevokedInFlight(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{})
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := e.store.Get(r, "app")
		if r.URL.Path == "/login" {
			s.Values["user_id"] = 7
		} else {
			close(entered)
			<-release
			s.Values["late"] = true
		}
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, s.ID)
	})
	ts := httptest.NewTLSServer(h)
	defer ts.Close()
	c := newClient(t, ts)
	handle, _ := c.get("/login")
	done := make(chan []string)
	go func() {
		res, err := c.c.Get(ts.URL + "/slow")
		if err != nil {
			done <- nil
			return
		}
		res.Body.Close()
		done <- res.Header.Values("Set-Cookie")
	}()
	<-entered
	if n, err := e.store.RevokeUser(context.Background(), "7"); n != 1 || err != nil {
		t.Fatalf("RevokeUser(7) = %d, %v; want 1 (an int user id binds too)", n, err)
	}
	close(release)
	set := <-done
	if len(set) != 1 || !strings.Contains(set[0], "Max-Age=0") {
		t.Errorf("Set-Cookie %q, want the cookie expired", set)
	}
	if e.raw.Exists(context.Background(), e.store.Core().SessionKey(handle)).Val() != 0 {
		t.Errorf("the revoked session was written back")
	}
}

func TestJSONSerializer(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{Serializer: gorillaredis.JSONSerializer{}})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := e.store.Get(r, "app")
		if r.URL.Path == "/bad" {
			s.Values[1] = "int key"
		} else {
			n, _ := s.Values["n"].(float64)
			s.Values["n"] = n + 1
			s.Values["name"] = "ada"
		}
		if err := s.Save(r, w); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, s.Values["n"])
	})
	ts := httptest.NewTLSServer(h)
	defer ts.Close()
	c := newClient(t, ts)
	c.get("/")
	if body, _ := c.get("/"); body != "2" {
		t.Fatalf("JSON round trip: %q, want 2", body)
	}
	res, err := c.c.Get(ts.URL + "/bad")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("a non-string key saved with status %d, want an error", res.StatusCode)
	}
}

func TestRedisDown(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{})
	ts := httptest.NewTLSServer(app(e.store))
	defer ts.Close()
	c := newClient(t, ts)
	c.get("/incr")
	if e.srv.Mini == nil {
		t.Skip("needs the embedded server, to stop it")
	}
	e.srv.Mini.Close()
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	req.AddCookie(&http.Cookie{Name: "app", Value: c.cookie("app")})
	s, err := e.store.Get(req, "app")
	if err == nil || s == nil || !s.IsNew {
		t.Fatalf("Get with Redis down: %v, %v; want a new session and an error", s, err)
	}
	s.Values["x"] = 1
	w := httptest.NewRecorder()
	if err := s.Save(req, w); err == nil || len(w.Header().Values("Set-Cookie")) != 0 {
		t.Fatalf("Save after a failed load: %v, cookies %q; want the error and no cookie", err, w.Header().Values("Set-Cookie"))
	}
}

// TestUnsignableCookieWritesNothing: a Save whose cookie cannot be signed
// (here: longer than its codec allows) returns the error and leaves no
// session and no device in the user's list.
func TestUnsignableCookieWritesNothing(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{})
	e.store.Codecs = []securecookie.Codec{securecookie.New(testKeys[0], nil).MaxLength(16)}
	r := httptest.NewRequest("GET", "https://example.test/", nil)
	w := httptest.NewRecorder()
	session, err := e.store.New(r, "__Host-s")
	if err != nil {
		t.Fatal(err)
	}
	session.Values["user_id"] = "u1"
	if err := e.store.Save(r, w, session); err == nil {
		t.Fatalf("Save of a cookie its codec cannot encode: nil error")
	}
	if keys := e.srv.Keys(t, e.raw); len(keys) != 0 {
		t.Errorf("a Save that could not sign its cookie left %v", keys)
	}
}

// TestUnusableKeysRefused: a hash key that is missing (an unset
// environment variable) or short, or an encryption key of a size AES does
// not take, makes Get and Save fail with an error that says which key and
// what is wrong, before anything reaches Redis or the response.
func TestUnusableKeysRefused(t *testing.T) {
	srv := redistest.Start(t)
	raw := srv.NewClient(t, nil)
	cases := []struct {
		keys [][]byte
		want string
	}{
		{[][]byte{[]byte("")}, "hash key 1 is 0 bytes"},
		{[][]byte{[]byte("0123456789abcdef")}, "hash key 1 is 16 bytes"},
		{[][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte("short")}, "encryption key 1 is 5 bytes"},
		{[][]byte{[]byte("0123456789abcdef0123456789abcdef"), nil, []byte("old")}, "hash key 2 is 3 bytes"},
	}
	for _, c := range cases {
		store := gorillaredis.NewStoreWithOptions(raw, gorillaredis.Options{Core: core.Options{Prefix: srv.Prefix}}, c.keys...)
		r := httptest.NewRequest("GET", "https://example.com/", nil)
		w := httptest.NewRecorder()
		s, err := store.Get(r, "s")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "SESSION_KEY") && strings.Contains(c.want, "hash") {
			t.Errorf("%q: Get error %v, want one saying %q", c.keys, err, c.want)
		}
		s.Values["user_id"] = "u1"
		if err := s.Save(r, w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: Save error %v, want one saying %q", c.keys, err, c.want)
		}
		if h := w.Header().Get("Set-Cookie"); h != "" {
			t.Errorf("%q: Save sent a cookie %q", c.keys, h)
		}
		if keys := srv.Keys(t, raw); len(keys) != 0 {
			t.Errorf("%q: Save wrote %v", c.keys, keys)
		}
	}
	ok := gorillaredis.NewStoreWithOptions(raw, gorillaredis.Options{Core: core.Options{Prefix: srv.Prefix}},
		[]byte("0123456789abcdef0123456789abcdef"), []byte("fedcba9876543210"), []byte("an older key, rotated out 0123456"), nil)
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	if _, err := ok.Get(r, "s"); err != nil {
		t.Errorf("valid key pairs refused: %v", err)
	}
}
