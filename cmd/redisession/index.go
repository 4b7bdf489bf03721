package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// indexes walks the stores' user indexes with core.Store.ScanUsers, in
// bounded batches (never KEYS), on every primary of a Cluster.
type indexes struct {
	store *core.Store
	nodes []redis.UniversalClient // the client, or a Cluster's primaries
	names []string                // the primaries' addresses, sorted (Cluster only)
}

// newIndexes returns the walker for the indexes of store, which talks to
// client. On a Cluster it asks for the primaries (a round trip); it sorts
// them by address so that a cursor can name where a walk stands.
func newIndexes(ctx context.Context, store *core.Store, client redis.UniversalClient) (*indexes, error) {
	ix := &indexes{store: store}
	cc, ok := client.(*redis.ClusterClient)
	if !ok {
		ix.nodes = []redis.UniversalClient{client}
		return ix, nil
	}
	var mu sync.Mutex
	var primaries []*redis.Client
	err := cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		mu.Lock()
		primaries = append(primaries, n)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisession: list the Cluster's primaries: %w", err)
	}
	sort.Slice(primaries, func(i, j int) bool { return primaries[i].Options().Addr < primaries[j].Options().Addr })
	for _, n := range primaries {
		ix.nodes = append(ix.nodes, n)
		ix.names = append(ix.names, n.Options().Addr)
	}
	return ix, nil
}

// userCount is one user and the number of their live sessions.
type userCount struct {
	User     string `json:"user"`
	Sessions int64  `json:"sessions"`
}

// batch reads one SCAN batch of index keys on node i from cursor, and
// counts the sessions of each.
func (ix *indexes) batch(ctx context.Context, i int, cursor uint64, count int64) ([]userCount, uint64, error) {
	users, next, err := ix.store.ScanUsers(ctx, ix.nodes[i], cursor, count)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]userCount, len(users))
	for j, u := range users {
		rows[j] = userCount{User: u.UserID, Sessions: u.Sessions}
	}
	return rows, next, nil
}

// A cursor says where a walk of the indexes stands: "" (or "0") at the
// start; on one Redis, the SCAN cursor; on a Cluster, the address of the
// primary being walked and its SCAN cursor, "<host:port>/<cursor>" (the
// walk goes through the primaries in address order).
type cursor struct {
	addr string // Cluster only
	scan uint64
}

// parseCursor reads --cursor, for a Cluster or not.
func parseCursor(s string, cluster bool) (cursor, error) {
	if s == "" || s == "0" {
		return cursor{}, nil
	}
	var c cursor
	num := s
	if cluster {
		i := strings.LastIndex(s, "/")
		if i <= 0 {
			return c, usagef("--cursor %q: on a Cluster, want a cursor users printed (<host:port>/<number>)", s)
		}
		c.addr, num = s[:i], s[i+1:]
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		if !cluster && strings.Contains(s, "/") {
			return c, usagef("--cursor %q is a Cluster's, and --redis names one Redis", s)
		}
		return c, usagef("--cursor %q: want a cursor users printed", s)
	}
	c.scan = n
	return c, nil
}

// page lists users from c on: at least count of them unless the walk ends
// first (count is also each SCAN's COUNT hint, so a page may hold more),
// sorted by user id. It returns the cursor to go on from, "" at the end.
func (ix *indexes) page(ctx context.Context, c cursor, count int64) ([]userCount, string, error) {
	node := 0
	if c.addr != "" {
		node = sort.SearchStrings(ix.names, c.addr)
		if node == len(ix.names) || ix.names[node] != c.addr {
			return nil, "", fmt.Errorf("redisession: --cursor names %s, which is not a primary of this Cluster now (failover or resharding): start again without --cursor", c.addr)
		}
	}
	rows := []userCount{}
	scan := c.scan
	for node < len(ix.nodes) {
		got, next, err := ix.batch(ctx, node, scan, count)
		if err != nil {
			return nil, "", err
		}
		rows = append(rows, got...)
		if scan = next; scan == 0 {
			node++
		}
		if int64(len(rows)) >= count {
			break
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].User < rows[j].User })
	switch {
	case node == len(ix.nodes):
		return rows, "", nil
	case ix.names == nil:
		return rows, strconv.FormatUint(scan, 10), nil
	}
	return rows, ix.names[node] + "/" + strconv.FormatUint(scan, 10), nil
}
