package failover_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
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
