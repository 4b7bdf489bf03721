package core_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// modes runs a test with the store sending its steps as on this server and
// as on Cluster (one after another), whatever the server is.
func modes(t *testing.T, opts core.Options, run func(t *testing.T, f *fixture)) {
	for _, ordered := range []bool{false, true} {
		name := map[bool]string{false: "pipelined", true: "ordered"}[ordered]
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, opts)
			if ordered {
				core.Ordered(f.store)
			}
			run(t, f)
		})
	}
}

// layoutModes is modes under both layouts.
func layoutModes(t *testing.T, opts core.Options, run func(t *testing.T, f *fixture)) {
	for _, layout := range []core.Layout{core.LayoutString, core.LayoutHash} {
		t.Run(layout.String(), func(t *testing.T) {
			o := opts
			o.Layout = layout
			modes(t, o, run)
		})
	}
}

// ordered reports whether the store sends its steps one after another, as
// on Cluster.
func (f *fixture) ordered() bool { return core.IsOrdered(f.store) }

func (f *fixture) alive(t testing.TB, token string) bool {
	t.Helper()
	_, err := f.store.Peek(context.Background(), token)
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("Peek: %v", err)
	}
	return err == nil
}

func (f *fixture) indexed(t testing.TB, user, handle string) bool {
	t.Helper()
	err := f.raw.ZScore(context.Background(), f.store.IndexKey(user), handle).Err()
	if err != nil && err != redis.Nil {
		t.Fatal(err)
	}
	return err == nil
}

// revokeRace races one in-flight operation of a user's session against a
// revoke of that user, rounds times, and returns how many sessions of the
// user were alive once both had returned.
func revokeRace(t *testing.T, f *fixture, rounds int, op func(x *core.Session) error, revoke func(user string) error) int {
	ctx := context.Background()
	survivors := 0
	for r := 0; r < rounds; r++ {
		user := "u" + strconv.Itoa(r)
		x, err := f.store.Load(ctx, f.login(t, user, "d").Token())
		if err != nil {
			t.Fatal(err)
		}
		old := x.Token()
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() {
			defer wg.Done()
			<-start
			if err := op(x); err != nil && !errors.Is(err, core.ErrNotFound) {
				t.Errorf("round %d: in-flight operation: %v", r, err)
			}
		}()
		go func() {
			defer wg.Done()
			<-start
			if err := revoke(user); err != nil {
				t.Errorf("round %d: revoke: %v", r, err)
			}
		}()
		close(start)
		wg.Wait()
		for _, tok := range []string{old, x.Token()} {
			if f.alive(t, tok) {
				survivors++
				break
			}
		}
	}
	return survivors
}

// rounds is how many times a race test plays its race: REDISESSION_ROUNDS,
// else 200 (50 with -short). CI plays 1000 against the real server.
func rounds() int {
	if n, err := strconv.Atoi(os.Getenv("REDISESSION_ROUNDS")); err == nil && n > 0 {
		return n
	}
	if testing.Short() {
		return 50
	}
	return 200
}

// TestRenewRacingRevoke: a session alive when RevokeUser or RevokeOthers
// starts is dead when it returns, even when a renewal of it is in flight;
// the renewal never brings it back under its new token.
func TestRenewRacingRevoke(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		renew := func(x *core.Session) error { return f.store.Renew(ctx, x) }
		all := func(user string) error { _, err := f.store.RevokeUser(ctx, user); return err }
		if n := revokeRace(t, f, rounds(), renew, all); n != 0 {
			t.Errorf("RevokeUser racing Renew: %d of %d renewed sessions survived", n, rounds())
		}
		others := func(user string) error {
			keep := f.login(t, user, "keeper")
			_, err := f.store.RevokeOthers(ctx, user, keep.Handle())
			return err
		}
		if n := revokeRace(t, f, rounds(), renew, others); n != 0 {
			t.Errorf("RevokeOthers racing Renew: %d of %d renewed sessions survived", n, rounds())
		}
	})
}

// TestSaveRacingRevoke: an update in flight (a request that loaded the
// session) never writes a revoked session back.
func TestSaveRacingRevoke(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		save := func(x *core.Session) error { x.Data = []byte("late"); return f.store.Save(ctx, x) }
		all := func(user string) error { _, err := f.store.RevokeUser(ctx, user); return err }
		if n := revokeRace(t, f, rounds(), save, all); n != 0 {
			t.Errorf("RevokeUser racing Save: %d of %d sessions survived", n, rounds())
		}
	})
}

