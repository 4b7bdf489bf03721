//go:build unix

package faults_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/scsredis"
)

// readmeOptions are the go-redis client options that README's "Configure"
// section ("The go-redis client") recommends, option for option.
// TestDeadlines proves what that configuration buys; change both together.
func readmeOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:                  addr,
		DialTimeout:           2 * time.Second,
		ReadTimeout:           500 * time.Millisecond,
		WriteTimeout:          500 * time.Millisecond,
		PoolTimeout:           time.Second,
		ContextTimeoutEnabled: true, // the request's context deadline bounds each command
	}
}

const (
	// callDeadline is the context deadline every call under a stall gets.
	callDeadline = 100 * time.Millisecond
	// margin is what the call may take beyond its deadline: generous, for
	// two busy cores and -race (the point is 100 ms against seconds), but
	// keeping the bound under readmeOptions' ReadTimeout (500 ms), which
	// without ContextTimeoutEnabled would end each call by itself and pass.
	margin = 300 * time.Millisecond
	// stallFor is how long each stall lasts (DEBUG SLEEP 2, CLIENT PAUSE 2000).
	stallFor = 2 * time.Second
)

// A stallKind makes the server stop answering for stallFor and waits for it
// to answer again.
type stallKind struct {
	name  string
	extra []string // redis-server flags it needs
	// writesOnly: read-only commands are not stalled (CLIENT PAUSE WRITE).
	writesOnly bool
	// begin returns once the server is stalled; end returns once it
	// answers again.
	begin func(t *testing.T, ctl, probe *redis.Client) (end func())
}

var stallKinds = []stallKind{
	{
		name:  "DEBUG_SLEEP",
		extra: []string{"--enable-debug-command", "local"},
		begin: func(t *testing.T, ctl, probe *redis.Client) func() {
			done := make(chan error, 1)
			go func() {
				done <- ctl.Do(context.Background(), "debug", "sleep", strconv.Itoa(int(stallFor/time.Second))).Err()
			}()
			// Stalled once a PING from another connection goes unanswered.
			for i := 0; ; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				err := probe.Ping(ctx).Err()
				cancel()
				if err != nil {
					break
				}
				if i == 100 {
					t.Fatal("DEBUG SLEEP did not stall the server")
				}
				time.Sleep(5 * time.Millisecond)
			}
			return func() {
				if err := <-done; err != nil {
					t.Fatalf("DEBUG SLEEP: %v", err)
				}
			}
		},
	},
	{
		name: "CLIENT_PAUSE_ALL",
		begin: func(t *testing.T, ctl, probe *redis.Client) func() {
			if err := ctl.Do(context.Background(), "client", "pause", strconv.Itoa(int(stallFor/time.Millisecond)), "all").Err(); err != nil {
				t.Fatalf("CLIENT PAUSE ALL: %v", err)
			}
			// Every command of a normal client waits for the pause to end,
			// CLIENT UNPAUSE included: wait for it.
			return func() {}
		},
	},
	{
		name:       "CLIENT_PAUSE_WRITE",
		writesOnly: true,
		begin: func(t *testing.T, ctl, probe *redis.Client) func() {
			if err := ctl.Do(context.Background(), "client", "pause", strconv.Itoa(int(stallFor/time.Millisecond)), "write").Err(); err != nil {
				t.Fatalf("CLIENT PAUSE WRITE: %v", err)
			}
			// Under a write pause CLIENT UNPAUSE runs at once: no need to
			// wait out the two seconds once the call has returned.
			return func() {
				if err := ctl.Do(context.Background(), "client", "unpause").Err(); err != nil {
					t.Fatalf("CLIENT UNPAUSE: %v", err)
				}
			}
		},
	},
}

// A deadlineCase is one store call: setup runs on a server that answers and
// returns the call, which then runs under a stall.
type deadlineCase struct {
	name     string
	readOnly bool // not stalled by CLIENT PAUSE WRITE
	setup    func(t *testing.T, f *fixture) func(ctx context.Context) error
}

// fixture is what the cases build their sessions with.
type fixture struct {
	client  *redis.Client
	store   *core.Store
	gorilla *gorillaredis.Store
	scs     *scs.SessionManager
	user    string // a user of this case alone
}

// login saves a new session bound to the fixture's user.
func (f *fixture) login(t *testing.T) *core.Session {
	t.Helper()
	x := f.store.NewSession(core.Device{UserAgent: "deadlines"})
	x.UserID, x.Data = f.user, []byte("cart")
	if err := f.store.Save(context.Background(), x); err != nil {
		t.Fatal(err)
	}
	return x
}

