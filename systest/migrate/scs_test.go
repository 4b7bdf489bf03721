// The migration from the peer stores (#21), with the real peer libraries:
// sessions created through them, the store swapped to ours, the user still
// logged in. A module of its own, so users never download the peers; it
// needs a real Redis (REDIS_ADDR=127.0.0.1:6379 make test-migrate) and
// skips without one.

package migrate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/redisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/gomodule/redigo/redis"
	goredis "github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/scsredis"
)

// redisAddr is the real Redis the peers need, or the test is skipped.
func redisAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" {
		t.Skip("migrate: set REDIS_ADDR=host:port (a real Redis: the peer stores cannot run on an embedded one here); skipping the peer migration tests")
	}
	return addr
}

func randomPrefix(t *testing.T, what string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "migtest:" + hex.EncodeToString(b) + ":" + what
}

// dropKeys deletes every key under prefix when the test ends.
func dropKeys(t *testing.T, rdb goredis.UniversalClient, prefix string) {
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			rdb.Del(ctx, iter.Val())
		}
	})
}

// scsApp is an scs app whose store can be swapped between requests, as a
// deploy does: the manager, its cookie and its handlers stay.
type scsApp struct {
	mu sync.Mutex
	sm *scs.SessionManager
	ts *httptest.Server
}

func newSCSApp(t *testing.T, store scs.Store) *scsApp {
	a := &scsApp{sm: scs.New()}
	a.sm.Store = store
	a.sm.IdleTimeout = 30 * time.Minute
	a.sm.Lifetime = 2 * time.Hour
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if err := a.sm.RenewToken(ctx); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		a.sm.Put(ctx, "user_id", r.URL.Query().Get("user"))
		a.sm.Put(ctx, "cart", "3 apples")
		a.sm.Put(ctx, "visits", 1)
	})
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		_, _ = io.WriteString(w, a.sm.GetString(ctx, "user_id")+"|"+a.sm.GetString(ctx, "cart")+"|")
		_, _ = io.WriteString(w, map[bool]string{true: "1", false: "?"}[a.sm.GetInt(ctx, "visits") == 1])
	})
	h := a.sm.LoadAndSave(mux)
	// One request at a time, and the swap between two, under mu (which also
	// orders the swap before the next request's read of sm.Store).
	a.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(a.ts.Close)
	return a
}

type browser struct {
	c   *http.Client
	url *url.URL
}

func newBrowser(t *testing.T, a *scsApp) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(a.ts.URL)
	return &browser{c: &http.Client{Jar: jar}, url: u}
}

func (b *browser) get(t *testing.T, path string) string {
	t.Helper()
	res, err := b.c.Get(b.url.String() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	}
	return string(body)
}

