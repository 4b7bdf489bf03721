//go:build unix

package faults_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
)

// finding returns the findings of CheckServer on topic.
func finding(t *testing.T, store *core.Store, topic string) []core.Finding {
	t.Helper()
	fs, err := store.CheckServer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []core.Finding
	for _, f := range fs {
		if f.Topic == topic {
			out = append(out, f)
		}
	}
	return out
}

// TestCheckEviction: every eviction policy that can drop a key we wrote
// (all of them but noeviction: every key of ours has a TTL, so volatile-*
// policies reach them too) is unsafe once a memory limit is set.
func TestCheckEviction(t *testing.T) {
	srv := startServer(t, "--maxmemory", "64mb")
	client := newClient(srv.addr())
	defer client.Close()
	store := core.New(client, core.Options{})
	ctx := context.Background()
	for _, policy := range []string{"allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu",
		"allkeys-random", "volatile-random", "volatile-ttl", "noeviction"} {
		if err := client.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		fs := finding(t, store, "eviction")
		want := core.LevelUnsafe
		if policy == "noeviction" {
			want = core.LevelOK
		}
		if len(fs) != 1 || fs[0].Level != want || !strings.Contains(fs[0].Message, policy) {
			t.Errorf("%s: eviction findings %v, want one %v naming the policy", policy, fs, want)
		}
	}
	// Without a limit nothing is evicted yet: a warning, not unsafe.
	if err := client.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if err := client.ConfigSet(ctx, "maxmemory-policy", "allkeys-lru").Err(); err != nil {
		t.Fatal(err)
	}
	if fs := finding(t, store, "eviction"); len(fs) != 1 || fs[0].Level != core.LevelWarning {
		t.Errorf("allkeys-lru without maxmemory: %v, want a warning", fs)
	}
}

// TestCheckPersistence: RDB snapshots without AOF bring revoked sessions
// back after a restart (a warning); AOF, or no persistence at all, does not.
func TestCheckPersistence(t *testing.T) {
	srv := startServer(t)
	client := newClient(srv.addr())
	defer client.Close()
	store := core.New(client, core.Options{})
	ctx := context.Background()
	for _, c := range []struct {
		save, aof string
		want      core.Level
	}{
		{"", "no", core.LevelOK},
		{"900 1", "no", core.LevelWarning},
		{"900 1", "yes", core.LevelOK},
	} {
		if err := client.ConfigSet(ctx, "save", c.save).Err(); err != nil {
			t.Fatal(err)
		}
		if err := client.ConfigSet(ctx, "appendonly", c.aof).Err(); err != nil {
			t.Fatal(err)
		}
		if fs := finding(t, store, "persistence"); len(fs) != 1 || fs[0].Level != c.want {
			t.Errorf("save %q appendonly %s: %v, want %v", c.save, c.aof, fs, c.want)
		}
	}
}

// TestCheckReplicationAndClient: a primary with a replica warns that a
// failover can undo a revocation; a client without ContextTimeoutEnabled
// warns that deadlines are not honoured; both pass otherwise.
func TestCheckReplicationAndClient(t *testing.T) {
	primary := startServer(t)
	client := newClient(primary.addr())
	defer client.Close()
	store := core.New(client, core.Options{})
	if fs := finding(t, store, "replication"); len(fs) != 0 {
		t.Errorf("no replica: %v, want nothing", fs)
	}
	if fs := finding(t, store, "client"); len(fs) != 1 || fs[0].Level != core.LevelOK {
		t.Errorf("a client with ContextTimeoutEnabled: %v, want ok", fs)
	}
	replica := startServer(t, "--replicaof", "127.0.0.1", strings.TrimPrefix(primary.addr(), "127.0.0.1:"))
	_ = replica
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if n := parseConnected(client.Info(ctx, "replication").Val()); n > 0 {
			break
		}
		waitABit()
	}
	if fs := finding(t, store, "replication"); len(fs) != 1 || fs[0].Level != core.LevelWarning {
		t.Errorf("one replica: %v, want a warning", fs)
	}
	plain := redis.NewClient(&redis.Options{Addr: primary.addr()})
	defer plain.Close()
	if fs := finding(t, core.New(plain, core.Options{}), "client"); len(fs) != 1 || fs[0].Level != core.LevelWarning ||
		!strings.Contains(fs[0].Message, "ContextTimeoutEnabled") {
		t.Errorf("a client without ContextTimeoutEnabled: %v, want a warning naming it", fs)
	}
	if fs := finding(t, store, "server"); len(fs) != 1 || fs[0].Level != core.LevelOK {
		t.Errorf("server: %v, want ok", fs)
	}
}

func parseConnected(info string) int {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			if v != "0" {
				return 1
			}
		}
	}
	return 0
}

func waitABit() { time.Sleep(50 * time.Millisecond) }
