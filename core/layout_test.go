package core_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redisession/redisession/core"
)

func hashFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixture(t, core.Options{Layout: core.LayoutHash})
}

func TestHashLayoutFieldLevelSaves(t *testing.T) {
	ctx := context.Background()
	f := hashFixture(t)
	x := f.store.NewSession(core.Device{UserAgent: "ua", RemoteAddr: "addr"})
	x.UserID = "u1"
	x.Fields = map[string][]byte{"a": []byte("1"), "b": []byte("2"), "user_id": []byte("u1")}
	f.count.Reset()
	if err := f.store.Save(ctx, x); err != nil {
		t.Fatal(err)
	}
	if rt := f.count.RoundTrips(); rt != 1 && f.srv.Kind != "cluster" {
		t.Errorf("login in the hash layout: %d round trips, want 1", rt)
	}
	key := f.store.SessionKey(x.Handle())
	if typ := f.raw.Type(ctx, key).Val(); typ != "hash" {
		t.Fatalf("%s is a %s, want a hash", key, typ)
	}

	// Two requests of the session in flight at once.
	f.count.Reset()
	r1, err := f.store.Load(ctx, x.Token())
	if err != nil {
		t.Fatal(err)
	}
	if rt := f.count.RoundTrips(); rt != 1 {
		t.Errorf("sliding read in the hash layout: %d round trips, want 1", rt)
	}
	r2, _ := f.store.Load(ctx, x.Token())
	r1.Fields["a"] = []byte("changed by r1")
	delete(r1.Fields, "b")
	r2.Fields["c"] = []byte("added by r2")
	f.count.Reset()
	if err := f.store.Save(ctx, r1); err != nil {
		t.Fatal(err)
	}
	if err := f.store.Save(ctx, r2); err != nil {
		t.Fatal(err)
	}
	if rt := f.count.RoundTrips(); rt != 2 {
		t.Errorf("two changed saves: %d round trips, want 2", rt)
	}
	got := f.raw.HGetAll(ctx, key).Val()
	if got["a"] != "changed by r1" || got["c"] != "added by r2" || got["user_id"] != "u1" {
		t.Errorf("after two concurrent saves the hash holds %q; want both changes", got)
	}
	if _, ok := got["b"]; ok {
		t.Errorf("field b deleted by r1 is still there (as %q): deletions must be HDEL, not a tombstone", got["b"])
	}
	if ttl := f.pttl(t, key); ttl <= 0 {
		t.Errorf("%s TTL %v after field saves", key, ttl)
	}

	// Unchanged: nothing sent.
	r3, _ := f.store.Load(ctx, x.Token())
	f.count.Reset()
	if err := f.store.Save(ctx, r3); err != nil || f.count.RoundTrips() != 0 {
		t.Errorf("unchanged save: %d round trips, %v; want 0", f.count.RoundTrips(), err)
	}

	// The index and listing see hash sessions.
	list, err := f.store.UserSessions(ctx, "u1")
	if err != nil || len(list) != 1 || list[0].UserAgent != "ua" {
		t.Errorf("UserSessions in the hash layout = %+v, %v", list, err)
	}
	if info, err := f.store.Inspect(ctx, x.Handle()); err != nil || info.UserID != "u1" {
		t.Errorf("Inspect in the hash layout = %+v, %v", info, err)
	}

	// No resurrection: revoke, then a request in flight writes one field.
	if _, err := f.store.RevokeUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	r3.Fields["late"] = []byte("x")
	if err := f.store.Save(ctx, r3); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("save after revoke in the hash layout: %v, want ErrNotFound", err)
	}
	if n := f.raw.Exists(ctx, key).Val(); n != 0 {
		t.Errorf("a field save re-created a revoked session: %q", f.raw.HGetAll(ctx, key).Val())
	}
}

