package scsredis_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// fixture is an scs app over a Store, served through LoadAndSave.
type fixture struct {
	srv   *redistest.Server
	count *redistest.Counter
	raw   redis.UniversalClient // uncounted, for inspecting Redis
	store *scsredis.Store
	sm    *scs.SessionManager
	ts    *httptest.Server
}

type setup struct {
	opts  scsredis.Options
	wrap  func(*scsredis.Store) scs.Store // what scs sees; nil means the Store itself
	tweak func(*scs.SessionManager)
}

func newFixture(t *testing.T, su setup) *fixture {
	t.Helper()
	srv := redistest.Start(t)
	f := &fixture{srv: srv, count: redistest.NewCounter(), raw: srv.NewClient(t, nil)}
	su.opts.Core.Prefix = srv.Prefix
	su.opts.Core.Now = srv.Now
	f.store = scsredis.New(srv.NewClient(t, f.count), su.opts)
	var st scs.Store = f.store
	if su.wrap != nil {
		st = su.wrap(f.store)
	}
	f.sm = scs.New()
	f.sm.Store = st
	f.sm.IdleTimeout = 30 * time.Minute
	f.sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
	if su.tweak != nil {
		su.tweak(f.sm)
	}
	f.ts = httptest.NewServer(scsredis.RecordDevice(f.sm.LoadAndSave(f.app())))
	t.Cleanup(f.ts.Close)
	return f
}

// app routes:
//
//	/put?k=K&v=V  /get?k=K  /login?user=U  /logout  /handle
//	/devices  /revoke-others  /revoke-user?user=U  /store-login?user=U  /put-int?k=K&v=N
func (f *fixture) app() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, q := r.Context(), r.URL.Query()
		var out interface{}
		var err error
		switch r.URL.Path {
		case "/put":
			f.sm.Put(ctx, q.Get("k"), q.Get("v"))
		case "/put-int":
			f.sm.Put(ctx, q.Get("k"), len(q.Get("v")))
		case "/get":
			out = f.sm.GetString(ctx, q.Get("k"))
		case "/login":
			if err = f.sm.RenewToken(ctx); err == nil {
				f.sm.Put(ctx, "user_id", q.Get("user"))
			}
		case "/store-login":
			err = f.store.Login(ctx, f.sm, q.Get("user"))
		case "/logout":
			err = f.sm.Destroy(ctx)
		case "/handle":
			out = f.store.Handle(ctx, f.sm)
		case "/devices":
			out, err = f.store.Sessions(ctx, f.sm)
		case "/revoke-others":
			out, err = f.store.RevokeOthers(ctx, f.sm)
		case "/revoke-user":
			out, err = f.store.RevokeUser(ctx, q.Get("user"))
		default:
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

type client struct {
	f   *fixture
	c   *http.Client
	url *url.URL
}

func (f *fixture) client(t *testing.T) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(f.ts.URL)
	return &client{f: f, c: &http.Client{Jar: jar}, url: u}
}

// do requests path and decodes the JSON reply into out (if not nil).
func (c *client) do(t *testing.T, path string, out interface{}) {
	t.Helper()
	res, err := c.c.Get(c.f.ts.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", path, res.StatusCode, body)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("GET %s: %q: %v", path, body, err)
		}
	}
}

func (c *client) get(t *testing.T, k string) string {
	t.Helper()
	var v string
	c.do(t, "/get?k="+url.QueryEscape(k), &v)
	return v
}

func (c *client) handle(t *testing.T) string {
	t.Helper()
	var h string
	c.do(t, "/handle", &h)
	return h
}

func (c *client) cookie() string {
	for _, k := range c.c.Jar.Cookies(c.url) {
		if k.Name == c.f.sm.Cookie.Name {
			return k.Value
		}
	}
	return ""
}

func (c *client) setCookie(v string) {
	c.c.Jar.SetCookies(c.url, []*http.Cookie{{Name: c.f.sm.Cookie.Name, Value: v, Path: "/"}})
}

