// Package demo holds what the example apps share and what is not the point
// of any of them: the Redis bootstrap (an embedded miniredis unless
// REDIS_URL is set), the listener, the demo users and their bcrypt hashes,
// CSRF tokens, the cart, the device list and the HTML templates. Each
// example's handlers stay in its own package, written the way its framework
// is used.
package demo

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// DefaultAddr is where the examples listen unless ADDR says otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Config is what an example app is built from.
type Config struct {
	// Redis is the client every store uses.
	Redis redis.UniversalClient
	// Users are the accounts that can log in; nil means NewUsers(bcrypt.DefaultCost).
	Users *Users
	// Core configures the session engine; tests set a key prefix.
	Core core.Options
	// SessionKey signs the session cookie where the framework signs it;
	// nil means SessionKey().
	SessionKey []byte
}

// OpenRedis returns the client the examples use: the Redis at REDIS_URL
// (redis://[:password@]host:port/db, rediss:// for TLS; a Cluster when the
// URL has addr= parameters: redis://h1:p1?addr=h2:p2&addr=h3:p3), or else
// an embedded miniredis started in this process. It says which in where;
// closeFn closes the client and stops an embedded server.
func OpenRedis(ctx context.Context) (rdb redis.UniversalClient, where string, closeFn func(), err error) {
	if raw := os.Getenv("REDIS_URL"); raw != "" {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, "", nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		if u.Query().Has("addr") {
			opts, err := redis.ParseClusterURL(raw)
			if err != nil {
				return nil, "", nil, fmt.Errorf("REDIS_URL: %w", err)
			}
			opts.ContextTimeoutEnabled = true
			withTimeouts(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout)
			rdb = redis.NewClusterClient(opts)
			where = "Redis Cluster at " + u.Redacted()
		} else {
			opts, err := redis.ParseURL(raw)
			if err != nil {
				return nil, "", nil, fmt.Errorf("REDIS_URL: %w", err)
			}
			rdb = redis.NewClient(withDeadlines(opts))
			where = "Redis at " + u.Redacted()
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := rdb.Ping(pctx).Err(); err != nil {
			_ = rdb.Close()
			return nil, "", nil, fmt.Errorf("REDIS_URL: %s does not answer: %w", u.Redacted(), err)
		}
		return rdb, where, func() { _ = rdb.Close() }, nil
	}

	mr, err := miniredis.Run()
	if err != nil {
		return nil, "", nil, fmt.Errorf("embedded Redis: %w", err)
	}
	// miniredis counts TTLs down only when told to; tell it every second, so
	// idle sessions expire here as they would on a real server.
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				mr.FastForward(time.Second)
			case <-stop:
				return
			}
		}
	}()
	rdb = redis.NewClient(withDeadlines(&redis.Options{Addr: mr.Addr()}))
	closeFn = func() {
		_ = rdb.Close()
		close(stop)
		mr.Close()
	}
	where = "embedded miniredis at " + mr.Addr() + " (set REDIS_URL=redis://host:port to use a real one)"
	return rdb, where, closeFn, nil
}

// The examples' clients are built as README's "Configure" recommends (and
// systest/faults TestDeadlines proves): ContextTimeoutEnabled, so a request's
// context deadline bounds each command even when Redis stalls, and these
// timeouts for a command whose context has none. A REDIS_URL's own
// dial_timeout, read_timeout, write_timeout or pool_timeout wins.
const (
	dialTimeout = 2 * time.Second
	ioTimeout   = 500 * time.Millisecond // read and write
	poolTimeout = time.Second
)

// withDeadlines makes o honour context deadlines and fills in the timeouts
// it leaves unset.
func withDeadlines(o *redis.Options) *redis.Options {
	o.ContextTimeoutEnabled = true
	withTimeouts(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout)
	return o
}

// withTimeouts sets each timeout left zero (go-redis's default) to the
// examples' own.
func withTimeouts(dial, read, write, pool *time.Duration) {
	for _, d := range []struct {
		p *time.Duration
		v time.Duration
	}{{dial, dialTimeout}, {read, ioTimeout}, {write, ioTimeout}, {pool, poolTimeout}} {
		if *d.p == 0 {
			*d.p = d.v
		}
	}
}

// Listen opens the examples' listener on ADDR, 127.0.0.1:8080 by default
// (ADDR=127.0.0.1:0 picks a free port), and returns it with the URL it
// serves.
func Listen() (net.Listener, string, error) {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("listen on %s (set ADDR=host:port to choose another): %w", addr, err)
	}
	return ln, "http://" + ln.Addr().String(), nil
}

// Banner is what an example prints when it is ready.
func Banner(framework, url, where string) string {
	return fmt.Sprintf("redisession %s example\n  listening on %s\n  sessions in %s\n  demo users: %s\nCtrl-C to stop.\n",
		framework, url, where, DemoLogins())
}

// SessionKey returns the key that signs session cookies: SESSION_KEY when
// set, else 32 random bytes (sessions then last as long as the process).
func SessionKey() []byte {
	if k := os.Getenv("SESSION_KEY"); k != "" {
		return []byte(k)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		panic(err)
	}
	return k
}

// Defaults fills the zero fields of c.
func (c Config) Defaults() Config {
	if c.Users == nil {
		c.Users = NewUsers(0)
	}
	if c.SessionKey == nil {
		c.SessionKey = SessionKey()
	}
	if c.Core.Sensitive == nil {
		// A session must never hold a password or a card: refuse the save
		// of a value named like one (README, "Sensitive values").
		c.Core.Sensitive = core.DefaultSensitive
	}
	return c
}

// Main runs an example: it opens Redis (embedded unless REDIS_URL is set),
// serves newApp on ADDR (127.0.0.1:8080 by default), prints where, and shuts
// down cleanly on Ctrl-C or SIGTERM.
func Main(framework string, newApp func(Config) http.Handler) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := serve(ctx, framework, newApp); err != nil {
		log.Fatal(err)
	}
}

func serve(ctx context.Context, framework string, newApp func(Config) http.Handler) error {
	rdb, where, closeRedis, err := OpenRedis(ctx)
	if err != nil {
		return err
	}
	defer closeRedis()

	srv := &http.Server{
		Handler:           newApp(Config{Redis: rdb}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	ln, url, err := Listen()
	if err != nil {
		return err
	}
	fmt.Print(Banner(framework, url, where))

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Println("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
