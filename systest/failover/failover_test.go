//go:build unix

package failover_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// promotionWait bounds how long a test waits for a replica to take over.
const promotionWait = 60 * time.Second

func enabled(t *testing.T, env string) []string {
	t.Helper()
	if os.Getenv("REDISESSION_FAILOVER") != "1" || os.Getenv(env) == "" {
		t.Skipf("destructive: needs REDISESSION_FAILOVER=1 and %s", env)
	}
	return strings.Split(os.Getenv(env), ",")
}

// TestSentinelDurableReplicaPaused: with the replica stopped (SIGSTOP: it
// acknowledges nothing, as with its link or disk hung), a revoke under
// Durability{Replicas: 1} ends every session on the primary and returns
// ErrNotDurable, so the caller knows a failover could bring them back;
// with the replica running it returns nil and the replica holds none.
func TestSentinelDurableReplicaPaused(t *testing.T) {
	sentinels := enabled(t, "REDIS_SENTINEL_ADDRS")
	master := os.Getenv("REDIS_SENTINEL_MASTER")
	ctx := context.Background()
	client := redis.NewFailoverClient(&redis.FailoverOptions{SentinelAddrs: sentinels, MasterName: master, ContextTimeoutEnabled: true})
	defer client.Close()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer sc.Close()
	replicas, err := sc.Replicas(ctx, master).Result()
	if err != nil || len(replicas) == 0 {
		t.Fatalf("the Sentinel names no replica: %v %v", replicas, err)
	}
	addr := replicas[0]["ip"] + ":" + replicas[0]["port"]
	replica := redis.NewClient(&redis.Options{Addr: addr})
	defer replica.Close()
	info, err := replica.Info(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid, _ := strconv.Atoi(field(info, "process_id"))
	if pid == 0 {
		t.Fatalf("no process_id in the replica's INFO")
	}
	// Stop it only if it is this machine's server on that port.
	if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err != nil ||
		!strings.Contains(string(cmdline), replicas[0]["port"]) {
		t.Skipf("the replica %s (pid %d) is not a process of this machine that can be paused: %v", addr, pid, err)
	}
	prefix := "durable:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	store := core.New(client, core.Options{Prefix: prefix, Durability: core.Durability{Replicas: 1, Timeout: 5 * time.Second}})
	login := func(user string) []string {
		var out []string
		for i := 0; i < 50; i++ {
			x := store.NewSession(core.Device{})
			x.UserID = user
			if err := store.Save(ctx, x); err != nil {
				t.Fatal(err)
			}
			out = append(out, store.SessionKey(x.Handle()))
		}
		return out
	}

	keys := login("up")
	if n, err := store.RevokeUser(ctx, "up"); err != nil || n != 50 {
		t.Fatalf("durable revoke, replica running: %d %v", n, err)
	}
	left := 0
	for _, k := range keys {
		if replica.Type(ctx, k).Val() == "string" {
			left++
		}
	}
	if left != 0 {
		t.Errorf("durable revoke acknowledged: the replica still holds %d of 50 sessions", left)
	}

	login("paused")
	store = core.New(client, core.Options{Prefix: prefix, Durability: core.Durability{Replicas: 1, Timeout: 500 * time.Millisecond}})
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	n, err := store.RevokeUser(ctx, "paused")
	_ = syscall.Kill(pid, syscall.SIGCONT)
	if !errors.Is(err, core.ErrNotDurable) || n != 50 {
		t.Errorf("durable revoke, replica stopped: %d, %v; want 50 ended and ErrNotDurable", n, err)
	}
	t.Logf("replica stopped: %v", err)
	// Leave the topology as the failover tests want it: the replica synced
	// and not seen as down by the Sentinels.
	for i := 0; i < 200; i++ {
		r, _ := sc.Replicas(ctx, master).Result()
		info := replica.Info(ctx, "replication").Val()
		if len(r) > 0 && !strings.Contains(r[0]["flags"], "down") && strings.Contains(info, "master_link_status:up") {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the replica did not recover after SIGCONT")
}

func field(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

func TestSentinelFailover(t *testing.T) {
	sentinels := enabled(t, "REDIS_SENTINEL_ADDRS")
	master := os.Getenv("REDIS_SENTINEL_MASTER")
	// One connection, so WAIT covers the writes made before it.
	client := redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs: sentinels, MasterName: master, PoolSize: 1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
	defer client.Close()
	sc := redis.NewSentinelClient(&redis.Options{Addr: sentinels[0]})
	defer sc.Close()
	primary, err := sc.GetMasterAddrByName(context.Background(), master).Result()
	if err != nil {
		t.Fatal(err)
	}
	run(t, client, func() error {
		return waitReplicated(client)
	}, func() {
		kill(t, primary[0]+":"+primary[1])
	})
}

func TestClusterFailover(t *testing.T) {
	addrs := enabled(t, "REDIS_CLUSTER_ADDRS")
	client := redis.NewClusterClient(&redis.ClusterOptions{
		Addrs: addrs, PoolSize: 1,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second,
	})
	defer client.Close()
	var mu sync.Mutex
	var victim string
	run(t, client, func() error {
		return client.ForEachMaster(context.Background(), func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			if victim == "" {
				victim = n.Options().Addr
			}
			mu.Unlock()
			return waitReplicated(n)
		})
	}, func() {
		kill(t, victim)
	})
}

// waitReplicated makes sure the writes made on c's connection reached a
// replica (test setup only: the library never calls WAIT).
func waitReplicated(c redis.UniversalClient) error {
	n, err := c.Do(context.Background(), "wait", 1, 5000).Int()
	if err != nil {
		return err
	}
	if n < 1 {
		return errors.New("WAIT: no replica acknowledged the writes")
	}
	return nil
}

func kill(t *testing.T, addr string) {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	_ = c.Do(context.Background(), "shutdown", "nosave").Err() // the connection drops: no reply
	for i := 0; i < 50; i++ {
		if c.Ping(context.Background()).Err() != nil {
			t.Logf("killed primary %s", addr)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("primary %s still answers after SHUTDOWN", addr)
}

// run logs users in, makes sure it replicated, kills a primary, then reads
// every session until the promotion is over, bounding each call with a
// context deadline; then checks every session is still there and a new login
// works.
func run(t *testing.T, client redis.UniversalClient, replicate func() error, killPrimary func()) {
	prefix := "failover:" + strconv.FormatInt(time.Now().UnixNano(), 36) + ":"
	store := core.New(client, core.Options{Prefix: prefix})
	ctx := context.Background()
	var tokens []string
	for u := 0; u < 20; u++ {
		for d := 0; d < 2; d++ {
			x := store.NewSession(core.Device{UserAgent: "device" + strconv.Itoa(d)})
			x.UserID, x.Data = "user"+strconv.Itoa(u), []byte("cart of user "+strconv.Itoa(u))
			if err := store.Save(ctx, x); err != nil {
				t.Fatalf("login before the failover: %v", err)
			}
			tokens = append(tokens, x.Token())
		}
	}
	if err := replicate(); err != nil {
		t.Fatalf("replication before the kill: %v", err)
	}
	// Then a durable revoke, acknowledged by a replica, right before the
	// kill: the promoted replica must not bring any of them back.
	durable := core.New(client, core.Options{Prefix: prefix, Durability: core.Durability{Replicas: 1, Timeout: 5 * time.Second}})
	var revoked []string
	for d := 0; d < 25; d++ {
		x := store.NewSession(core.Device{UserAgent: "revoked" + strconv.Itoa(d)})
		x.UserID = "revoked"
		if err := store.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		revoked = append(revoked, x.Token())
	}
	if n, err := durable.RevokeUser(ctx, "revoked"); err != nil || n != len(revoked) {
		t.Fatalf("durable revoke before the kill: %d %v", n, err)
	}
	killPrimary()

	start := time.Now()
	errorsSeen := 0
	for {
		missing := 0
		for _, tok := range tokens {
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			_, err := store.Load(cctx, tok)
			cancel()
			switch {
			case err == nil:
			case errors.Is(err, core.ErrNotFound):
				t.Fatalf("session %s lost in the failover", core.Handle(tok))
			default:
				// Expected while the replica is promoted; must be a plain error with context.
				if !strings.Contains(err.Error(), "redisession: load") {
					t.Errorf("error during the switch lacks context: %v", err)
				}
				errorsSeen++
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Since(start) > promotionWait {
			t.Fatalf("%d of %d sessions still unreadable %v after the kill", missing, len(tokens), promotionWait)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("all %d sessions readable after the promotion; %d calls failed cleanly during the switch", len(tokens), errorsSeen)
	back := 0
	for _, tok := range revoked {
		if _, err := store.Load(ctx, tok); err == nil {
			back++
		}
	}
	if back != 0 {
		t.Errorf("%d of %d sessions revoked durably before the kill are back after the promotion", back, len(revoked))
	}

	x := store.NewSession(core.Device{UserAgent: "after"})
	x.UserID = "user0"
	var err error
	for time.Since(start) < promotionWait {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = store.Save(cctx, x)
		cancel()
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("login after the failover: %v", err)
	}
	list, err := store.UserSessions(ctx, "user0")
	if err != nil || len(list) != 3 {
		t.Errorf("user0 after the failover: %d sessions, %v; want 3", len(list), err)
	}
	if n, err := store.RevokeUser(ctx, "user0"); err != nil || n != 3 {
		t.Errorf("RevokeUser after the failover = %d, %v; want 3", n, err)
	}
}