// TestRevokeSessionRacingRenew: when RevokeSession returns nil the session
// is dead under its old and its new token.
func TestRevokeSessionRacingRenew(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		survivors := 0
		for r := 0; r < rounds(); r++ {
			user := "u" + strconv.Itoa(r)
			x, err := f.store.Load(ctx, f.login(t, user, "d").Token())
			if err != nil {
				t.Fatal(err)
			}
			old, h := x.Token(), x.Handle()
			var wg sync.WaitGroup
			var revokeErr error
			wg.Add(2)
			go func() { defer wg.Done(); _ = f.store.Renew(ctx, x) }()
			go func() { defer wg.Done(); revokeErr = f.store.RevokeSession(ctx, user, h) }()
			wg.Wait()
			if revokeErr != nil {
				if !errors.Is(revokeErr, core.ErrNotFound) {
					t.Fatal(revokeErr)
				}
				continue // the renewal finished first: that handle named nothing any more
			}
			if f.alive(t, old) || f.alive(t, x.Token()) {
				survivors++
			}
		}
		if survivors != 0 {
			t.Errorf("RevokeSession returned nil, yet %d of %d sessions lived on", survivors, rounds())
		}
	})
}

// TestLoginInFlightDuringRevoke: a login whose index entry reached Redis
// before a revoke, but whose session had not (Cluster writes the index
// first), cannot create its session after the revoke returned.
func TestLoginInFlightDuringRevoke(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		x := f.store.NewSession(core.Device{})
		x.UserID, x.Data = "u1", []byte("d")
		// The login's first step, as Cluster sends it.
		score := float64(x.Deadline().UnixMilli())
		if err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: score, Member: x.Handle()}).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.RevokeUser(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		// The rest of the login arrives.
		if err := f.store.Save(ctx, x); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("the login finished after the revoke: Save = %v, want ErrNotFound", err)
		}
		if f.alive(t, x.Token()) {
			t.Errorf("a login in flight during RevokeUser created its session after it returned")
		}
		key := f.store.SessionKey(x.Handle())
		if ttl := f.pttl(t, key); ttl <= 0 {
			t.Errorf("the tombstone at %s has TTL %v, want one until the entry's deadline", key, ttl)
		}
	})
}

// TestListKeepsLoginInFlight: on Cluster, where the index is written first,
// a listing never drops an entry whose session has not arrived yet, even
// when the session's deadline was shortened (as scsredis does to follow
// scs's Lifetime): that session, once written, would be outside its index.
// On one node, where a session and its entry are written together, such an
// entry is one whose session is gone, and the listing drops it.
func TestListKeepsLoginInFlight(t *testing.T) {
	ctx := context.Background()
	for _, ordered := range []bool{false, true} {
		f := newFixture(t, core.Options{Lifetime: 24 * time.Hour})
		if ordered {
			core.Ordered(f.store)
		}
		x := f.store.NewSession(core.Device{})
		x.UserID, x.Data = "u1", []byte("d")
		x.ShortenDeadline(f.srv.Now().Add(time.Hour))
		score := float64(x.Deadline().UnixMilli())
		if err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: score, Member: x.Handle()}).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.UserSessions(ctx, "u1"); err != nil {
			t.Fatal(err)
		}
		cluster := ordered || f.srv.Kind == "cluster" // a Cluster client always sends the steps in order
		if kept := f.indexed(t, "u1", x.Handle()); kept != cluster {
			t.Errorf("ordered=%v on %s: after a listing, an entry without its session is indexed: %v", ordered, f.srv.Kind, kept)
		}
		if !cluster {
			continue
		}
		if err := f.store.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		if n, err := f.store.RevokeUser(ctx, "u1"); n != 1 || err != nil || f.alive(t, x.Token()) {
			t.Errorf("RevokeUser = %d, %v; the session alive afterwards: %v", n, err, f.alive(t, x.Token()))
		}
	}
}

