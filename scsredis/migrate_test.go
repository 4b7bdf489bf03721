package scsredis_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// migrating is a fixture whose Store adopts the sessions scs's redisstore
// and goredisstore keep, under a prefix of the test's own.
func migrating(t *testing.T, keep bool, until func(now time.Time) time.Time) (*fixture, string) {
	t.Helper()
	var legacyPrefix string
	f := newFixture(t, setup{tweak: func(*scs.SessionManager) {}})
	legacyPrefix = f.srv.Prefix + scsredis.DefaultLegacyPrefix
	// Rebuild the store with the migration (the fixture's handler reads f.store).
	f.store = scsredis.New(f.srv.NewClient(t, f.count), scsredis.Options{
		Core:    core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now},
		Migrate: &scsredis.Migration{Until: until(f.srv.Now()), Prefix: legacyPrefix, KeepLegacy: keep},
	})
	f.sm.Store = f.store
	return f, legacyPrefix
}

func open(now time.Time) time.Time { return now.Add(time.Hour) }

// legacy writes a session as scs's redisstore or goredisstore commits it:
// the manager's GobCodec bytes under prefix+token, expiring after ttl.
func legacy(t *testing.T, f *fixture, prefix string, deadline time.Time, ttl time.Duration, values map[string]interface{}) string {
	t.Helper()
	tok := newToken()
	if err := f.raw.Set(context.Background(), prefix+tok, encode(t, deadline, values), ttl).Err(); err != nil {
		t.Fatal(err)
	}
	return tok
}

func legacyExists(t *testing.T, f *fixture, prefix, tok string) bool {
	t.Helper()
	n, err := f.raw.Exists(context.Background(), prefix+tok).Result()
	if err != nil {
		t.Fatal(err)
	}
	return n == 1
}

func TestMigrateAdoptsLegacySession(t *testing.T) {
	for _, keep := range []bool{false, true} {
		t.Run(map[bool]string{false: "delete", true: "keep"}[keep], func(t *testing.T) {
			f, prefix := migrating(t, keep, open)
			deadline := time.Now().Add(10 * time.Minute)
			tok := legacy(t, f, prefix, deadline, 8*time.Minute, map[string]interface{}{"user_id": "alice", "cart": "3 apples"})
			c := f.client(t)
			c.setCookie(tok)

			if got := c.get(t, "cart"); got != "3 apples" {
				t.Fatalf("cart = %q after the swap, want the old store's value", got)
			}
			if got := c.get(t, "user_id"); got != "alice" {
				t.Fatalf("user_id = %q, want alice: logged out by the swap", got)
			}
			if c.cookie() != tok {
				t.Fatalf("cookie changed from the old store's token")
			}
			if got := f.store.Core().Counters().Adopted; got != 1 {
				t.Errorf("Adopted = %d, want 1", got)
			}
			if got := legacyExists(t, f, prefix, tok); got != keep {
				t.Errorf("old key exists = %v, want %v", got, keep)
			}
			if keep {
				if ttl := f.raw.PTTL(context.Background(), prefix+tok).Val(); ttl <= 0 || ttl > 8*time.Minute {
					t.Errorf("kept old key's TTL = %v, want its own (≤ 8m)", ttl)
				}
			}

			// Bound to its user: listed, and ended by RevokeUser.
			infos, err := f.store.UserSessions(context.Background(), "alice")
			if err != nil || len(infos) != 1 || infos[0].Handle != core.Handle(tok) {
				t.Fatalf("UserSessions(alice) = %v, %v; want the adopted session", infos, err)
			}
			// Never extended: the old record's deadline, by the store's clock.
			want := f.srv.Now().Add(time.Until(deadline))
			if d := infos[0].Deadline; d.After(want.Add(time.Second)) {
				t.Errorf("deadline %v, after the old record's %v", d, want)
			}
			if e := infos[0].ExpiresAt; e.After(want.Add(time.Second)) {
				t.Errorf("expires %v, after the old record's deadline %v", e, want)
			}
			f.everyKeyHasTTL(t)

			if n, err := f.store.RevokeUser(context.Background(), "alice"); err != nil || n != 1 {
				t.Fatalf("RevokeUser = %d, %v; want 1", n, err)
			}
			if got := c.get(t, "user_id"); got != "" {
				t.Fatalf("user_id = %q after RevokeUser: the old key brought the session back", got)
			}
			if got := f.store.Core().Counters().Adopted; got != 1 {
				t.Errorf("Adopted = %d after revoke, want 1 (adopted once)", got)
			}
		})
	}
}