func (b *browser) cookie() string {
	for _, c := range b.c.Jar.Cookies(b.url) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

// swapToOurs logs alice in under the peer store, swaps the manager's store
// to scsredis with a migration from the peer's prefix, and checks that she
// stays logged in with her values, that her session is ours and bound to
// her, and that the peer's key is gone.
func swapToOurs(t *testing.T, rdb goredis.UniversalClient, peer scs.Store, peerPrefix string) {
	ctx := context.Background()
	a := newSCSApp(t, peer)
	b := newBrowser(t, a)
	b.get(t, "/login?user=alice")
	tok := b.cookie()
	if tok == "" {
		t.Fatal("the peer store's app set no cookie")
	}
	if n := rdb.Exists(ctx, peerPrefix+tok).Val(); n != 1 {
		t.Fatalf("the peer store keeps no %s<token> key: is its prefix %q?", peerPrefix, peerPrefix)
	}
	if got := b.get(t, "/whoami"); got != "alice|3 apples|1" {
		t.Fatalf("under the peer store: %q", got)
	}

	// The deploy: the same manager, our store.
	ourPrefix := randomPrefix(t, "ours:")
	dropKeys(t, rdb, ourPrefix)
	ours := scsredis.New(rdb, scsredis.Options{
		Core:    core.Options{Prefix: ourPrefix},
		Migrate: &scsredis.Migration{Until: time.Now().Add(time.Hour), Prefix: peerPrefix},
	})
	if err := ours.CheckManager(a.sm); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.sm.Store = ours
	a.mu.Unlock()

	for i := 0; i < 2; i++ { // the adopting request, then one served from our key
		if got := b.get(t, "/whoami"); got != "alice|3 apples|1" {
			t.Fatalf("request %d after the swap: %q, want alice|3 apples|1: logged out or values lost", i, got)
		}
	}
	if b.cookie() != tok {
		t.Errorf("the cookie changed: scs's token should stay")
	}
	if n := rdb.Exists(ctx, peerPrefix+tok).Val(); n != 0 {
		t.Errorf("the peer store's key %s<token> is still there", peerPrefix)
	}
	if got := ours.Core().Counters().Adopted; got != 1 {
		t.Errorf("Adopted = %d, want 1", got)
	}
	infos, err := ours.UserSessions(ctx, "alice")
	if err != nil || len(infos) != 1 || infos[0].Handle != core.Handle(tok) {
		t.Fatalf("UserSessions(alice) = %v, %v: the adopted session is not bound to her", infos, err)
	}
	if ttl := rdb.PTTL(ctx, ours.Core().SessionKey(core.Handle(tok))).Val(); ttl <= 0 || ttl > 30*time.Minute+time.Second {
		t.Errorf("our key's TTL = %v, want scs's IdleTimeout (30m) at most", ttl)
	}

	// Logged out everywhere: the old key does not bring her back.
	if n, err := ours.RevokeUser(ctx, "alice"); err != nil || n != 1 {
		t.Fatalf("RevokeUser = %d, %v", n, err)
	}
	if got := b.get(t, "/whoami"); strings.HasPrefix(got, "alice") {
		t.Fatalf("after RevokeUser: %q, still logged in", got)
	}
}

func TestSwapFromRedisstore(t *testing.T) {
	addr := redisAddr(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	pool := &redis.Pool{MaxIdle: 4, Dial: func() (redis.Conn, error) { return redis.Dial("tcp", addr) }}
	t.Cleanup(func() { _ = pool.Close() })
	prefix := randomPrefix(t, "scs:session:")
	dropKeys(t, rdb, prefix)
	swapToOurs(t, rdb, redisstore.NewWithPrefix(pool, prefix), prefix)
}

func TestSwapFromGoredisstore(t *testing.T) {
	addr := redisAddr(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	prefix := randomPrefix(t, "scs:session:")
	dropKeys(t, rdb, prefix)
	swapToOurs(t, rdb, goredisstore.NewWithPrefix(rdb, prefix), prefix)
}

// TestDefaultPrefix: both peers keep sessions under "scs:session:" by
// default, DefaultLegacyPrefix, which the migration reads unless told
// otherwise.
func TestDefaultPrefix(t *testing.T) {
	addr := redisAddr(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	pool := &redis.Pool{MaxIdle: 1, Dial: func() (redis.Conn, error) { return redis.Dial("tcp", addr) }}
	t.Cleanup(func() { _ = pool.Close() })
	for name, st := range map[string]scs.Store{"redisstore": redisstore.New(pool), "goredisstore": goredisstore.New(rdb)} {
		tok := core.NewToken()
		var err error
		if cs, ok := st.(scs.CtxStore); ok { // goredisstore needs the context
			err = cs.CommitCtx(context.Background(), tok, []byte("x"), time.Now().Add(time.Minute))
		} else {
			err = st.Commit(tok, []byte("x"), time.Now().Add(time.Minute))
		}
		if err != nil {
			t.Fatal(err)
		}
		n := rdb.Exists(context.Background(), scsredis.DefaultLegacyPrefix+tok).Val()
		rdb.Del(context.Background(), scsredis.DefaultLegacyPrefix+tok)
		if n != 1 {
			t.Errorf("%s does not keep its sessions under %q", name, scsredis.DefaultLegacyPrefix)
		}
	}
}

// TestKeepLegacyRollback: with KeepLegacy the peer's key stays, on its own
// TTL, so swapping back to the peer (a rollback) still finds the user
// logged in; and ours adopted the session only once.
func TestKeepLegacyRollback(t *testing.T) {
	addr := redisAddr(t)
	ctx := context.Background()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	peerPrefix := randomPrefix(t, "scs:session:")
	dropKeys(t, rdb, peerPrefix)
	peer := goredisstore.NewWithPrefix(rdb, peerPrefix)
	a := newSCSApp(t, peer)
	b := newBrowser(t, a)
	b.get(t, "/login?user=alice")
	tok := b.cookie()
	ttl := rdb.PTTL(ctx, peerPrefix+tok).Val()

	ourPrefix := randomPrefix(t, "ours:")
	dropKeys(t, rdb, ourPrefix)
	ours := scsredis.New(rdb, scsredis.Options{
		Core:    core.Options{Prefix: ourPrefix},
		Migrate: &scsredis.Migration{Until: time.Now().Add(time.Hour), Prefix: peerPrefix, KeepLegacy: true},
	})
	swap := func(st scs.Store) {
		a.mu.Lock()
		a.sm.Store = st
		a.mu.Unlock()
	}
	swap(ours)
	for i := 0; i < 2; i++ {
		if got := b.get(t, "/whoami"); got != "alice|3 apples|1" {
			t.Fatalf("request %d after the swap: %q", i, got)
		}
	}
	if left := rdb.PTTL(ctx, peerPrefix+tok).Val(); left <= 0 || left > ttl {
		t.Fatalf("the kept key's TTL is %v, want its own (≤ %v)", left, ttl)
	}
	if got := ours.Core().Counters().Adopted; got != 1 {
		t.Errorf("Adopted = %d, want 1", got)
	}
	swap(peer)
	if got := b.get(t, "/whoami"); got != "alice|3 apples|1" {
		t.Fatalf("after swapping back to the peer: %q", got)
	}
}