func (f *fixture) keys(t *testing.T) []string {
	t.Helper()
	return f.srv.Keys(t, f.raw)
}

func (f *fixture) sessionKey(handle string) string { return f.store.Core().SessionKey(handle) }

func (f *fixture) exists(t *testing.T, handle string) bool {
	t.Helper()
	n, err := f.raw.Exists(context.Background(), f.sessionKey(handle)).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func (f *fixture) indexed(t *testing.T, user, handle string) bool {
	t.Helper()
	err := f.raw.ZScore(context.Background(), f.store.Core().IndexKey(user), handle).Err()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	return err == nil
}

func (f *fixture) everyKeyHasTTL(t *testing.T) {
	t.Helper()
	for _, k := range f.keys(t) {
		if ttl := f.raw.PTTL(context.Background(), k).Val(); ttl <= 0 {
			t.Errorf("%s has TTL %v, want > 0", k, ttl)
		}
	}
}

func encode(t *testing.T, deadline time.Time, values map[string]interface{}) []byte {
	t.Helper()
	b, err := scs.GobCodec{}.Encode(deadline, values)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newToken() string { return core.NewToken() }

// TestPastExpiryLeavesNoKey is the regression test for the immortal key:
// go-redis writes a key with no expiry when handed a TTL ≤ 0, which is what
// a store that passes time.Until(expiry) does when scs commits a session
// whose deadline has passed.
func TestPastExpiryLeavesNoKey(t *testing.T) {
	t.Run("NewSession", func(t *testing.T) {
		// A negative Lifetime makes scs commit every new session with an
		// expiry in the past.
		f := newFixture(t, setup{tweak: func(sm *scs.SessionManager) { sm.Lifetime = -time.Minute; sm.IdleTimeout = 0 }})
		f.client(t).do(t, "/put?k=a&v=1", nil)
		if keys := f.keys(t); len(keys) != 0 {
			t.Errorf("after a commit with a past expiry, Redis holds %v, want nothing", keys)
		}
	})
	t.Run("StoredSession", func(t *testing.T) {
		f := newFixture(t, setup{})
		c := f.client(t)
		c.do(t, "/put?k=a&v=1", nil)
		h := c.handle(t)
		if !f.exists(t, h) {
			t.Fatalf("session %s was not written", h)
		}
		past := time.Now().Add(-time.Second)
		b := encode(t, past, map[string]interface{}{"a": "1"})
		if err := f.store.Commit(c.cookie(), b, past); err != nil {
			t.Fatalf("Commit with a past expiry: %v", err)
		}
		if f.exists(t, h) {
			t.Errorf("%s survived a commit with a past expiry", f.sessionKey(h))
		}
		if _, found, err := f.store.Find(c.cookie()); found || err != nil {
			t.Errorf("Find after a past-expiry commit: found %v err %v, want false, nil", found, err)
		}
	})
	t.Run("SessionOfAnotherProcess", func(t *testing.T) {
		f := newFixture(t, setup{})
		c := f.client(t)
		c.do(t, "/put?k=a&v=1", nil)
		h := c.handle(t)
		other := scsredis.New(f.raw, scsredis.Options{Core: core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now}})
		past := time.Now().Add(-time.Millisecond)
		if err := other.CommitCtx(context.Background(), c.cookie(), encode(t, past, nil), past); err != nil {
			t.Fatalf("Commit with a past expiry: %v", err)
		}
		if f.exists(t, h) {
			t.Errorf("%s survived a commit with a past expiry from another store", f.sessionKey(h))
		}
	})
}

// TestUnchangedCommitOnlyMovesExpiry: scs commits on every request with an
// idle timeout, and its gob encoding of a map differs from one commit to the
// next; a request that changes nothing must not rewrite the record.
func TestUnchangedCommitOnlyMovesExpiry(t *testing.T) {
	f := newFixture(t, setup{})
	c := f.client(t)
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		c.do(t, "/put?k="+k+"&v=value-"+k, nil)
	}
	for i := 0; i < 5; i++ {
		f.count.Reset()
		if got := c.get(t, "c"); got != "value-c" {
			t.Fatalf("read %q, want value-c", got)
		}
		cmds := f.count.Commands()
		if rt := f.count.RoundTrips(); rt != 2 || cmds["get"] != 1 || cmds["pexpireat"] != 1 || len(cmds) != 2 {
			t.Errorf("a read-only request: %d round trips, %v; want 2: get and pexpireat", rt, cmds)
		}
	}
}

