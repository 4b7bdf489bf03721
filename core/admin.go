package core

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stats describes what the store holds in Redis.
type Stats struct {
	// Sessions is the number of sessions, counted with SCAN. SCAN does not
	// block Redis; a key created or deleted during the scan may or may not
	// be counted, so on a busy store it is exact to within that churn.
	// Tombstones (what a revoke leaves where it found no session) and other
	// data under a session key are not sessions: they are in Other.
	Sessions int64
	// Bound is how many of the sessions belong to a user; the others
	// (Sessions − Bound) are anonymous.
	Bound int64
	// Other counts keys under the session prefix that hold no session.
	Other int64
	// Users is the number of user indexes (users with at least one session).
	Users int64
	// SessionBytes and IndexBytes estimate the memory the keys take:
	// MEMORY USAGE of up to StatsOptions.Sample keys of each kind, averaged
	// and scaled to the count. Meaningful only when MemoryKnown.
	SessionBytes int64
	IndexBytes   int64
	// MemoryKnown is false when keys were there to measure but the server
	// answered no MEMORY USAGE (a server or proxy without the command): the
	// byte figures are then unknown, not zero.
	MemoryKnown bool
	// EvictionPolicy is the primaries' maxmemory-policy (the first unsafe
	// one where they differ), "" when the server did not say (INFO memory
	// refused). EvictionUnsafe is true when a primary may evict keys:
	// maxmemory is set and the policy is not noeviction. Redis may then drop
	// user indexes, and RevokeUser misses the sessions they listed; see
	// CheckServer and Options.Eviction.
	EvictionPolicy string
	EvictionUnsafe bool
	// Sampled is how many keys were measured with MEMORY USAGE.
	Sampled int
	// Primaries is the number of nodes scanned (1 unless Cluster).
	Primaries int
	// Took is how long the scan took.
	Took time.Duration
}

// StatsOptions tunes Stats. Zero values mean the defaults.
type StatsOptions struct {
	// Batch is the COUNT hint of each SCAN call (default 1000): the most work
	// Redis does for one call.
	Batch int64
	// Sample is how many keys of each kind to measure (default 200).
	Sample int
	// Progress, if set, is called after each SCAN batch with the keys seen so
	// far, from one goroutine per primary.
	Progress func(scanned int64)
}

// Stats scans the store's keys on every primary in bounded batches (never
// KEYS) and returns counts and a memory estimate. It costs one SCAN per
// Batch keys of the whole keyspace on each primary, and one pipeline per
// batch that reads the first bytes of each session key (to tell a bound
// session from an anonymous one, and a session from a tombstone), so call
// it from an operator's tool or a metrics refresh, not per request. It also
// reads INFO memory on each primary for the eviction policy.
func (s *Store) Stats(ctx context.Context, o StatsOptions) (Stats, error) {
	if o.Batch <= 0 {
		o.Batch = 1000
	}
	if o.Sample <= 0 {
		o.Sample = 200
	}
	start := time.Now()
	var (
		mu       sync.Mutex
		st       Stats
		scanned  int64
		sessions = newSampler(o.Sample)
		indexes  = newSampler(o.Sample)
	)
	sessionPrefix, indexPrefix := s.sessionKeyForID(""), s.indexKey("")
	scan := func(ctx context.Context, node redis.UniversalClient) error {
		var cursor uint64
		for {
			batch := scanCmd(ctx, cursor, s.storeMatch(), o.Batch)
			_ = node.Process(ctx, batch)
			keys, next, err := batch.Result()
			if err != nil {
				return err
			}
			var ns, ni []string
			for _, k := range keys {
				switch {
				case strings.HasPrefix(k, sessionPrefix):
					ns = append(ns, k)
				case strings.HasPrefix(k, indexPrefix):
					ni = append(ni, k)
				}
			}
			live, bound, err := classify(ctx, node, ns)
			if err != nil {
				return err
			}
			mu.Lock()
			st.Sessions += live
			st.Bound += bound
			st.Other += int64(len(ns)) - live
			st.Users += int64(len(ni))
			sessions.offer(node, ns)
			indexes.offer(node, ni)
			scanned += int64(len(keys))
			seen := scanned
			mu.Unlock()
			if o.Progress != nil {
				o.Progress(seen)
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	var err error
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
			mu.Lock()
			st.Primaries++
			mu.Unlock()
			return scan(ctx, n)
		})
	} else {
		st.Primaries = 1
		err = scan(ctx, s.client)
	}
	if err != nil {
		return Stats{}, fmt.Errorf("redisession: stats: %w", err)
	}
	st.SessionBytes, st.Sampled = sessions.estimate(ctx, st.Sessions)
	ib, n := indexes.estimate(ctx, st.Users)
	st.IndexBytes, st.Sampled = ib, st.Sampled+n
	st.MemoryKnown = st.Sampled > 0 || len(sessions.keys)+len(indexes.keys) == 0
	if policies, err := s.evictionPolicies(ctx); err == nil {
		for _, p := range policies {
			if st.EvictionPolicy == "" || (p.unsafe() && !st.EvictionUnsafe) {
				st.EvictionPolicy, st.EvictionUnsafe = p.name, p.unsafe()
			}
		}
	}
	st.Took = time.Since(start)
	return st, nil
}

