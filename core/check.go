package core

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Level grades a Finding of CheckServer.
type Level int

// The levels, from harmless to a guarantee lost.
const (
	// LevelOK: the setting keeps every guarantee.
	LevelOK Level = iota
	// LevelWarning: a guarantee holds only partly (revocations a crash or a
	// failover can undo, say); the message says what and how to fix it.
	LevelWarning
	// LevelUnsafe: a guarantee is lost (an evicted index hides sessions
	// from revoke-all), or the store cannot work at all.
	LevelUnsafe
)

// String returns the level's name: "ok", "warning" or "unsafe".
func (l Level) String() string {
	switch l {
	case LevelOK:
		return "ok"
	case LevelWarning:
		return "warning"
	case LevelUnsafe:
		return "unsafe"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// A Finding is one thing CheckServer learned about the server or the
// client, with what it means for the store's guarantees.
type Finding struct {
	// Node is the server's address ("" for the client's own settings).
	Node string
	// Topic is what was checked: "server", "eviction", "persistence",
	// "replication" or "client".
	Topic string
	Level Level
	// Message says in one line what was found, which guarantee it costs
	// and how to fix it.
	Message string
}

// String returns the finding as one line: level, node, topic and message.
func (f Finding) String() string {
	node := f.Node
	if node == "" {
		node = "client"
	}
	return fmt.Sprintf("%s %s %s: %s", f.Level, node, f.Topic, f.Message)
}

// CheckServer reads every primary's INFO (which managed services allow
// where they refuse CONFIG) and the client's options, and reports what can
// break the store's guarantees: a server older than Redis 6.2 (GETEX and
// PXAT are missing), an eviction policy that may drop a user's index (then
// RevokeUser cannot find the sessions it names), persistence and
// replication that a crash or failover can undo a revocation through, and a
// client that does not honour context deadlines. Findings come per primary
// (Cluster: each), worst first within a node; an error means the check
// itself failed. Call it at start-up, from a health check, or through the
// redisession command's check.
func (s *Store) CheckServer(ctx context.Context) ([]Finding, error) {
	var (
		mu  sync.Mutex
		out []Finding
	)
	check := func(ctx context.Context, node *redis.Client) error {
		cmd := infoCmd(ctx, "server", "memory", "persistence", "replication")
		_ = node.Process(ctx, cmd)
		info, err := cmd.Result()
		if err != nil {
			return fmt.Errorf("redisession: check %s: %w", node.Options().Addr, err)
		}
		m := parseInfo(info)
		// CONFIG is often refused on managed services: INFO is the basis,
		// the snapshot schedule a bonus where CONFIG answers.
		get := configGetCmd(ctx, "save")
		_ = node.Process(ctx, get)
		if cfg, err := get.Result(); err == nil {
			if v, ok := cfg["save"]; ok {
				m["config:save"] = v
			}
		}
		fs := checkInfo(node.Options().Addr, m)
		mu.Lock()
		out = append(out, fs...)
		mu.Unlock()
		return nil
	}
	var err error
	switch c := s.client.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, check)
	case *redis.Client:
		err = check(ctx, c)
	default:
		return nil, fmt.Errorf("redisession: check: a %T cannot be checked", s.client)
	}
	if err != nil {
		return nil, err
	}
	return append(out, checkClient(s.client)...), nil
}

