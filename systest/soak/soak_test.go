package soak_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

const (
	sessionsN = 10_000
	clients   = 64
	users     = 2_500 // four sessions per user once all have logged in
	cookie    = "__Host-session"
)

type reply struct {
	Value string `json:"value"`
	Found bool   `json:"found"`
	User  string `json:"user"`
	N     int    `json:"n"`
}

// app is the soak's application over a gorillaredis store.
func app(store *gorillaredis.Store) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, cookie)
		if err != nil {
			http.Error(w, "load: "+err.Error(), http.StatusInternalServerError)
			return
		}
		q := r.URL.Query()
		var out reply
		switch r.URL.Path {
		case "/read":
		case "/write":
			s.Values["v"] = q.Get("v")
		case "/login":
			if err = store.Login(r, s, q.Get("user")); errors.Is(err, core.ErrNotFound) {
				// Revoked by another client while this request ran: it
				// stays ended, and Save tells the browser so.
				err, out.N = nil, -1
			}
		case "/logout":
			s.Options.MaxAge = -1
		case "/devices":
			var list []core.SessionInfo
			list, err = store.Sessions(r, s)
			out.N = len(list)
		case "/revoke-others":
			if store.UserID(r, s) != "" {
				out.N, err = store.RevokeOthers(r, s)
			}
		case "/revoke-user":
			out.N, err = store.RevokeUser(r.Context(), q.Get("user"))
		default:
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, r.URL.Path+": "+err.Error(), http.StatusInternalServerError)
			return
		}
		v, found := s.Values["v"].(string)
		out.Value, out.Found = v, found
		out.User = store.UserID(r, s)
		if err := s.Save(r, w); err != nil {
			http.Error(w, "save: "+err.Error(), http.StatusInternalServerError)
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	})
}

// slot is one browser: its cookie and the value it last wrote.
type slot struct {
	mu     sync.Mutex
	cookie string
	last   string
}

type soak struct {
	t        *testing.T
	ts       *httptest.Server
	hc       *http.Client
	slots    []slot
	requests atomic.Int64
	errors   atomic.Int64
	raced    atomic.Int64 // logins whose session was revoked while they ran
	ops      sync.Map     // op -> *atomic.Int64
	errMu    sync.Mutex
	errMsgs  []string
}

func (s *soak) fail(format string, args ...interface{}) {
	s.errors.Add(1)
	s.errMu.Lock()
	if len(s.errMsgs) < 10 {
		s.errMsgs = append(s.errMsgs, fmt.Sprintf(format, args...))
	}
	s.errMu.Unlock()
}

// do sends path for slot i and keeps the slot's cookie and value in step.
func (s *soak) do(i int, op, path string) {
	sl := &s.slots[i]
	sl.mu.Lock()
	defer sl.mu.Unlock()
	req, _ := http.NewRequest("POST", s.ts.URL+path, nil)
	if sl.cookie != "" {
		req.Header.Set("Cookie", cookie+"="+sl.cookie)
	}
	s.requests.Add(1)
	c, _ := s.ops.LoadOrStore(op, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	res, err := s.hc.Do(req)
	if err != nil {
		s.fail("%s: %v", path, err)
		return
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		s.fail("%s: status %d: %s", path, res.StatusCode, strings.TrimSpace(string(body)))
		return
	}
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		s.fail("%s: %v", path, err)
		return
	}
	// What the handler saw before its write: a found value must be the
	// slot's last write (never another session's, never a revoked one's).
	if op == "read" && r.Found && r.Value != sl.last {
		s.fail("%s: read %q, last wrote %q", path, r.Value, sl.last)
	}
	for _, ck := range res.Cookies() {
		if ck.Name != cookie {
			continue
		}
		if ck.MaxAge < 0 || ck.Value == "" {
			sl.cookie, sl.last = "", ""
		} else {
			sl.cookie = ck.Value
		}
	}
	if op == "write" && sl.cookie != "" {
		sl.last = req.URL.Query().Get("v")
	}
	if op == "logout" {
		sl.last = ""
	}
	if op == "login" && r.N == -1 {
		s.raced.Add(1)
	}
}