// headBytes is enough of a record to reach its user id's length: the
// format byte and four uvarints of at most 10 bytes.
const headBytes = 41

// classify reads the head of each session key (GETRANGE for the string
// layout, the metadata field for the hash layout, both in one pipeline:
// the one that does not fit the key's type answers WRONGTYPE) and returns
// how many hold a session and how many of those are bound to a user.
func classify(ctx context.Context, node redis.UniversalClient, keys []string) (live, bound int64, err error) {
	if len(keys) == 0 {
		return 0, 0, nil
	}
	heads := make([]*redis.StringCmd, len(keys))
	metas := make([]*redis.StringCmd, len(keys))
	_, err = node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			heads[i], metas[i] = getrangeCmd(ctx, k, 0, headBytes-1), hgetMetaCmd(ctx, k)
			_ = p.Process(ctx, heads[i])
			_ = p.Process(ctx, metas[i])
		}
		return nil
	})
	if err != nil && err != redis.Nil && !isWrongType(err) {
		return 0, 0, err
	}
	for i := range keys {
		head, herr := heads[i].Result()
		if herr != nil || head == "" {
			head, herr = metas[i].Result()
		}
		if herr != nil {
			continue // a tombstone, another type, or gone since the scan
		}
		if n, ok := userIDLen(head); ok {
			live++
			if n > 0 {
				bound++
			}
		}
	}
	return live, bound, nil
}

// userIDLen reads the length of the user id from the head of a record.
func userIDLen(head string) (uint64, bool) {
	if len(head) == 0 || (head[0] != recordFormat1 && head[0] != recordDeflate) {
		return 0, false
	}
	s := head[1:]
	for i := 0; i < 4; i++ {
		v, n := uvarint(s)
		if n <= 0 {
			return 0, false
		}
		if i == 3 {
			return v, true
		}
		s = s[n:]
	}
	return 0, false
}

// sampler keeps a uniform sample of keys (reservoir sampling) with the node
// that holds each.
type sampler struct {
	max   int
	seen  int
	keys  []string
	nodes []redis.UniversalClient
}

func newSampler(max int) *sampler { return &sampler{max: max} }

func (p *sampler) offer(node redis.UniversalClient, keys []string) {
	for _, k := range keys {
		p.seen++
		if len(p.keys) < p.max {
			p.keys, p.nodes = append(p.keys, k), append(p.nodes, node)
		} else if j := rand.Intn(p.seen); j < p.max {
			p.keys[j], p.nodes[j] = k, node
		}
	}
}

// estimate measures the sample with MEMORY USAGE and scales it to count.
func (p *sampler) estimate(ctx context.Context, count int64) (int64, int) {
	var total, n int64
	for i, k := range p.keys {
		cmd := memoryUsageCmd(ctx, k)
		_ = p.nodes[i].Process(ctx, cmd)
		b, err := cmd.Result()
		if err != nil {
			continue // gone since the scan, or MEMORY unsupported
		}
		total += b
		n++
	}
	if n == 0 {
		return 0, 0
	}
	return total * count / n, int(n)
}

// Inspect returns what the store knows of the session with handle: its
// metadata, never its token or payload.
func (s *Store) Inspect(ctx context.Context, handle string) (SessionInfo, error) {
	key := s.SessionKey(handle)
	if key == "" {
		return SessionInfo{}, fmt.Errorf("%w: %q is not a handle of this store", ErrNotFound, handle)
	}
	get := s.layout.meta(ctx, key)
	ttl := pttlCmd(ctx, key)
	if err := s.send(ctx, []redis.Cmder{get, ttl}); err != nil {
		return SessionInfo{}, fmt.Errorf("redisession: inspect %s: %w", handle, err)
	}
	raw, err := get.Result()
	if err != nil {
		return SessionInfo{}, fmt.Errorf("%w: session %s", ErrNotFound, handle)
	}
	rec, _, err := decodeRecordString(raw)
	if err != nil {
		return SessionInfo{}, fmt.Errorf("%w: %s: %v", ErrNotFound, handle, err)
	}
	info := s.info(handle, rec, ttl.Val(), s.nowMillis())
	return info, nil
}

