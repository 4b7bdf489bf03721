package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

type fixture struct {
	srv   *redistest.Server
	count *redistest.Counter
	raw   redis.UniversalClient // no hook: for inspecting Redis
	store *core.Store
}

func newFixture(t testing.TB, opts core.Options) *fixture {
	t.Helper()
	srv := redistest.Start(t)
	count := redistest.NewCounter()
	opts.Prefix = srv.Prefix
	opts.Now = srv.Now
	f := &fixture{srv: srv, count: count, raw: srv.NewClient(t, nil)}
	f.store = core.New(srv.NewClient(t, count), opts)
	return f
}

// login creates a session bound to user and returns it, saved.
func (f *fixture) login(t testing.TB, user, agent string) *core.Session {
	t.Helper()
	x := f.store.NewSession(core.Device{UserAgent: agent, RemoteAddr: "192.0.2.1:4000"})
	x.UserID = user
	x.Data = []byte("payload of " + agent)
	if err := f.store.Save(context.Background(), x); err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return x
}

func (f *fixture) pttl(t testing.TB, key string) time.Duration {
	t.Helper()
	d, err := f.raw.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

func TestRoundTrips(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	f.count.Reset()
	x := f.login(t, "u1", "agent")
	if got := f.count.RoundTrips(); got != 1 && f.srv.Kind != "cluster" {
		t.Errorf("login: %d round trips, want 1", got)
	}

	f.count.Reset()
	y, err := f.store.Load(ctx, x.Token())
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if got := f.count.RoundTrips(); got != 1 {
		t.Errorf("sliding read: %d round trips, want 1 (commands %v)", got, f.count.Commands())
	}
	if string(y.Data) != "payload of agent" || y.UserID != "u1" {
		t.Errorf("load: data %q user %q, want %q %q", y.Data, y.UserID, "payload of agent", "u1")
	}

	f.count.Reset()
	if err := f.store.Save(ctx, y); err != nil {
		t.Fatalf("unchanged save: %v", err)
	}
	if got := f.count.RoundTrips(); got != 0 {
		t.Errorf("unchanged save: %d round trips, want 0", got)
	}

	f.count.Reset()
	y.Data = []byte("changed")
	if err := f.store.Save(ctx, y); err != nil {
		t.Fatalf("save: %v", err)
	}
	if got := f.count.RoundTrips(); got != 1 {
		t.Errorf("changed save: %d round trips, want 1", got)
	}

	f.count.Reset()
	if err := f.store.Delete(ctx, y); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got := f.count.RoundTrips(); got != 1 && f.srv.Kind != "cluster" {
		t.Errorf("logout: %d round trips, want 1", got)
	}
	if n := f.raw.Exists(ctx, f.store.SessionKey(y.Handle())).Val(); n != 0 {
		t.Errorf("logout: session key still exists")
	}
}

func TestTokens(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok := core.NewToken()
		if !core.ValidToken(tok) {
			t.Fatalf("NewToken() = %q, not ValidToken", tok)
		}
		if seen[tok] {
			t.Fatalf("NewToken repeated %q", tok)
		}
		seen[tok] = true
	}
	tok := core.NewToken()
	bad := []string{"", "x", tok[:42], tok + "A", strings.Repeat("A", 42) + "B", // B leaves spare bits set
		strings.Repeat("A", 42) + "=", "../../../../../../../../../../../etc/passwd", strings.Repeat("+", 43),
		strings.Repeat("A", 42) + "\x00", strings.Repeat("é", 21) + "A"}
	for _, b := range bad {
		if core.ValidToken(b) {
			t.Errorf("ValidToken(%q) = true, want false", b)
		}
		if h := core.Handle(b); h != "" {
			t.Errorf("Handle(%q) = %q, want \"\"", b, h)
		}
	}
	h := core.Handle(tok)
	if !core.ValidHandle(h) || h == tok || core.Handle(tok) != h {
		t.Errorf("Handle(%q) = %q: want a stable, valid handle different from the token", tok, h)
	}
}

func TestMalformedTokenNeverReachesRedis(t *testing.T) {
	f := newFixture(t, core.Options{})
	f.count.Reset()
	for _, tok := range []string{"", "short", strings.Repeat("!", 43), strings.Repeat("A", 5000)} {
		if _, err := f.store.Load(context.Background(), tok); !errors.Is(err, core.ErrInvalidToken) {
			t.Errorf("Load(%.20q): err %v, want ErrInvalidToken", tok, err)
		}
	}
	if n := f.count.Total(); n != 0 {
		t.Errorf("malformed tokens sent %d commands to Redis, want 0: %v", n, f.count.Commands())
	}
	if c := f.store.Counters(); c.Rejected != 4 {
		t.Errorf("Counters().Rejected = %d, want 4", c.Rejected)
	}
}

