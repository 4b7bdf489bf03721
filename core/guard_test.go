package core_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/redisession/redisession/core"
)

// guardFixture is a store with the eviction guard on an embedded Redis,
// which refuses INFO memory: its settings cannot be read, so the guard
// treats it as a server that may evict. On a real server the eviction
// policy decides; systest/faults runs the guard against each policy.
func guardFixture(t *testing.T, mode core.Eviction) *fixture {
	t.Helper()
	f := newFixture(t, core.Options{Eviction: mode})
	if f.srv.Real() {
		t.Skip("a real server's eviction policy decides the guard: systest/faults tests it per policy")
	}
	return f
}

// TestEvictionRefuse: on a server that may evict, the store refuses to
// serve sessions, but still ends them.
func TestEvictionRefuse(t *testing.T) {
	ctx := context.Background()
	plain := guardFixture(t, core.EvictionReport)
	x := plain.login(t, "u1", "phone")
	f := &fixture{srv: plain.srv, count: plain.count, raw: plain.raw,
		store: core.New(plain.srv.NewClient(t, plain.count), core.Options{Prefix: plain.srv.Prefix, Now: plain.srv.Now, Eviction: core.EvictionRefuse})}

	if _, err := f.store.Load(ctx, x.Token()); !errors.Is(err, core.ErrUnsafeServer) {
		t.Errorf("load: %v, want ErrUnsafeServer", err)
	}
	if _, err := f.store.Peek(ctx, x.Token()); !errors.Is(err, core.ErrUnsafeServer) {
		t.Errorf("peek: %v, want ErrUnsafeServer", err)
	}
	y := f.store.NewSession(core.Device{})
	y.UserID = "u1"
	if err := f.store.Save(ctx, y); !errors.Is(err, core.ErrUnsafeServer) {
		t.Errorf("login: %v, want ErrUnsafeServer", err)
	}
	x.Data = []byte("changed")
	if err := f.store.Save(ctx, x); !errors.Is(err, core.ErrUnsafeServer) {
		t.Errorf("save: %v, want ErrUnsafeServer", err)
	}
	if err := f.store.Renew(ctx, x); !errors.Is(err, core.ErrUnsafeServer) {
		t.Errorf("renew: %v, want ErrUnsafeServer", err)
	}
	if keys := plain.srv.Keys(t, plain.raw); len(keys) != 2 {
		t.Errorf("keys after refused writes: %v, want the one session and its index", keys)
	}
	if got, err := plain.store.Load(ctx, x.Token()); err != nil || string(got.Data) != "payload of phone" {
		t.Errorf("the session after refused writes: %v %v, want it unchanged", got, err)
	}
	if n, err := f.store.RevokeUser(ctx, "u1"); err != nil || n != 1 {
		t.Errorf("revoke under refusal: %d %v, want 1 session ended", n, err)
	}
}

// TestEvictionFailClosed: on a server that may evict, a bound session
// whose index entry is gone (as an eviction of the index leaves it) is not
// honoured and is deleted; one its index lists loads, for one more round
// trip; an anonymous session loads as before.
func TestEvictionFailClosed(t *testing.T) {
	ctx := context.Background()
	f := guardFixture(t, core.EvictionFailClosed)
	x := f.login(t, "u1", "phone")
	anon := f.store.NewSession(core.Device{})
	anon.Data = []byte("cart")
	if err := f.store.Save(ctx, anon); err != nil {
		t.Fatal(err)
	}

	f.store.Load(ctx, x.Token()) // the guard's first read of the server
	f.count.Reset()
	if _, err := f.store.Load(ctx, x.Token()); err != nil {
		t.Fatalf("indexed session: %v", err)
	}
	if got := f.count.RoundTrips(); got != 2 {
		t.Errorf("bound load: %d round trips, want 2 (the read and its index entry)", got)
	}
	f.count.Reset()
	if _, err := f.store.Load(ctx, anon.Token()); err != nil {
		t.Fatalf("anonymous session: %v", err)
	}
	if got := f.count.RoundTrips(); got != 1 {
		t.Errorf("anonymous load: %d round trips, want 1", got)
	}

	if err := f.raw.Del(ctx, f.store.IndexKey("u1")).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Load(ctx, x.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("session whose index is gone: %v, want ErrNotFound", err)
	}
	if n, _ := f.raw.Exists(ctx, f.store.SessionKey(x.Handle())).Result(); n != 0 {
		t.Errorf("the unindexed session's key is still there")
	}
	if _, err := f.store.Load(ctx, anon.Token()); err != nil {
		t.Errorf("anonymous session after the index went: %v", err)
	}

	// An entry removed by itself (the index is still there) is the same.
	y := f.login(t, "u2", "laptop")
	z := f.login(t, "u2", "tablet")
	if err := f.raw.ZRem(ctx, f.store.IndexKey("u2"), y.Handle()).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Load(ctx, y.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("session missing from its index: %v, want ErrNotFound", err)
	}
	if _, err := f.store.Load(ctx, z.Token()); err != nil {
		t.Errorf("its sibling, still listed: %v", err)
	}
}

