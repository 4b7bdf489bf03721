// Package redistest is test support, not part of any store: the module's
// tests, the conformance suite, the examples' test helpers and the
// benchmarks get their Redis from it. That Redis is an embedded miniredis by
// default, the real server at REDIS_ADDR, a Cluster at REDIS_CLUSTER_ADDRS
// (comma-separated seed addresses), or a Sentinel-managed primary at
// REDIS_SENTINEL_ADDRS (comma-separated Sentinels) + REDIS_SENTINEL_MASTER.
// Clients come from redis.NewUniversalClient, as users build them. It also
// counts round trips and commands with a go-redis hook, and moves time along
// with the server.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Server is one test's Redis.
type Server struct {
	// Kind is "miniredis", "redis", "cluster" or "sentinel".
	Kind string
	// Mini is the embedded server, nil for a real one.
	Mini *miniredis.Miniredis
	// Prefix is a key prefix unique to this test; everything under it is
	// deleted when the test ends.
	Prefix string

	mu    sync.Mutex
	clock time.Time // miniredis only
	opts  clientOptions
}

type clientOptions struct {
	addrs  []string
	master string
}

// Start returns a Redis for t, chosen by the environment.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{Prefix: "rstest:" + randomHex(6) + ":"}
	switch {
	case os.Getenv("REDIS_CLUSTER_ADDRS") != "":
		s.Kind = "cluster"
		s.opts.addrs = strings.Split(os.Getenv("REDIS_CLUSTER_ADDRS"), ",")
	case os.Getenv("REDIS_SENTINEL_ADDRS") != "":
		s.Kind = "sentinel"
		s.opts.addrs = strings.Split(os.Getenv("REDIS_SENTINEL_ADDRS"), ",")
		s.opts.master = os.Getenv("REDIS_SENTINEL_MASTER")
		if s.opts.master == "" {
			t.Fatal("redistest: REDIS_SENTINEL_ADDRS is set but REDIS_SENTINEL_MASTER is not")
		}
	case os.Getenv("REDIS_ADDR") != "":
		s.Kind = "redis"
		s.opts.addrs = []string{os.Getenv("REDIS_ADDR")}
	default:
		s.Kind = "miniredis"
		s.Mini = miniredis.RunT(t)
		s.clock = time.Now().Truncate(time.Millisecond)
		s.Mini.SetTime(s.clock)
		s.opts.addrs = []string{s.Mini.Addr()}
	}
	if s.Mini == nil {
		c := s.NewClient(t, nil)
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("redistest: no %s at %v: %v", s.Kind, s.opts, err)
		}
		t.Cleanup(func() { s.cleanup(t) })
	}
	return s
}

// Real reports whether this is a real server, where time passes for real.
func (s *Server) Real() bool { return s.Mini == nil }

// Options returns the options NewClient builds its clients with, a fresh
// copy each call, for a caller that builds its own.
func (s *Server) Options() *redis.UniversalOptions {
	opts := &redis.UniversalOptions{Addrs: s.Addrs(), MasterName: s.opts.master}
	if s.Kind == "cluster" && len(opts.Addrs) == 1 {
		// One seed address would make a single-node client.
		opts.Addrs = append(opts.Addrs, opts.Addrs[0])
	}
	return opts
}