// parseInfo turns an INFO reply into its fields.
func parseInfo(info string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

// checkInfo grades one primary's INFO fields.
func checkInfo(node string, m map[string]string) []Finding {
	var fs []Finding
	add := func(topic string, l Level, format string, args ...interface{}) {
		fs = append(fs, Finding{Node: node, Topic: topic, Level: l, Message: fmt.Sprintf(format, args...)})
	}

	name, version := "redis", m["redis_version"]
	if v := m["valkey_version"]; v != "" || m["server_name"] == "valkey" {
		name = "valkey"
		if v != "" {
			version = v
		}
	}
	switch {
	case version == "":
		add("server", LevelWarning, "INFO names no version: cannot tell whether GETEX and PXAT (Redis 6.2) exist")
	case name == "redis" && versionBelow(version, 6, 2):
		add("server", LevelUnsafe, "Redis %s: the store needs Redis 6.2 or newer (GETEX, PXAT), or Valkey", version)
	default:
		add("server", LevelOK, "%s %s", name, version)
	}

	// The guard (Options.Eviction) and Stats judge through the same policy.
	p := policy{name: m["maxmemory_policy"], maxmemory: m["maxmemory"]}
	switch {
	case p.name == "":
		add("eviction", LevelWarning, "INFO names no maxmemory-policy: cannot tell whether user indexes can be evicted")
	case !p.unsafe() && p.name == "noeviction":
		add("eviction", LevelOK, "maxmemory-policy noeviction: a full server refuses writes, never drops a key")
	case !p.unsafe():
		add("eviction", LevelWarning, "maxmemory-policy %s with no maxmemory: nothing is evicted until a limit is set; "+
			"set maxmemory-policy noeviction before setting one", p.name)
	default:
		add("eviction", LevelUnsafe, "maxmemory-policy %s may evict user indexes (read only on list and revoke, so coldest "+
			"to LRU/LFU): RevokeUser then misses sessions that stay alive; use noeviction, or a Redis for sessions only", p.name)
	}

	save, saveKnown := m["config:save"]
	saves, _ := strconv.Atoi(m["rdb_saves"])
	switch {
	case m["aof_enabled"] == "1":
		add("persistence", LevelOK, "AOF on: a restart keeps revocations up to the last fsync (appendfsync everysec: the last "+
			"second; Options.Durability with AOF waits for it)")
	case (saveKnown && strings.TrimSpace(save) != "") || saves > 0:
		add("persistence", LevelWarning, "RDB snapshots without AOF: a restart reloads the last snapshot and brings back every "+
			"session revoked since; turn on appendonly, or run without persistence (a restart then logs everyone out)")
	case !saveKnown:
		add("persistence", LevelWarning, "no AOF, and the snapshot schedule is unreadable (CONFIG refused): if RDB "+
			"snapshots are on, a restart brings back sessions revoked since the last one")
	default:
		add("persistence", LevelOK, "no AOF and no RDB snapshots: a restart logs everyone out (never revives a session)")
	}

	if n, _ := strconv.Atoi(m["connected_slaves"]); n > 0 {
		add("replication", LevelWarning, "%d replica(s), replicated asynchronously: a failover can undo revocations the "+
			"replicas had not received; Options.Durability makes logouts and revokes wait for them", n)
	}
	return fs
}

// versionBelow reports whether v (major.minor.patch) is older than
// major.minor.
func versionBelow(v string, major, minor int) bool {
	parts := strings.SplitN(v, ".", 3)
	ma, err := strconv.Atoi(parts[0])
	if err != nil {
		return false
	}
	mi := 0
	if len(parts) > 1 {
		mi, _ = strconv.Atoi(parts[1])
	}
	return ma < major || (ma == major && mi < minor)
}

// checkClient grades the client's own options: whether a context deadline
// bounds a command, and whether a stalled server is given up on.
func checkClient(c redis.UniversalClient) []Finding {
	var ctxTimeout bool
	var read time.Duration
	switch c := c.(type) {
	case *redis.Client:
		ctxTimeout, read = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	case *redis.ClusterClient:
		ctxTimeout, read = c.Options().ContextTimeoutEnabled, c.Options().ReadTimeout
	default:
		return nil
	}
	var fs []Finding
	if ctxTimeout {
		fs = append(fs, Finding{Topic: "client", Level: LevelOK, Message: "ContextTimeoutEnabled: a request's deadline bounds each command"})
	} else {
		fs = append(fs, Finding{Topic: "client", Level: LevelWarning, Message: "ContextTimeoutEnabled is false: go-redis ignores " +
			"context deadlines on the socket, so a stalled server holds a request for the read timeout " +
			"(" + readTimeout(read) + "); set it true"})
	}
	return fs
}

func readTimeout(d time.Duration) string {
	switch {
	case d == 0:
		return "3s by default"
	case d < 0:
		return "none"
	}
	return d.String()
}
