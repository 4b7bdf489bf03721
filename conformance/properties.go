package conformance

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// properties is the contract: every property Run checks, in the order of
// Run's doc, each with the line that doc gives it (TestRunDoc keeps the two
// in step).
var properties = []property{
	{name: "Token/Fresh", run: tokenFresh,
		spec: "a first write mints a session whose key has a TTL within IdleTimeout"},
	{name: "Token/Unique", run: tokenUnique,
		spec: "two clients get two sessions"},
	{name: "Security/MalformedToken", run: malformedToken,
		spec: "a cookie that is not a well-formed token causes no read from Redis"},
	{name: "Security/NoAdoption", run: noAdoption,
		spec: "an unknown well-formed token is never adopted: the write mints a new one"},
	{name: "Security/ListShowsNoToken", run: listShowsNoToken,
		spec: "the device list carries handles, never a cookie value"},
	{name: "Security/NoTokenAtRest", run: noTokenAtRest,
		spec: "no Redis key name contains a cookie value"},
	{name: "Security/ErrorsNameNoToken", options: func(o *core.Options) { o.MaxRecordSize = 2048 }, run: errorsNameNoToken,
		spec: "no response body and nothing the standard logger prints holds a token or a cookie value: " +
			"with Redis down or refusing writes (where a write answers an error), over garbage or the " +
			"wrong type under a session key, and in a save too large"},
	{name: "Cookie/Prefix", run: cookiePrefix,
		spec: `a cookie named "__Host-…" or "__Secure-…" (in any case) is sent as its prefix requires ` +
			`(Secure; for "__Host-", Path=/ and no Domain), HttpOnly and SameSite=Lax, logout's too: ` +
			`it round-trips through a cookie jar, and logout expires it`},
	{name: "Cookie/PrefixEnforced", run: cookiePrefixEnforced,
		spec: "configured against its prefix (Secure off, another Path, a Domain), a prefixed cookie is " +
			"still sent as its prefix requires, or the adapter refuses the configuration " +
			"(Adapter.CookieRefused); a cookie without a prefix is sent as configured"},
	{name: "Cookie/Size", run: cookieSize,
		spec: "the cookie carries only the token: its Set-Cookie, attributes included, fits in 4096 " +
			"bytes and grows by no more than a few bytes with 10 KiB in the session"},
	{name: "Expiry/Idle", run: expiryIdle,
		spec: "a session unused for IdleTimeout is gone; the client gets a fresh one"},
	{name: "Expiry/Sliding", run: expirySliding,
		spec: "a read-only request moves the expiry to now+IdleTimeout"},
	{name: "Expiry/AbsoluteCap", run: expiryAbsoluteCap,
		spec: "a session in constant use ends at its Lifetime; its TTL never passes it"},
	{name: "Expiry/EveryKeyHasTTL", run: everyKeyHasTTL,
		spec: "after a mixed workload, every key has a TTL, the index's ≥ its latest member"},
	{name: "Renew", run: renew,
		spec: "new token, same data; the old token is dead, in Redis and in the index"},
	{name: "Logout", run: logout,
		spec: "the key and the index entry (bookkeeping too) are gone; the old cookie is worthless"},
	{name: "Users/Identity", run: userIdentity,
		spec: "whose a session is follows core.UserIDOf in every adapter: an integer of any type, or a " +
			"whole float, names the user its decimal string does, and still does once reloaded; \"\" " +
			"names none; a bool or a fraction under the user key, a login as \"\" or a revoke of user " +
			"\"\" is refused with an error and changes nothing"},
	{name: "Index/List", run: indexList,
		spec: "the user's sessions with device facts, this one among them"},
	{name: "Index/PruneStale", run: indexPruneStale,
		spec: "a listing drops entries past their deadline, naming another user's session or (one node) " +
			"without one; on Cluster it keeps an entry whose session may still be on its way"},
	{name: "Index/RevokeOne", run: revokeOne,
		spec: "one device ends another; the other is logged out on its next request"},
	{name: "Index/RevokeForeign", run: revokeForeign,
		spec: "another user's session cannot be revoked, by its handle or through an entry left in this " +
			"user's index"},
	{name: "Index/RevokeOthers", run: revokeOthers,
		spec: `"log out everywhere else"`},
	{name: "Index/RevokeAll", run: revokeAll,
		spec: "an admin ends every session of a user, and only that user's"},
	{name: "NoResurrection/RevokeAll", run: noResurrection("revoke-all"),
		spec: "a request in flight when its user's sessions are revoked cannot write its session back"},
	{name: "NoResurrection/RevokeOne", run: noResurrection("revoke-one"),
		spec: "a request in flight when another device revokes its session cannot write it back"},
	{name: "NoResurrection/Logout", run: noResurrection("logout"),
		spec: "a request in flight when its session is logged out in another tab cannot write it back"},
	{name: "NoResurrection/Renew", run: noResurrection("renew"),
		spec: "a request in flight when its session is renewed in another tab cannot write the old " +
			"token back"},
	{name: "Limits/Size", options: func(o *core.Options) { o.MaxRecordSize = 2048 }, run: sizeLimit,
		spec: "an oversized save is refused and the stored session is unchanged"},
	{name: "Limits/Sensitive", options: func(o *core.Options) { o.Sensitive = core.DefaultSensitive }, run: sensitiveNames,
		spec: "with core.Options.Sensitive, a save of a value the list denies fails with an error naming it " +
			"and writes nothing; other values save as usual"},
	{name: "Limits/MalformedStoredData", options: func(o *core.Options) { o.MaxRecordSize = 2048 }, run: malformedStoredData,
		spec: "garbage, a wrong type or an oversized value under a session key is a miss or an error, " +
			"never a panic, and is left untouched (FuzzStoredBytes tries any bytes)"},
	{name: "RoundTrips/Read", run: roundTripsRead,
		spec: "a read-only request costs Adapter.ReadRoundTrips and writes nothing"},
	{name: "RoundTrips/Login", run: roundTripsLogin,
		spec: "a login from a new client costs one round trip (two on Cluster)"},
	{name: "Concurrency/OneSession", run: concurrentSession,
		spec: "concurrent reads and writes of one session fail none (use -race)"},
	{name: "Concurrency/OneUser", run: concurrentUser,
		spec: "concurrent logins of one user lose no index entry"},
	{name: "Concurrency/Writers", run: concurrentWriters,
		spec: "two requests of one session change different values at once: in the hash layout both " +
			"changes survive; in the string layout the last writer wins, as documented"},
	{name: "Revocation/RenewRace", options: modelOptions, run: renewRace,
		spec: "a renewal racing a revoke-all of its user never survives it, under its old token or its " +
			"new one (REDISESSION_ROUNDS rounds, 50 by default)"},
	{name: "Revocation/LoginRace", options: modelOptions, run: loginRace,
		spec: "a login racing a revoke-all of its user either dies or is in its index, so the next " +
			"revoke ends it"},
	{name: "Revocation/Model", options: modelOptions, run: revocationModel,
		spec: "random interleavings of every operation from several devices of a few users, with clock " +
			"moves, checked against a model after each step: nothing alive that a revoke, logout or " +
			"expiry ended (old tokens included), nothing ended that no revoke touched, every live " +
			"bound session in its index, every key with a TTL. Seeded; a failure prints its seed " +
			"(REDISESSION_MODEL_SEED replays it, REDISESSION_MODEL_SEEDS sets how many run, 3 by " +
			"default)"},
}