// NewClient returns a new client to the server, closed when the test ends,
// with hook added if not nil.
func (s *Server) NewClient(t testing.TB, hook redis.Hook) redis.UniversalClient {
	t.Helper()
	c := redis.NewUniversalClient(s.Options())
	if hook != nil {
		c.AddHook(hook)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Now is the server's clock: real time on a real server, a clock that moves
// only with Advance on miniredis.
func (s *Server) Now() time.Time {
	if s.Real() {
		return time.Now()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock
}

// Advance lets d pass: on miniredis by moving the clock and fast-forwarding
// every TTL, on a real server by sleeping.
func (s *Server) Advance(d time.Duration) {
	if s.Real() {
		time.Sleep(d)
		return
	}
	s.mu.Lock()
	s.clock = s.clock.Add(d)
	s.Mini.SetTime(s.clock)
	s.mu.Unlock()
	s.Mini.FastForward(d)
}

// Keys returns every key under the test's prefix, on every primary.
func (s *Server) Keys(t testing.TB, c redis.UniversalClient) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var keys []string
	scan := func(ctx context.Context, n redis.UniversalClient) error {
		it := n.Scan(ctx, 0, s.Prefix+"*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	if cc, ok := c.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return scan(ctx, n) })
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		t.Fatalf("redistest: scan %s*: %v", s.Prefix, err)
	}
	return keys
}

func (s *Server) cleanup(t testing.TB) {
	c := s.NewClient(t, nil)
	ctx := context.Background()
	for _, k := range s.Keys(t, c) {
		_ = c.Del(ctx, k).Err()
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Counter is a go-redis hook that counts round trips (a command sent alone
// or a pipeline), commands by name, and the bytes written to the server.
type Counter struct {
	mu         sync.Mutex
	roundTrips int
	commands   map[string]int
	sent       atomic.Int64
}

// NewCounter returns a zeroed Counter.
func NewCounter() *Counter { return &Counter{commands: map[string]int{}} }

// DialHook implements redis.Hook: every connection it dials counts the
// bytes written on it. On Cluster, whose node clients dial on their own,
// nothing is counted.
func (c *Counter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: conn, n: &c.sent}, nil
	}
}

// countingConn adds what is written on it to n.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// ProcessHook implements redis.Hook.
func (c *Counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.count([]redis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements redis.Hook.
func (c *Counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.count(cmds)
		return next(ctx, cmds)
	}
}

// count counts one round trip of cmds, leaving out what go-redis sends on
// its own to set up a connection: from about v9.10 its HELLO, CLIENT SETINFO
// and CLIENT MAINT_NOTIFICATIONS pass through the hooks too, and a store
// never sends those.
func (c *Counter) count(cmds []redis.Cmder) {
	c.mu.Lock()
	defer c.mu.Unlock()
	counted := false
	for _, cmd := range cmds {
		if connectionSetup(cmd) {
			continue
		}
		c.commands[cmd.Name()]++
		counted = true
	}
	if counted {
		c.roundTrips++
	}
}

// connectionSetup reports a command go-redis sends when it opens a
// connection.
func connectionSetup(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth", "select", "readonly", "client":
		return true
	}
	return false
}

// Reset zeroes the counts.
func (c *Counter) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.roundTrips = 0
	c.commands = map[string]int{}
	c.sent.Store(0)
}

// BytesSent returns the bytes written to the server since the last Reset,
// commands as RESP puts them on the wire, connection setup included.
func (c *Counter) BytesSent() int64 { return c.sent.Load() }

// RoundTrips returns the round trips counted since the last Reset.
func (c *Counter) RoundTrips() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roundTrips
}

// Commands returns the commands counted since the last Reset, by lower-case
// name.
func (c *Counter) Commands() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.commands))
	for k, v := range c.commands {
		out[k] = v
	}
	return out
}

// Total returns the number of commands counted since the last Reset.
func (c *Counter) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.commands {
		n += v
	}
	return n
}

// Addrs returns the addresses clients connect to: the server, the Cluster
// seeds, or the Sentinels.
func (s *Server) Addrs() []string { return append([]string(nil), s.opts.addrs...) }

// MasterName returns the Sentinel master name, "" unless Kind is "sentinel".
func (s *Server) MasterName() string { return s.opts.master }

// Down returns a client to an address where nothing listens, as a Redis
// that is down looks to an application: every command fails at once.
func Down(t testing.TB) redis.UniversalClient {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: []string{addr}, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// NoSecret fails t if text contains any of secrets: error messages and log
// lines name a session by its handle, never by its token or cookie.
func NoSecret(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s: %q contains a session token or cookie value", what, text)
		}
	}
}