// TestListDropsExpiredEntries: on one node a listing drops the entry of a
// session that expired (the drop checks, in the same script, that the key
// is still missing).
func TestListDropsExpiredEntries(t *testing.T) {
	ctx := context.Background()
	layouts := []core.Layout{core.LayoutString, core.LayoutHash}
	for _, layout := range layouts {
		f := newFixture(t, core.Options{Layout: layout})
		if f.srv.Kind == "cluster" {
			t.Skip("on Cluster a listing keeps entries without a session (TestListKeepsLoginInFlight)")
		}
		live := f.login(t, "u1", "a")
		idle := f.login(t, "u1", "b")
		if err := f.raw.Del(ctx, f.store.SessionKey(idle.Handle())).Err(); err != nil { // expired while idle
			t.Fatal(err)
		}
		list, err := f.store.UserSessions(ctx, "u1")
		if err != nil || len(list) != 1 || list[0].Handle != live.Handle() {
			t.Errorf("%v: listed %v, %v; want only %s", layout, list, err, live.Handle())
		}
		if f.indexed(t, "u1", idle.Handle()) || !f.indexed(t, "u1", live.Handle()) {
			t.Errorf("%v: after a listing, the expired entry is indexed: %v, the live one: %v",
				layout, f.indexed(t, "u1", idle.Handle()), f.indexed(t, "u1", live.Handle()))
		}
	}
}

// TestCreateCollisionKeepsIndex: a create whose key is taken (the same
// token committed as new twice) writes nothing and leaves the existing
// session's index entry: it stays revocable.
func TestCreateCollisionKeepsIndex(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		live := f.login(t, "u1", "d")
		again, err := f.store.NewSessionWithToken(live.Token(), core.Device{})
		if err != nil {
			t.Fatal(err)
		}
		again.UserID, again.Data = "u1", []byte("other")
		if err := f.store.Save(ctx, again); !errors.Is(err, core.ErrNotFound) {
			t.Fatalf("create over a live session: %v, want ErrNotFound", err)
		}
		if !f.indexed(t, "u1", live.Handle()) {
			t.Fatalf("the collision unindexed the live session")
		}
		if n, err := f.store.RevokeUser(ctx, "u1"); n != 1 || err != nil {
			t.Errorf("RevokeUser = %d, %v; want 1", n, err)
		}
		if f.alive(t, live.Token()) {
			t.Errorf("the session outlived RevokeUser")
		}
	})
}

// TestRevokeChecksOwner: an entry in u1's index naming u2's session (a
// rebind cut short) does not let a revoke of u1 end it.
func TestRevokeChecksOwner(t *testing.T) {
	ctx := context.Background()
	layoutModes(t, core.Options{}, func(t *testing.T, f *fixture) {
		mine := f.login(t, "u1", "mine")
		theirs := f.login(t, "u2", "theirs")
		score := float64(theirs.Deadline().UnixMilli())
		if err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: score, Member: theirs.Handle()}).Err(); err != nil {
			t.Fatal(err)
		}
		if err := f.store.RevokeSession(ctx, "u1", theirs.Handle()); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("RevokeSession(u1, u2's session) = %v, want ErrNotFound", err)
		}
		if n, err := f.store.RevokeUser(ctx, "u1"); n != 1 || err != nil {
			t.Errorf("RevokeUser(u1) = %d, %v; want 1", n, err)
		}
		if !f.alive(t, theirs.Token()) || !f.indexed(t, "u2", theirs.Handle()) {
			t.Errorf("u2's session was ended through u1's index")
		}
		if f.alive(t, mine.Token()) {
			t.Errorf("u1's own session survived")
		}
	})
}

