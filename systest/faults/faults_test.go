//go:build unix

package faults_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// server is a redis-server this test owns.
type server struct {
	t    *testing.T
	bin  string // redis-server, or valkey-server
	port int
	dir  string
	cmd  *exec.Cmd
}

func startServer(t *testing.T, extra ...string) *server {
	t.Helper()
	return startBinary(t, "redis-server", extra...)
}

// startBinary is startServer with another server binary (valkey-server).
func startBinary(t *testing.T, bin string, extra ...string) *server {
	t.Helper()
	if _, err := exec.LookPath(bin); err != nil {
		t.Skipf("%s not installed", bin)
	}
	// The servers here are the test's own, whatever the environment names:
	// a run against a shared server or topology would only repeat them.
	for _, env := range []string{"REDIS_ADDR", "REDIS_CLUSTER_ADDRS", "REDIS_SENTINEL_ADDRS"} {
		if os.Getenv(env) != "" {
			t.Skipf("%s is set: the fault tests start their own redis-server and run in the plain `make test`", env)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &server{t: t, bin: bin, port: port, dir: t.TempDir()}
	s.start(extra...)
	t.Cleanup(s.stop)
	return s
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *server) start(extra ...string) {
	s.t.Helper()
	args := append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--logfile", filepath.Join(s.dir, "redis.log")}, extra...)
	s.cmd = exec.Command(s.bin, args...)
	// Its own process group, so stop reaches the children it forks for
	// snapshots and AOF rewrites, which would otherwise go on writing into
	// the test's directory after the server is gone.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr()})
	defer c.Close()
	for i := 0; i < 100; i++ {
		if c.Ping(context.Background()).Err() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	s.t.Fatalf("%s on %s did not start: %s", s.bin, s.addr(), log)
}

// stop kills the server and every process it forked, as a crash would.
// A snapshot or AOF rewrite the server is running finishes first, so its
// child is not left writing into the test's directory while the test
// removes it; a server that does not answer is killed at once.
func (s *server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	c := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1,
		DialTimeout: 100 * time.Millisecond, ReadTimeout: 100 * time.Millisecond})
	for i := 0; i < 500; i++ {
		info, err := c.Info(context.Background(), "persistence").Result()
		if err != nil || !strings.Contains(info, "_in_progress:1") {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.Close()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func newClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr: addr, ContextTimeoutEnabled: true,
		DialTimeout: 500 * time.Millisecond, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		MaxRetries: -1,
	})
}

// settled waits until the goroutine count is back to at most base.
func settled(t *testing.T, base int) {
	t.Helper()
	var n int
	for i := 0; i < 100; i++ {
		runtime.GC()
		if n = runtime.NumGoroutine(); n <= base {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	buf := make([]byte, 1<<16)
	t.Errorf("goroutines leaked: %d now, %d before\n%s", n, base, buf[:runtime.Stack(buf, true)])
}

// TestKillAndRestart kills Redis under load and starts it again: while it
// is down every call fails with a clear error within its deadline; after, the
// store recovers by itself, and no goroutine is left behind.
func TestKillAndRestart(t *testing.T) {
	srv := startServer(t)
	base := runtime.NumGoroutine()
	client := newClient(srv.addr())
	store := core.New(client, core.Options{})

	var ok, failed atomic.Int64
	var badErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				x := store.NewSession(core.Device{UserAgent: "load"})
				x.UserID, x.Data = "u"+strconv.Itoa(w), []byte("cart "+strconv.Itoa(i))
				err := store.Save(ctx, x)
				if err == nil {
					_, err = store.Load(ctx, x.Token())
				}
				cancel()
				if err == nil {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				if !strings.HasPrefix(err.Error(), "redisession: ") {
					badErr.Store(err)
				}
				time.Sleep(10 * time.Millisecond)
			}
		}(w)
	}
	time.Sleep(300 * time.Millisecond)
	srv.stop()
	okBefore := ok.Load()
	time.Sleep(700 * time.Millisecond)
	failedWhileDown := failed.Load()
	srv.start()
	deadline := time.Now().Add(10 * time.Second)
	for ok.Load() < okBefore+100 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failedWhileDown == 0 {
		t.Errorf("no call failed while Redis was down")
	}
	if ok.Load() < okBefore+100 {
		t.Errorf("the store did not recover after the restart: %d calls succeeded after it", ok.Load()-okBefore)
	}
	if e := badErr.Load(); e != nil {
		t.Errorf("an error without context: %v", e)
	}
	t.Logf("%d calls succeeded, %d failed cleanly while Redis was down", ok.Load(), failed.Load())
	client.Close()
	settled(t, base)
}

// TestStall: a Redis that stops answering (DEBUG SLEEP) costs a caller no
// more than its context deadline.
func TestStall(t *testing.T) {
	srv := startServer(t, "--enable-debug-command", "local")
	client := newClient(srv.addr())
	defer client.Close()
	store := core.New(client, core.Options{})
	ctx := context.Background()
	x := store.NewSession(core.Device{})
	x.Data = []byte("v")
	if err := store.Save(ctx, x); err != nil {
		t.Fatal(err)
	}
	other := redis.NewClient(&redis.Options{Addr: srv.addr()})
	defer other.Close()
	go other.Do(ctx, "debug", "sleep", "2")
	time.Sleep(100 * time.Millisecond)
	cctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := store.Load(cctx, x.Token())
	if err == nil {
		t.Fatal("a load from a stalled Redis succeeded")
	}
	var nerr net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &nerr) && nerr.Timeout()) {
		t.Errorf("load from a stalled Redis: %v, want a deadline or timeout error", err)
	}
	if !strings.Contains(err.Error(), "redisession: load") {
		t.Errorf("error lacks context: %v", err)
	}
}

