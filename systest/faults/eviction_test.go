//go:build unix

package faults_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/prom"
)

var policies = []string{"noeviction", "allkeys-lru", "volatile-lru", "allkeys-lfu", "volatile-lfu",
	"allkeys-random", "volatile-random", "volatile-ttl"}

// TestEvictionGuard: per eviction policy (with maxmemory set), Stats flags
// every policy but noeviction, EvictionRefuse refuses to serve under them,
// EvictionFailClosed does not honour a bound session whose index is gone
// under them, and on noeviction neither costs anything: the session loads
// in one round trip.
func TestEvictionGuard(t *testing.T) {
	srv := startServer(t, "--maxmemory", "64mb")
	admin := newClient(srv.addr())
	defer admin.Close()
	ctx := context.Background()
	for i, policy := range policies {
		if err := admin.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		unsafe := policy != "noeviction"
		prefix := fmt.Sprintf("p%d:", i)
		open := func(mode core.Eviction, hook redis.Hook) *core.Store {
			c := newClient(srv.addr())
			t.Cleanup(func() { c.Close() })
			if hook != nil {
				c.AddHook(hook)
			}
			return core.New(c, core.Options{Prefix: prefix, Eviction: mode})
		}
		report, refuse := open(core.EvictionReport, nil), open(core.EvictionRefuse, nil)
		count := redistest.NewCounter()
		failClosed := open(core.EvictionFailClosed, count)

		st, err := report.Stats(ctx, core.StatsOptions{})
		if err != nil || st.EvictionPolicy != policy || st.EvictionUnsafe != unsafe {
			t.Errorf("%s: stats say policy %q unsafe %v (%v), want %q %v", policy, st.EvictionPolicy, st.EvictionUnsafe, err, policy, unsafe)
		}
		collector := prom.NewCollector(report, prom.Options{})
		if err := collector.Refresh(); err != nil {
			t.Fatal(err)
		}
		gauge := 0.0
		if unsafe {
			gauge = 1
		}
		if got := testutil.ToFloat64(prometheus.Collector(gaugeOnly{collector, "redisession_eviction_unsafe"})); got != gauge {
			t.Errorf("%s: gauge eviction_unsafe %v, want %v", policy, got, gauge)
		}

		x := report.NewSession(core.Device{})
		x.UserID = "u"
		if err := report.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		if _, err := refuse.Load(ctx, x.Token()); errors.Is(err, core.ErrUnsafeServer) != unsafe {
			t.Errorf("%s: refusing store's load: %v, want ErrUnsafeServer %v", policy, err, unsafe)
		}
		y := refuse.NewSession(core.Device{})
		if err := refuse.Save(ctx, y); errors.Is(err, core.ErrUnsafeServer) != unsafe {
			t.Errorf("%s: refusing store's save: %v, want ErrUnsafeServer %v", policy, err, unsafe)
		}
		if err != nil && !strings.Contains(err.Error(), policy) {
			t.Errorf("%s: the refusal %q does not name the policy", policy, err)
		}

		failClosed.Load(ctx, x.Token()) // its first read of the server
		count.Reset()
		if _, err := failClosed.Load(ctx, x.Token()); err != nil {
			t.Errorf("%s: an indexed session under fail-closed: %v", policy, err)
		}
		want := 1
		if unsafe {
			want = 2
		}
		if got := count.RoundTrips(); got != want {
			t.Errorf("%s: fail-closed load of a bound session: %d round trips, want %d", policy, got, want)
		}

		// What an evicted index leaves: the session without its entry.
		if err := admin.Del(ctx, report.IndexKey("u")).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := failClosed.Load(ctx, x.Token()); errors.Is(err, core.ErrNotFound) != unsafe {
			t.Errorf("%s: fail-closed load of a session whose index is gone: %v, want a miss %v", policy, err, unsafe)
		}
		if _, err := report.Load(ctx, x.Token()); (err == nil) != !unsafe {
			t.Errorf("%s: after fail-closed, the session loads: %v, want it gone %v", policy, err, unsafe)
		}
	}
}

