// The tests of this module (its own, so that users of redisession never
// download the peer stores) log a user in with the real peer library,
// swap to the redisession adapter with a Migration, and check that the
// user stays logged in with their values, that the legacy session is
// gone, and that tampered legacy cookies are refused. They need the real
// Redis at REDIS_ADDR and skip without it: make test-migrate.
package migrate_test

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/boj/redistore"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/redistest"
)

// gorillaCart is a registered type that must come through the swap intact.
type gorillaCart struct {
	Items []string
	Total int
}

func init() { gob.Register(gorillaCart{}) }

// The legacy store's key pair and the new store's.
var (
	gorillaOldKeys = [][]byte{[]byte("legacy-hash-key-legacy-hash-key!"), []byte("legacy-block-key")}
	gorillaNewKeys = [][]byte{[]byte("new-hash-key-new-hash-key-new-ha")}
)

// gorillaRedis returns the real Redis at REDIS_ADDR, with a key prefix of
// the test's own, or skips the test.
func gorillaRedis(t *testing.T) (*redistest.Server, redis.UniversalClient) {
	t.Helper()
	if os.Getenv("REDIS_ADDR") == "" {
		t.Skip("the migration tests need a real Redis: set REDIS_ADDR=host:port (make test-migrate)")
	}
	srv := redistest.Start(t)
	return srv, srv.NewClient(t, nil)
}

// gorillaApp is the application of the swap, written against
// sessions.Store only: /login logs alice in, /incr writes, /show reads.
func gorillaApp(store sessions.Store) http.Handler {
	mux := http.NewServeMux()
	handle := func(path string, f func(s *sessions.Session) string) {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			s, err := store.Get(r, "app")
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			out := f(s)
			if err := s.Save(r, w); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			io.WriteString(w, out)
		})
	}
	handle("/login", func(s *sessions.Session) string {
		s.Values["user_id"] = "alice"
		s.Values["n"] = 1
		s.Values["cart"] = gorillaCart{Items: []string{"apple"}, Total: 3}
		return "ok"
	})
	handle("/incr", func(s *sessions.Session) string {
		n, _ := s.Values["n"].(int)
		s.Values["n"] = n + 1
		return gorillaShow(s)
	})
	handle("/show", gorillaShow)
	return mux
}

// gorillaShow prints a session's values in a stable order.
func gorillaShow(s *sessions.Session) string {
	var kv []string
	for k, v := range s.Values {
		kv = append(kv, fmt.Sprintf("%v=%v", k, v))
	}
	sort.Strings(kv)
	return strings.Join(kv, " ")
}

// gorillaGet sends GET path to h with the cookie c (nil for none) and
// returns the body and the app cookie the response set, if any.
func gorillaGet(t *testing.T, h http.Handler, path string, c *http.Cookie) (string, *http.Cookie) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "https://example.test"+path, nil)
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
	}
	for _, k := range w.Result().Cookies() {
		if k.Name == "app" {
			return w.Body.String(), k
		}
	}
	return w.Body.String(), nil
}

// gorillaLegacyEnded reports whether the legacy key is gone, or no longer
// holds the session's values and expires within half a minute (the mark an
// adoption leaves).
func gorillaLegacyEnded(t *testing.T, rdb redis.UniversalClient, key string) bool {
	t.Helper()
	ctx := context.Background()
	v, err := rdb.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return true
	}
	if err != nil {
		t.Fatal(err)
	}
	ttl := rdb.PTTL(ctx, key).Val()
	return !strings.Contains(v, "alice") && ttl > 0 && ttl <= 30*time.Second
}

// gorillaTamper returns a copy of c with one character of its value
// changed.
func gorillaTamper(c *http.Cookie) *http.Cookie {
	d := *c
	b := []byte(d.Value)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	d.Value = string(b)
	return &d
}