func tokenFresh(t *testing.T, p *prop) {
	d := p.device(t, "fresh")
	r := d.set(t, "a", "1")
	if d.cookie() == "" {
		t.Fatalf("no %q cookie after a write", p.ad.CookieName)
	}
	if !core.ValidHandle(r.Handle) {
		t.Fatalf("handle %q is not a handle", r.Handle)
	}
	key := p.store.SessionKey(r.Handle)
	if ttl := p.pttl(t, key); ttl <= 0 || ttl > p.idle() {
		t.Errorf("%s TTL %v after a write, want in (0, %v]", key, ttl, p.idle())
	}
	if got := d.get(t, "a"); !got.Found || got.Value != "1" || got.Handle != r.Handle {
		t.Errorf("read back %+v, want a=1 in session %s", got, r.Handle)
	}
}

func tokenUnique(t *testing.T, p *prop) {
	a := p.device(t, "a").set(t, "k", "v")
	b := p.device(t, "b").set(t, "k", "v")
	if a.Handle == b.Handle {
		t.Errorf("two clients share session %s", a.Handle)
	}
}

func malformedToken(t *testing.T, p *prop) {
	bad := []string{"x", "%%%", strings.Repeat("!", 43), strings.Repeat("a", 3000),
		p.ad.Cookie("not-a-token"), p.ad.Cookie(strings.Repeat("!", 43)), p.ad.Cookie(strings.Repeat("A", 44))}
	for _, v := range bad {
		d := p.device(t, "bad")
		d.setCookie(v)
		p.count.Reset()
		r, status := d.do(t, "GET", "/get?k=a")
		if status != http.StatusOK || r.Found {
			t.Errorf("cookie %.30q: status %d found %v, want 200 and nothing", v, status, r.Found)
		}
		cmds := p.count.Commands()
		if n := cmds["get"] + cmds["getex"] + cmds["getdel"]; n != 0 {
			t.Errorf("cookie %.30q reached Redis: %v", v, cmds)
		}
	}
}

func noAdoption(t *testing.T, p *prop) {
	chosen := core.NewToken()
	d := p.device(t, "attacker")
	d.setCookie(p.ad.Cookie(chosen))
	r := d.set(t, "a", "1")
	if r.Handle == core.Handle(chosen) {
		t.Fatalf("the client-chosen token was adopted (session %s)", r.Handle)
	}
	if p.exists(t, core.Handle(chosen)) {
		t.Errorf("%s was written under the client-chosen token", p.store.SessionKey(core.Handle(chosen)))
	}
	if !p.exists(t, r.Handle) {
		t.Errorf("the new session %s was not written", p.store.SessionKey(r.Handle))
	}
	if got := d.get(t, "a"); got.Value != "1" {
		t.Errorf("the new session does not reach the client: read %+v", got)
	}
}