// RevokeHandle ends the session with handle whoever it belongs to (an
// operator's action; users revoke through RevokeSession, which checks the
// session is theirs).
func (s *Store) RevokeHandle(ctx context.Context, handle string) error {
	info, err := s.Inspect(ctx, handle)
	if err != nil {
		return err
	}
	if info.UserID != "" {
		return s.RevokeSession(ctx, info.UserID, handle)
	}
	del := delCmd(ctx, s.SessionKey(handle))
	if err := s.send(ctx, []redis.Cmder{del}); err != nil {
		return fmt.Errorf("redisession: revoke %s: %w", handle, err)
	}
	if del.Val() == 0 {
		return fmt.Errorf("%w: session %s", ErrNotFound, handle)
	}
	s.stats.revokes.Add(1)
	s.emit(ctx, Event{Kind: EventRevoke, Handle: handle})
	if err := s.durable(ctx, s.SessionKey(handle)); err != nil {
		return fmt.Errorf("redisession: revoke %s: %w", handle, err)
	}
	return nil
}

// UserCount is a user with a session index, and the number of live
// sessions it lists.
type UserCount struct {
	UserID   string
	Sessions int64
}

// ScanUsers reads one SCAN batch of user indexes on node from cursor (0 to
// start), count being SCAN's COUNT hint, and returns each user it found with
// the number of their live sessions, and the cursor to go on from (0 when
// the walk of node is done). node is the store's client or, on a Cluster,
// one of its primaries (as ClusterClient.ForEachMaster yields them): SCAN
// walks one node, so a walk of a Cluster goes through each primary.
//
// A live session is an index member that is not bookkeeping (a revoke's
// mark, a retired session), whose deadline has not passed and whose session
// key exists: a session that idles out stays in its index until its
// deadline. A key of another type under the index prefix is a user with no
// sessions. Besides the SCAN it costs two round trips per batch, whatever
// its size: the indexes on node, then the session keys through the store's
// client (on a Cluster they are anywhere). Like Stats it is for an
// operator's tool, not a request; it never sends KEYS.
func (s *Store) ScanUsers(ctx context.Context, node redis.UniversalClient, cursor uint64, count int64) ([]UserCount, uint64, error) {
	indexPrefix := s.indexKey("")
	batch := scanCmd(ctx, cursor, s.indexMatch(), count)
	_ = node.Process(ctx, batch)
	keys, next, err := batch.Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redisession: scan user indexes: %w", err)
	}
	if len(keys) == 0 {
		return nil, next, nil
	}
	ranges := make([]*redis.ZSliceCmd, len(keys))
	_, _ = node.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			ranges[i] = zrangeAllCmd(ctx, k)
			_ = p.Process(ctx, ranges[i])
		}
		return nil
	})
	now := float64(s.nowMillis())
	rows := make([]UserCount, len(keys))
	var owners []int
	var exists []*redis.IntCmd
	for i, k := range keys {
		rows[i].UserID = strings.TrimPrefix(k, indexPrefix)
		members, err := ranges[i].Result()
		if err != nil && !isWrongType(err) { // WRONGTYPE: another program's key; no sessions
			return nil, 0, fmt.Errorf("redisession: read index %q: %w", k, err)
		}
		for _, z := range members {
			id, _ := z.Member.(string)
			if strings.HasPrefix(id, markerPrefix) || strings.HasPrefix(id, retiredPrefix) || z.Score <= now {
				continue
			}
			if sk := s.SessionKey(id); sk != "" {
				owners = append(owners, i)
				exists = append(exists, existsCmd(ctx, sk))
			}
		}
	}
	if len(exists) == 0 {
		return rows, next, nil
	}
	_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range exists {
			_ = p.Process(ctx, e)
		}
		return nil
	})
	for j, e := range exists {
		n, err := e.Result()
		if err != nil {
			return nil, 0, fmt.Errorf("redisession: look up sessions of user %q: %w", rows[owners[j]].UserID, err)
		}
		rows[owners[j]].Sessions += n
	}
	return rows, next, nil
}
