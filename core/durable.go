package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Durability makes the calls that end a session (logouts, revokes,
// renewals, which end the old token) wait until the change is on replicas
// (WAIT) and, with AOF, written to the append-only file (WAITAOF: Redis
// 7.2 or newer, Valkey 8), so that a failover to a replica or a restart
// cannot bring the ended session back. The zero value waits for nothing.
//
// Redis replicates asynchronously: without it, a revoke acknowledged by
// the primary is lost with the primary if no replica had received it, and
// a restart from an RDB snapshot loads every session revoked since. With
// it, a call whose change is not acknowledged in time returns an error
// that matches ErrNotDurable. The change itself has been made on the
// primary either way: the error says only that it may not survive.
type Durability struct {
	// Replicas is how many replicas must have the change.
	Replicas int
	// AOF also waits until the primary has written the change to its
	// append-only file with fsync (and, with Replicas, those replicas too).
	// It needs appendonly yes on the server: without it every call returns
	// ErrNotDurable, saying so.
	AOF bool
	// Timeout bounds the wait (default 2 s: with appendfsync everysec, the
	// AOF's default, an fsync may be a second away). The call's context
	// bounds it too.
	Timeout time.Duration
}

func (d Durability) on() bool { return d.Replicas > 0 || d.AOF }

// ErrNotDurable reports a logout, revoke or renewal that Redis made on the
// primary but that did not reach the replicas (or the append-only file)
// Options.Durability asks for within its timeout: a failover or a restart
// may undo it.
var ErrNotDurable = errors.New("redisession: not acknowledged as durable: a failover or restart may undo it")

// durable waits, under Options.Durability, until every write made so far
// on the nodes holding keys is on the replicas and in the AOF asked for.
// A write's replication offset is its connection's, so on each node it
// writes a marker (an always-replicated SET, expiring with the wait) on
// one connection and waits there: the marker's offset is past every write
// that was acknowledged before it, whoever sent them. One node for a
// single server or Sentinel; on Cluster each node that holds one of keys,
// in parallel.
func (s *Store) durable(ctx context.Context, keys ...string) error {
	d := s.opts.Durability
	if !d.on() {
		return nil
	}
	if d.Timeout <= 0 {
		d.Timeout = 2 * time.Second
	}
	cc, ok := s.client.(*redis.ClusterClient)
	if !ok {
		c, ok := s.client.(*redis.Client)
		if !ok {
			return fmt.Errorf("%w: a %T cannot wait for replicas", ErrNotDurable, s.client)
		}
		return s.waitNode(ctx, c, s.durableKey(), d)
	}
	// Cluster: one marker per node, in the slot of a key the call wrote.
	nodes := map[string]string{} // address: marker
	clients := map[string]*redis.Client{}
	for _, k := range keys {
		node, err := cc.MasterForKey(ctx, k)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrNotDurable, err)
		}
		addr := node.Options().Addr
		if _, seen := nodes[addr]; !seen {
			nodes[addr], clients[addr] = s.durableKeyIn(keySlot(k)), node
		}
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for addr, marker := range nodes {
		wg.Add(1)
		go func(node *redis.Client, marker string) {
			defer wg.Done()
			if err := s.waitNode(ctx, node, marker, d); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}(clients[addr], marker)
	}
	wg.Wait()
	return first
}

// waitNode writes marker on one connection of node and waits there for d.
func (s *Store) waitNode(ctx context.Context, node *redis.Client, marker string, d Durability) error {
	conn := node.Conn()
	defer conn.Close()
	addr := node.Options().Addr
	if addr == "FailoverClient" { // what go-redis calls a Sentinel client's node
		addr = "the Sentinel primary"
	}
	ttl := d.Timeout + time.Second
	if err := conn.Process(ctx, setMarkerCmd(ctx, marker, ttl)); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotDurable, addr, err)
	}
	deadline := time.Now().Add(d.Timeout)
	if d.Replicas > 0 {
		n, err := waitReplicas(ctx, conn, d.Replicas, d.Timeout).Result()
		if err != nil {
			return fmt.Errorf("%w: %s: WAIT: %v", ErrNotDurable, addr, err)
		}
		if int(n) < d.Replicas {
			return fmt.Errorf("%w: %s: %d of %d replicas acknowledged within %v", ErrNotDurable, addr, n, d.Replicas, d.Timeout)
		}
	}
	if !d.AOF {
		return nil
	}
	// WAITAOF answers two numbers, and go-redis reads each reply within the
	// client's read timeout: wait in steps that fit it.
	step := node.Options().ReadTimeout / 2
	for {
		left := time.Until(deadline)
		wait := left
		if step > 0 && wait > step {
			wait = step
		}
		if wait < time.Millisecond {
			wait = time.Millisecond
		}
		cmd := waitaofCmd(ctx, d.Replicas, wait)
		if err := conn.Process(ctx, cmd); err != nil {
			hint := ""
			if strings.Contains(err.Error(), "unknown command") {
				hint = " (Durability.AOF needs Redis 7.2 or newer, or Valkey 8)"
			}
			return fmt.Errorf("%w: %s: WAITAOF: %v%s", ErrNotDurable, addr, err, hint)
		}
		acks := cmd.Val()
		if len(acks) == 2 && acks[0] >= 1 && int(acks[1]) >= d.Replicas {
			return nil
		}
		if left <= wait {
			return fmt.Errorf("%w: %s: the append-only file has the change on %d of 1 primary and %d of %d replicas after %v",
				ErrNotDurable, addr, at(acks, 0), at(acks, 1), d.Replicas, d.Timeout)
		}
	}
}

func at(xs []int64, i int) int64 {
	if i < len(xs) {
		return xs[i]
	}
	return 0
}

// keySlot is the Cluster hash slot of key: CRC16 of its hash tag (the part
// between the first "{" and the next "}", when not empty) or of the whole
// key, modulo 16384.
func keySlot(key string) int {
	for i := 0; i < len(key); i++ {
		if key[i] == '{' {
			for j := i + 1; j < len(key); j++ {
				if key[j] == '}' {
					if j > i+1 {
						key = key[i+1 : j]
					}
					return int(crc16(key) % 16384)
				}
			}
			break
		}
	}
	return int(crc16(key) % 16384)
}

// crc16 is CRC-16/XMODEM, Redis Cluster's key hash.
func crc16(s string) uint16 {
	var crc uint16
	for i := 0; i < len(s); i++ {
		crc ^= uint16(s[i]) << 8
		for b := 0; b < 8; b++ {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}

var (
	tagsOnce sync.Once
	tags     [16384]string
)

// slotTag returns a short string whose slot is slot, for a hash tag that
// puts a key there.
func slotTag(slot int) string {
	tagsOnce.Do(func() {
		for i, left := 0, len(tags); left > 0; i++ {
			t := strconv.Itoa(i)
			if s := crc16(t) % 16384; tags[s] == "" {
				tags[s] = t
				left--
			}
		}
	})
	return tags[slot]
}