func listShowsNoToken(t *testing.T, p *prop) {
	a, b := p.device(t, "a"), p.device(t, "b")
	a.login(t, "u1")
	b.login(t, "u1")
	res, err := a.c.Get(p.ts.URL + "/devices")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /devices: status %d", res.StatusCode)
	}
	for _, d := range []*device{a, b} {
		if c := d.cookie(); c != "" && strings.Contains(string(body), c) {
			t.Errorf("the device list contains a session cookie value")
		}
	}
}

func noTokenAtRest(t *testing.T, p *prop) {
	d := p.device(t, "a")
	d.login(t, "u1")
	d.set(t, "k", "v")
	c := d.cookie()
	for _, k := range p.srv.Keys(t, p.raw) {
		if strings.Contains(k, c) {
			t.Errorf("key %s contains the session cookie value", k)
		}
	}
}

func expiryIdle(t *testing.T, p *prop) {
	d := p.device(t, "a")
	old := d.set(t, "a", "1")
	p.srv.Advance(p.idle() + p.slack())
	r := d.get(t, "a")
	if r.Found {
		t.Fatalf("value still there after %v idle (IdleTimeout %v)", p.idle()+p.slack(), p.idle())
	}
	if p.exists(t, old.Handle) {
		t.Errorf("%s still exists after the idle timeout", p.store.SessionKey(old.Handle))
	}
	r = d.set(t, "b", "2")
	if r.Handle == old.Handle {
		t.Errorf("the expired session %s was adopted again", old.Handle)
	}
}

func expirySliding(t *testing.T, p *prop) {
	d := p.device(t, "a")
	r := d.set(t, "a", "1")
	key := p.store.SessionKey(r.Handle)
	step := p.idle() * 2 / 3
	p.srv.Advance(step)
	if got := d.get(t, "a"); !got.Found {
		t.Fatalf("value gone %v after a write (IdleTimeout %v)", step, p.idle())
	}
	if ttl := p.pttl(t, key); ttl < p.idle()-p.slack()-p.ad.ExpiryDrift {
		t.Errorf("%s TTL %v after a read, want ≈%v (drift allowed: %v)", key, ttl, p.idle(), p.slack()+p.ad.ExpiryDrift)
	}
	p.srv.Advance(step)
	if got := d.get(t, "a"); !got.Found {
		t.Errorf("value gone %v after the last read, %v after the write: the read did not slide the expiry", step, 2*step)
	}
}

func expiryAbsoluteCap(t *testing.T, p *prop) {
	d := p.device(t, "a")
	start := p.srv.Now()
	r := d.set(t, "a", "1")
	key := p.store.SessionKey(r.Handle)
	step := p.idle() * 2 / 3
	for p.srv.Now().Sub(start)+step < p.life()-p.slack() {
		p.srv.Advance(step)
		// Reads and writes alike must respect the deadline.
		for _, op := range []string{"read", "write"} {
			if op == "read" {
				if got := d.get(t, "a"); !got.Found {
					t.Fatalf("value gone at +%v, before the lifetime %v", p.srv.Now().Sub(start), p.life())
				}
			} else {
				d.set(t, "a", p.srv.Now().String())
			}
			left := p.life() - p.srv.Now().Sub(start)
			if ttl := p.pttl(t, key); ttl > left+p.slack() {
				t.Errorf("%s TTL %v after a %s at +%v, want ≤ %v (the deadline)", key, ttl, op, p.srv.Now().Sub(start), left)
			}
		}
	}
	p.srv.Advance(p.life() - p.srv.Now().Sub(start) + p.slack())
	if got := d.get(t, "a"); got.Found {
		t.Errorf("value still there at +%v, past the lifetime %v", p.srv.Now().Sub(start), p.life())
	}
	if p.exists(t, r.Handle) {
		t.Errorf("%s exists past the lifetime", key)
	}
}

func everyKeyHasTTL(t *testing.T, p *prop) {
	a, b, c := p.device(t, "a"), p.device(t, "b"), p.device(t, "c")
	a.set(t, "cart", "1")
	a.login(t, "u1")
	rb := b.login(t, "u1")
	c.set(t, "anon", "1")
	a.must(t, "POST", "/renew")
	a.must(t, "GET", "/devices")
	c.login(t, "u2")
	c.do(t, "POST", "/revoke?h="+rb.Handle) // not c's: refused, must leave no trace
	a.must(t, "POST", "/revoke?h="+rb.Handle)
	c.must(t, "POST", "/logout")
	c.login(t, "u2")
	ctx := context.Background()
	keys := p.srv.Keys(t, p.raw)
	if len(keys) == 0 {
		t.Fatalf("no keys under %s after the workload", p.opts.Prefix)
	}
	for _, k := range keys {
		ttl := p.pttl(t, k)
		if ttl <= 0 {
			t.Errorf("%s has TTL %v, want > 0", k, ttl)
			continue
		}
		if typ := p.raw.Type(ctx, k).Val(); typ == "zset" {
			top, err := p.raw.ZRangeWithScores(ctx, k, -1, -1).Result()
			if err != nil || len(top) != 1 {
				t.Errorf("index %s: %v %v", k, top, err)
				continue
			}
			latest := time.UnixMilli(int64(top[0].Score))
			if until := latest.Sub(p.srv.Now()); ttl < until-p.slack() {
				t.Errorf("index %s TTL %v, want ≥ %v (its latest member's deadline)", k, ttl, until)
			}
		}
	}
}