// TestFailedSaveWritesNothing: a save whose index step fails (a wrong type
// under the index key) returns an error and has written no session.
func TestFailedSaveWritesNothing(t *testing.T) {
	ctx := context.Background()
	layoutModes(t, core.Options{}, func(t *testing.T, f *fixture) {
		if err := f.raw.Set(ctx, f.store.IndexKey("u1"), "not an index", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		x := f.store.NewSession(core.Device{})
		x.UserID, x.Data, x.Fields = "u1", []byte("d"), map[string][]byte{"a": []byte("1")}
		if err := f.store.Save(ctx, x); err == nil || errors.Is(err, core.ErrNotFound) {
			t.Errorf("login with a wrong type under the index: %v, want an error", err)
		}
		if f.alive(t, x.Token()) {
			t.Errorf("the failed login wrote its session: a bound session outside its index")
		}
		// A stored anonymous session bound to u1 fails the same way
		// and stays as it was.
		y := f.store.NewSession(core.Device{})
		y.Data, y.Fields = []byte("anon"), map[string][]byte{"a": []byte("anon")}
		if err := f.store.Save(ctx, y); err != nil {
			t.Fatal(err)
		}
		y.UserID, y.Data, y.Fields = "u1", []byte("bound"), map[string][]byte{"a": []byte("bound")}
		if err := f.store.Save(ctx, y); err == nil {
			t.Errorf("bind with a wrong type under the index: nil error")
		}
		got, err := f.store.Peek(ctx, y.Token())
		if err != nil || got.UserID != "" || (string(got.Data) != "anon" && string(got.Fields["a"]) != "anon") {
			t.Errorf("after the failed bind the session is %+v, %v; want it unchanged", got, err)
		}
		// Renew of a bound session into a broken index: refused, old token intact.
		z := f.login(t, "u3", "z")
		z.UserID = "u1"
		if err := f.store.Renew(ctx, z); err == nil {
			t.Errorf("renew into a wrong-type index: nil error")
		}
		if !f.alive(t, z.Token()) {
			t.Errorf("a failed renew lost the session")
		}
		// The same into its own index, broken since it logged in.
		w := f.login(t, "u4", "w")
		if err := f.raw.Set(ctx, f.store.IndexKey("u4"), "not an index", time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Renew(ctx, w); err == nil {
			t.Errorf("renew within a wrong-type index: nil error")
		}
		if !f.alive(t, w.Token()) {
			t.Errorf("a failed renew within its own index lost the session")
		}
	})
}

// TestHashLimitsBeforeWriting: a hash-layout save or renew that cannot be
// written whole is refused before anything changes.
func TestHashLimitsBeforeWriting(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{Layout: core.LayoutHash, MaxRecordSize: 1 << 20}, func(t *testing.T, f *fixture) {
		x := f.store.NewSession(core.Device{})
		x.UserID = "u1"
		x.Fields = map[string][]byte{}
		for i := 0; i < 5; i++ {
			x.Fields["keep"+strconv.Itoa(i)] = []byte("v")
		}
		if err := f.store.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		x.Fields = map[string][]byte{}
		for i := 0; i < 9000; i++ {
			x.Fields["f"+strconv.Itoa(i)] = []byte("v")
		}
		if err := f.store.Save(ctx, x); !errors.Is(err, core.ErrTooLarge) {
			t.Errorf("save of 9000 fields: %v, want ErrTooLarge", err)
		}
		got, err := f.store.Peek(ctx, x.Token())
		if err != nil || len(got.Fields) != 5 {
			t.Fatalf("after the refused save: %d fields, %v; want the 5 stored", len(got.Fields), err)
		}
		got.Fields["\x00bad"] = []byte("v")
		if err := f.store.Renew(ctx, got); !errors.Is(err, core.ErrFieldName) {
			t.Errorf("renew with a bad field name: %v, want ErrFieldName", err)
		}
		if !f.alive(t, x.Token()) {
			t.Errorf("a refused renew killed the old token")
		}
	})
}

// TestRevokeLeavesOnlyTTLKeys: after a revoke, whatever it leaves behind
// (tombstones, revocation marks) expires.
func TestRevokeLeavesOnlyTTLKeys(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		f.login(t, "u1", "a")
		ghost := f.store.NewSession(core.Device{})
		score := float64(ghost.Deadline().UnixMilli())
		if err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: score, Member: ghost.Handle()}).Err(); err != nil {
			t.Fatal(err)
		}
		if n, err := f.store.RevokeUser(ctx, "u1"); n != 1 || err != nil {
			t.Fatalf("RevokeUser = %d, %v", n, err)
		}
		for _, k := range f.srv.Keys(t, f.raw) {
			if ttl := f.pttl(t, k); ttl <= 0 {
				t.Errorf("%s left without a TTL (%v)", k, ttl)
			}
		}
		if list, err := f.store.UserSessions(ctx, "u1"); err != nil || len(list) != 0 {
			t.Errorf("after RevokeUser: %d sessions listed, %v", len(list), err)
		}
	})
}