// TestEvictionUnderPressure drives a real eviction: 400 sessions of 200
// users are kept in use while filler fills the server under allkeys-lru,
// until Redis has evicted a user's index whose sessions are still alive
// (an index is read only at login, list and revoke: the coldest key a user
// has). RevokeUser for every user then cannot end those sessions: the
// default store still honours them. A fail-closed store honours none.
func TestEvictionUnderPressure(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a server: not in -short")
	}
	srv := startServer(t, "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
	admin := newClient(srv.addr())
	defer admin.Close()
	ctx := context.Background()
	report := core.New(admin, core.Options{})
	failClosed := core.New(admin, core.Options{Eviction: core.EvictionFailClosed})

	const users, perUser = 200, 2
	var tokens []string
	owner := map[string]string{}
	for u := 0; u < users; u++ {
		for d := 0; d < perUser; d++ {
			x := report.NewSession(core.Device{UserAgent: "device"})
			x.UserID = fmt.Sprintf("user%d", u)
			x.Data = []byte(strings.Repeat("s", 512))
			if err := report.Save(ctx, x); err != nil {
				t.Fatal(err)
			}
			tokens = append(tokens, x.Token())
			owner[x.Token()] = x.UserID
		}
	}
	filler := strings.Repeat("f", 8<<10)
	orphaned := func() int {
		n := 0
		for _, tok := range tokens {
			if admin.Exists(ctx, report.IndexKey(owner[tok])).Val() == 0 &&
				admin.Exists(ctx, report.SessionKey(report.Handle(tok))).Val() == 1 {
				n++
			}
		}
		return n
	}
	rounds := 0
	for ; rounds < 200 && orphaned() == 0; rounds++ {
		for _, tok := range tokens {
			_, _ = report.Load(ctx, tok) // in use: warm in the LRU
		}
		for i := 0; i < 20; i++ {
			if err := admin.Set(ctx, fmt.Sprintf("filler:%d:%d", rounds, i), filler, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	hidden := orphaned()
	if hidden == 0 {
		t.Fatalf("after %d rounds no index was evicted before its sessions: the attack did not happen", rounds)
	}
	for u := 0; u < users; u++ {
		if _, err := report.RevokeUser(ctx, fmt.Sprintf("user%d", u)); err != nil {
			t.Fatal(err)
		}
	}
	survived := 0
	for _, tok := range tokens {
		// A session, not a tombstone (a list) left where one was evicted.
		if admin.Type(ctx, report.SessionKey(report.Handle(tok))).Val() == "string" {
			survived++
		}
	}
	honoured := 0
	for _, tok := range tokens {
		if _, err := failClosed.Load(ctx, tok); err == nil {
			honoured++
		} else if !errors.Is(err, core.ErrNotFound) {
			t.Fatal(err)
		}
	}
	evicted, _ := admin.Info(ctx, "stats").Result()
	t.Logf("allkeys-lru, 4mb: %d rounds of filler; %d of %d sessions lost their index; %d outlived RevokeUser "+
		"for every user; fail-closed honoured %d (%s)", rounds, hidden, len(tokens), survived, honoured,
		strings.TrimSpace(parseField(evicted, "evicted_keys")))
	if survived == 0 {
		t.Errorf("no session outlived RevokeUser: the eviction hid none from it")
	}
	if honoured != 0 {
		t.Errorf("fail-closed honoured %d sessions that outlived RevokeUser", honoured)
	}
}

func parseField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if strings.HasPrefix(line, field+":") {
			return line
		}
	}
	return field + ": ?"
}

// gaugeOnly is a collector's one metric named name, for testutil.ToFloat64.
type gaugeOnly struct {
	*prom.Collector
	name string
}

func (g gaugeOnly) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { g.Collector.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+g.name+`"`) {
			ch <- m
		}
	}
}

func (g gaugeOnly) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(g, ch) }