func renew(t *testing.T, p *prop) {
	d := p.device(t, "a")
	before := d.set(t, "cart", "3 apples")
	oldCookie := d.cookie()
	after := d.login(t, "u1")
	if after.Handle == before.Handle {
		t.Fatalf("the token did not change at login (%s)", after.Handle)
	}
	if got := d.get(t, "cart"); got.Value != "3 apples" || got.User != "u1" {
		t.Errorf("after renewing, read %+v, want cart=3 apples for u1", got)
	}
	if p.exists(t, before.Handle) {
		t.Errorf("old %s still exists", p.store.SessionKey(before.Handle))
	}
	if !p.indexed(t, "u1", after.Handle) {
		t.Errorf("new session %s is not in %s", after.Handle, p.store.IndexKey("u1"))
	}
	if p.indexed(t, "u1", before.Handle) {
		t.Errorf("old session %s is still in %s", before.Handle, p.store.IndexKey("u1"))
	}
	old := p.device(t, "thief")
	old.setCookie(oldCookie)
	if got := old.get(t, "cart"); got.Found || got.User != "" {
		t.Errorf("the old cookie still works: %+v", got)
	}
	// Renew again, now that the session is stored and bound.
	again := d.must(t, "POST", "/renew")
	if again.Handle == after.Handle || p.exists(t, after.Handle) || !p.exists(t, again.Handle) ||
		!p.indexed(t, "u1", again.Handle) || p.indexed(t, "u1", after.Handle) {
		t.Errorf("second renew %s → %s left Redis inconsistent", after.Handle, again.Handle)
	}
}