func TestRenewTokenMovesIndex(t *testing.T) {
	f := newFixture(t, setup{})
	c := f.client(t)
	c.do(t, "/put?k=cart=3&v=apples", nil)
	old, oldHandle := c.cookie(), c.handle(t)
	c.do(t, "/login?user=u1", nil)
	h := c.handle(t)
	if c.cookie() == old || h == oldHandle {
		t.Fatalf("login kept the token")
	}
	if f.exists(t, oldHandle) || f.indexed(t, "u1", oldHandle) {
		t.Errorf("the pre-login session %s survived (key or index entry)", oldHandle)
	}
	if !f.exists(t, h) || !f.indexed(t, "u1", h) {
		t.Errorf("the new session %s is not stored and indexed under u1", h)
	}
	// Renew again, now bound: the index follows.
	c.do(t, "/login?user=u1", nil)
	h2 := c.handle(t)
	if f.exists(t, h) || f.indexed(t, "u1", h) || !f.indexed(t, "u1", h2) {
		t.Errorf("second renew %s → %s: index or keys not moved", h, h2)
	}
	if _, found, err := f.store.Find(old); found || err != nil {
		t.Errorf("Find(old token): found %v err %v, want false, nil", found, err)
	}
	thief := f.client(t)
	thief.setCookie(old)
	if got := thief.get(t, "user_id"); got != "" {
		t.Errorf("the old cookie still reads user %q", got)
	}
	f.everyKeyHasTTL(t)
}

func TestDestroy(t *testing.T) {
	f := newFixture(t, setup{})
	c := f.client(t)
	c.do(t, "/login?user=u1", nil)
	h, tok := c.handle(t), c.cookie()
	c.do(t, "/logout", nil)
	if f.exists(t, h) {
		t.Errorf("logout left %s", f.sessionKey(h))
	}
	if f.indexed(t, "u1", h) {
		t.Errorf("logout left %s in the index", h)
	}
	if c.cookie() != "" {
		t.Errorf("logout left the cookie")
	}
	copyOf := f.client(t)
	copyOf.setCookie(tok)
	if got := copyOf.get(t, "user_id"); got != "" {
		t.Errorf("a copy of the old cookie reads user %q after logout", got)
	}
	// Deleting what is gone is a no-op, as scs asks.
	if err := f.store.Delete(tok); err != nil {
		t.Errorf("Delete of a deleted token: %v", err)
	}
}

func scsHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func TestHashTokenInStore(t *testing.T) {
	f := newFixture(t, setup{tweak: func(sm *scs.SessionManager) { sm.HashTokenInStore = true }})
	a, b, c := f.client(t), f.client(t), f.client(t)
	a.do(t, "/login?user=u1", nil)
	b.do(t, "/login?user=u1", nil)
	c.do(t, "/login?user=u2", nil)
	ha, hb := a.handle(t), b.handle(t)
	if want := f.store.Core().Handle(scsHash(a.cookie())); ha != want || ha == "" {
		t.Fatalf("Handle %q, want the handle of what the store sees, %q", ha, want)
	}
	if !f.exists(t, ha) || !f.indexed(t, "u1", ha) || !f.indexed(t, "u1", hb) {
		t.Fatalf("sessions of u1 not stored or indexed under their handles")
	}
	for _, k := range f.keys(t) {
		for _, cl := range []*client{a, b, c} {
			if strings.Contains(k, cl.cookie()) || strings.Contains(k, scsHash(cl.cookie())) {
				t.Errorf("key %s contains a token or what the store was given", k)
			}
		}
	}
	var list []core.SessionInfo
	a.do(t, "/devices", &list)
	if len(list) != 2 {
		t.Fatalf("devices of u1: %+v, want 2", list)
	}
	var n int
	a.do(t, "/revoke-others", &n)
	if n != 1 || b.get(t, "user_id") != "" || a.get(t, "user_id") != "u1" {
		t.Errorf("revoke-others ended %d; b still logged in or a logged out", n)
	}
	a.do(t, "/revoke-user?user=u2", &n)
	if n != 1 || c.get(t, "user_id") != "" {
		t.Errorf("revoke-user u2 ended %d, or c is still logged in", n)
	}
	old := a.cookie()
	a.do(t, "/login?user=u1", nil)
	if f.exists(t, ha) || f.indexed(t, "u1", ha) || !f.indexed(t, "u1", a.handle(t)) {
		t.Errorf("RenewToken with hashed tokens: the index did not follow")
	}
	if _, found, _ := f.store.Find(scsHash(old)); found {
		t.Errorf("the renewed token still finds its session")
	}
	f.everyKeyHasTTL(t)
}

// plainStore hides the Ctx methods: scs then calls Find, Commit and Delete.
type plainStore struct{ s *scsredis.Store }

func (p plainStore) Find(token string) ([]byte, bool, error)          { return p.s.Find(token) }
func (p plainStore) Delete(token string) error                        { return p.s.Delete(token) }
func (p plainStore) Commit(token string, b []byte, e time.Time) error { return p.s.Commit(token, b, e) }

func TestPlainMethods(t *testing.T) {
	f := newFixture(t, setup{wrap: func(s *scsredis.Store) scs.Store { return plainStore{s} }})
	a, b := f.client(t), f.client(t)
	a.do(t, "/login?user=u1", nil)
	b.do(t, "/login?user=u1", nil)
	if got := a.get(t, "user_id"); got != "u1" {
		t.Fatalf("read user %q, want u1", got)
	}
	// The plain methods get no request context: no device facts.
	var list []core.SessionInfo
	a.do(t, "/devices", &list)
	if len(list) != 2 {
		t.Errorf("devices: %+v, want 2", list)
	}
	a.do(t, "/logout", nil)
	if len(f.keys(t)) != 2 { // b's session and u1's index
		t.Errorf("after a's logout Redis holds %v", f.keys(t))
	}
}

// TestStoreContract checks scs's documented Store contract directly.
func TestStoreContract(t *testing.T) {
	f := newFixture(t, setup{})
	ctx := context.Background()
	for _, tok := range []string{"", "x", strings.Repeat("!", 43), strings.Repeat("A", 44), strings.Repeat("g", 64), strings.Repeat("a", 3000)} {
		f.count.Reset()
		if b, found, err := f.store.Find(tok); b != nil || found || err != nil {
			t.Errorf("Find(%.20q) = %q, %v, %v; want nil, false, nil", tok, b, found, err)
		}
		if err := f.store.Delete(tok); err != nil {
			t.Errorf("Delete(%.20q): %v", tok, err)
		}
		if rt := f.count.RoundTrips(); rt != 0 {
			t.Errorf("malformed token %.20q reached Redis", tok)
		}
	}
	tok := newToken()
	if err := f.store.Delete(tok); err != nil {
		t.Errorf("Delete of an unknown token: %v", err)
	}
	exp := time.Now().Add(time.Hour)
	if err := f.store.CommitCtx(ctx, tok, encode(t, exp, map[string]interface{}{"v": "1"}), exp); err != nil {
		t.Fatal(err)
	}
	// Commit overwrites, with no Find in between.
	b2 := encode(t, exp, map[string]interface{}{"v": "2"})
	if err := f.store.CommitCtx(ctx, tok, b2, exp); err != nil {
		t.Fatal(err)
	}
	got, found, err := f.store.FindCtx(ctx, tok)
	if !found || err != nil || string(got) != string(b2) {
		t.Errorf("Find after two commits: found %v err %v, want the second blob", found, err)
	}
	// So does a Commit from another process that never found it.
	other := scsredis.New(f.raw, scsredis.Options{Core: core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now}})
	b3 := encode(t, exp, map[string]interface{}{"v": "3"})
	if err := other.CommitCtx(ctx, tok, b3, exp); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := f.store.FindCtx(ctx, tok); string(got) != string(b3) {
		t.Errorf("a commit from another store did not overwrite")
	}
	// A system error is an error.
	broken := scsredis.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1}), scsredis.Options{})
	if _, found, err := broken.Find(tok); found || err == nil {
		t.Errorf("Find with Redis down: found %v err %v, want an error", found, err)
	}
}

