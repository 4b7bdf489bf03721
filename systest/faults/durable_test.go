//go:build unix

package faults_test

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
)

// replicaOf starts a replica of primary and returns once it has synced.
func replicaOf(t *testing.T, primary *server) *server {
	t.Helper()
	p := newClient(primary.addr())
	defer p.Close()
	// The first sync at once, not after the default 5 s wait for more replicas.
	if err := p.ConfigSet(context.Background(), "repl-diskless-sync-delay", "0").Err(); err != nil {
		t.Fatal(err)
	}
	r := startServer(t, "--replicaof", "127.0.0.1", strconv.Itoa(primary.port))
	c := newClient(r.addr())
	defer c.Close()
	for i := 0; i < 200; i++ {
		if strings.Contains(c.Info(context.Background(), "replication").Val(), "master_link_status:up") {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("replica %s never synced with %s", r.addr(), primary.addr())
	return nil
}

// pause stops a server's process (SIGSTOP), as a replica whose link or
// disk hangs: it acknowledges nothing until resume.
func (s *server) pause(t *testing.T) (resume func()) {
	t.Helper()
	pid := s.cmd.Process.Pid
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	done := false
	resume = func() {
		if !done {
			done = true
			_ = syscall.Kill(pid, syscall.SIGCONT)
		}
	}
	t.Cleanup(resume)
	return resume
}

// logins stores n sessions of user and returns them.
func logins(t *testing.T, store *core.Store, user string, n int) []*core.Session {
	t.Helper()
	var out []*core.Session
	for i := 0; i < n; i++ {
		x := store.NewSession(core.Device{UserAgent: "device " + strconv.Itoa(i)})
		x.UserID, x.Data = user, []byte("cart")
		if err := store.Save(context.Background(), x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x)
	}
	return out
}

// alive counts the sessions of xs that c holds (a replica, or a restarted
// server): a session, not a tombstone.
func alive(c *redis.Client, store *core.Store, xs []*core.Session) int {
	n := 0
	for _, x := range xs {
		if c.Type(context.Background(), store.SessionKey(x.Handle())).Val() == "string" {
			n++
		}
	}
	return n
}

// TestDurableReplicas: with Durability{Replicas: 1}, a revoke, a logout
// and a renewal return only once the replica has them, so the replica a
// failover would promote holds none of the ended sessions. With the
// replica stopped, each returns ErrNotDurable (the change made on the
// primary) within the timeout; a store without Durability does not wait.
func TestDurableReplicas(t *testing.T) {
	primary := startServer(t)
	replica := replicaOf(t, primary)
	client, onReplica := newClient(primary.addr()), newClient(replica.addr())
	defer client.Close()
	defer onReplica.Close()
	ctx := context.Background()
	// A generous wait while the replica runs (a loaded machine acks late),
	// a short one while it is stopped (every call waits all of it).
	store := core.New(client, core.Options{Prefix: "d:", Durability: core.Durability{Replicas: 1, Timeout: 5 * time.Second}})

	xs := logins(t, store, "u", 50)
	if n, err := store.RevokeUser(ctx, "u"); err != nil || n != 50 {
		t.Fatalf("revoke with the replica up: %d %v", n, err)
	}
	if n := alive(onReplica, store, xs); n != 0 {
		t.Errorf("revoke acknowledged: the replica still holds %d of 50 revoked sessions", n)
	}
	ys := logins(t, store, "v", 3)
	if err := store.Delete(ctx, ys[0]); err != nil {
		t.Errorf("logout with the replica up: %v", err)
	}
	old := ys[1].Handle()
	if err := store.Renew(ctx, ys[1]); err != nil {
		t.Errorf("renew with the replica up: %v", err)
	}
	if onReplica.Exists(ctx, store.SessionKey(ys[0].Handle()), store.SessionKey(old)).Val() != 0 {
		t.Errorf("logout and renewal acknowledged: the replica still holds an ended token")
	}

	resume := replica.pause(t)
	store = core.New(client, core.Options{Prefix: "d:", Durability: core.Durability{Replicas: 1, Timeout: 300 * time.Millisecond}})
	zs := logins(t, store, "w", 50)
	n, err := store.RevokeUser(ctx, "w")
	if !errors.Is(err, core.ErrNotDurable) || n != 50 || !strings.Contains(err.Error(), "0 of 1 replicas") {
		t.Errorf("revoke with the replica stopped: %d, %v; want 50 ended and ErrNotDurable naming the replicas", n, err)
	}
	if _, err := store.Load(ctx, zs[0].Token()); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("a session revoked without durability still loads from the primary: %v", err)
	}
	ws := logins(t, store, "x", 4)
	if err := store.Delete(ctx, ws[0]); !errors.Is(err, core.ErrNotDurable) {
		t.Errorf("logout with the replica stopped: %v, want ErrNotDurable", err)
	}
	if err := store.DeleteToken(ctx, ws[1].Token()); !errors.Is(err, core.ErrNotDurable) {
		t.Errorf("logout by token with the replica stopped: %v, want ErrNotDurable", err)
	}
	if err := store.Renew(ctx, ws[2]); !errors.Is(err, core.ErrNotDurable) {
		t.Errorf("renew with the replica stopped: %v, want ErrNotDurable", err)
	} else if _, err := store.Load(ctx, ws[2].Token()); err != nil {
		t.Errorf("the renewal itself was made: its new token loads: %v", err)
	}
	if err := store.SaveUntil(ctx, ws[3], time.Now().Add(-time.Second)); !errors.Is(err, core.ErrNotDurable) {
		t.Errorf("expiring logout with the replica stopped: %v, want ErrNotDurable", err)
	}
	plain := core.New(client, core.Options{Prefix: "d:"})
	logins(t, plain, "y", 5)
	if n, err := plain.RevokeUser(ctx, "y"); err != nil || n != 5 {
		t.Errorf("revoke without Durability, replica stopped: %d %v; want 5 and no wait", n, err)
	}
	resume()
}

// TestDurableAOF: with Durability{AOF: true} on a server with appendonly
// yes, a revoke returns once it is fsynced, and a kill -9 right after
// brings none of the revoked sessions back. With RDB snapshots only, the
// same kill brings back every one revoked since the snapshot, and the
// durable store says so up front: ErrNotDurable, naming appendonly.
func TestDurableAOF(t *testing.T) {
	ctx := context.Background()
	crash := func(t *testing.T, srv *server) *redis.Client {
		srv.stop() // SIGKILL: no shutdown save, no final fsync
		srv.start()
		c := newClient(srv.addr())
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("aof", func(t *testing.T) {
		bin := aofServer()
		srv := startBinary(t, bin, "--appendonly", "yes")
		client := newClient(srv.addr())
		defer client.Close()
		store := core.New(client, core.Options{Durability: core.Durability{AOF: true}})
		xs := logins(t, store, "u", 50)
		n, err := store.RevokeUser(ctx, "u")
		if err != nil && strings.Contains(err.Error(), "unknown command") {
			if !errors.Is(err, core.ErrNotDurable) || !strings.Contains(err.Error(), "Redis 7.2") {
				t.Errorf("durable revoke on a server without WAITAOF: %v, want ErrNotDurable naming what it needs", err)
			}
			t.Skipf("%s has no WAITAOF (Redis 7.2+ or Valkey 8: set VALKEY_SERVER): %v", bin, err)
		}
		if err != nil || n != 50 {
			t.Fatalf("durable revoke: %d %v", n, err)
		}
		if n := alive(crash(t, srv), store, xs); n != 0 {
			t.Errorf("after kill -9 and restart, %d of 50 revoked sessions are back", n)
		}
	})

	t.Run("rdb", func(t *testing.T) {
		srv := startBinary(t, aofServer())
		client := newClient(srv.addr())
		defer client.Close()
		plain := core.New(client, core.Options{})
		durable := core.New(client, core.Options{Durability: core.Durability{AOF: true}})
		xs := logins(t, plain, "u", 50)
		if err := client.Save(ctx).Err(); err != nil { // the snapshot a schedule would take
			t.Fatal(err)
		}
		_, err := durable.RevokeUser(ctx, "u")
		if !errors.Is(err, core.ErrNotDurable) || !(strings.Contains(err.Error(), "appendonly") || strings.Contains(err.Error(), "Redis 7.2")) {
			t.Errorf("durable revoke on a server without AOF: %v, want ErrNotDurable naming appendonly (or, without WAITAOF, what it needs)", err)
		}
		back := alive(crash(t, srv), plain, xs)
		t.Logf("RDB only: after kill -9 and restart, %d of 50 revoked sessions are back", back)
		if back != 50 {
			t.Errorf("RDB only: %d of 50 revoked sessions back after restart; the snapshot holds all 50", back)
		}
	})
}

// aofServer is a server binary with WAITAOF (Redis 7.2's, Valkey 8's):
// this machine's Valkey when there is one (scripts/valkey.sh server),
// else redis-server, which may be older.
func aofServer() string {
	if v, err := exec.Command("../../scripts/valkey.sh", "server").Output(); err == nil {
		return strings.TrimSpace(string(v))
	}
	return "redis-server"
}
