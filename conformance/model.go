package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

var ctxBackground = context.Background()

// The model property plays random interleavings of every operation against
// the adapter, from several devices of a few users at once, and checks
// after each step what a model of the sessions says must hold:
//
//   - a device whose session a revoke, a logout or the idle timeout ended
//     is logged out, and so is every token it held before; so is one whose
//     renewal or save was in flight while its user was revoked;
//   - a device no revoke touched is still logged in as before, with its
//     values (no spurious logout, no lost write);
//   - every live bound session is in its user's index;
//   - every key has a TTL.
//
// Some steps start with a fault: an entry naming one user's live session
// planted in the other user's index (a rebind cut short), after which a
// revoke of that other user must leave the session alone; or the wrong
// type under a third user's index key, after which a login into that user
// must fail without leaving a session.
//
// Operations that race a revoke of their own user may go either way (a
// login that reaches Redis after the revoke began is a login after it);
// the model then follows what it observes, and the index check still
// applies. The sequence of operations is drawn from a seed, printed with
// every failure; REDISESSION_MODEL_SEED replays one seed and
// REDISESSION_MODEL_SEEDS sets how many run (default 3).

const (
	modelSteps   = 30
	modelDevices = 5
)

func modelSeeds(t *testing.T) []int64 {
	if s := os.Getenv("REDISESSION_MODEL_SEED"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("REDISESSION_MODEL_SEED=%q: %v", s, err)
		}
		return []int64{n}
	}
	count := 3
	if n, err := strconv.Atoi(os.Getenv("REDISESSION_MODEL_SEEDS")); err == nil && n > 0 {
		count = n
	}
	base := time.Now().UnixNano()
	seeds := make([]int64, count)
	for i := range seeds {
		seeds[i] = base + int64(i)
	}
	return seeds
}

// modelOptions keeps sessions alive across a run on a real server, where
// time passes for real (the suite's default lifetime there is seconds).
func modelOptions(o *core.Options) {
	o.IdleTimeout, o.Lifetime = 30*time.Minute, 2*time.Hour
}

// mdev is a device as the model sees it.
type mdev struct {
	d      *device
	user   string // logged in as, "" for none
	value  string // value of x, "" for none
	handle string // last handle seen
}

// mop is one operation of a step.
type mop struct {
	dev    int    // device index, -1 for the admin
	kind   string // get set login renew logout revoke-one revoke-others revoke-all
	arg    string // value, user or target handle
	target int    // revoke-one's device
	status int
	reply  reply
	err    error
}

func revocationModel(t *testing.T, p *prop) {
	for _, seed := range modelSeeds(t) {
		seed := seed
		t.Run("seed="+strconv.FormatInt(seed, 10), func(t *testing.T) {
			runModel(t, p, seed)
		})
	}
}

