package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Eviction says what a store does while its server may evict keys: while a
// primary has maxmemory set with a maxmemory-policy other than noeviction.
// Redis may then drop a user's index (it is read only when listing and
// revoking, so it is among the coldest keys), and RevokeUser cannot end the
// sessions it listed.
type Eviction int

const (
	// EvictionReport serves as usual. CheckServer, Stats, the redisession
	// command's check and stats, and the prom collector report the policy.
	// The default.
	EvictionReport Eviction = iota
	// EvictionRefuse makes Load, Peek, Save and Renew fail with
	// ErrUnsafeServer while the server may evict, so an application that
	// checks its sessions at start-up (or on its first request) does not
	// run on such a server at all. Logouts, listings and revokes still run:
	// they only ever end sessions.
	EvictionRefuse
	// EvictionFailClosed keeps serving, but while the server may evict, a
	// load of a session bound to a user also reads the session's entry in
	// the user's index (one more round trip, bound sessions only), and a
	// session its index no longer lists is treated as revoked: it is
	// deleted and the load misses. A session the eviction has hidden from
	// RevokeUser is then not honoured either.
	EvictionFailClosed
)

// ErrUnsafeServer reports a call refused under EvictionRefuse: the server
// may evict the store's keys (or its settings could not be read).
var ErrUnsafeServer = errors.New("redisession: the Redis server may evict session indexes")

// How long the store trusts what it read of the server's eviction
// settings before it reads them again: an answer, and a failed read.
const (
	recheck           = time.Minute
	recheckAfterError = 5 * time.Second
)

// guard is what the store last read of the server's eviction settings.
type guard struct {
	mu     sync.Mutex
	known  bool      // a read has ended
	until  time.Time // read again after this
	risky  bool
	reason string
	wait   chan struct{} // closed when the read in flight ends; nil when none
}

// evictionRisk reports whether the server may evict the store's keys, with
// the finding that says so, reading every primary's INFO memory at most
// once a minute (the first call of a store pays one round trip per
// primary). A server whose settings cannot be read is treated as one that
// may evict (the guard fails closed) and read again after five seconds.
// One read at a time: while one is in flight the others use the last
// answer, or wait for the first one within their own deadline (and fail
// closed when it passes). Under EvictionReport it reads nothing.
func (s *Store) evictionRisk(ctx context.Context) (bool, string) {
	if s.opts.Eviction == EvictionReport {
		return false, ""
	}
	g := &s.guard
	g.mu.Lock()
	for g.wait != nil || (g.known && time.Now().Before(g.until)) {
		if g.known {
			risky, reason := g.risky, g.reason
			g.mu.Unlock()
			return risky, reason
		}
		w := g.wait
		g.mu.Unlock()
		select {
		case <-w:
		case <-ctx.Done():
			return true, "the eviction settings are still being read: " + ctx.Err().Error()
		}
		g.mu.Lock()
	}
	g.wait = make(chan struct{})
	g.mu.Unlock()

	risky, reason, ttl := false, "", recheck
	policies, err := s.evictionPolicies(ctx)
	if err != nil {
		// Read again soon: the error may pass (a server that refuses INFO
		// costs one more round trip every few seconds, not every call).
		risky, reason, ttl = true, "cannot read the eviction settings: "+err.Error(), recheckAfterError
	}
	for node, p := range policies {
		if p.unsafe() {
			risky, reason = true, node+": "+p.String()
			break
		}
	}
	g.mu.Lock()
	g.known, g.risky, g.reason, g.until = true, risky, reason, time.Now().Add(ttl)
	close(g.wait)
	g.wait = nil
	g.mu.Unlock()
	return risky, reason
}

// refuse returns ErrUnsafeServer, with what was found, when the store
// refuses to serve (EvictionRefuse on a server that may evict).
func (s *Store) refuse(ctx context.Context) error {
	if s.opts.Eviction != EvictionRefuse {
		return nil
	}
	if risky, why := s.evictionRisk(ctx); risky {
		return fmt.Errorf("%w (%s); set maxmemory-policy noeviction, or use a Redis for sessions only", ErrUnsafeServer, why)
	}
	return nil
}

// policy is one primary's eviction settings, from INFO memory.
type policy struct {
	name      string // maxmemory_policy; "" when INFO did not say
	maxmemory string
}

// unsafe reports whether the server may evict keys: a limit is set and
// the policy is not noeviction (the volatile-* policies count: every key
// the store writes has a TTL). An unnamed policy counts as unsafe.
func (p policy) unsafe() bool {
	return p.name != "noeviction" && p.maxmemory != "0"
}

func (p policy) String() string {
	if p.name == "" {
		return "INFO names no maxmemory-policy"
	}
	return "maxmemory-policy " + p.name + ", maxmemory " + p.maxmemory
}

// evictionPolicies reads INFO memory on every primary.
func (s *Store) evictionPolicies(ctx context.Context) (map[string]policy, error) {
	var mu sync.Mutex
	out := map[string]policy{}
	read := func(ctx context.Context, node *redis.Client) error {
		cmd := infoCmd(ctx, "memory")
		_ = node.Process(ctx, cmd)
		info, err := cmd.Result()
		if err != nil {
			return fmt.Errorf("INFO memory on %s: %w", node.Options().Addr, err)
		}
		m := parseInfo(info)
		mu.Lock()
		out[node.Options().Addr] = policy{name: m["maxmemory_policy"], maxmemory: m["maxmemory"]}
		mu.Unlock()
		return nil
	}
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		if err := c.ForEachMaster(ctx, read); err != nil {
			return nil, err
		}
	case *redis.Client:
		if err := read(ctx, c); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("a %T cannot be checked", s.client)
	}
	return out, nil
}

// indexed reports whether x's user's index still lists it: under
// EvictionFailClosed, on a server that may evict, a bound session must be
// listed to be honoured. One round trip, only then.
func (s *Store) indexed(ctx context.Context, x *Session) (bool, error) {
	if x.UserID == "" || s.opts.Eviction != EvictionFailClosed {
		return true, nil
	}
	if risky, _ := s.evictionRisk(ctx); !risky {
		return true, nil
	}
	cmd := zscoreCmd(ctx, s.indexKey(x.UserID), x.handle)
	if err := s.client.Process(ctx, cmd); err == redis.Nil {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}
