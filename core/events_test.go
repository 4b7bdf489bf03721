package core_test

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
)

// recorder collects the events a store emits.
type recorder struct {
	mu  sync.Mutex
	got []core.Event
}

func (r *recorder) on(_ context.Context, e core.Event) {
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
}

// take returns the events since the last take, as "kind handle previous user".
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.got {
		if e.At.IsZero() {
			out = append(out, "no time")
		}
		out = append(out, strings.TrimSpace(e.Kind.String()+" "+e.Handle+" "+e.Previous+" "+e.UserID))
	}
	r.got = nil
	return out
}

func wantEvents(t *testing.T, r *recorder, what string, want ...string) {
	t.Helper()
	if got := r.take(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s: events\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEvents: every login, renewal, logout and revoke is one event per
// session, after it reached Redis, naming handles and never tokens; a save
// that changes no binding and a failed call are none.
func TestEvents(t *testing.T) {
	rec := &recorder{}
	f := newFixture(t, core.Options{OnEvent: rec.on})
	ctx := context.Background()

	a := f.login(t, "alice", "phone")
	wantEvents(t, rec, "login", "login "+a.Handle()+"  alice")
	a.Data = []byte("changed")
	if err := f.store.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "a save of the same user")

	old := a.Handle()
	if err := f.store.Renew(ctx, a); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "renew", "renew "+a.Handle()+" "+old+" alice")

	anon := f.store.NewSession(core.Device{UserAgent: "laptop"})
	anon.Data = []byte("x")
	if err := f.store.Save(ctx, anon); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "an anonymous save")
	anon.UserID = "bob"
	prev := anon.Handle()
	if err := f.store.Renew(ctx, anon); err != nil { // a login as gorilla's Login makes it
		t.Fatal(err)
	}
	wantEvents(t, rec, "login by renewal", "renew "+anon.Handle()+" "+prev+" bob", "login "+anon.Handle()+"  bob")

	if err := f.store.Delete(ctx, anon); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "logout", "logout "+anon.Handle()+"  bob")

	if err := f.store.RevokeSession(ctx, "alice", a.Handle()); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "revoke one", "revoke "+a.Handle()+"  alice")
	if err := f.store.RevokeSession(ctx, "alice", a.Handle()); err == nil {
		t.Fatal("a second revoke of one session succeeded")
	}
	wantEvents(t, rec, "a revoke that found nothing")

	var hs []string
	for _, ua := range []string{"a", "b", "c"} {
		hs = append(hs, f.login(t, "carol", ua).Handle())
	}
	rec.take()
	if n, err := f.store.RevokeUser(ctx, "carol"); err != nil || n != 3 {
		t.Fatalf("RevokeUser: %d, %v", n, err)
	}
	got := rec.take()
	if len(got) != 3 {
		t.Fatalf("revoke all: %d events %q, want 3", len(got), got)
	}
	for _, h := range hs {
		if !strings.Contains(strings.Join(got, " "), "revoke "+h+"  carol") {
			t.Errorf("revoke all: no event for %s in %q", h, got)
		}
	}

	// scs's renewal: Retire, then the successor's save under scs's token.
	d := f.login(t, "dave", "tablet")
	rec.take()
	if err := f.store.Retire(ctx, d); err != nil {
		t.Fatal(err)
	}
	next, err := f.store.Successor(d, core.NewToken())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.Save(ctx, next); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "retire and succeed", "logout "+d.Handle()+"  dave", "renew "+next.Handle()+" "+d.Handle()+" dave")

	tok := next.Token()
	if err := f.store.DeleteToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "delete by token", "logout "+next.Handle()+"  dave")

	anon2 := f.store.NewSession(core.Device{})
	anon2.Data = []byte("y")
	if err := f.store.Save(ctx, anon2); err != nil {
		t.Fatal(err)
	}
	if err := f.store.RevokeHandle(ctx, anon2.Handle()); err != nil {
		t.Fatal(err)
	}
	wantEvents(t, rec, "revoke an anonymous session by handle", "revoke "+anon2.Handle())

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, e := range rec.got {
		if strings.Contains(e.Handle+e.Previous, tok) {
			t.Errorf("an event carries a token: %+v", e)
		}
	}
}