func runModel(t *testing.T, p *prop, seed int64) {
	rng := rand.New(rand.NewSource(seed))
	tag := "s" + strconv.FormatInt(seed%100000, 10)
	users := []string{tag + "u1", tag + "u2"}
	broken := tag + "u3" // a user whose index key holds the wrong type, in some steps
	devs := make([]*mdev, modelDevices)
	for i := range devs {
		devs[i] = &mdev{d: p.device(t, "model-"+strconv.Itoa(i))}
	}
	admin := p.device(t, "model-admin")
	var ops []*mop
	fail := func(step int, format string, args ...interface{}) {
		t.Helper()
		var all []string
		for _, op := range ops {
			who := "admin"
			if op.dev >= 0 {
				who = "device " + strconv.Itoa(op.dev)
			}
			all = append(all, who+": "+describe(op))
		}
		t.Errorf("seed %d step %d: %s\n\tthe step: %s\n\t(replay with REDISESSION_MODEL_SEED=%d)",
			seed, step, fmt.Sprintf(format, args...), strings.Join(all, "; "), seed)
	}
	for step := 0; step < modelSteps && !t.Failed(); step++ {
		// Draw the step: at most one operation per device, and maybe an
		// admin's revoke-all.
		ops = nil
		for i, m := range devs {
			if rng.Intn(3) == 0 {
				continue
			}
			op := &mop{dev: i}
			switch r := rng.Intn(100); {
			case r < 20:
				op.kind = "get"
			case r < 40:
				op.kind, op.arg = "set", "v"+strconv.Itoa(rng.Intn(1000))
			case r < 55:
				op.kind, op.arg = "login", users[rng.Intn(len(users))]
			case r < 58 && m.user != "":
				op.kind = "devices"
			case r < 58:
				op.kind = "get"
			case r < 70:
				op.kind = "renew"
			case r < 78:
				op.kind = "logout"
			case r < 90 && m.user != "":
				// Revoke another device of the same user, by its last handle.
				var peers []int
				for j, o := range devs {
					if j != i && o.user == m.user {
						peers = append(peers, j)
					}
				}
				if len(peers) == 0 {
					op.kind = "get"
					break
				}
				op.kind, op.target = "revoke-one", peers[rng.Intn(len(peers))]
				op.arg = devs[op.target].handle
			case m.user != "":
				op.kind = "revoke-others"
			default:
				op.kind = "get"
			}
			ops = append(ops, op)
		}
		if rng.Intn(5) == 0 {
			ops = append(ops, &mop{dev: -1, kind: "revoke-all", arg: users[rng.Intn(len(users))]})
		}
		// Faults the step starts with. A planted entry: a live session of
		// one user named in the other's index, as a rebind cut short
		// between its steps leaves it; revoking that other user must not
		// end it. A broken index: the wrong type under a user's index key;
		// a login into that user must fail and leave no session.
		if rng.Intn(4) == 0 {
			i := rng.Intn(len(devs))
			if m := devs[i]; m.user != "" && m.handle != "" {
				other := users[0]
				if other == m.user {
					other = users[1]
				}
				at := p.srv.Now().Add(p.idle())
				idx := p.store.IndexKey(other)
				if err := p.raw.ZAdd(ctxBackground, idx, redis.Z{Score: float64(at.UnixMilli()), Member: m.handle}).Err(); err != nil {
					t.Fatal(err)
				}
				if p.pttl(t, idx) < 0 { // planted into no index: give the key the TTL an index has
					if err := p.raw.PExpireAt(ctxBackground, idx, at).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		breakIndex := rng.Intn(6) == 0
		if breakIndex {
			if err := p.raw.Set(ctxBackground, p.store.IndexKey(broken), "not an index", time.Hour).Err(); err != nil {
				t.Fatal(err)
			}
			for _, op := range ops {
				if op.kind == "login" && rng.Intn(2) == 0 {
					op.arg = broken
				}
			}
		}
		// The tokens each device held before the step.
		before := make([]string, len(devs))
		for i, m := range devs {
			before[i] = m.d.cookie()
		}
		// Run it, all at once.
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, op := range ops {
			wg.Add(1)
			go func(op *mop) {
				defer wg.Done()
				d := admin
				if op.dev >= 0 {
					d = devs[op.dev].d
				}
				<-start
				op.reply, op.status, op.err = d.try(modelPath(op))
			}(op)
		}
		close(start)
		wg.Wait()
		for _, op := range ops {
			if op.err != nil {
				fail(step, "%s: %v", op.kind, op.err)
				return
			}
		}
		// What the model expects of each device.
		type want struct {
			either      bool // raced a revoke of its user: the model follows what it sees
			user, value string
			alt         string // a value it may also have: a set that ran after its session was revoked starts a fresh one
			oldDead     bool   // the tokens it held before the step are dead
		}
		wants := make([]want, len(devs))
		mine := make([]*mop, len(devs))
		for _, op := range ops {
			if op.dev >= 0 {
				mine[op.dev] = op
			}
		}
		for i, m := range devs {
			w := want{user: m.user, value: m.value}
			if op := mine[i]; op != nil {
				ok := op.status == http.StatusOK
				switch op.kind {
				case "set":
					if ok {
						w.value = op.arg
					}
				case "login":
					if ok {
						w.user, w.oldDead = op.arg, true
					}
				case "renew":
					w.oldDead = ok
				case "logout":
					w.user, w.value, w.oldDead = "", "", true
				}
				if !ok && op.kind != "logout" && op.kind != "revoke-one" {
					w.either = true // judged below: only a revoke may make it fail
				}
				if op.kind == "login" && op.arg == broken {
					w.user, w.either, w.oldDead = m.user, true, false
				}
			}
			wants[i] = w
		}
		// Which devices a revoke of the step may have ended (touched), and
		// which it surely did (killed). A revoke from a device that another
		// revoke touched may have run with no session, and so with no user:
		// what it would end is only touched.
		touched := make([]bool, len(devs))
		killed := make([]bool, len(devs))
		for pass := 0; pass < 2; pass++ {
			for _, op := range ops {
				if op.dev >= 0 && touched[op.dev] && pass == 1 {
					continue
				}
				sure := pass == 1 && op.status == http.StatusOK
				switch op.kind {
				case "revoke-all", "revoke-others":
					user := op.arg
					if op.kind == "revoke-others" {
						user = devs[op.dev].user
					}
					for i, m := range devs {
						if i == op.dev {
							continue
						}
						loggingIn := mine[i] != nil && mine[i].kind == "login" && mine[i].arg == user
						if m.user == user || loggingIn {
							touched[i] = true
						}
						if sure && m.user == user && (mine[i] == nil || mine[i].kind != "login") {
							killed[i] = true
						}
					}
				case "revoke-one":
					touched[op.target] = true
					// A login of the target that loaded after the revoke
					// starts a session of its own: either outcome.
					if sure && (mine[op.target] == nil || mine[op.target].kind != "login") {
						killed[op.target] = true
					}
				}
			}
		}
		for i := range devs {
			w := &wants[i]
			if op := mine[i]; op != nil && w.either && !touched[i] && !(op.kind == "login" && op.arg == broken) {
				fail(step, "device %d: %s answered %d (%s) though no revoke touched its user", i, op.kind, op.status, op.reply.Err)
			}
			switch {
			case killed[i]:
				w.user, w.value, w.either, w.oldDead = "", "", false, true
				if op := mine[i]; op != nil && op.kind == "set" && op.status == http.StatusOK {
					w.alt = op.arg
				}
			case touched[i]:
				w.either = true
			}
		}
		// Check the adapter against the model, and the invariants.
		for i, m := range devs {
			r, status, err := m.d.try("GET", "/get?k=x")
			if err != nil || status != http.StatusOK {
				fail(step, "device %d: get: %d %v %s", i, status, err, r.Err)
				return
			}
			w := wants[i]
			value := ""
			if r.Found {
				value = r.Value
			}
			if !w.either && (r.User != w.user || (value != w.value && (w.alt == "" || value != w.alt))) {
				fail(step, "device %d after %s: logged in as %q with x=%q, want %q with x=%q",
					i, describe(mine[i]), r.User, value, w.user, w.value)
			}
			if w.either && r.User != "" && r.User != w.user && r.User != m.user {
				fail(step, "device %d after %s: logged in as %q, neither %q nor %q", i, describe(mine[i]), r.User, m.user, w.user)
			}
			if r.User == broken {
				fail(step, "device %d: logged in as %q though that user's index is broken: its session is outside any index", i, broken)
			} else if r.User != "" && !p.indexed(t, r.User, r.Handle) {
				fail(step, "device %d: its session %s is live and bound to %q but not in its index", i, r.Handle, r.User)
			}
			m.user, m.value, m.handle = r.User, value, r.Handle
			if w.oldDead && before[i] != "" && before[i] != m.d.cookie() {
				probe := m.d.p.device(t, "probe")
				probe.setCookie(before[i])
				if pr, _, err := probe.try("GET", "/get?k=x"); err == nil && pr.User != "" {
					fail(step, "device %d: a token it held before %s still logs in as %q", i, describe(mine[i]), pr.User)
				}
			}
		}
		if breakIndex {
			if err := p.raw.Del(ctxBackground, p.store.IndexKey(broken)).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if step%5 == 4 || step == modelSteps-1 {
			for _, k := range p.srv.Keys(t, p.raw) {
				if ttl := p.pttl(t, k); ttl <= 0 && ttl != -2*time.Nanosecond {
					fail(step, "%s has no TTL (%v)", k, ttl)
				}
			}
		}
		// Let time pass (the embedded server's clock only: a real one's
		// passes by itself): mostly a little, now and then past the idle
		// timeout, which ends every session.
		if !p.srv.Real() {
			if rng.Intn(12) == 0 {
				p.srv.Advance(p.idle() + time.Second)
				for _, m := range devs {
					m.user, m.value = "", ""
				}
			} else {
				p.srv.Advance(time.Duration(rng.Intn(60)) * time.Second)
			}
		}
	}
}

func modelPath(op *mop) (string, string) {
	switch op.kind {
	case "get":
		return "GET", "/get?k=x"
	case "set":
		return "POST", "/set?k=x&v=" + url.QueryEscape(op.arg)
	case "login":
		return "POST", "/login?user=" + url.QueryEscape(op.arg)
	case "revoke-one":
		return "POST", "/revoke?h=" + url.QueryEscape(op.arg)
	case "revoke-all":
		return "POST", "/revoke-user?user=" + url.QueryEscape(op.arg)
	case "devices":
		return "GET", "/devices"
	default:
		return "POST", "/" + op.kind
	}
}

func describe(op *mop) string {
	if op == nil {
		return "no operation"
	}
	s := op.kind
	switch {
	case op.kind == "revoke-one":
		s += "(device " + strconv.Itoa(op.target) + ")"
	case op.arg != "":
		s += "(" + op.arg + ")"
	}
	return s + " answering " + strconv.Itoa(op.status)
}

// try sends a request without failing the test, for goroutines.
func (d *device) try(method, path string) (reply, int, error) {
	req, err := http.NewRequest(method, d.p.ts.URL+path, nil)
	if err != nil {
		return reply{}, 0, err
	}
	req.Header.Set("User-Agent", d.ua)
	res, err := d.c.Do(req)
	if err != nil {
		return reply{}, 0, fmt.Errorf("%s %s: %v (did the handler panic?)", method, path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var r reply
	if err := json.Unmarshal(body, &r); err != nil {
		if res.StatusCode == http.StatusOK {
			return r, res.StatusCode, fmt.Errorf("%s %s: status 200, body %.200q is not the app's reply", method, path, body)
		}
		r = reply{Err: strings.TrimSpace(string(body))}
	}
	return r, res.StatusCode, nil
}

// raceRounds is how many times the race properties play their race:
// REDISESSION_ROUNDS, else 50.
func raceRounds() int {
	if n, err := strconv.Atoi(os.Getenv("REDISESSION_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 50
}

// renewRace: a device renews its session while an admin revokes its user,
// with real goroutines, many times; once both returned the device is logged
// out under its old token and its new one.
func renewRace(t *testing.T, p *prop) {
	admin := p.device(t, "admin")
	survivors, rounds := 0, raceRounds()
	for r := 0; r < rounds; r++ {
		user := "race" + strconv.Itoa(r)
		d := p.device(t, "d")
		d.login(t, user)
		old := d.cookie()
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _, _ = d.try("POST", "/renew") }()
		go func() { defer wg.Done(); _, _, _ = admin.try("POST", "/revoke-user?user="+url.QueryEscape(user)) }()
		wg.Wait()
		probe := p.device(t, "probe")
		probe.setCookie(old)
		if d.loggedIn(t) || probe.loggedIn(t) {
			survivors++
		}
	}
	t.Logf("%d of %d renewals racing a revoke-all survived", survivors, rounds)
	if survivors != 0 {
		t.Errorf("%d of %d renewals racing a revoke-all survived it", survivors, rounds)
	}
}

// loginRace: a device logs in while an admin revokes that user, many times;
// a login that survives must be in its user's index, so the next revoke
// ends it.
func loginRace(t *testing.T, p *prop) {
	admin := p.device(t, "admin")
	outside, survived, rounds := 0, 0, raceRounds()
	for r := 0; r < rounds; r++ {
		user := "race" + strconv.Itoa(r)
		d := p.device(t, "d")
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _, _, _ = d.try("POST", "/login?user="+url.QueryEscape(user)) }()
		go func() { defer wg.Done(); _, _, _ = admin.try("POST", "/revoke-user?user="+url.QueryEscape(user)) }()
		wg.Wait()
		r := d.get(t, "x")
		if r.User == "" {
			continue
		}
		survived++
		if !p.indexed(t, user, r.Handle) {
			outside++
		}
		admin.must(t, "POST", "/revoke-user?user="+url.QueryEscape(user))
		if d.loggedIn(t) {
			outside++
		}
	}
	t.Logf("%d of %d logins racing a revoke-all came after it; %d outside their index", survived, rounds, outside)
	if outside != 0 {
		t.Errorf("%d of %d logins racing a revoke-all were outside their index or outlived the next revoke", outside, rounds)
	}
}
