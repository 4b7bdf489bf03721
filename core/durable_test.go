package core_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// replicated reports whether every primary of c has a replica (false where
// INFO does not say: an embedded Redis has none).
func replicated(t *testing.T, c redis.UniversalClient) bool {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	all := true
	check := func(ctx context.Context, n *redis.Client) error {
		info, err := n.Info(ctx, "replication").Result()
		ok := err == nil && !strings.Contains(info, "connected_slaves:0") && strings.Contains(info, "connected_slaves:")
		mu.Lock()
		all = all && ok
		mu.Unlock()
		return nil
	}
	if cc, ok := c.(*redis.ClusterClient); ok {
		_ = cc.ForEachMaster(ctx, check)
	} else {
		_ = check(ctx, c.(*redis.Client))
	}
	return all
}

// TestDurability: with Durability{Replicas: 1}, every call that ends a
// session succeeds where each primary has a replica (Sentinel, Cluster:
// on each node the call wrote), and returns ErrNotDurable, after making
// the change, where none has (a single node, an embedded Redis).
func TestDurability(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	want := replicated(t, f.raw)
	// Replicas answer at once, unless the machine is loaded; where there
	// are none every call waits the whole timeout.
	timeout := 200 * time.Millisecond
	if want {
		timeout = 5 * time.Second
	}
	f.store = core.New(f.srv.NewClient(t, f.count), core.Options{Prefix: f.srv.Prefix, Now: f.srv.Now,
		Durability: core.Durability{Replicas: 1, Timeout: timeout}})
	check := func(what string, err error) {
		t.Helper()
		if want && err != nil {
			t.Errorf("%s with replicas: %v", what, err)
		}
		if !want && !errors.Is(err, core.ErrNotDurable) {
			t.Errorf("%s without replicas: %v, want ErrNotDurable", what, err)
		}
	}
	var xs []*core.Session
	for i := 0; i < 8; i++ {
		xs = append(xs, f.login(t, "u"+strconv.Itoa(i%2), "device"+strconv.Itoa(i)))
	}
	check("logout", f.store.Delete(ctx, xs[0]))
	check("logout by token", f.store.DeleteToken(ctx, xs[1].Token()))
	old := xs[2].Token()
	check("renew", f.store.Renew(ctx, xs[2]))
	if _, err := f.store.Load(ctx, old); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("renewed: the old token loads: %v", err)
	}
	if _, err := f.store.Load(ctx, xs[2].Token()); err != nil {
		t.Errorf("renewed: the new token does not load: %v", err)
	}
	check("revoke one", f.store.RevokeSession(ctx, "u1", xs[3].Handle()))
	check("revoke a handle", f.store.RevokeHandle(ctx, xs[5].Handle()))
	n, err := f.store.RevokeUser(ctx, "u0")
	check("revoke all", err)
	if n != 3 {
		t.Errorf("revoke all ended %d sessions, want 3", n)
	}
	for _, x := range xs {
		if _, err := f.store.Load(ctx, x.Token()); x != xs[7] && !errors.Is(err, core.ErrNotFound) {
			t.Errorf("an ended session loads: %v", err)
		}
	}
}