// TestRetireSuccessorRacingRevoke: a renewal in two calls (Retire, then the
// successor's Save, as scs renews) never survives a revoke that ran
// between them; without a revoke the successor is indexed and the retired
// entry is gone.
func TestRetireSuccessorRacingRevoke(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		var next *core.Session
		renew := func(x *core.Session) error {
			if err := f.store.Retire(ctx, x); err != nil {
				return err
			}
			succ, err := f.store.Successor(x, core.NewToken())
			if err != nil {
				return err
			}
			next = succ
			return f.store.Save(ctx, succ)
		}
		survivors := 0
		revoke := func(user string) error { _, err := f.store.RevokeUser(ctx, user); return err }
		for r := 0; r < rounds(); r++ {
			next = nil
			survivors += revokeRace(t, f, 1, renew, revoke)
			if next != nil && f.alive(t, next.Token()) {
				survivors++
			}
		}
		if survivors != 0 {
			t.Errorf("RevokeUser racing a renewal in two calls: %d of %d survived", survivors, rounds())
		}
		x, err := f.store.Load(ctx, f.login(t, "solo", "d").Token())
		if err != nil {
			t.Fatal(err)
		}
		f.count.Reset()
		if err := renew(x); err != nil {
			t.Fatal(err)
		}
		if !f.ordered() && (f.count.RoundTrips() != 2 || f.count.Total() != 2) {
			t.Errorf("Retire and the successor's Save on one node: %d round trips, %v; want one command each", f.count.RoundTrips(), f.count.Commands())
		}
		if n, _ := f.raw.ZCard(ctx, f.store.IndexKey("solo")).Result(); n != 1 {
			t.Errorf("after Retire and the successor's Save the index has %d members, want 1 (the retirement marker claimed)", n)
		}
		if !f.alive(t, next.Token()) || !f.indexed(t, "solo", next.Handle()) || f.indexed(t, "solo", x.Handle()) {
			t.Errorf("after Retire and the successor's Save: successor alive %v, indexed %v; retired entry still indexed %v",
				f.alive(t, next.Token()), f.indexed(t, "solo", next.Handle()), f.indexed(t, "solo", x.Handle()))
		}
	})
}

// TestListSkipsTombstones: an entry whose key holds a tombstone (or any
// other type) is skipped by a listing, not an error.
func TestListSkipsTombstones(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		live := f.login(t, "u1", "a")
		ghost := f.store.NewSession(core.Device{})
		if err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: float64(ghost.Deadline().UnixMilli()), Member: ghost.Handle()}).Err(); err != nil {
			t.Fatal(err)
		}
		if err := f.raw.RPush(ctx, f.store.SessionKey(ghost.Handle()), "revoked").Err(); err != nil {
			t.Fatal(err)
		}
		list, err := f.store.UserSessions(ctx, "u1")
		if err != nil || len(list) != 1 || list[0].Handle != live.Handle() {
			t.Errorf("UserSessions beside a tombstone = %v, %v; want only %s", list, err, live.Handle())
		}
	})
}

// TestRevokeLeavesNoMarks: once a revoke returns, the index holds none of
// its marks, whether it deleted the session, found none (and left a
// tombstone) or found another user's; a revoke that did not finish is the
// only way to leave one.
func TestRevokeLeavesNoMarks(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		f.login(t, "u1", "a")
		keep := f.login(t, "u1", "keep")
		foreign := f.login(t, "u2", "b")
		ghost := f.store.NewSession(core.Device{})
		deadline := float64(ghost.Deadline().UnixMilli())
		err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"),
			redis.Z{Score: deadline, Member: ghost.Handle()},
			redis.Z{Score: deadline, Member: foreign.Handle()}).Err()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.store.RevokeOthers(ctx, "u1", keep.Handle()); err != nil {
			t.Fatal(err)
		}
		if err := f.store.RevokeSession(ctx, "u1", keep.Handle()); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{f.store.IndexKey("u1"), f.store.IndexKey("u2")} {
			ms, err := f.raw.ZRange(ctx, k, 0, -1).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				if m != foreign.Handle() {
					t.Errorf("%s: member %q left after the revokes returned", k, m)
				}
			}
		}
		if !f.alive(t, foreign.Token()) {
			t.Errorf("revoking u1 ended u2's session")
		}
	})
}