func TestHashLayoutRenewAndLimits(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{Layout: core.LayoutHash, MaxRecordSize: 1024})
	x := f.store.NewSession(core.Device{})
	x.Fields = map[string][]byte{"cart": []byte("3 apples")}
	if err := f.store.Save(ctx, x); err != nil {
		t.Fatal(err)
	}
	old := x.Token()
	if err := f.store.Renew(ctx, x); err != nil {
		t.Fatal(err)
	}
	y, err := f.store.Load(ctx, x.Token())
	if err != nil || string(y.Fields["cart"]) != "3 apples" {
		t.Fatalf("renewed hash session: %+v, %v", y, err)
	}
	if _, err := f.store.Load(ctx, old); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("old token after renew: %v", err)
	}
	y.Fields["big"] = []byte(strings.Repeat("x", 2000))
	if err := f.store.Save(ctx, y); !errors.Is(err, core.ErrTooLarge) {
		t.Errorf("oversized hash save: %v, want ErrTooLarge", err)
	}
	delete(y.Fields, "big")
	y.Fields["\x00evil"] = []byte("x")
	if err := f.store.Save(ctx, y); !errors.Is(err, core.ErrFieldName) {
		t.Errorf("field named like the metadata: %v, want ErrFieldName", err)
	}
	if z, err := f.store.Load(ctx, x.Token()); err != nil || len(z.Fields) != 1 {
		t.Errorf("refused saves changed the session: %+v, %v", z, err)
	}
	// A string-layout store reads a hash session as a miss, and vice versa:
	// never an error, never a change.
	str := core.New(f.raw, core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now})
	if _, err := str.Load(ctx, x.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("string layout loading a hash session: %v, want a miss", err)
	}
	s := str.NewSession(core.Device{})
	s.Data = []byte("string session")
	if err := str.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	before := f.pttl(t, str.SessionKey(s.Handle()))
	f.srv.Advance(time.Second)
	if _, err := f.store.Load(ctx, s.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("hash layout loading a string session: %v, want a miss", err)
	}
	if after := f.pttl(t, str.SessionKey(s.Handle())); after > before {
		t.Errorf("a miss slid the other layout's key (%v → %v)", before, after)
	}
}

// BenchmarkMemoryPerSession measures Redis memory per session, index
// included (one user per session: the index's worst case), for both
// layouts, with a ~1 KB session of 8 values (real server only: miniredis
// does not account memory). Run it with -benchtime 2000x or more: b.N is
// the number of sessions created.
func BenchmarkMemoryPerSession(b *testing.B) {
	for _, c := range []struct {
		name string
		opts core.Options
	}{
		{"string", core.Options{}},
		{"string-uncompressed", core.Options{CompressAbove: -1}},
		{"hash", core.Options{Layout: core.LayoutHash}},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, c.opts)
			if !f.srv.Real() || f.srv.Kind != "redis" {
				b.Skip("needs REDIS_ADDR (a real single node)")
			}
			ctx := context.Background()
			used := func() int64 {
				info := f.raw.Info(ctx, "memory").Val()
				for _, line := range strings.Split(info, "\r\n") {
					if v, ok := strings.CutPrefix(line, "used_memory:"); ok {
						x, _ := strconv.ParseInt(v, 10, 64)
						return x
					}
				}
				return 0
			}
			b.ReportAllocs()
			before := used()
			for j := 0; j < b.N; j++ {
				x := f.store.NewSession(core.Device{UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0", RemoteAddr: "203.0.113.9:51234"})
				x.UserID = "user" + strconv.Itoa(j)
				p := realisticPayload(j)
				x.Fields = map[string][]byte{}
				for k := 0; k < 8; k++ {
					x.Fields["k"+strconv.Itoa(k)] = p[k*len(p)/8 : (k+1)*len(p)/8]
				}
				x.Data = p
				if err := f.store.Save(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(used()-before)/float64(b.N), "used_memory/session")
			var keys int64
			for _, k := range f.srv.Keys(b, f.raw) {
				keys += f.raw.MemoryUsage(ctx, k).Val()
			}
			b.ReportMetric(float64(keys)/float64(b.N), "key_bytes/session")
		})
	}
}
