package conformance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// Run checks that the adapter h opens behaves as every redisession store
// must, one named subtest per property (run in parallel):
//
//	Token/Fresh                 a first write mints a session whose key has a TTL within IdleTimeout
//	Token/Unique                two clients get two sessions
//	Security/MalformedToken     a cookie that is not a well-formed token causes no read from Redis
//	Security/NoAdoption         an unknown well-formed token is never adopted: the write mints a new one
//	Security/ListShowsNoToken   the device list carries handles, never a cookie value
//	Security/NoTokenAtRest      no Redis key name contains a cookie value
//	Security/ErrorsNameNoToken  no response body and nothing the standard logger prints holds a token or
//	                            a cookie value: with Redis down or refusing writes (where a write
//	                            answers an error), over garbage or the wrong type under a session key,
//	                            and in a save too large
//	Cookie/Prefix               a cookie named "__Host-…" or "__Secure-…" (in any case) is sent as its
//	                            prefix requires (Secure; for "__Host-", Path=/ and no Domain), HttpOnly
//	                            and SameSite=Lax, logout's too: it round-trips through a cookie jar, and
//	                            logout expires it
//	Cookie/PrefixEnforced       configured against its prefix (Secure off, another Path, a Domain), a
//	                            prefixed cookie is still sent as its prefix requires, or the adapter
//	                            refuses the configuration (Adapter.CookieRefused); a cookie without a
//	                            prefix is sent as configured
//	Cookie/Size                 the cookie carries only the token: its Set-Cookie, attributes included,
//	                            fits in 4096 bytes and grows by no more than a few bytes with 10 KiB in
//	                            the session
//	Expiry/Idle                 a session unused for IdleTimeout is gone; the client gets a fresh one
//	Expiry/Sliding              a read-only request moves the expiry to now+IdleTimeout
//	Expiry/AbsoluteCap          a session in constant use ends at its Lifetime; its TTL never passes it
//	Expiry/EveryKeyHasTTL       after a mixed workload, every key has a TTL, the index's ≥ its latest
//	                            member
//	Renew                       new token, same data; the old token is dead, in Redis and in the index
//	Logout                      the key and the index entry (bookkeeping too) are gone; the old cookie
//	                            is worthless
//	Users/Identity              whose a session is follows core.UserIDOf in every adapter: an integer of
//	                            any type, or a whole float, names the user its decimal string does, and
//	                            still does once reloaded; "" names none; a bool or a fraction under the
//	                            user key, a login as "" or a revoke of user "" is refused with an error
//	                            and changes nothing
//	Index/List                  the user's sessions with device facts, this one among them
//	Index/PruneStale            a listing drops entries past their deadline, naming another user's
//	                            session or (one node) without one; on Cluster it keeps an entry whose
//	                            session may still be on its way
//	Index/RevokeOne             one device ends another; the other is logged out on its next request
//	Index/RevokeForeign         another user's session cannot be revoked, by its handle or through an
//	                            entry left in this user's index
//	Index/RevokeOthers          "log out everywhere else"
//	Index/RevokeAll             an admin ends every session of a user, and only that user's
//	NoResurrection/RevokeAll    a request in flight when its user's sessions are revoked cannot write
//	                            its session back
//	NoResurrection/RevokeOne    a request in flight when another device revokes its session cannot write
//	                            it back
//	NoResurrection/Logout       a request in flight when its session is logged out in another tab cannot
//	                            write it back
//	NoResurrection/Renew        a request in flight when its session is renewed in another tab cannot
//	                            write the old token back
//	Limits/Size                 an oversized save is refused and the stored session is unchanged
//	Limits/Sensitive            with core.Options.Sensitive, a save of a value the list denies fails
//	                            with an error naming it and writes nothing; other values save as usual
//	Limits/MalformedStoredData  garbage, a wrong type or an oversized value under a session key is a
//	                            miss or an error, never a panic, and is left untouched (FuzzStoredBytes
//	                            tries any bytes)
//	RoundTrips/Read             a read-only request costs Adapter.ReadRoundTrips and writes nothing
//	RoundTrips/Login            a login from a new client costs one round trip (two on Cluster)
//	Concurrency/OneSession      concurrent reads and writes of one session fail none (use -race)
//	Concurrency/OneUser         concurrent logins of one user lose no index entry
//	Concurrency/Writers         two requests of one session change different values at once: in the hash
//	                            layout both changes survive; in the string layout the last writer wins,
//	                            as documented
//	Revocation/RenewRace        a renewal racing a revoke-all of its user never survives it, under its
//	                            old token or its new one (REDISESSION_ROUNDS rounds, 50 by default)
//	Revocation/LoginRace        a login racing a revoke-all of its user either dies or is in its index,
//	                            so the next revoke ends it
//	Revocation/Model            random interleavings of every operation from several devices of a few
//	                            users, with clock moves, checked against a model after each step:
//	                            nothing alive that a revoke, logout or expiry ended (old tokens
//	                            included), nothing ended that no revoke touched, every live bound
//	                            session in its index, every key with a TTL. Seeded; a failure prints its
//	                            seed (REDISESSION_MODEL_SEED replays it, REDISESSION_MODEL_SEEDS sets
//	                            how many run, 3 by default)
//
// A Harness that is a Layouter runs every property once per layout it
// names, as "<layout>/<property>".
//
// Run uses the Redis that internal/redistest chooses: an embedded miniredis,
// the server at REDIS_ADDR, the Cluster at REDIS_CLUSTER_ADDRS, or the
// primary the Sentinels at REDIS_SENTINEL_ADDRS name; a Harness that is a
// ClientMaker builds the clients to it. On miniredis time moves with its
// clock (IdleTimeout 30m, Lifetime 2h); on a real server it passes for
// real, with IdleTimeout 2s and Lifetime 5s. With REDISESSION_EVICTION=fail-closed
// every property runs with core.EvictionFailClosed, which on a server that
// may evict (miniredis counts as one: it answers no INFO memory) checks
// each bound load against the index: no property may then lose a session
// it keeps otherwise, and a read may cost that one round trip more.
func Run(t *testing.T, h Harness) {
	layouts := layoutsOf(h)
	for _, layout := range layouts {
		layout := layout
		for _, c := range properties {
			c := c
			name := c.name
			if len(layouts) > 1 {
				name = layout.String() + "/" + name
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c.run(t, open(t, h, layout, c.options))
			})
		}
	}
}