// TestMigrateExpiryNotExtended: the adopted key expires when the old one
// would have (its TTL, scs's IdleTimeout), never later, however long our
// own IdleTimeout and Lifetime are.
func TestMigrateExpiryNotExtended(t *testing.T) {
	f, prefix := migrating(t, false, open)
	tok := legacy(t, f, prefix, time.Now().Add(time.Hour), 2*time.Minute, map[string]interface{}{"user_id": "bob"})
	if _, found, err := f.store.Find(tok); err != nil || !found {
		t.Fatalf("Find = %v, %v; want the old session", found, err)
	}
	x, err := f.store.Core().Peek(context.Background(), tok)
	if err != nil {
		t.Fatal(err)
	}
	if ttl := f.raw.PTTL(context.Background(), f.sessionKey(x.Handle())).Val(); ttl <= 0 || ttl > 2*time.Minute {
		t.Errorf("adopted key's TTL = %v, want at most the old key's 2m", ttl)
	}
	if d := x.Deadline(); d.After(f.srv.Now().Add(time.Hour + time.Second)) {
		t.Errorf("deadline %v extended past the old record's", d)
	}

	// A record past its deadline, with a TTL left: not adopted.
	late := legacy(t, f, prefix, time.Now().Add(-time.Second), time.Minute, map[string]interface{}{"user_id": "bob"})
	if _, found, err := f.store.Find(late); err != nil || found {
		t.Fatalf("Find(past deadline) = %v, %v; want no session", found, err)
	}
}

func TestMigrateCost(t *testing.T) {
	cases := []struct {
		name  string
		until func(time.Time) time.Time
		trips int
	}{
		{"off", nil, 1},
		{"closed", func(now time.Time) time.Time { return now.Add(-time.Second) }, 1},
		{"open", open, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var f *fixture
			if tc.until == nil {
				f = newFixture(t, setup{})
			} else {
				f, _ = migrating(t, false, tc.until)
			}
			// A miss: a token no store holds (an expired or logged-out cookie).
			f.count.Reset()
			if _, found, err := f.store.Find(newToken()); err != nil || found {
				t.Fatalf("Find = %v, %v", found, err)
			}
			if got := f.count.RoundTrips(); got != tc.trips {
				t.Errorf("a miss costs %d round trips (%v), want %d", got, f.count.Commands(), tc.trips)
			}
			// A hit of ours: one round trip, whatever the migration.
			x := f.store.Core().NewSession(core.Device{})
			x.Data = encode(t, time.Now().Add(time.Hour), map[string]interface{}{"k": "v"})
			if err := f.store.Core().Save(context.Background(), x); err != nil {
				t.Fatal(err)
			}
			f.count.Reset()
			if _, found, err := f.store.Find(x.Token()); err != nil || !found {
				t.Fatalf("Find = %v, %v", found, err)
			}
			if got := f.count.RoundTrips(); got != 1 {
				t.Errorf("a hit costs %d round trips (%v), want 1", got, f.count.Commands())
			}
		})
	}

	// The window closed: an old session is not adopted (and costs nothing).
	f, prefix := migrating(t, false, func(now time.Time) time.Time { return now.Add(300 * time.Millisecond) })
	tok := legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"user_id": "carol"})
	f.srv.Advance(300 * time.Millisecond)
	f.count.Reset()
	if _, found, err := f.store.Find(tok); err != nil || found {
		t.Fatalf("Find after Until = %v, %v; want no session", found, err)
	}
	if got := f.count.Commands(); len(got) != 1 || got["get"] != 1 {
		t.Errorf("Find after Until sent %v, want one GET", got)
	}

	// An adoption: the miss, the old key (script), our session bound to its
	// user (a script; on Cluster two, the index before the session).
	want := 3
	if f.srv.Kind == "cluster" {
		want = 4
	}
	f, prefix = migrating(t, false, open)
	tok = legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"user_id": "carol"})
	f.count.Reset()
	if _, found, err := f.store.Find(tok); err != nil || !found {
		t.Fatalf("Find = %v, %v", found, err)
	}
	if got := f.count.RoundTrips(); got != want {
		t.Errorf("an adoption costs %d round trips (%v), want %d", got, f.count.Commands(), want)
	}

	// The adopting request as a whole, with scs's IdleTimeout: the adoption,
	// then scs's commit of unchanged values, which only moves the expiry.
	f, prefix = migrating(t, false, open)
	tok = legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"user_id": "carol"})
	c := f.client(t)
	c.setCookie(tok)
	f.count.Reset()
	if got := c.get(t, "user_id"); got != "carol" {
		t.Fatalf("user_id = %q", got)
	}
	if got := f.count.RoundTrips(); got != want+1 {
		t.Errorf("the adopting request costs %d round trips (%v), want %d", got, f.count.Commands(), want+1)
	}
	f.count.Reset()
	c.get(t, "user_id")
	if got := f.count.RoundTrips(); got != 2 {
		t.Errorf("the next request costs %d round trips (%v), want 2 (Find, scs's commit)", got, f.count.Commands())
	}
}