// TestNoResurrectionAcrossProcesses: a session found by one store and
// deleted through another is not written back by the first one's Commit.
func TestNoResurrectionAcrossProcesses(t *testing.T) {
	f := newFixture(t, setup{})
	ctx, cancel := context.WithCancel(context.Background()) // one request's context
	defer cancel()
	c := f.client(t)
	c.do(t, "/login?user=u1", nil)
	tok, h := c.cookie(), c.handle(t)
	b, found, err := f.store.FindCtx(ctx, tok)
	if !found || err != nil {
		t.Fatalf("Find: %v %v", found, err)
	}
	other := scsredis.New(f.raw, scsredis.Options{Core: core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now}})
	if err := other.DeleteCtx(ctx, tok); err != nil {
		t.Fatal(err)
	}
	deadline, values, _ := scs.GobCodec{}.Decode(b)
	values["k"] = "changed"
	exp := time.Now().Add(time.Minute)
	if err := f.store.CommitCtx(ctx, tok, encode(t, deadline, values), exp); err != nil {
		t.Fatalf("Commit of a deleted session: %v, want nil (nothing written)", err)
	}
	if f.exists(t, h) || f.indexed(t, "u1", h) {
		t.Errorf("a deleted session was written back")
	}
}

func TestUserBinding(t *testing.T) {
	f := newFixture(t, setup{opts: scsredis.Options{Core: core.Options{UserKey: "uid"}}})
	a, b := f.client(t), f.client(t)
	a.do(t, "/put-int?k=uid&v=12345", nil) // an int user id: 5
	if h := a.handle(t); !f.indexed(t, "5", h) {
		t.Errorf("an int user id did not bind the session")
	}
	b.do(t, "/store-login?user=alice", nil)
	if h := b.handle(t); !f.indexed(t, "alice", h) {
		t.Errorf("Login did not bind the session under the configured user key")
	}
	var list []core.SessionInfo
	b.do(t, "/devices", &list)
	if len(list) != 1 || list[0].UserID != "alice" {
		t.Errorf("devices of alice: %+v", list)
	}
}

// TestIteration: the Store keeps no token at rest and never scans, so it
// does not claim scs's iteration interfaces and Iterate fails the way scs
// documents for such stores.
func TestIteration(t *testing.T) {
	f := newFixture(t, setup{})
	var st scs.Store = f.store
	if _, ok := st.(scs.IterableStore); ok {
		t.Errorf("Store implements scs.IterableStore")
	}
	if _, ok := st.(scs.IterableCtxStore); ok {
		t.Errorf("Store implements scs.IterableCtxStore")
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "does not support iteration") {
			t.Errorf("Iterate: recovered %v, want scs's panic for stores without iteration", r)
		}
	}()
	_ = f.sm.Iterate(context.Background(), func(context.Context) error { return nil })
}