func logout(t *testing.T, p *prop) {
	d := p.device(t, "a")
	r := d.login(t, "u1")
	d.set(t, "secret", "s")
	copyOf := d.clone(t)
	d.must(t, "POST", "/logout")
	if p.exists(t, r.Handle) {
		t.Errorf("%s still exists", p.store.SessionKey(r.Handle))
	}
	if p.indexed(t, "u1", r.Handle) {
		t.Errorf("%s still in %s", r.Handle, p.store.IndexKey("u1"))
	}
	// Nothing of the session stays in the index, bookkeeping included
	// (an adapter may clear that just after the response).
	for i := 0; p.indexSize(t, "u1") != 0; i++ {
		if i == 200 {
			t.Errorf("%s still holds %d members after the logout", p.store.IndexKey("u1"), p.indexSize(t, "u1"))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := copyOf.get(t, "secret"); got.Found || got.User != "" {
		t.Errorf("a copy of the old cookie still reads the session: %+v", got)
	}
	if d.loggedIn(t) {
		t.Errorf("the client is still logged in")
	}
}

func indexList(t *testing.T, p *prop) {
	phone, laptop := p.device(t, "phone/1.0"), p.device(t, "laptop/2.0")
	rp := phone.login(t, "u1")
	rl := laptop.login(t, "u1")
	p.device(t, "other").login(t, "u2")
	list := phone.must(t, "GET", "/devices").Sessions
	if len(list) != 2 {
		t.Fatalf("%d sessions listed for u1, want 2: %+v", len(list), list)
	}
	m := handles(list)
	for h, ua := range map[string]string{rp.Handle: "phone/1.0", rl.Handle: "laptop/2.0"} {
		s, ok := m[h]
		if !ok {
			t.Errorf("session %s (%s) missing from %+v", h, ua, list)
			continue
		}
		if s.UserAgent != ua || s.RemoteAddr == "" || s.UserID != "u1" {
			t.Errorf("%s: agent %q addr %q user %q, want %q, an address, u1", h, s.UserAgent, s.RemoteAddr, s.UserID, ua)
		}
		if s.Created.IsZero() || s.LastSeen.Before(s.Created) || !s.Deadline.After(s.Created) || s.ExpiresAt.After(s.Deadline) {
			t.Errorf("%s: times created %v seen %v expires %v deadline %v are inconsistent", h, s.Created, s.LastSeen, s.ExpiresAt, s.Deadline)
		}
	}
}

func indexPruneStale(t *testing.T, p *prop) {
	ctx := context.Background()
	d, o := p.device(t, "a"), p.device(t, "other")
	live := d.login(t, "u1")
	foreign := o.login(t, "u2") // named in u1's index too: a rebind cut short
	now := p.srv.Now().UnixMilli()
	pastDeadline := core.Handle(core.NewToken())
	// An entry without a session: on Cluster, a login whose session may
	// still be on its way; on one node, where both are written together,
	// a session that is gone (expired while idle, say).
	inFlight := core.Handle(core.NewToken())
	idx := p.store.IndexKey("u1")
	err := p.raw.ZAdd(ctx, idx,
		redis.Z{Score: float64(now - 1000), Member: pastDeadline},
		redis.Z{Score: float64(now + p.life().Milliseconds()/2), Member: inFlight},
		redis.Z{Score: float64(now + p.life().Milliseconds()), Member: foreign.Handle},
	).Err()
	if err != nil {
		t.Fatal(err)
	}
	list := d.must(t, "GET", "/devices").Sessions
	if len(list) != 1 || list[0].Handle != live.Handle {
		t.Errorf("listed %+v, want only %s", list, live.Handle)
	}
	if p.indexed(t, "u1", pastDeadline) {
		t.Errorf("a member past its deadline is still in %s", idx)
	}
	if p.indexed(t, "u1", foreign.Handle) {
		t.Errorf("a member naming u2's session is still in %s", idx)
	}
	if !p.indexed(t, "u2", foreign.Handle) || !o.loggedIn(t) {
		t.Errorf("listing u1's sessions touched u2's")
	}
	_, cluster := p.raw.(*redis.ClusterClient)
	switch kept := p.indexed(t, "u1", inFlight); {
	case cluster && !kept:
		t.Errorf("listing dropped an entry whose session may still be on its way; " +
			"once written, that session would be outside its index")
	case !cluster && kept:
		t.Errorf("an entry whose session is gone is still in %s after a listing", idx)
	}
}

func userIdentity(t *testing.T, p *prop) {
	named := []struct{ typ, v string }{{"string", "42"}, {"int", "42"}, {"int64", "42"}, {"uint8", "42"}, {"float64", "42"}}
	for _, c := range named {
		d := p.device(t, "identity-"+c.typ)
		d.set(t, "a", "1")
		if r := d.must(t, "POST", "/put-user?type="+c.typ+"&v="+c.v); r.User != "42" {
			t.Errorf("%s %s under the user key: user %q, want \"42\"", c.typ, c.v, r.User)
		}
		r := d.get(t, "a")
		if r.User != "42" || !p.indexed(t, "42", r.Handle) {
			t.Errorf("%s %s under the user key, reloaded: user %q, in user 42's index %v; want 42, true",
				c.typ, c.v, r.User, p.indexed(t, "42", r.Handle))
		}
	}
	if r := p.device(t, "admin").must(t, "POST", "/revoke-user?user=42"); r.N != len(named) {
		t.Errorf("revoking user 42 ended %d sessions, want %d: one per type that names 42", r.N, len(named))
	}

	anon := p.device(t, "identity-empty")
	anon.set(t, "a", "1")
	if r := anon.must(t, "POST", "/put-user?type=string&v="); r.User != "" {
		t.Errorf(`"" under the user key: user %q, want none`, r.User)
	}
	if r := anon.must(t, "GET", "/devices"); len(r.Sessions) != 0 {
		t.Errorf(`"" under the user key: %d sessions listed, want none`, len(r.Sessions))
	}
	if _, status := anon.do(t, "POST", "/login?user="); status == http.StatusOK {
		t.Errorf(`a login as "" answered 200, want an error`)
	}
	if _, status := anon.do(t, "POST", "/revoke-user?user="); status == http.StatusOK {
		t.Errorf(`revoking user "" answered 200, want an error: "" names no user`)
	}
	if r := anon.get(t, "a"); r.User != "" || r.Value != "1" {
		t.Errorf(`after a login as "": user %q, value %q; want none, "1"`, r.User, r.Value)
	}

	for _, c := range []struct{ typ, v string }{{"bool", "true"}, {"float64", "1.5"}} {
		d := p.device(t, "refused-"+c.typ)
		before := d.set(t, "a", "1")
		if _, status := d.do(t, "POST", "/put-user?type="+c.typ+"&v="+c.v); status == http.StatusOK {
			t.Errorf("%s %s under the user key answered 200, want the save refused", c.typ, c.v)
		}
		after := d.get(t, "a")
		if after.User != "" || after.Value != "1" || after.Handle != before.Handle {
			t.Errorf("after a refused %s %s: user %q, value %q, handle %s; want the session as it was (none, 1, %s)",
				c.typ, c.v, after.User, after.Value, after.Handle, before.Handle)
		}
		if n := p.indexSize(t, c.v); n != 0 {
			t.Errorf("a refused %s %s made an index for user %q of %d entries", c.typ, c.v, c.v, n)
		}
	}
}

func revokeOne(t *testing.T, p *prop) {
	a, b := p.device(t, "a"), p.device(t, "b")
	a.login(t, "u1")
	rb := b.login(t, "u1")
	a.must(t, "POST", "/revoke?h="+rb.Handle)
	if p.exists(t, rb.Handle) || p.indexed(t, "u1", rb.Handle) {
		t.Errorf("%s survived its revocation (key or index entry)", rb.Handle)
	}
	if b.loggedIn(t) {
		t.Errorf("the revoked device is still logged in")
	}
	if !a.loggedIn(t) {
		t.Errorf("the revoking device was logged out")
	}
}

func revokeForeign(t *testing.T, p *prop) {
	a, v := p.device(t, "a"), p.device(t, "victim")
	a.login(t, "u1")
	rv := v.login(t, "u2")
	if _, status := a.do(t, "POST", "/revoke?h="+rv.Handle); status == http.StatusOK {
		t.Errorf("revoking another user's session answered 200, want an error")
	}
	if !v.loggedIn(t) || !p.exists(t, rv.Handle) {
		t.Errorf("u1 ended u2's session %s", rv.Handle)
	}
	// An entry in u1's index naming u2's session (a rebind cut short
	// between its steps) is not u1's to end: a revoke checks the record.
	ctx := context.Background()
	err := p.raw.ZAdd(ctx, p.store.IndexKey("u1"), redis.Z{Score: float64(p.srv.Now().Add(p.life()).UnixMilli()), Member: rv.Handle}).Err()
	if err != nil {
		t.Fatal(err)
	}
	if _, status := a.do(t, "POST", "/revoke?h="+rv.Handle); status == http.StatusOK {
		t.Errorf("revoking u2's session through an entry in u1's index answered 200, want an error")
	}
	if r := a.must(t, "POST", "/revoke-user?user=u1"); r.N != 1 {
		t.Errorf("revoke-all of u1 ended %d sessions, want 1 (u1's own)", r.N)
	}
	if !v.loggedIn(t) || !p.exists(t, rv.Handle) || !p.indexed(t, "u2", rv.Handle) {
		t.Errorf("an entry in u1's index ended u2's session %s", rv.Handle)
	}
}

func revokeOthers(t *testing.T, p *prop) {
	a, b, c := p.device(t, "a"), p.device(t, "b"), p.device(t, "c")
	ra := a.login(t, "u1")
	b.login(t, "u1")
	c.login(t, "u1")
	if r := a.must(t, "POST", "/revoke-others"); r.N != 2 {
		t.Errorf("ended %d sessions, want 2", r.N)
	}
	if b.loggedIn(t) || c.loggedIn(t) {
		t.Errorf("another device is still logged in")
	}
	if !a.loggedIn(t) {
		t.Errorf("the current device was logged out")
	}
	if n := p.indexSize(t, "u1"); n != 1 || !p.indexed(t, "u1", ra.Handle) {
		t.Errorf("%s has %d members, want only %s", p.store.IndexKey("u1"), n, ra.Handle)
	}
}

func revokeAll(t *testing.T, p *prop) {
	a, b, admin := p.device(t, "a"), p.device(t, "b"), p.device(t, "admin")
	ra := a.login(t, "u1")
	rb := b.login(t, "u1")
	admin.login(t, "root")
	if r := admin.must(t, "POST", "/revoke-user?user=u1"); r.N != 2 {
		t.Errorf("ended %d sessions, want 2", r.N)
	}
	if p.exists(t, ra.Handle) || p.exists(t, rb.Handle) {
		t.Errorf("a session key of u1 survived")
	}
	if n := p.indexSize(t, "u1"); n != 0 {
		t.Errorf("%s has %d members, want 0", p.store.IndexKey("u1"), n)
	}
	if a.loggedIn(t) || b.loggedIn(t) {
		t.Errorf("a device of u1 is still logged in")
	}
	if !admin.loggedIn(t) {
		t.Errorf("another user's session was ended")
	}
}

// noResurrection holds a request of the victim inside the app, ends its
// session from elsewhere, then lets the request write.
func noResurrection(how string) func(*testing.T, *prop) {
	return func(t *testing.T, p *prop) {
		victim, other := p.device(t, "victim"), p.device(t, "other")
		rv := victim.login(t, "u1")
		victim.set(t, "k", "before")
		tab := victim.clone(t)
		other.login(t, "u1")

		g := p.gates.get("g")
		var release sync.Once
		letGo := func() { release.Do(func() { close(g.release) }) }
		defer letGo() // a failed check must not leave the request, and the server, hanging
		done := make(chan struct{})
		go func() {
			defer close(done)
			// Its status is the adapter's business; what it leaves in Redis is ours.
			req, _ := http.NewRequest("POST", p.ts.URL+"/wait-set?gate=g&k=k&v=after", nil)
			if res, err := victim.c.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		select {
		case <-g.entered:
		case <-time.After(30 * time.Second):
			t.Fatalf("the held request never reached the app")
		}
		var renewed reply
		switch how {
		case "revoke-all":
			other.must(t, "POST", "/revoke-user?user=u1")
		case "revoke-one":
			other.must(t, "POST", "/revoke?h="+rv.Handle)
		case "logout":
			tab.must(t, "POST", "/logout")
		case "renew":
			renewed = tab.must(t, "POST", "/renew")
		}
		letGo()
		<-done
		if p.exists(t, rv.Handle) {
			t.Errorf("%s was written back by a request in flight", p.store.SessionKey(rv.Handle))
		}
		if p.indexed(t, "u1", rv.Handle) {
			t.Errorf("%s is back in %s", rv.Handle, p.store.IndexKey("u1"))
		}
		if how == "renew" {
			if got := tab.get(t, "k"); got.Value != "before" || got.Handle != renewed.Handle {
				t.Errorf("the renewed session reads %+v, want k=before in %s", got, renewed.Handle)
			}
			return
		}
		if got := victim.get(t, "k"); got.User != "" || got.Found {
			t.Errorf("the victim still sees the ended session: %+v", got)
		}
	}
}

func sizeLimit(t *testing.T, p *prop) {
	d := p.device(t, "a")
	r := d.set(t, "a", "small")
	_, _ = d.do(t, "POST", "/set?k=a&v="+strings.Repeat("x", 4096))
	if got := d.get(t, "a"); got.Value != "small" || got.Handle != r.Handle {
		t.Errorf("after an oversized save, read %.40q in %s; want the stored %q in %s", got.Value, got.Handle, "small", r.Handle)
	}
	ctx := context.Background()
	for _, k := range p.srv.Keys(t, p.raw) {
		if p.raw.Type(ctx, k).Val() == "string" {
			if n := p.raw.StrLen(ctx, k).Val(); n > int64(p.opts.MaxRecordSize) {
				t.Errorf("%s holds %d bytes, over the %d-byte limit", k, n, p.opts.MaxRecordSize)
			}
		}
	}
}

func sensitiveNames(t *testing.T, p *prop) {
	d := p.device(t, "a")
	r := d.set(t, "theme", "dark")
	for _, name := range []string{"password", "card_number", "cvv"} {
		got, status := d.do(t, "POST", "/set?k="+name+"&v=secret")
		if status == http.StatusOK || !strings.Contains(got.Err, name) {
			t.Errorf("saving %q: status %d, err %q; want a failure that names the value", name, status, got.Err)
		}
		if got := d.get(t, name); got.Found || got.Handle != r.Handle {
			t.Errorf("after the refused save of %q: found %v in %s; want nothing, in %s", name, got.Found, got.Handle, r.Handle)
		}
	}
	if got := d.get(t, "theme"); got.Value != "dark" {
		t.Errorf("the stored value became %q after refused saves", got.Value)
	}
	before := len(p.srv.Keys(t, p.raw))
	fresh := p.device(t, "b")
	if _, status := fresh.do(t, "POST", "/set?k=password&v=secret"); status == http.StatusOK {
		t.Errorf("a new session holding a password was saved")
	}
	if after := len(p.srv.Keys(t, p.raw)); after != before {
		t.Errorf("a refused new session left %d keys behind", after-before)
	}
	if got := fresh.set(t, "n", "1"); !core.ValidHandle(got.Handle) {
		t.Errorf("after a refused save, an ordinary save got handle %q", got.Handle)
	}
}

func malformedStoredData(t *testing.T, p *prop) {
	ctx := context.Background()
	plant := map[string]func(key string) error{
		"garbage": func(key string) error { return p.raw.Set(ctx, key, "\xb1\xff\xff\xff garbage", time.Hour).Err() },
		"foreign": func(key string) error { return p.raw.Set(ctx, key, `{"user":"someone else"}`, time.Hour).Err() },
		"empty":   func(key string) error { return p.raw.Set(ctx, key, "", time.Hour).Err() },
		"oversized": func(key string) error {
			return p.raw.Set(ctx, key, "\xb1"+strings.Repeat("\x01", p.opts.MaxRecordSize+10), time.Hour).Err()
		},
		"wrong type": func(key string) error {
			if err := p.raw.HSet(ctx, key, "f", "v").Err(); err != nil {
				return err
			}
			return p.raw.Expire(ctx, key, time.Hour).Err()
		},
	}
	for what, put := range plant {
		tok := core.NewToken()
		key := p.store.SessionKey(core.Handle(tok))
		if err := put(key); err != nil {
			t.Fatal(err)
		}
		dump := p.raw.Dump(ctx, key).Val()
		d := p.device(t, what)
		d.setCookie(p.ad.Cookie(tok))
		r, status := d.do(t, "GET", "/get?k=a")
		if status != http.StatusOK && status != http.StatusInternalServerError {
			t.Errorf("%s: status %d, want 200 (a miss) or 500 (an error)", what, status)
		}
		if r.Found || r.User != "" {
			t.Errorf("%s: the app saw data: %+v", what, r)
		}
		d.do(t, "POST", "/set?k=a&v=1")
		if got := p.raw.Dump(ctx, key).Val(); got != dump {
			t.Errorf("%s: %s was changed by the store", what, key)
		}
	}
}

func roundTripsRead(t *testing.T, p *prop) {
	d := p.device(t, "a")
	d.login(t, "u1")
	d.set(t, "a", "1")
	// Failing closed, a bound read also reads its index entry.
	guard := 0
	if p.opts.Eviction == core.EvictionFailClosed {
		guard = 1
	}
	for i := 0; i < 3; i++ {
		p.count.Reset()
		d.get(t, "a")
		if rt := p.count.RoundTrips(); rt > p.ad.ReadRoundTrips+guard {
			t.Errorf("a read-only request took %d round trips, want ≤ %d: %v", rt, p.ad.ReadRoundTrips+guard, p.count.Commands())
		}
		if want := map[core.Layout]string{core.LayoutString: "getex", core.LayoutHash: "eval"}[p.opts.Layout]; p.ad.ReadRoundTrips == 1 && guard == 0 {
			if cmds := p.count.Commands(); p.count.Total() != 1 || cmds[want] != 1 {
				t.Errorf("a read-only request sent %v, want one %s (read and slide, nothing written)", cmds, strings.ToUpper(want))
			}
		}
	}
}

func roundTripsLogin(t *testing.T, p *prop) {
	want := 1
	if p.srv.Kind == "cluster" {
		want = 2 // index, then session: different slots
	}
	d := p.device(t, "a")
	p.count.Reset()
	d.login(t, "u1")
	if rt := p.count.RoundTrips(); rt > want {
		t.Errorf("logging in from a new client took %d round trips, want %d: %v", rt, want, p.count.Commands())
	}
}

func concurrentSession(t *testing.T, p *prop) {
	d := p.device(t, "a")
	d.login(t, "u1")
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				path := "/get?k=a"
				method := "GET"
				if i%2 == 1 {
					method, path = "POST", "/set?k=w"+strconv.Itoa(w)+"&v="+strconv.Itoa(i)
				}
				r, status := d.do(t, method, path)
				if status != http.StatusOK || r.User != "u1" {
					errs <- fmt.Sprintf("%s %s: status %d user %q err %q", method, path, status, r.User, r.Err)
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Errorf("%s", e)
	}
	if !d.loggedIn(t) {
		t.Errorf("the session did not survive concurrent requests")
	}
}

func concurrentUser(t *testing.T, p *prop) {
	const n = 16
	var wg sync.WaitGroup
	handlesC := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			d := p.device(t, "device-"+strconv.Itoa(i))
			r, status := d.do(t, "POST", "/login?user=u1")
			if status != http.StatusOK {
				t.Errorf("login %d: status %d err %q", i, status, r.Err)
				return
			}
			handlesC <- r.Handle
		}(i)
	}
	wg.Wait()
	close(handlesC)
	for h := range handlesC {
		if !p.indexed(t, "u1", h) {
			t.Errorf("session %s lost from %s", h, p.store.IndexKey("u1"))
		}
	}
	if size := p.indexSize(t, "u1"); size != n {
		t.Errorf("%s has %d members after %d concurrent logins", p.store.IndexKey("u1"), size, n)
	}
}

// concurrentWriters holds two requests of one session inside the app, both
// loaded, lets the first set a and save, then the second set b and save.
func concurrentWriters(t *testing.T, p *prop) {
	d := p.device(t, "a")
	d.login(t, "u1")
	d.set(t, "a", "0")
	d.set(t, "c", "kept")
	send := func(gate, k, v string) chan struct{} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, _ := http.NewRequest("POST", p.ts.URL+"/wait-set?gate="+gate+"&k="+k+"&v="+v, nil)
			if res, err := d.c.Do(req); err == nil {
				res.Body.Close()
			}
		}()
		return done
	}
	g1, g2 := p.gates.get("w1"), p.gates.get("w2")
	var once1, once2 sync.Once
	release1 := func() { once1.Do(func() { close(g1.release) }) }
	release2 := func() { once2.Do(func() { close(g2.release) }) }
	defer release1()
	defer release2()
	done1 := send("w1", "a", "1")
	done2 := send("w2", "b", "2")
	for _, g := range []*gate{g1, g2} {
		select {
		case <-g.entered:
		case <-time.After(30 * time.Second):
			t.Fatalf("a held request never reached the app")
		}
	}
	release1()
	<-done1
	release2()
	<-done2
	a, b, c := d.get(t, "a"), d.get(t, "b"), d.get(t, "c")
	if !b.Found || !c.Found || c.Value != "kept" || b.User != "u1" {
		t.Fatalf("after both saves read a=%+v b=%+v c=%+v; want b=2, c=kept, still u1", a, b, c)
	}
	switch p.opts.Layout {
	case core.LayoutHash:
		if a.Value != "1" {
			t.Errorf("hash layout lost the first request's change (a=%q, want 1): a save must write only what it changed", a.Value)
		}
	default:
		if a.Value != "0" {
			t.Errorf("string layout has a=%q; the documented behaviour is that the last writer wins (a=0, from its snapshot)", a.Value)
		}
	}
}