// TestTombstoneOutlivesRenewal: a request that loaded its session before
// the session expired, and renews or logs out after a revoke found it gone
// and left its tombstone, neither brings it back under a new token nor
// clears the tombstone for a write still on its way.
func TestTombstoneOutlivesRenewal(t *testing.T) {
	ctx := context.Background()
	layoutModes(t, core.Options{}, func(t *testing.T, f *fixture) {
		for _, op := range []string{"renew", "retire", "delete"} {
			user := "u-" + op
			x, err := f.store.Load(ctx, f.login(t, user, "d").Token())
			if err != nil {
				t.Fatal(err)
			}
			key := f.store.SessionKey(x.Handle())
			if err := f.raw.Del(ctx, key).Err(); err != nil { // it expired while the request ran
				t.Fatal(err)
			}
			if _, err := f.store.RevokeUser(ctx, user); err != nil {
				t.Fatal(err)
			}
			switch op {
			case "renew":
				err = f.store.Renew(ctx, x)
			case "retire":
				err = f.store.Retire(ctx, x)
			case "delete":
				err = f.store.Delete(ctx, x)
			}
			if op != "delete" && !errors.Is(err, core.ErrNotFound) {
				t.Errorf("%s of a session revoked while gone = %v, want ErrNotFound", op, err)
			}
			if op == "delete" && err != nil {
				t.Errorf("delete of a session revoked while gone = %v", err)
			}
			if typ, _ := f.raw.Type(ctx, key).Result(); typ != "list" {
				t.Errorf("%s of a session revoked while gone left its key as %q, want the tombstone", op, typ)
			}
			if list, err := f.store.UserSessions(ctx, user); err != nil || len(list) != 0 {
				t.Errorf("%s of a session revoked while gone: %d sessions listed, %v", op, len(list), err)
			}
		}
	})
}

// TestRevokeSessionRacingRetire: when RevokeSession returns nil, a renewal
// in two calls (Retire, then the successor's Save) racing it has left
// neither the old session nor its successor alive.
func TestRevokeSessionRacingRetire(t *testing.T) {
	ctx := context.Background()
	modes(t, core.Options{}, func(t *testing.T, f *fixture) {
		survivors := 0
		for r := 0; r < rounds(); r++ {
			user := "u" + strconv.Itoa(r)
			x, err := f.store.Load(ctx, f.login(t, user, "d").Token())
			if err != nil {
				t.Fatal(err)
			}
			old, h := x.Token(), x.Handle()
			var next *core.Session
			var wg sync.WaitGroup
			var revokeErr error
			wg.Add(2)
			go func() {
				defer wg.Done()
				if f.store.Retire(ctx, x) != nil {
					return
				}
				if succ, err := f.store.Successor(x, core.NewToken()); err == nil {
					next = succ
					_ = f.store.Save(ctx, succ)
				}
			}()
			go func() { defer wg.Done(); revokeErr = f.store.RevokeSession(ctx, user, h) }()
			wg.Wait()
			if revokeErr != nil {
				if !errors.Is(revokeErr, core.ErrNotFound) {
					t.Fatal(revokeErr)
				}
				continue // the handle named no live session when the revoke ran
			}
			if f.alive(t, old) || (next != nil && f.alive(t, next.Token())) {
				survivors++
			}
		}
		if survivors != 0 {
			t.Errorf("RevokeSession returned nil, yet %d of %d sessions lived on", survivors, rounds())
		}
	})
}