// TestSoak: 10K sessions, 64 concurrent clients for 30 s of reads, writes,
// logins, logouts, device lists and revocations through gorillaredis over
// HTTP against the Redis at REDIS_ADDR. Zero errors; afterwards a SCAN of
// the test's keys finds no key without a TTL, no index member without its
// session (nothing expires during the run: IdleTimeout 30 min, Lifetime
// 24 h, so a member without a session could only be a leak), no member
// past its deadline, and no bound session missing from its user's index.
func TestSoak(t *testing.T) {
	addr := os.Getenv("REDIS_ADDR")
	if addr == "" || os.Getenv("REDISESSION_SOAK") != "1" {
		t.Skip("set REDIS_ADDR and REDISESSION_SOAK=1 to run the soak")
	}
	duration := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("REDISESSION_SOAK_DURATION")); err == nil {
		duration = d
	}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 2 * clients})
	defer rdb.Close()
	prefix := "soak:" + randomHex(6) + ":"
	defer deleteAll(t, rdb, prefix)

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	store := gorillaredis.NewStoreWithOptions(rdb, gorillaredis.Options{Core: core.Options{Prefix: prefix}}, key)
	ts := httptest.NewServer(app(store))
	defer ts.Close()
	tr := &http.Transport{MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients}
	defer tr.CloseIdleConnections()
	s := &soak{t: t, ts: ts, hc: &http.Client{Transport: tr, Timeout: 10 * time.Second}, slots: make([]slot, sessionsN)}

	// Create the 10K sessions.
	var wg sync.WaitGroup
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < sessionsN; i += clients {
				s.do(i, "write", "/write?v=init"+strconv.Itoa(i))
			}
		}(w)
	}
	wg.Wait()
	if n := s.errors.Load(); n != 0 {
		t.Fatalf("creating %d sessions: %d errors: %q", sessionsN, n, s.errMsgs)
	}
	created := s.requests.Load()

	start := time.Now()
	deadline := start.Add(duration)
	for w := 0; w < clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := mrand.New(mrand.NewSource(int64(w)))
			for n := 0; time.Now().Before(deadline); n++ {
				i := rnd.Intn(sessionsN)
				user := "u" + strconv.Itoa(i%users)
				switch p := rnd.Intn(100); {
				case p < 55:
					s.do(i, "read", "/read")
				case p < 75:
					s.do(i, "write", "/write?v="+strconv.Itoa(w)+"-"+strconv.Itoa(n))
				case p < 85:
					s.do(i, "login", "/login?user="+user)
				case p < 90:
					s.do(i, "logout", "/logout")
				case p < 95:
					s.do(i, "devices", "/devices")
				case p < 98:
					s.do(i, "revoke-others", "/revoke-others")
				default:
					s.do(i, "revoke-user", "/revoke-user?user=u"+strconv.Itoa(rnd.Intn(users)))
				}
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	total := s.requests.Load() - created
	var mix []string
	s.ops.Range(func(k, v interface{}) bool {
		mix = append(mix, fmt.Sprintf("%s %d", k, v.(*atomic.Int64).Load()))
		return true
	})
	t.Logf("soak: %d sessions, %d clients, %v: %d requests, %.0f requests/s, %d errors", sessionsN, clients, elapsed.Round(time.Millisecond), total, float64(total)/elapsed.Seconds(), s.errors.Load())
	t.Logf("soak: requests by kind (creation included): %s; %d logins found their session revoked while they ran", strings.Join(mix, ", "), s.raced.Load())
	if n := s.errors.Load(); n != 0 {
		t.Errorf("%d errors, first ones: %q", n, s.errMsgs)
	}

	// The keyspace afterwards.
	now := time.Now().UnixMilli()
	var sessionKeys, indexKeys, noTTL, dangling, pastDeadline, unindexed int
	var handles []string
	it := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		k := it.Val()
		// PTTL -1: no expiry (-2: expired meanwhile).
		if ttl, err := rdb.PTTL(ctx, k).Result(); err != nil {
			t.Fatal(err)
		} else if ttl == -1 {
			noTTL++
			t.Errorf("%s has no TTL", k)
		}
		switch {
		case strings.HasPrefix(k, prefix+"session:"):
			sessionKeys++
			handles = append(handles, strings.TrimPrefix(k, prefix+"session:"))
		case strings.HasPrefix(k, prefix+"user_sessions:"):
			indexKeys++
			members, err := rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			exists := make([]*redis.IntCmd, len(members))
			_, err = rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, m := range members {
					exists[i] = p.Exists(ctx, prefix+"session:"+m.Member.(string))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range members {
				if int64(m.Score) <= now {
					pastDeadline++
				}
				if exists[i].Val() == 0 {
					dangling++
					if dangling <= 5 {
						t.Errorf("%s: member %s points at no session", k, m.Member)
					}
				}
			}
		}
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	for _, h := range handles {
		info, err := store.Core().Inspect(ctx, h)
		if err != nil || info.UserID == "" {
			continue
		}
		if err := rdb.ZScore(ctx, store.Core().IndexKey(info.UserID), h).Err(); err != nil {
			unindexed++
			if unindexed <= 5 {
				t.Errorf("session %s of %s is not in its user's index: %v", h, info.UserID, err)
			}
		}
	}
	t.Logf("soak: afterwards %d session keys, %d index keys: %d keys without a TTL, %d index members without a session, %d members past their deadline, %d bound sessions outside their index",
		sessionKeys, indexKeys, noTTL, dangling, pastDeadline, unindexed)
	if pastDeadline != 0 {
		t.Errorf("%d index members past their deadline", pastDeadline)
	}
	t.Logf("soak: core counters %+v", store.Core().Counters())
}

func deleteAll(t *testing.T, rdb *redis.Client, prefix string) {
	ctx := context.Background()
	it := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	for len(keys) > 0 {
		n := len(keys)
		if n > 500 {
			n = 500
		}
		if err := rdb.Del(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("cleanup: %v", err)
			return
		}
		keys = keys[n:]
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

var _ sessions.Store = (*gorillaredis.Store)(nil)