// noValues is a record of scs's shape with a deadline and no Values field.
func noValues(t *testing.T) []byte {
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&struct{ Deadline time.Time }{time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestMigrateMalformed(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f, prefix := migrating(t, keep, open)
		for _, bad := range [][]byte{
			[]byte("not gob"),
			noValues(t), // scs always writes its map; sm.Put would panic on a nil one
			encode(t, time.Time{}, map[string]interface{}{"user_id": "dave"}),                    // no deadline
			encode(t, time.Now().Add(time.Hour), map[string]interface{}{"user_id": []byte("x")}), // a user id UserIDOf refuses
		} {
			tok := newToken()
			if err := f.raw.Set(context.Background(), prefix+tok, bad, time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			before := f.store.Core().Counters().Malformed
			c := f.client(t)
			c.setCookie(tok)
			if got := c.get(t, "user_id"); got != "" {
				t.Fatalf("a malformed old record gave user_id %q", got)
			}
			if got := f.store.Core().Counters().Malformed; got != before+1 {
				t.Errorf("Malformed = %d, want %d", got, before+1)
			}
			if _, err := f.store.Core().Peek(context.Background(), tok); err == nil {
				t.Errorf("a malformed old record was written as ours")
			}
		}
		if got := f.store.Core().Counters().Adopted; got != 0 {
			t.Errorf("Adopted = %d, want 0", got)
		}
	}
}

// TestMigrateSensitive: a record holding a value Options.Core.Sensitive
// denies is not adopted (a commit would refuse it), and nothing is written.
func TestMigrateSensitive(t *testing.T) {
	f, prefix := migrating(t, false, open)
	f.store = scsredis.New(f.srv.NewClient(t, f.count), scsredis.Options{
		Core:    core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now, Sensitive: core.DefaultSensitive},
		Migrate: &scsredis.Migration{Until: open(f.srv.Now()), Prefix: prefix},
	})
	tok := legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"user_id": "jo", "password": "hunter2"})
	if _, found, err := f.store.Find(tok); err != nil || found {
		t.Fatalf("Find = %v, %v; want no session", found, err)
	}
	if got := f.store.Core().Counters(); got.Adopted != 0 || got.Malformed != 1 {
		t.Errorf("Adopted %d, Malformed %d; want 0, 1", got.Adopted, got.Malformed)
	}
	if len(f.keys(t)) != 0 {
		t.Errorf("keys left: %v", f.keys(t))
	}
}

// TestMigrateConcurrent: requests racing with one old token adopt it once,
// into one session.
func TestMigrateConcurrent(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f, prefix := migrating(t, keep, open)
		for round := 0; round < 20; round++ {
			tok := legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"user_id": "erin"})
			var wg sync.WaitGroup
			found := make([]bool, 8)
			for i := range found {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					_, ok, err := f.store.FindCtx(ctx, tok)
					if err != nil {
						t.Error(err)
					}
					found[i] = ok
				}(i)
			}
			wg.Wait()
			n := 0
			for _, ok := range found {
				if ok {
					n++
				}
			}
			if n == 0 {
				t.Fatalf("round %d: no request found the old session", round)
			}
		}
		if got := f.store.Core().Counters().Adopted; got != 20 {
			t.Errorf("keep=%v: Adopted = %d for 20 old sessions, want 20", keep, got)
		}
		if infos, err := f.store.UserSessions(context.Background(), "erin"); err != nil || len(infos) != 20 {
			t.Errorf("keep=%v: UserSessions = %d, %v; want 20: one session per old token", keep, len(infos), err)
		}
	}
}

// TestMigrateLogoutStays: a session adopted then logged out does not come
// back from the old key, kept or not.
func TestMigrateLogoutStays(t *testing.T) {
	for _, keep := range []bool{false, true} {
		f, prefix := migrating(t, keep, open)
		tok := legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"user_id": "frank"})
		c := f.client(t)
		c.setCookie(tok)
		if got := c.get(t, "user_id"); got != "frank" {
			t.Fatalf("user_id = %q, want frank", got)
		}
		c.do(t, "/logout", nil)
		c.setCookie(tok) // a copy of the old cookie
		if got := c.get(t, "user_id"); got != "" {
			t.Fatalf("keep=%v: user_id = %q after logout: the session came back", keep, got)
		}
	}
}