// loaded is a session of the fixture's user as a request holds it: loaded.
func (f *fixture) loaded(t *testing.T) *core.Session {
	t.Helper()
	x, err := f.store.Load(context.Background(), f.login(t).Token())
	if err != nil {
		t.Fatal(err)
	}
	return x
}

var deadlineCases = []deadlineCase{
	{name: "Load", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		token := f.login(t).Token()
		return func(ctx context.Context) error { _, err := f.store.Load(ctx, token); return err }
	}},
	{name: "Save_change", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		x := f.loaded(t)
		x.Data = []byte("cart, changed")
		return func(ctx context.Context) error { return f.store.Save(ctx, x) }
	}},
	{name: "Save_login", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		x := f.store.NewSession(core.Device{UserAgent: "deadlines"})
		x.UserID, x.Data = f.user, []byte("cart")
		return func(ctx context.Context) error { return f.store.Save(ctx, x) }
	}},
	{name: "Renew", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		x := f.loaded(t)
		return func(ctx context.Context) error { return f.store.Renew(ctx, x) }
	}},
	{name: "Delete", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		x := f.loaded(t)
		return func(ctx context.Context) error { return f.store.Delete(ctx, x) }
	}},
	{name: "UserSessions", readOnly: true, setup: func(t *testing.T, f *fixture) func(context.Context) error {
		f.login(t)
		f.login(t)
		return func(ctx context.Context) error { _, err := f.store.UserSessions(ctx, f.user); return err }
	}},
	{name: "RevokeSession", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		h := f.login(t).Handle()
		return func(ctx context.Context) error { return f.store.RevokeSession(ctx, f.user, h) }
	}},
	{name: "RevokeUser", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		f.login(t)
		f.login(t)
		return func(ctx context.Context) error { _, err := f.store.RevokeUser(ctx, f.user); return err }
	}},
	{name: "RevokeOthers", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		keep := f.login(t).Handle()
		f.login(t)
		return func(ctx context.Context) error { _, err := f.store.RevokeOthers(ctx, f.user, keep); return err }
	}},
	{name: "Stats", readOnly: true, setup: func(t *testing.T, f *fixture) func(context.Context) error {
		f.login(t)
		return func(ctx context.Context) error { _, err := f.store.Stats(ctx, core.StatsOptions{}); return err }
	}},
	// The same bound through an adapter's HTTP path: the request's context
	// is what reaches Redis.
	{name: "gorillaredis_Get", setup: func(t *testing.T, f *fixture) func(context.Context) error {
		cookie, err := f.gorilla.CookieValue("session", f.login(t).Token())
		if err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context) error {
			r := httptest.NewRequest("GET", "/", nil).WithContext(ctx)
			r.AddCookie(&http.Cookie{Name: "session", Value: cookie})
			_, err := f.gorilla.Get(r, "session")
			return err
		}
	}},
	{name: "scs_Load", readOnly: true /* FindCtx is a plain GET */, setup: func(t *testing.T, f *fixture) func(context.Context) error {
		ctx, err := f.scs.Load(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		f.scs.Put(ctx, "cart", "1")
		token, _, err := f.scs.Commit(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return func(ctx context.Context) error { _, err := f.scs.Load(ctx, token); return err }
	}},
}

// TestDeadlines: with the client README recommends (ContextTimeoutEnabled
// among its options), every store call returns an error within its context
// deadline, plus a margin, while Redis is stalled: by DEBUG SLEEP (the
// server answers nobody), CLIENT PAUSE ALL, and CLIENT PAUSE WRITE for the
// calls that write. Each stall lasts 2 s against a 100 ms deadline. It
// asserts nothing about how long a call takes when Redis answers.
func TestDeadlines(t *testing.T) {
	for _, sk := range stallKinds {
		sk := sk // go 1.21 semantics: the parallel subtest outlives the iteration
		t.Run(sk.name, func(t *testing.T) {
			t.Parallel() // one server per stall kind: the stalls do not meet
			srv := startServer(t, sk.extra...)
			client := redis.NewClient(readmeOptions(srv.addr()))
			defer client.Close()
			ctl := redis.NewClient(&redis.Options{Addr: srv.addr(), ReadTimeout: 2 * stallFor})
			defer ctl.Close()
			probe := newClient(srv.addr())
			defer probe.Close()
			store := core.New(client, core.Options{})
			sm := scs.New()
			sm.Store = scsredis.New(client, scsredis.Options{})
			gorilla := gorillaredis.NewStore(client, []byte("0123456789abcdef0123456789abcdef"))
			for i, c := range deadlineCases {
				t.Run(c.name, func(t *testing.T) {
					if sk.writesOnly && c.readOnly {
						t.Skip("read-only: CLIENT PAUSE WRITE does not stall it")
					}
					f := &fixture{client: client, store: store, gorilla: gorilla, scs: sm, user: sk.name + "-" + strconv.Itoa(i)}
					call := c.setup(t, f)
					err, took := underStall(t, sk.begin, ctl, probe, call)
					t.Logf("%s under %s: %v after %v", c.name, sk.name, err, took.Round(time.Millisecond))
					if err == nil {
						t.Fatalf("%s succeeded on a stalled Redis", c.name)
					}
					if took > callDeadline+margin {
						t.Errorf("%s under %s took %v with a %v deadline (bound %v)", c.name, sk.name, took, callDeadline, callDeadline+margin)
					}
					var nerr net.Error
					if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &nerr) && nerr.Timeout()) {
						t.Errorf("%s under %s: %v, want a deadline or timeout error", c.name, sk.name, err)
					}
				})
			}
		})
	}

	// Without ContextTimeoutEnabled go-redis ignores the context deadline on
	// the socket: a call waits for ReadTimeout, or for the stall to end, and
	// may even succeed long after its deadline. Logged, not asserted, for the
	// figures in README and SECURITY.md.
	t.Run("without_ContextTimeoutEnabled", func(t *testing.T) {
		t.Parallel()
		srv := startServer(t, stallKinds[0].extra...)
		ctl := redis.NewClient(&redis.Options{Addr: srv.addr(), ReadTimeout: 10 * time.Second})
		defer ctl.Close()
		probe := newClient(srv.addr())
		defer probe.Close()
		readme := readmeOptions(srv.addr())
		readme.ContextTimeoutEnabled = false
		// Longer than go-redis's default ReadTimeout (3 s).
		pauseLong := func(t *testing.T, ctl, probe *redis.Client) func() {
			if err := ctl.Do(context.Background(), "client", "pause", "3500", "all").Err(); err != nil {
				t.Fatalf("CLIENT PAUSE: %v", err)
			}
			return func() {}
		}
		runs := []struct {
			client string
			opts   *redis.Options
			stall  string
			begin  func(t *testing.T, ctl, probe *redis.Client) func()
			cases  []deadlineCase
		}{
			{"README's options but ContextTimeoutEnabled false", readme, "DEBUG SLEEP 2", stallKinds[0].begin, []deadlineCase{deadlineCases[0], deadlineCases[7]}}, // Load, RevokeUser
			{"go-redis defaults", &redis.Options{Addr: srv.addr()}, "DEBUG SLEEP 2", stallKinds[0].begin, deadlineCases[:1]},
			{"go-redis defaults", &redis.Options{Addr: srv.addr()}, "CLIENT PAUSE 3500 ALL", pauseLong, deadlineCases[:1]},
		}
		for _, run := range runs {
			client := redis.NewClient(run.opts)
			f := &fixture{client: client, store: core.New(client, core.Options{}), user: "contrast"}
			for _, c := range run.cases {
				call := c.setup(t, f)
				err, took := underStall(t, run.begin, ctl, probe, call)
				t.Logf("%s, %s, under %s, %v deadline: %v after %v", c.name, run.client, run.stall, callDeadline, err, took.Round(time.Millisecond))
			}
			client.Close()
		}
	})
}

// waitAnswers waits until the server answers a PING again (the stall is
// over), so one case's stall never reaches the next.
// underStall stalls the server with begin, makes call with callDeadline,
// and returns its error and how long it took, once the server answers again.
func underStall(t *testing.T, begin func(t *testing.T, ctl, probe *redis.Client) func(), ctl, probe *redis.Client,
	call func(context.Context) error) (error, time.Duration) {
	t.Helper()
	end := begin(t, ctl, probe)
	ctx, cancel := context.WithTimeout(context.Background(), callDeadline)
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	cancel()
	end()
	waitAnswers(t, ctl)
	return err, took
}

func waitAnswers(t *testing.T, ctl *redis.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ctl.Ping(ctx).Err(); err != nil {
		t.Fatalf("the server did not answer after the stall: %v", err)
	}
}
