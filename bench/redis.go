package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	redigo "github.com/gomodule/redigo/redis"
	"github.com/redis/go-redis/v9"
)

// Addr is the Redis every store talks to (REDIS_ADDR, default 127.0.0.1:6379).
func Addr() string {
	if a := os.Getenv("REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// DB is the database the benchmark owns and flushes (BENCH_REDIS_DB, default 9).
func DB() int {
	if s := os.Getenv("BENCH_REDIS_DB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			return n
		}
	}
	return 9
}

// PoolSize is the connection pool of every store's client, go-redis or redigo.
const PoolSize = 64

// NewClient returns a go-redis client to addr on the benchmark's database.
func NewClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, DB: DB(), PoolSize: PoolSize, MinIdleConns: 0})
}

// NewPool returns a redigo pool to addr on the benchmark's database, as the
// scs redisstore README builds one (no TestOnBorrow).
func NewPool(addr string) *redigo.Pool {
	return &redigo.Pool{
		MaxIdle:     PoolSize,
		IdleTimeout: 240 * time.Second,
		Dial: func() (redigo.Conn, error) {
			return redigo.Dial("tcp", addr, redigo.DialDatabase(DB()))
		},
	}
}

// Admin talks to the server directly (not through a proxy) for flushing and
// reading INFO.
type Admin struct{ C *redis.Client }

// NewAdmin connects to Addr().
func NewAdmin() (*Admin, error) {
	c := redis.NewClient(&redis.Options{Addr: Addr(), DB: DB(), PoolSize: 8})
	if err := c.Ping(context.Background()).Err(); err != nil {
		return nil, fmt.Errorf("no Redis at %s: %w", Addr(), err)
	}
	return &Admin{C: c}, nil
}

// Flush empties the benchmark's database, and only it.
func (a *Admin) Flush() error {
	if a.C.Options().DB == 0 {
		return fmt.Errorf("refusing to flush database 0")
	}
	return a.C.FlushDB(context.Background()).Err()
}

// DBSize is the number of keys in the benchmark's database.
func (a *Admin) DBSize() int64 { return a.C.DBSize(context.Background()).Val() }

// Info returns the fields of one INFO section.
func (a *Admin) Info(section string) (map[string]string, error) {
	s, err := a.C.Info(context.Background(), section).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// UsedMemory is INFO memory's used_memory.
func (a *Admin) UsedMemory() (int64, error) {
	m, err := a.Info("memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(m["used_memory"], 10, 64)
}

// CommandStats returns calls per command name from INFO commandstats.
func (a *Admin) CommandStats() (map[string]int64, error) {
	m, err := a.Info("commandstats")
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for k, v := range m {
		name, ok := strings.CutPrefix(k, "cmdstat_")
		if !ok {
			continue
		}
		for _, f := range strings.Split(v, ",") {
			if n, ok := strings.CutPrefix(f, "calls="); ok {
				c, _ := strconv.ParseInt(n, 10, 64)
				out[name] = c
			}
		}
	}
	return out, nil
}

// StatDelta is after−before, without the commands the measurement itself
// sends (INFO) or that only open connections.
func StatDelta(before, after map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for k, v := range after {
		switch k {
		case "info", "hello", "select", "client|setinfo", "client|setname", "client|maint_notifications", "auth":
			continue
		}
		if d := v - before[k]; d > 0 {
			out[k] = d
		}
	}
	return out
}

// KeyMemory sums MEMORY USAGE (SAMPLES 0) over every key in the database,
// split by the class classify gives each key name, and counts the keys.
func (a *Admin) KeyMemory(classify func(key string) string) (bytes map[string]int64, keys map[string]int64, err error) {
	ctx := context.Background()
	bytes, keys = map[string]int64{}, map[string]int64{}
	var cursor uint64
	for {
		var batch []string
		batch, cursor, err = a.C.Scan(ctx, cursor, "*", 2000).Result()
		if err != nil {
			return nil, nil, err
		}
		cmds := make([]*redis.IntCmd, len(batch))
		_, err = a.C.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range batch {
				cmds[i] = p.MemoryUsage(ctx, k, 0)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		for i, k := range batch {
			c := classify(k)
			bytes[c] += cmds[i].Val()
			keys[c]++
		}
		if cursor == 0 {
			return bytes, keys, nil
		}
	}
}