// ended waits for ch to close, failing after a bound that only a lost
// message can reach (it is no timing assertion: delivery takes
// milliseconds).
func ended(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: the watched connection was not ended", what)
	}
}

func stillOpen(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Fatalf("%s: a live session's connection was ended", what)
	default:
	}
}

// TestBroadcast: with Broadcast, every call that ends sessions publishes
// their handles on EndedChannel, a thousand at most to a message, and a
// Watcher of another store (another instance of the app) ends their
// connections from the message alone.
func TestBroadcast(t *testing.T) {
	f := newFixture(t, core.Options{Broadcast: true})
	ctx := context.Background()
	sub := f.raw.Subscribe(ctx, f.store.EndedChannel())
	if f.srv.Kind == "cluster" {
		sub = f.raw.SSubscribe(ctx, f.store.EndedChannel())
	}
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil { // the subscription
		t.Fatal(err)
	}
	next := func() []string {
		t.Helper()
		for {
			// A bound only a missing message reaches.
			msg, err := sub.ReceiveTimeout(ctx, 20*time.Second)
			if err != nil {
				t.Fatalf("no message: %v", err)
			}
			if m, ok := msg.(*redis.Message); ok {
				return strings.Fields(m.Payload)
			}
		}
	}
	a := f.login(t, "alice", "phone")
	if err := f.store.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := next(); len(got) != 1 || got[0] != a.Handle() {
		t.Fatalf("logout published %q, want %s", got, a.Handle())
	}
	b := f.login(t, "alice", "laptop")
	old := b.Handle()
	if err := f.store.Renew(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := next(); len(got) != 1 || got[0] != old {
		t.Fatalf("renew published %q, want the old handle %s", got, old)
	}
	const many = 1001
	want := map[string]bool{}
	for i := 0; i < many; i++ {
		want[f.login(t, "bob", "d").Handle()] = true
	}
	if n, err := f.store.RevokeUser(ctx, "bob"); err != nil || n != many {
		t.Fatalf("RevokeUser: %d, %v", n, err)
	}
	first, second := next(), next()
	if len(first) != 1000 || len(second) != 1 {
		t.Fatalf("revoking %d sessions published messages of %d and %d handles, want 1000 and 1", many, len(first), len(second))
	}
	for _, h := range append(first, second...) {
		if !want[h] {
			t.Fatalf("published %s, not one of bob's", h)
		}
		delete(want, h)
	}

	// Another instance: its own store and watcher, checking only hourly,
	// so only the message can end the connection now.
	other := core.New(f.srv.NewClient(t, nil), core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now})
	w := other.Watch(ctx, core.WatchOptions{Interval: time.Hour})
	defer w.Close()
	c := f.login(t, "carol", "phone")
	keep := f.login(t, "carol", "laptop")
	cEnded := w.Ended(ctx, c.Handle())
	keepEnded := w.Ended(ctx, keep.Handle())
	waitSubscribed(t, f, w)
	if err := f.store.RevokeSession(ctx, "carol", c.Handle()); err != nil {
		t.Fatal(err)
	}
	ended(t, cEnded, "revoked in another instance")
	stillOpen(t, keepEnded, "revoke of another session")
	// The message alone ends it, even for a session that is alive.
	if err := publish(f, other.EndedChannel(), keep.Handle()); err != nil {
		t.Fatal(err)
	}
	ended(t, keepEnded, "a message naming the session")
}

// publish sends msg on channel as the store would.
func publish(f *fixture, channel, msg string) error {
	ctx := context.Background()
	if f.srv.Kind == "cluster" {
		return f.raw.SPublish(ctx, channel, msg).Err()
	}
	return f.raw.Publish(ctx, channel, msg).Err()
}

// waitSubscribed waits until w hears what is published on the store's
// channel: it watches a live probe session and names it in messages until
// its connection ends.
func waitSubscribed(t *testing.T, f *fixture, w *core.Watcher) {
	t.Helper()
	ctx := context.Background()
	probe := f.login(t, "probe", "probe")
	ch := w.Ended(ctx, probe.Handle())
	for i := 0; i < 400; i++ {
		if err := publish(f, f.store.EndedChannel(), probe.Handle()); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch:
			return
		case <-time.After(25 * time.Millisecond):
		}
	}
	t.Fatalf("the watcher never heard %s", f.store.EndedChannel())
}