// TestMigrateLogin: scs's RenewToken at login replaces the adopted token,
// as it did under the old store.
func TestMigrateLogin(t *testing.T) {
	f, prefix := migrating(t, false, open)
	tok := legacy(t, f, prefix, time.Now().Add(time.Hour), time.Hour, map[string]interface{}{"cart": "pears"})
	c := f.client(t)
	c.setCookie(tok)
	c.do(t, "/store-login?user=gina", nil)
	if c.cookie() == tok || c.cookie() == "" {
		t.Fatalf("login kept the old token")
	}
	if got := c.get(t, "cart"); got != "pears" {
		t.Fatalf("cart = %q after login, want pears", got)
	}
	if _, found, _ := f.store.Find(tok); found {
		t.Fatalf("the pre-login token still finds a session")
	}
}

// BenchmarkMigrateFind is Find with the migration off and with its window
// open: a hit of ours, a miss (a token no store holds) and an adoption,
// with round trips per op. On a real Redis with REDIS_ADDR, on miniredis
// otherwise.
func BenchmarkMigrateFind(b *testing.B) {
	for _, mode := range []string{"off", "open"} {
		srv := redistest.Start(b)
		count := redistest.NewCounter()
		raw := srv.NewClient(b, nil)
		legacyPrefix := srv.Prefix + scsredis.DefaultLegacyPrefix
		opts := scsredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}}
		if mode == "open" {
			opts.Migrate = &scsredis.Migration{Until: srv.Now().Add(time.Hour), Prefix: legacyPrefix}
		}
		store := scsredis.New(srv.NewClient(b, count), opts)
		blob, _ := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{"user_id": "u", "k": "v"})
		run := func(name string, prep func() string) {
			b.Run(mode+"/"+name, func(b *testing.B) {
				trips := 0
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					tok := prep()
					count.Reset()
					b.StartTimer()
					if _, _, err := store.Find(tok); err != nil {
						b.Fatal(err)
					}
					trips += count.RoundTrips()
				}
				b.ReportMetric(float64(trips)/float64(b.N), "roundtrips/op")
			})
		}
		hit := store.Core().NewSession(core.Device{})
		hit.Data = blob
		if err := store.Core().Save(context.Background(), hit); err != nil {
			b.Fatal(err)
		}
		run("hit", hit.Token)
		run("miss", core.NewToken)
		run("legacy", func() string {
			tok := core.NewToken()
			if err := raw.Set(context.Background(), legacyPrefix+tok, blob, time.Hour).Err(); err != nil {
				b.Fatal(err)
			}
			return tok
		})
	}
}

// TestMigrateHashTokenInStore: with sm.HashTokenInStore both stores see
// the token's hash, and the old key is under it.
func TestMigrateHashTokenInStore(t *testing.T) {
	f, prefix := migrating(t, false, open)
	f.sm.HashTokenInStore = true
	tok := newToken()
	if err := f.raw.Set(context.Background(), prefix+core.Handle(tok), encode(t, time.Now().Add(time.Hour), map[string]interface{}{"user_id": "hana"}), time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	c := f.client(t)
	c.setCookie(tok)
	if got := c.get(t, "user_id"); got != "hana" {
		t.Fatalf("user_id = %q, want hana", got)
	}
	if c.handle(t) == "" || legacyExists(t, f, prefix, core.Handle(tok)) {
		t.Errorf("not adopted under the hashed token")
	}
}

// TestMigratePrefixInOurKeys: a Migration.Prefix that names our own keys
// would let a cookie holding a session's public handle take (and delete)
// that session's key: the migration is refused, and CheckManager says so.
func TestMigratePrefixInOurKeys(t *testing.T) {
	f := newFixture(t, setup{})
	store := scsredis.New(f.srv.NewClient(t, nil), scsredis.Options{
		Core:    core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now},
		Migrate: &scsredis.Migration{Until: f.srv.Now().Add(time.Hour), Prefix: f.srv.Prefix + "session:"},
	})
	if err := store.CheckManager(f.sm); err == nil {
		t.Errorf("CheckManager accepted a Migration.Prefix inside our keys")
	}
	victim := store.Core().NewSession(core.Device{})
	victim.Data = encode(t, time.Now().Add(time.Hour), map[string]interface{}{"user_id": "ivy"})
	victim.UserID = "ivy"
	if err := store.Core().Save(context.Background(), victim); err != nil {
		t.Fatal(err)
	}
	if _, found, err := store.Find(victim.Handle()); err != nil || found {
		t.Fatalf("Find(handle) = %v, %v; want no session", found, err)
	}
	if !f.exists(t, victim.Handle()) {
		t.Fatalf("Find with the victim's handle as token deleted the victim's session")
	}
}