// TestEvictionFailClosedKeepsEverySession: under the guard no live,
// listed session is ever refused: logins, renewals (in one call and in
// two), user changes, revoke-others and listings, each checked by loading
// every session that should be alive.
func TestEvictionFailClosedKeepsEverySession(t *testing.T) {
	ctx := context.Background()
	f := guardFixture(t, core.EvictionFailClosed)
	for _, ordered := range []bool{false, true} {
		store := f.store
		if ordered {
			store = core.Ordered(core.New(f.srv.NewClient(t, nil), f.store.Options()))
		}
		load := func(what string, x *core.Session) *core.Session {
			t.Helper()
			y, err := store.Load(ctx, x.Token())
			if err != nil {
				t.Fatalf("ordered %v: %s: %v", ordered, what, err)
			}
			return y
		}
		a := store.NewSession(core.Device{UserAgent: "a"})
		a.UserID = "v1"
		if err := store.Save(ctx, a); err != nil {
			t.Fatal(err)
		}
		b := store.NewSession(core.Device{UserAgent: "b"})
		b.UserID = "v1"
		if err := store.Save(ctx, b); err != nil {
			t.Fatal(err)
		}
		a = load("login", a)
		if err := store.Renew(ctx, a); err != nil {
			t.Fatal(err)
		}
		a = load("renewed", a)
		if err := store.Retire(ctx, a); err != nil {
			t.Fatal(err)
		}
		succ, err := store.Successor(a, core.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		if err := store.Save(ctx, succ); err != nil {
			t.Fatal(err)
		}
		succ = load("successor", succ)
		succ.UserID = "v2"
		if err := store.Save(ctx, succ); err != nil {
			t.Fatal(err)
		}
		succ = load("moved to another user", succ)
		b = load("sibling", b)
		if _, err := store.UserSessions(ctx, "v1"); err != nil {
			t.Fatal(err)
		}
		if _, err := store.RevokeOthers(ctx, "v2", succ.Handle()); err != nil {
			t.Fatal(err)
		}
		load("kept by revoke-others", succ)
		load("sibling after listing", b)
	}
}

// TestEvictionGuardConcurrent: requests that arrive together while the
// guard reads the server for the first time all get an answer, and a
// listed session loads for every one of them (run with -race).
func TestEvictionGuardConcurrent(t *testing.T) {
	plain := guardFixture(t, core.EvictionReport)
	x := plain.login(t, "u1", "phone")
	for _, mode := range []core.Eviction{core.EvictionFailClosed, core.EvictionRefuse} {
		store := core.New(plain.srv.NewClient(t, nil), core.Options{Prefix: plain.srv.Prefix, Now: plain.srv.Now, Eviction: mode})
		var wg sync.WaitGroup
		errs := make(chan error, 32)
		for i := 0; i < 32; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := store.Load(context.Background(), x.Token())
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if mode == core.EvictionFailClosed && err != nil {
				t.Errorf("fail-closed, concurrent first loads: %v", err)
			}
			if mode == core.EvictionRefuse && !errors.Is(err, core.ErrUnsafeServer) {
				t.Errorf("refuse, concurrent first loads: %v, want ErrUnsafeServer", err)
			}
		}
	}
}