// TestWatcherChecks: without a message (a store without Broadcast, an
// expiry), the Watcher's check ends the connections of sessions that are
// gone, tombstones included, and leaves live ones open; a malformed handle
// is ended at once.
func TestWatcherChecks(t *testing.T) {
	f := newFixture(t, core.Options{})
	ctx := context.Background()
	w := f.store.Watch(ctx, core.WatchOptions{Interval: 20 * time.Millisecond})
	defer w.Close()
	ended(t, w.Ended(ctx, "not a handle"), "a malformed handle")

	a := f.login(t, "alice", "phone")
	live := f.login(t, "alice", "laptop")
	aEnded, liveEnded := w.Ended(ctx, a.Handle()), w.Ended(ctx, live.Handle())
	if err := f.store.RevokeSession(ctx, "alice", a.Handle()); err != nil {
		t.Fatal(err)
	}
	ended(t, aEnded, "revoked by a store that does not broadcast")
	time.Sleep(100 * time.Millisecond) // five checks
	stillOpen(t, liveEnded, "the other session")

	// A tombstone (a revoke that found no session) is no session.
	ghost := core.NewToken()
	if err := f.raw.RPush(ctx, f.store.SessionKey(core.Handle(ghost)), "revoked").Err(); err != nil {
		t.Fatal(err)
	}
	f.raw.Expire(ctx, f.store.SessionKey(core.Handle(ghost)), time.Minute)
	ended(t, w.Ended(ctx, core.Handle(ghost)), "a tombstone")

	if f.srv.Real() {
		return // expiry needs miniredis's clock
	}
	f.srv.Advance(core.DefaultIdleTimeout + time.Second)
	ended(t, liveEnded, "an expired session")
}

// TestWatcherForgets: a connection whose context is done is no longer
// watched, and a handle watched twice ends both.
func TestWatcherForgets(t *testing.T) {
	f := newFixture(t, core.Options{})
	ctx := context.Background()
	w := f.store.Watch(ctx, core.WatchOptions{Interval: 20 * time.Millisecond})
	defer w.Close()
	a := f.login(t, "alice", "phone")
	cctx, cancel := context.WithCancel(ctx)
	gone := w.Ended(cctx, a.Handle())
	cancel()
	one, two := w.Ended(ctx, a.Handle()), w.Ended(ctx, a.Handle())
	if err := f.store.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	ended(t, one, "the first of two watchers")
	ended(t, two, "the second of two watchers")
	select {
	case <-gone:
		// It may have ended before the cancel took effect; either way the
		// watcher must not hold it.
	default:
	}

	// Connections that come and go while their session lives leave
	// nothing running behind them.
	live := f.login(t, "bob", "phone")
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		cctx, cancel := context.WithCancel(ctx)
		w.Ended(cctx, live.Handle())
		cancel()
	}
	time.Sleep(100 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before+20 {
		t.Errorf("200 watched connections that closed left %d goroutines behind", after-before)
	}
}

// TestWatcherResubscribes: when the subscription's connection is lost,
// what ended meanwhile is found by the check that follows the
// resubscription, not an Interval later.
func TestWatcherResubscribes(t *testing.T) {
	f := newFixture(t, core.Options{})
	if f.srv.Kind != "redis" {
		t.Skip("needs a single real server (CLIENT KILL TYPE pubsub): set REDIS_ADDR")
	}
	ctx := context.Background()
	w := f.store.Watch(ctx, core.WatchOptions{Interval: time.Hour})
	defer w.Close()
	waitSubscribed(t, f, w)
	a := f.login(t, "alice", "phone")
	aEnded := w.Ended(ctx, a.Handle())
	time.Sleep(200 * time.Millisecond) // the check Ended asks for
	stillOpen(t, aEnded, "a live session")
	if err := f.store.RevokeSession(ctx, "alice", a.Handle()); err != nil { // no Broadcast: nothing is said
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	stillOpen(t, aEnded, "a revoke nobody announced, before the next check")
	if err := f.raw.Do(ctx, "client", "kill", "type", "pubsub").Err(); err != nil {
		t.Fatal(err)
	}
	ended(t, aEnded, "after the subscription was re-established")
}