func TestAbsoluteDeadlineCapsTTL(t *testing.T) {
	ctx := context.Background()
	idle, life := 30*time.Minute, 2*time.Hour
	if srvReal := redistest.Start(t).Real(); srvReal {
		idle, life = 1500*time.Millisecond, 4*time.Second
	}
	f := newFixture(t, core.Options{IdleTimeout: idle, Lifetime: life})
	x := f.login(t, "u1", "a")
	key := f.store.SessionKey(x.Handle())
	start := f.srv.Now()
	step := idle * 2 / 3
	for f.srv.Now().Sub(start)+step < life {
		f.srv.Advance(step)
		f.count.Reset()
		if _, err := f.store.Load(ctx, x.Token()); err != nil {
			t.Fatalf("load at +%v: %v", f.srv.Now().Sub(start), err)
		}
		left := life - f.srv.Now().Sub(start)
		if ttl := f.pttl(t, key); ttl > left+50*time.Millisecond || ttl <= 0 {
			t.Fatalf("Expiry/AbsoluteCap: %s TTL %v at +%v, want ≤ %v (deadline)", key, ttl, f.srv.Now().Sub(start), left)
		}
	}
	f.srv.Advance(life - f.srv.Now().Sub(start) + 10*time.Millisecond)
	if _, err := f.store.Load(ctx, x.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("load after lifetime: err %v, want ErrNotFound", err)
	}
}

func TestIndex(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	a := f.login(t, "u1", "phone")
	b := f.login(t, "u1", "laptop")
	c := f.login(t, "u1", "tablet")
	other := f.login(t, "u2", "desk")

	list, err := f.store.UserSessions(ctx, "u1")
	if err != nil || len(list) != 3 {
		t.Fatalf("UserSessions(u1) = %d sessions, %v; want 3", len(list), err)
	}
	agents := map[string]bool{}
	for _, s := range list {
		agents[s.UserAgent] = true
		if s.RemoteAddr != "192.0.2.1:4000" || s.UserID != "u1" || !core.ValidHandle(s.Handle) {
			t.Errorf("session info %+v: want device facts and a handle", s)
		}
	}
	if !agents["phone"] || !agents["laptop"] || !agents["tablet"] {
		t.Errorf("agents %v, want phone, laptop, tablet", agents)
	}
	if ttl := f.pttl(t, f.store.IndexKey("u1")); ttl < 23*time.Hour && !f.srv.Real() {
		t.Errorf("index TTL %v, want ≈ 24h (latest deadline)", ttl)
	}

	if err := f.store.RevokeSession(ctx, "u1", other.Handle()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("revoking u2's session as u1: err %v, want ErrNotFound", err)
	}
	if err := f.store.RevokeSession(ctx, "u1", b.Handle()); err != nil {
		t.Fatalf("RevokeSession: %v", err)
	}
	if _, err := f.store.Load(ctx, b.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("revoked session loads: err %v", err)
	}
	n, err := f.store.RevokeOthers(ctx, "u1", a.Handle())
	if err != nil || n != 1 {
		t.Fatalf("RevokeOthers = %d, %v; want 1", n, err)
	}
	if _, err := f.store.Load(ctx, c.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("session c survived RevokeOthers: %v", err)
	}
	if _, err := f.store.Load(ctx, a.Token()); err != nil {
		t.Errorf("kept session a: %v", err)
	}
	f.count.Reset()
	n, err = f.store.RevokeUser(ctx, "u1")
	if err != nil || n != 1 {
		t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
	}
	if rt := f.count.RoundTrips(); rt != 3 {
		t.Errorf("RevokeUser: %d round trips, want 3", rt)
	}
	if card := f.raw.ZCard(ctx, f.store.IndexKey("u1")).Val(); card != 0 {
		t.Errorf("index of u1 has %d members after RevokeUser, want 0", card)
	}
	if _, err := f.store.Load(ctx, other.Token()); err != nil {
		t.Errorf("u2's session hit by u1's revoke: %v", err)
	}
}

func TestNoResurrection(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	x := f.login(t, "u1", "a")
	inflight, err := f.store.Load(ctx, x.Token())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.RevokeUser(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	inflight.Data = []byte("written back")
	if err := f.store.Save(ctx, inflight); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("save after revoke: err %v, want ErrNotFound", err)
	}
	if err := f.store.Renew(ctx, inflight); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("renew after revoke: err %v, want ErrNotFound", err)
	}
	if keys := f.srv.Keys(t, f.raw); len(keys) != 0 {
		t.Errorf("keys after revoke and late writes: %v, want none", keys)
	}
}