// gorillaCheckSwap runs the swap from the legacy cookie: a tampered copy
// is no session and leaves the legacy session alone, the genuine one
// keeps alice logged in with her values on the new store, bound to her,
// with the new store's cookie; the legacy cookie is no session after.
func gorillaCheckSwap(t *testing.T, store *gorillaredis.Store, old *http.Cookie, legacyGone func() bool, forged ...*http.Cookie) {
	t.Helper()
	app := gorillaApp(store)
	for _, f := range append(forged, gorillaTamper(old)) {
		if body, c := gorillaGet(t, app, "/show", f); body != "" || c != nil {
			t.Fatalf("a forged legacy cookie %q gave %q, cookie %v", f.Value, body, c)
		}
	}
	if legacyGone() {
		t.Fatal("a forged legacy cookie removed the legacy session")
	}
	const want = "cart={[apple] 3} n=2 user_id=alice"
	body, ours := gorillaGet(t, app, "/incr", old)
	if body != want {
		t.Fatalf("after the swap: %q, want %q", body, want)
	}
	if ours == nil || ours.Value == old.Value {
		t.Fatal("the new store did not replace the legacy cookie")
	}
	if body, _ := gorillaGet(t, app, "/show", ours); body != want {
		t.Fatalf("with the new cookie: %q, want %q", body, want)
	}
	list, err := store.UserSessions(context.Background(), "alice")
	if err != nil || len(list) != 1 {
		t.Fatalf("alice's sessions on the new store: %v %v", list, err)
	}
	if !legacyGone() {
		t.Fatal("the legacy session is still there after the adoption")
	}
	if body, c := gorillaGet(t, app, "/show", old); body != "" || c != nil {
		t.Fatalf("the adopted legacy cookie, sent again, gave %q", body)
	}
	if n := store.Core().Counters().Adopted; n != 1 {
		t.Fatalf("Adopted = %d, want 1", n)
	}
	// RevokeUser ends the adopted session as any other.
	if n, err := store.RevokeUser(context.Background(), "alice"); err != nil || n != 1 {
		t.Fatalf("RevokeUser: %d %v", n, err)
	}
	if body, _ := gorillaGet(t, app, "/show", ours); body != "" {
		t.Fatalf("revoked, the adopted session still gives %q", body)
	}
}

func TestMigrateFromRediStore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		prefix string // "" keeps redistore's default
		old    redistore.SessionSerializer
		ours   gorillaredis.Serializer
	}{
		{"gob, default prefix", "", redistore.GobSerializer{}, nil},
		{"json, own prefix", "myapp_", redistore.JSONSerializer{}, gorillaredis.JSONSerializer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rdb := gorillaRedis(t)
			ctx := context.Background()
			old, err := redistore.NewRediStore(4, "tcp", srv.Addrs()[0], "", "", gorillaOldKeys...)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			prefix := "session_"
			if tc.prefix != "" {
				prefix = srv.Prefix + tc.prefix // under the test's prefix: cleaned up
				old.SetKeyPrefix(prefix)
			}
			old.SetSerializer(tc.old)
			body, legacy := gorillaGet(t, gorillaApp(old), "/login", nil)
			if body != "ok" || legacy == nil {
				t.Fatalf("redistore login: %q %v", body, legacy)
			}
			// Where redistore keeps it: prefix + the session id.
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(legacy)
			s, err := old.New(r, "app")
			if err != nil || s.IsNew {
				t.Fatalf("redistore does not read its own session back: %v", err)
			}
			key := prefix + s.ID
			t.Cleanup(func() { rdb.Del(context.Background(), key) })
			if rdb.Exists(ctx, key).Val() != 1 {
				t.Fatalf("no legacy key %s", key)
			}

			keyPrefix := "" // Migration's default, redistore's
			if tc.prefix != "" {
				keyPrefix = prefix
			}
			store := gorillaredis.NewStoreWithOptions(rdb, gorillaredis.Options{
				Core:       core.Options{Prefix: srv.Prefix},
				Serializer: tc.ours, // the app keeps JSON; gob could not hold the JSON cart (a map)
				Migrate: &gorillaredis.Migration{
					Until:      time.Now().Add(time.Hour),
					From:       gorillaredis.FromRediStore,
					KeyPairs:   gorillaOldKeys,
					KeyPrefix:  keyPrefix,
					Serializer: tc.ours,
				},
			}, gorillaNewKeys...)
			// The session id the legacy cookie signs, sent unsigned.
			unsigned := &http.Cookie{Name: "app", Value: s.ID}
			gone := func() bool { return gorillaLegacyEnded(t, rdb, key) }
			if tc.ours != nil {
				// The JSON values of the legacy session: numbers are float64,
				// the cart a map.
				checkJSONSwap(t, store, legacy, gone, unsigned)
				return
			}
			gorillaCheckSwap(t, store, legacy, gone, unsigned)
		})
	}
}

// checkJSONSwap is gorillaCheckSwap for a legacy JSONSerializer: the values
// come back as encoding/json gives them.
func checkJSONSwap(t *testing.T, store *gorillaredis.Store, old *http.Cookie, legacyGone func() bool, forged ...*http.Cookie) {
	t.Helper()
	app := gorillaApp(store)
	for _, f := range append(forged, gorillaTamper(old)) {
		if body, _ := gorillaGet(t, app, "/show", f); body != "" || legacyGone() {
			t.Fatalf("a forged legacy cookie %q gave %q", f.Value, body)
		}
	}
	const want = "cart=map[Items:[apple] Total:3] n=1 user_id=alice"
	body, ours := gorillaGet(t, app, "/show", old)
	if body != want || ours == nil {
		t.Fatalf("after the swap: %q (cookie %v), want %q", body, ours, want)
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
	if body, _ := gorillaGet(t, app, "/show", old); body != "" {
		t.Fatalf("the adopted legacy cookie, sent again, gave %q", body)
	}
}