// layoutsOf returns the layouts h's adapter supports.
func layoutsOf(h Harness) []core.Layout {
	if lh, ok := h.(Layouter); ok {
		return lh.Layouts()
	}
	return []core.Layout{core.LayoutString}
}

// property is one entry of the contract: its subtest's name, the line Run's
// doc gives it, the options it needs, and its check.
type property struct {
	name    string
	spec    string
	options func(*core.Options)
	run     func(*testing.T, *prop)
}

// prop is one property's world: its Redis, its adapter, its HTTPS server.
type prop struct {
	h     Harness
	srv   *redistest.Server
	count *redistest.Counter
	raw   redis.UniversalClient // uncounted, for inspecting Redis
	store *core.Store           // same options as the adapter's, for key names and lists
	opts  core.Options
	env   Env // what the adapter was opened with
	ad    Adapter
	ts    *httptest.Server
	gates *gates
}

func open(t testing.TB, h Harness, layout core.Layout, tweak func(*core.Options)) *prop {
	t.Helper()
	srv := redistest.Start(t)
	p := &prop{h: h, srv: srv, count: redistest.NewCounter(), gates: &gates{}}
	p.opts = core.Options{
		Prefix:      srv.Prefix,
		IdleTimeout: 30 * time.Minute,
		Lifetime:    2 * time.Hour,
		UserKey:     "user_id",
		Layout:      layout,
		Now:         srv.Now,
	}
	if srv.Real() {
		p.opts.IdleTimeout, p.opts.Lifetime = 2*time.Second, 5*time.Second
	}
	if os.Getenv("REDISESSION_EVICTION") == "fail-closed" {
		p.opts.Eviction = core.EvictionFailClosed
	}
	if tweak != nil {
		tweak(&p.opts)
	}
	p.raw = p.newClient(t, nil)
	p.store = core.New(p.raw, p.opts)
	p.serve(t, Env{Client: p.newClient(t, p.count), Options: p.opts, CookieName: "session"})
	return p
}

