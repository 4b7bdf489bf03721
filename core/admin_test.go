package core_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

func TestStats(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	for u := 0; u < 7; u++ {
		for d := 0; d < 3; d++ {
			f.login(t, "user"+strconv.Itoa(u), "d"+strconv.Itoa(d))
		}
	}
	anon := f.store.NewSession(core.Device{})
	anon.Data = []byte("anonymous cart")
	if err := f.store.Save(ctx, anon); err != nil {
		t.Fatal(err)
	}
	// A session of the hash layout, bound, and a tombstone (not a session).
	opts := f.store.Options()
	opts.Layout = core.LayoutHash
	hx := core.New(f.raw, opts).NewSession(core.Device{})
	hx.UserID, hx.Fields = "user0", map[string][]byte{"k": []byte("v")}
	if err := core.New(f.raw, opts).Save(ctx, hx); err != nil {
		t.Fatal(err)
	}
	tomb := f.store.SessionKey(f.store.NewSession(core.Device{}).Handle())
	if err := f.raw.RPush(ctx, tomb, "revoked").Err(); err != nil {
		t.Fatal(err)
	}
	f.raw.PExpire(ctx, tomb, time.Hour)
	// Keys of another application sharing the Redis are not counted.
	f.raw.Set(ctx, "other:session:x", "1", 0)
	defer f.raw.Del(ctx, "other:session:x")

	var mu sync.Mutex
	var last int64
	calls := 0
	st, err := f.store.Stats(ctx, core.StatsOptions{Batch: 5, Sample: 4, Progress: func(n int64) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if n > last {
			last = n
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Sessions != 23 || st.Bound != 22 || st.Other != 1 || st.Users != 7 {
		t.Errorf("Stats: %d sessions (%d bound), %d other keys, %d users; want 23 (22 bound), 1, 7",
			st.Sessions, st.Bound, st.Other, st.Users)
	}
	if calls == 0 || (last != 31 && f.srv.Kind != "cluster") {
		t.Errorf("Stats: %d progress calls ending at %d keys, want ≥ 1 ending at 31", calls, last)
	}
	// miniredis before v2.3x answers go-redis's MEMORY usage with an error:
	// a server without the command, whose figures are unknown, not 0.
	if st.MemoryKnown != (st.Sampled > 0) || (f.srv.Kind != "miniredis" && !st.MemoryKnown) {
		t.Errorf("Stats: memory known %v with %d keys measured on %s", st.MemoryKnown, st.Sampled, f.srv.Kind)
	}
	if f.srv.Kind != "miniredis" { // miniredis' MEMORY USAGE is a guess
		if st.Sampled != 8 || st.SessionBytes < 22*100 || st.IndexBytes < 7*50 {
			t.Errorf("Stats: %d sampled, %d session bytes, %d index bytes: implausible", st.Sampled, st.SessionBytes, st.IndexBytes)
		}
	}
}

func TestInspectAndRevokeHandle(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	x := f.login(t, "u1", "curl/8")
	info, err := f.store.Inspect(ctx, x.Handle())
	if err != nil || info.UserID != "u1" || info.UserAgent != "curl/8" || info.Handle != x.Handle() {
		t.Fatalf("Inspect = %+v, %v", info, err)
	}
	if _, err := f.store.Inspect(ctx, x.Token()[:10]); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("Inspect(not a handle): %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeHandle(ctx, x.Handle()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Load(ctx, x.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("session survived RevokeHandle: %v", err)
	}
	if n := f.raw.ZCard(ctx, f.store.IndexKey("u1")).Val(); n != 0 {
		t.Errorf("index still has %d members after RevokeHandle", n)
	}
	if err := f.store.RevokeHandle(ctx, x.Handle()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("second RevokeHandle: %v, want ErrNotFound", err)
	}
	if c := f.store.Counters(); c.Revokes != 1 || c.Creates != 1 || c.Stale != 1 {
		t.Errorf("Counters = %+v, want 1 create, 1 revoke, 1 stale", c)
	}
}

// TestScanUsers: a walk of the user indexes finds every user with an index
// and counts only live sessions: not a revoke's bookkeeping, a retired
// session, a member past its deadline, or one whose session key is gone.
func TestScanUsers(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	a1 := f.login(t, "alice", "a1")
	f.login(t, "alice", "a2")
	f.login(t, "bob", "b1")
	if err := f.raw.Del(ctx, f.store.SessionKey(f.login(t, "carol", "c1").Handle())).Err(); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Retire(ctx, f.login(t, "erin", "e1")); err != nil {
		t.Fatal(err)
	}
	// alice's live session, listed under bob past its deadline.
	if err := f.raw.ZAdd(ctx, f.store.IndexKey("bob"), redis.Z{Score: 1, Member: a1.Handle()}).Err(); err != nil {
		t.Fatal(err)
	}
	// Another program's key under the index prefix.
	if err := f.raw.Set(ctx, f.store.IndexKey("zed"), "not an index", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}

	// ScanUsers walks one node: on Cluster, walk every primary, as the
	// CLI does.
	nodes := []redis.UniversalClient{f.raw}
	if cc, ok := f.raw.(*redis.ClusterClient); ok {
		var mu sync.Mutex
		nodes = nil
		if err := cc.ForEachMaster(ctx, func(_ context.Context, n *redis.Client) error {
			mu.Lock()
			nodes = append(nodes, n)
			mu.Unlock()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]int64{}
	for _, node := range nodes {
		var cursor uint64
		for batches := 0; ; batches++ {
			if batches > 100000 {
				t.Fatal("ScanUsers: the walk does not end")
			}
			users, next, err := f.store.ScanUsers(ctx, node, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				got[u.UserID] += u.Sessions
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	want := map[string]int64{"alice": 2, "bob": 1, "carol": 0, "erin": 0, "zed": 0}
	if len(got) != len(want) {
		t.Errorf("ScanUsers: %v; want %v", got, want)
	}
	for u, n := range want {
		if m, ok := got[u]; !ok || m != n {
			t.Errorf("ScanUsers: user %q has %d sessions (listed: %v); want %d", u, m, ok, n)
		}
	}
}
