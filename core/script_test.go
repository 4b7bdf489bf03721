package core_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/redisession/redisession/core"
)

// flushScripts empties the server's script cache, as a restart or a
// failover to a node that never ran the scripts does. On a real server it
// runs only with REDISESSION_SCRIPT_FLUSH=1: it flushes every client's
// scripts, not only this test's.
func (f *fixture) flushScripts(t *testing.T) {
	t.Helper()
	if f.srv.Real() && os.Getenv("REDISESSION_SCRIPT_FLUSH") != "1" {
		t.Skip("flushing a shared server's scripts: set REDISESSION_SCRIPT_FLUSH=1 to run it there")
	}
	if err := f.raw.ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
}

// TestScriptsBySHA: a store sends a script whole once, then by its SHA.
func TestScriptsBySHA(t *testing.T) {
	f := newFixture(t, core.Options{})
	f.login(t, "u1", "first")
	f.count.Reset()
	f.login(t, "u1", "second")
	// On Cluster the second session may live on a node that has not seen
	// the script yet: NOSCRIPT, then EVAL, once per node.
	cmds := f.count.Commands()
	if cmds["evalsha"] == 0 || (cmds["eval"] != 0 && f.srv.Kind != "cluster") {
		t.Errorf("second login sent %v, want EVALSHA and no EVAL", cmds)
	}
}

// TestScriptCacheLost: every operation that runs a script still does what
// it must after the server lost its scripts (NOSCRIPT, then EVAL), and a
// conditional write is still refused where its condition fails: the retry
// checks it anew.
func TestScriptCacheLost(t *testing.T) {
	ctx := context.Background()
	layoutModes(t, core.Options{}, func(t *testing.T, f *fixture) {
		// Every script sent once, so the store uses EVALSHA from here on.
		warm, err := f.store.Load(ctx, f.login(t, "warm", "w").Token())
		if err != nil {
			t.Fatal(err)
		}
		warm.Data = []byte("changed")
		if err := f.store.Save(ctx, warm); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Renew(ctx, warm); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.UserSessions(ctx, "warm"); err != nil {
			t.Fatal(err)
		}
		if err := f.store.RevokeSession(ctx, "warm", warm.Handle()); err != nil {
			t.Fatal(err)
		}
		f.login(t, "warm", "w2")
		if _, err := f.store.RevokeUser(ctx, "warm"); err != nil {
			t.Fatal(err)
		}

		f.flushScripts(t)
		f.count.Reset()
		x := f.login(t, "u1", "login")
		if !f.ordered() && f.count.RoundTrips() != 2 {
			t.Errorf("login after a script flush: %d round trips, want 2 (NOSCRIPT, EVAL): %v", f.count.RoundTrips(), f.count.Commands())
		}
		if !f.alive(t, x.Token()) || !f.indexed(t, "u1", x.Handle()) {
			t.Fatalf("login after a script flush: alive %v, indexed %v", f.alive(t, x.Token()), f.indexed(t, "u1", x.Handle()))
		}

		f.flushScripts(t)
		loaded, err := f.store.Load(ctx, x.Token())
		if err != nil {
			t.Fatalf("load after a script flush: %v", err)
		}
		old := loaded.Token()
		f.flushScripts(t)
		if err := f.store.Renew(ctx, loaded); err != nil {
			t.Fatalf("renew after a script flush: %v", err)
		}
		if f.alive(t, old) || !f.alive(t, loaded.Token()) || !f.indexed(t, "u1", loaded.Handle()) {
			t.Errorf("renew after a script flush: old alive %v, new alive %v, indexed %v",
				f.alive(t, old), f.alive(t, loaded.Token()), f.indexed(t, "u1", loaded.Handle()))
		}

		// A stale update after a revoke: refused by the EVAL that stands in
		// for the EVALSHA, as it would have been by the EVALSHA.
		stale, err := f.store.Load(ctx, loaded.Token())
		if err != nil {
			t.Fatal(err)
		}
		f.login(t, "u1", "b")
		f.login(t, "u1", "c")
		f.flushScripts(t)
		if n, err := f.store.RevokeUser(ctx, "u1"); n != 3 || err != nil {
			t.Errorf("RevokeUser after a script flush = %d, %v; want 3", n, err)
		}
		f.flushScripts(t)
		stale.Data, stale.Fields = []byte("late"), map[string][]byte{"a": []byte("late")}
		if err := f.store.Save(ctx, stale); !errors.Is(err, core.ErrNotFound) || f.alive(t, stale.Token()) {
			t.Errorf("a revoked session's save after a script flush = %v, alive %v; want ErrNotFound, dead", err, f.alive(t, stale.Token()))
		}

		// A renewal in two calls, the cache lost before each.
		y, err := f.store.Load(ctx, f.login(t, "u2", "y").Token())
		if err != nil {
			t.Fatal(err)
		}
		f.flushScripts(t)
		if err := f.store.Retire(ctx, y); err != nil {
			t.Fatalf("retire after a script flush: %v", err)
		}
		succ, err := f.store.Successor(y, core.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		f.flushScripts(t)
		if err := f.store.Save(ctx, succ); err != nil {
			t.Fatalf("successor's save after a script flush: %v", err)
		}
		if !f.alive(t, succ.Token()) || !f.indexed(t, "u2", succ.Handle()) || f.alive(t, y.Token()) {
			t.Errorf("renewal in two calls after a script flush: successor alive %v, indexed %v; old alive %v",
				f.alive(t, succ.Token()), f.indexed(t, "u2", succ.Handle()), f.alive(t, y.Token()))
		}
		f.flushScripts(t)
		if err := f.store.RevokeSession(ctx, "u2", succ.Handle()); err != nil || f.alive(t, succ.Token()) {
			t.Errorf("RevokeSession after a script flush = %v, alive %v", err, f.alive(t, succ.Token()))
		}
		for _, k := range f.srv.Keys(t, f.raw) {
			if ttl := f.pttl(t, k); ttl <= 0 {
				t.Errorf("%s left without a TTL (%v)", k, ttl)
			}
		}
	})
}