// newClient returns a client to the property's Redis, built by the harness
// if it is a ClientMaker, with hook added if not nil.
func (p *prop) newClient(t testing.TB, hook redis.Hook) redis.UniversalClient {
	t.Helper()
	cm, ok := p.h.(ClientMaker)
	if !ok {
		return p.srv.NewClient(t, hook)
	}
	c := cm.NewClient(t, p.srv.Options())
	if c == nil {
		t.Fatalf("conformance: the harness's NewClient returned nil")
	}
	if hook != nil {
		c.AddHook(hook)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// serve opens the harness's adapter with env and serves it over HTTPS.
func (p *prop) serve(t testing.TB, env Env) {
	t.Helper()
	p.env = env
	p.ad = p.h.Open(t, env, p.app)
	if p.ad.Handler == nil || p.ad.CookieName == "" || p.ad.Cookie == nil {
		t.Fatalf("conformance: harness returned an Adapter without Handler, CookieName or Cookie")
	}
	if p.ad.CookieName != env.CookieName {
		t.Fatalf("conformance: asked for a cookie named %q, the harness opened one named %q", env.CookieName, p.ad.CookieName)
	}
	if p.ad.CookieRefused != nil && !env.LooseCookie {
		t.Fatalf("conformance: the adapter refused its cookie %q as the harness configures it: %v", p.ad.CookieName, p.ad.CookieRefused)
	}
	if p.ad.ReadRoundTrips == 0 {
		p.ad.ReadRoundTrips = 1
	}
	p.ts = httptest.NewTLSServer(p.ad.Handler)
	t.Cleanup(p.ts.Close)
}

// with returns p's world (its Redis, options and counter) served by
// another adapter, which the harness opens with p's Env changed by tweak:
// another cookie, or a Redis that is down.
func (p *prop) with(t testing.TB, tweak func(*Env)) *prop {
	t.Helper()
	q := *p
	env := p.env
	tweak(&env)
	q.serve(t, env)
	return &q
}

// idle and life are the configured timeouts.
func (p *prop) idle() time.Duration { return p.opts.IdleTimeout }
func (p *prop) life() time.Duration { return p.opts.Lifetime }

// slack is how far a real server's TTLs may drift during a test.
func (p *prop) slack() time.Duration {
	if p.srv.Real() {
		return 300 * time.Millisecond
	}
	return 0
}

// device is one client with its own cookie jar and user agent.
type device struct {
	p   *prop
	c   *http.Client
	ua  string
	url *url.URL
}

func (p *prop) device(t testing.TB, ua string) *device {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(p.ts.URL)
	return &device{p: p, c: &http.Client{Transport: p.ts.Client().Transport, Jar: jar}, ua: ua, url: u}
}

// cookie returns the device's session cookie value, "" if none.
func (d *device) cookie() string {
	for _, c := range d.c.Jar.Cookies(d.url) {
		if c.Name == d.p.ad.CookieName {
			return c.Value
		}
	}
	return ""
}

// setCookie makes the device present value as its session cookie.
func (d *device) setCookie(value string) {
	d.c.Jar.SetCookies(d.url, []*http.Cookie{{Name: d.p.ad.CookieName, Value: value, Path: "/"}})
}

// clone returns a new device presenting the same cookie (another tab, or a
// stolen cookie).
func (d *device) clone(t testing.TB) *device {
	t.Helper()
	c := d.p.device(t, d.ua)
	c.setCookie(d.cookie())
	return c
}

// response is what one request of a device got back.
type response struct {
	reply
	status int
	body   []byte
	// cookies are the Set-Cookie headers for the session cookie.
	cookies []sentCookie
}

// sentCookie is one Set-Cookie header, parsed and as sent.
type sentCookie struct {
	*http.Cookie
	line string
}

// do sends a request and decodes the app's reply.
func (d *device) do(t testing.TB, method, path string) (reply, int) {
	t.Helper()
	res := d.send(t, method, path)
	return res.reply, res.status
}

// send sends a request and returns all it got back.
func (d *device) send(t testing.TB, method, path string) response {
	t.Helper()
	req, err := http.NewRequest(method, d.p.ts.URL+path, nil)
	if err != nil {
		t.Fatalf("conformance: %s %.80s: %v", method, path, err)
	}
	req.Header.Set("User-Agent", d.ua)
	res, err := d.c.Do(req)
	if err != nil {
		t.Fatalf("conformance: %s %.80s: %v (did the handler panic?)", method, path, err)
	}
	defer res.Body.Close()
	out := response{status: res.StatusCode}
	out.body, _ = io.ReadAll(res.Body)
	if err := json.Unmarshal(out.body, &out.reply); err != nil {
		if res.StatusCode == http.StatusOK {
			t.Fatalf("conformance: %s %.80s: status 200, body %.200q is not the app's reply", method, path, out.body)
		}
		// An error page of the framework's own making.
		out.reply = reply{Err: string(out.body)}
	}
	for _, line := range res.Header.Values("Set-Cookie") {
		for _, c := range (&http.Response{Header: http.Header{"Set-Cookie": {line}}}).Cookies() {
			if c.Name == d.p.ad.CookieName {
				out.cookies = append(out.cookies, sentCookie{c, line})
			}
		}
	}
	return out
}

// must sends a request that has to succeed.
func (d *device) must(t testing.TB, method, path string) reply {
	t.Helper()
	r, status := d.do(t, method, path)
	if status != http.StatusOK {
		t.Fatalf("%s %s: status %d, err %q; want 200", method, path, status, r.Err)
	}
	return r
}

func (d *device) set(t testing.TB, k, v string) reply {
	t.Helper()
	return d.must(t, "POST", "/set?k="+url.QueryEscape(k)+"&v="+url.QueryEscape(v))
}

func (d *device) get(t testing.TB, k string) reply {
	t.Helper()
	return d.must(t, "GET", "/get?k="+url.QueryEscape(k))
}

func (d *device) login(t testing.TB, user string) reply {
	t.Helper()
	r := d.must(t, "POST", "/login?user="+url.QueryEscape(user))
	if r.User != user || !core.ValidHandle(r.Handle) {
		t.Fatalf("login as %q: reply user %q handle %q", user, r.User, r.Handle)
	}
	return r
}

// loggedIn reports whether the device's next request sees a user.
func (d *device) loggedIn(t testing.TB) bool {
	t.Helper()
	return d.get(t, "x").User != ""
}

// exists reports whether the session with handle h has a key.
func (p *prop) exists(t testing.TB, h string) bool {
	t.Helper()
	n, err := p.raw.Exists(context.Background(), p.store.SessionKey(h)).Result()
	if err != nil {
		t.Fatalf("EXISTS %s: %v", p.store.SessionKey(h), err)
	}
	return n == 1
}

func (p *prop) pttl(t testing.TB, key string) time.Duration {
	t.Helper()
	d, err := p.raw.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatalf("PTTL %s: %v", key, err)
	}
	return d
}

// indexed reports whether handle h is in user's index.
func (p *prop) indexed(t testing.TB, user, h string) bool {
	t.Helper()
	err := p.raw.ZScore(context.Background(), p.store.IndexKey(user), h).Err()
	if err != nil && err != redis.Nil {
		t.Fatalf("ZSCORE %s: %v", p.store.IndexKey(user), err)
	}
	return err == nil
}

func (p *prop) indexSize(t testing.TB, user string) int64 {
	t.Helper()
	n, err := p.raw.ZCard(context.Background(), p.store.IndexKey(user)).Result()
	if err != nil {
		t.Fatalf("ZCARD %s: %v", p.store.IndexKey(user), err)
	}
	return n
}

func handles(list []core.SessionInfo) map[string]core.SessionInfo {
	m := make(map[string]core.SessionInfo, len(list))
	for _, s := range list {
		m[s.Handle] = s
	}
	return m
}