func TestForeignIndexMemberNotListed(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	mine := f.login(t, "u1", "mine")
	theirs := f.login(t, "u2", "theirs")
	// An index entry that points at another user's session (a crash between
	// rebinding steps, or a planted member) must not show it, and goes.
	f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: float64(theirs.Deadline().UnixMilli()), Member: theirs.Handle()})
	list, err := f.store.UserSessions(ctx, "u1")
	if err != nil || len(list) != 1 || list[0].Handle != mine.Handle() {
		t.Fatalf("UserSessions(u1) = %+v, %v; want only %s", list, err, mine.Handle())
	}
	if f.raw.ZScore(ctx, f.store.IndexKey("u1"), theirs.Handle()).Err() != redis.Nil {
		t.Errorf("u2's session still in u1's index after listing")
	}
	if n, err := f.store.RevokeUser(ctx, "u1"); err != nil || n != 1 {
		t.Errorf("RevokeUser(u1) = %d, %v; want 1", n, err)
	}
	if _, err := f.store.Load(ctx, theirs.Token()); err != nil {
		t.Errorf("u2's session was hurt: %v", err)
	}
}

func TestRebind(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	x := f.login(t, "u1", "a")
	x.UserID = "u2"
	if err := f.store.Save(ctx, x); err != nil {
		t.Fatal(err)
	}
	if f.raw.ZScore(ctx, f.store.IndexKey("u1"), x.Handle()).Err() != redis.Nil {
		t.Errorf("rebound session still in u1's index")
	}
	if list, _ := f.store.UserSessions(ctx, "u2"); len(list) != 1 {
		t.Errorf("UserSessions(u2) = %+v, want the rebound session", list)
	}
	x.UserID = ""
	if err := f.store.Save(ctx, x); err != nil {
		t.Fatal(err)
	}
	if f.raw.Exists(ctx, f.store.IndexKey("u2")).Val() != 0 && f.raw.ZCard(ctx, f.store.IndexKey("u2")).Val() != 0 {
		t.Errorf("unbound session still in u2's index")
	}
}

func TestPastDeadlineNeverLoads(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{Lifetime: time.Hour})
	if f.srv.Real() {
		t.Skip("needs the embedded server's clock")
	}
	x := f.login(t, "u1", "a")
	key := f.store.SessionKey(x.Handle())
	// Someone (an operator, a restore) stretched the TTL past the deadline.
	f.raw.Expire(ctx, key, 48*time.Hour)
	f.srv.Advance(2 * time.Hour)
	if _, err := f.store.Load(ctx, x.Token()); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("load past the deadline: err %v, want ErrNotFound", err)
	}
	if f.raw.Exists(ctx, key).Val() != 0 {
		t.Errorf("session past its deadline was not deleted on load")
	}
}

func TestPeekThenSaveSlides(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{IdleTimeout: time.Hour})
	if f.srv.Real() {
		t.Skip("needs the embedded server's clock")
	}
	x := f.login(t, "u1", "a")
	f.srv.Advance(40 * time.Minute)
	y, err := f.store.Peek(ctx, x.Token())
	if err != nil {
		t.Fatal(err)
	}
	key := f.store.SessionKey(x.Handle())
	if ttl := f.pttl(t, key); ttl != 20*time.Minute {
		t.Fatalf("Peek moved the TTL to %v, want it left at 20m", ttl)
	}
	f.count.Reset()
	if err := f.store.Save(ctx, y); err != nil {
		t.Fatal(err)
	}
	if ttl := f.pttl(t, key); ttl != time.Hour {
		t.Errorf("unchanged Save after Peek: TTL %v, want 1h (slid by the save)", ttl)
	}
	if cmds := f.count.Commands(); cmds["pexpireat"] != 1 || f.count.Total() != 1 {
		t.Errorf("unchanged Save after Peek sent %v, want one PEXPIREAT", cmds)
	}
	f.count.Reset()
	if err := f.store.SaveUntil(ctx, y, f.srv.Now().Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ttl := f.pttl(t, key); ttl != 10*time.Minute {
		t.Errorf("SaveUntil(+10m) of unchanged data: TTL %v, want 10m", ttl)
	}
	if err := f.store.SaveUntil(ctx, y, f.srv.Now().Add(-time.Second)); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("SaveUntil in the past: %v, want ErrNotFound", err)
	}
	if f.raw.Exists(ctx, key).Val() != 0 {
		t.Errorf("SaveUntil in the past left the key")
	}
}

func TestRenewTooLargeKeepsSession(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{MaxRecordSize: 1024})
	x := f.login(t, "u1", "a")
	x.Data = make([]byte, 2048)
	if err := f.store.Renew(ctx, x); !errors.Is(err, core.ErrTooLarge) {
		t.Fatalf("Renew of an oversized session: %v, want ErrTooLarge", err)
	}
	if y, err := f.store.Load(ctx, x.Token()); err != nil || string(y.Data) != "payload of a" {
		t.Errorf("the session was lost by a refused renew: %v", err)
	}
}