// TestFull: with maxmemory and noeviction, writes fail with a clear error
// and reads (with their sliding expiry) still work.
func TestFull(t *testing.T) {
	srv := startServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "noeviction")
	client := newClient(srv.addr())
	defer client.Close()
	store := core.New(client, core.Options{})
	ctx := context.Background()
	keep := store.NewSession(core.Device{})
	keep.UserID, keep.Data = "u1", []byte("written before it filled up")
	if err := store.Save(ctx, keep); err != nil {
		t.Fatal(err)
	}
	// An entry whose session never arrived (in u3's index, which nothing
	// lists before the revoke): the revoke below must leave a tombstone for
	// it even though Redis is full.
	ghost := store.NewSession(core.Device{})
	if err := client.ZAdd(ctx, store.IndexKey("u3"), redis.Z{Score: float64(ghost.Deadline().UnixMilli()), Member: ghost.Handle()}).Err(); err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 100000 && werr == nil; i++ {
		x := store.NewSession(core.Device{})
		x.Data = make([]byte, 4000)
		werr = store.Save(ctx, x)
	}
	if werr == nil || !strings.Contains(werr.Error(), "OOM") || !strings.HasPrefix(werr.Error(), "redisession: save") {
		t.Fatalf("writes into a full Redis: %v, want a clear OOM error", werr)
	}
	got, err := store.Load(ctx, keep.Token())
	if err != nil || string(got.Data) != "written before it filled up" {
		t.Fatalf("read from a full Redis: %v", err)
	}
	if list, err := store.UserSessions(ctx, "u1"); err != nil || len(list) != 1 {
		t.Errorf("listing in a full Redis: %d, %v", len(list), err)
	}
	login := store.NewSession(core.Device{})
	login.UserID = "u2"
	if err := store.Save(ctx, login); err == nil {
		t.Errorf("login into a full Redis succeeded")
	} else if list, _ := store.UserSessions(ctx, "u2"); len(list) != 0 {
		t.Errorf("a failed login left a listed session: %v", list)
	}
	// Revocation frees memory: it must work on a full server.
	if n, err := store.RevokeUser(ctx, "u1"); err != nil || n != 1 {
		t.Errorf("RevokeUser on a full Redis = %d, %v; want 1, nil", n, err)
	}
	if _, err := store.Load(ctx, keep.Token()); err == nil {
		t.Errorf("a session revoked on a full Redis still loads")
	}
	if n, err := store.RevokeUser(ctx, "u3"); err != nil || n != 0 {
		t.Errorf("RevokeUser of an entry without a session on a full Redis = %d, %v; want 0, nil", n, err)
	}
	if typ, _ := client.Type(ctx, store.SessionKey(ghost.Handle())).Result(); typ != "list" {
		t.Errorf("no tombstone for the entry without a session on a full Redis (key type %q)", typ)
	}
}
