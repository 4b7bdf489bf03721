package core_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// TestClusterSpread: on a Cluster, users' sessions and indexes land on every
// primary, and each user's index and sessions still agree.
func TestClusterSpread(t *testing.T) {
	f := newFixture(t, core.Options{})
	if f.srv.Kind != "cluster" {
		t.Skip("needs REDIS_CLUSTER_ADDRS")
	}
	ctx := context.Background()
	const users, perUser = 30, 3
	for u := 0; u < users; u++ {
		for i := 0; i < perUser; i++ {
			f.login(t, "user"+strconv.Itoa(u), "device"+strconv.Itoa(i))
		}
	}
	cc := f.raw.(*redis.ClusterClient)
	var mu sync.Mutex
	perNode := map[string][2]int{} // addr → sessions, indexes
	err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		it := n.Scan(ctx, 0, f.srv.Prefix+"*", 1000).Iterator()
		var c [2]int
		for it.Next(ctx) {
			if strings.HasPrefix(it.Val(), f.srv.Prefix+"session:") {
				c[0]++
			} else {
				c[1]++
			}
		}
		mu.Lock()
		perNode[n.Options().Addr] = c
		mu.Unlock()
		return it.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(perNode) < 3 {
		t.Fatalf("found %d primaries, want 3", len(perNode))
	}
	total := [2]int{}
	for addr, c := range perNode {
		if c[0] == 0 || c[1] == 0 {
			t.Errorf("primary %s holds %d sessions and %d indexes: not spread", addr, c[0], c[1])
		}
		total[0] += c[0]
		total[1] += c[1]
	}
	if total != [2]int{users * perUser, users} {
		t.Errorf("found %d sessions and %d indexes, want %d and %d", total[0], total[1], users*perUser, users)
	}
	for u := 0; u < users; u++ {
		list, err := f.store.UserSessions(ctx, "user"+strconv.Itoa(u))
		if err != nil || len(list) != perUser {
			t.Errorf("user%d: listed %d sessions, %v; want %d", u, len(list), err, perUser)
		}
	}
	n, err := f.store.RevokeUser(ctx, "user0")
	if err != nil || n != perUser {
		t.Errorf("RevokeUser across slots = %d, %v; want %d", n, err, perUser)
	}
}
