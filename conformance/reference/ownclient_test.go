package reference_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/conformance"
)

// TestConformanceOwnClient runs the suite (in the string layout) on clients
// the harness builds itself, as a deployment would: with
// ContextTimeoutEnabled and timeouts, and a hook of its own. Every Env.Client
// must be one of them, and the hook must see the adapters' traffic.
func TestConformanceOwnClient(t *testing.T) {
	h := &ownClient{built: map[redis.UniversalClient]bool{}}
	t.Cleanup(func() {
		if h.opened.Load() > 0 && h.commands.Load() == 0 { // none opened: -run left out every property
			t.Errorf("the harness's clients sent no command: the suite did not use them")
		}
	})
	conformance.Run(t, h)
}

// ownClient is the reference harness with clients of its own making.
type ownClient struct {
	h        harness
	commands atomic.Int64 // seen by the hook on every client it built
	opened   atomic.Int64 // adapters opened

	mu    sync.Mutex
	built map[redis.UniversalClient]bool
}

var _ conformance.ClientMaker = (*ownClient)(nil)

func (o *ownClient) NewClient(t testing.TB, opts *redis.UniversalOptions) redis.UniversalClient {
	opts.ContextTimeoutEnabled = true
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout = 2*time.Second, time.Second, time.Second
	c := redis.NewUniversalClient(opts)
	c.AddHook(counting{&o.commands})
	o.mu.Lock()
	o.built[c] = true
	o.mu.Unlock()
	return c
}

func (o *ownClient) Open(t testing.TB, env conformance.Env, app conformance.App) conformance.Adapter {
	o.opened.Add(1)
	o.mu.Lock()
	ours := o.built[env.Client]
	o.mu.Unlock()
	// A Redis that is down is the suite's own (Security/ErrorsNameNoToken).
	if !ours && env.Client.Ping(context.Background()).Err() == nil {
		t.Errorf("Env.Client is not a client the harness built")
	}
	return o.h.Open(t, env, app)
}

// counting is a go-redis hook that counts commands.
type counting struct{ n *atomic.Int64 }

func (counting) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c counting) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n.Add(1)
		return next(ctx, cmd)
	}
}
func (c counting) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