// TestRevokeSessionLeavesNothingBehind: RevokeSession of a live session
// (one round trip on one node), of an entry whose session is still on its
// way (a login in flight, as Cluster sends it), and of a retired session
// whose successor is on its way: the session is dead, the late writes are
// refused, every key left has a TTL and the index holds no entry or mark
// of them but the retired session's revocation.
func TestRevokeSessionLeavesNothingBehind(t *testing.T) {
	ctx := context.Background()
	layoutModes(t, core.Options{}, func(t *testing.T, f *fixture) {
		live := f.login(t, "u1", "live")
		f.count.Reset()
		if err := f.store.RevokeSession(ctx, "u1", live.Handle()); err != nil {
			t.Fatal(err)
		}
		if rt := f.count.RoundTrips(); rt != 1 && !f.ordered() {
			t.Errorf("RevokeSession on one node: %d round trips, want 1 (%v)", rt, f.count.Commands())
		}
		if f.alive(t, live.Token()) || f.indexed(t, "u1", live.Handle()) {
			t.Errorf("after RevokeSession the session is alive %v, indexed %v", f.alive(t, live.Token()), f.indexed(t, "u1", live.Handle()))
		}

		inflight := f.store.NewSession(core.Device{})
		inflight.UserID, inflight.Data = "u1", []byte("d")
		score := float64(inflight.Deadline().UnixMilli())
		if err := f.raw.ZAdd(ctx, f.store.IndexKey("u1"), redis.Z{Score: score, Member: inflight.Handle()}).Err(); err != nil {
			t.Fatal(err)
		}
		if err := f.store.RevokeSession(ctx, "u1", inflight.Handle()); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("RevokeSession of a login in flight = %v, want ErrNotFound (no session ended)", err)
		}
		if err := f.store.Save(ctx, inflight); !errors.Is(err, core.ErrNotFound) || f.alive(t, inflight.Token()) {
			t.Errorf("a login in flight during RevokeSession created its session after it returned: %v", err)
		}

		retired, err := f.store.Load(ctx, f.login(t, "u1", "retired").Token())
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Retire(ctx, retired); err != nil {
			t.Fatal(err)
		}
		if err := f.store.RevokeSession(ctx, "u1", retired.Handle()); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("RevokeSession of a retired session = %v, want ErrNotFound", err)
		}
		succ, err := f.store.Successor(retired, core.NewToken())
		if err != nil {
			t.Fatal(err)
		}
		if err := f.store.Save(ctx, succ); !errors.Is(err, core.ErrNotFound) || f.alive(t, succ.Token()) {
			t.Errorf("the successor of a session revoked while retired was saved: %v", err)
		}

		for _, k := range f.srv.Keys(t, f.raw) {
			if ttl := f.pttl(t, k); ttl <= 0 {
				t.Errorf("%s left without a TTL (%v)", k, ttl)
			}
		}
		ms, err := f.raw.ZRange(ctx, f.store.IndexKey("u1"), 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			// On Cluster the late writes index their id before they are
			// refused: entries without a session, gone at their deadline.
			late := m == succ.Handle() || m == inflight.Handle()
			if m != "\x00"+retired.Handle() && !(f.ordered() && late) {
				t.Errorf("index member %q left after the revokes", m)
			}
		}
	})
}

// TestLogoutLeavesNothing: a logout (Delete) of a bound session deletes it
// and its index entry, in one command on one node, and a logout of an
// unbound one deletes only its key.
func TestLogoutLeavesNothing(t *testing.T) {
	ctx := context.Background()
	layoutModes(t, core.Options{}, func(t *testing.T, f *fixture) {
		other := f.login(t, "u1", "other")
		x, err := f.store.Load(ctx, f.login(t, "u1", "d").Token())
		if err != nil {
			t.Fatal(err)
		}
		f.count.Reset()
		if err := f.store.Delete(ctx, x); err != nil {
			t.Fatal(err)
		}
		if !f.ordered() && (f.count.RoundTrips() != 1 || f.count.Total() != 1) {
			t.Errorf("logout on one node: %d round trips, %v; want one command", f.count.RoundTrips(), f.count.Commands())
		}
		if f.alive(t, x.Token()) || f.indexed(t, "u1", x.Handle()) {
			t.Errorf("after logout: alive %v, indexed %v", f.alive(t, x.Token()), f.indexed(t, "u1", x.Handle()))
		}
		if n, _ := f.raw.Exists(ctx, f.store.SessionKey(x.Handle())).Result(); n != 0 {
			t.Errorf("after logout the session key is still there")
		}
		if !f.alive(t, other.Token()) || !f.indexed(t, "u1", other.Handle()) {
			t.Errorf("a logout ended the user's other session")
		}
		anon := f.store.NewSession(core.Device{})
		anon.Data = []byte("a")
		if err := f.store.Save(ctx, anon); err != nil {
			t.Fatal(err)
		}
		if err := f.store.Delete(ctx, anon); err != nil || f.alive(t, anon.Token()) {
			t.Errorf("logout of an unbound session = %v, alive %v", err, f.alive(t, anon.Token()))
		}
	})
}
