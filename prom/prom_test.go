package prom_test

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/prom"
)

func TestCollector(t *testing.T) {
	srv := redistest.Start(t)
	store := core.New(srv.NewClient(t, nil), core.Options{Prefix: srv.Prefix, Now: srv.Now})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		x := store.NewSession(core.Device{})
		x.UserID = "u1"
		if err := store.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = store.Load(ctx, "not a token")
	_, _ = store.Load(ctx, core.NewToken())

	c := prom.NewCollector(store, prom.Options{ConstLabels: prometheus.Labels{"app": "test"}})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if err := c.Refresh(); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP redisession_bound_sessions Live sessions that belong to a user, from the last keyspace scan.
# TYPE redisession_bound_sessions gauge
redisession_bound_sessions{app="test"} 3
# HELP redisession_creates_total Sessions created.
# TYPE redisession_creates_total counter
redisession_creates_total{app="test"} 3
# HELP redisession_rejected_tokens_total Malformed tokens refused before Redis.
# TYPE redisession_rejected_tokens_total counter
redisession_rejected_tokens_total{app="test"} 1
# HELP redisession_sessions Live sessions, from the last keyspace scan.
# TYPE redisession_sessions gauge
redisession_sessions{app="test"} 3
# HELP redisession_stale_tokens_total Well-formed tokens with no live session (unknown, expired, revoked).
# TYPE redisession_stale_tokens_total counter
redisession_stale_tokens_total{app="test"} 1
# HELP redisession_users Users with at least one session, from the last keyspace scan.
# TYPE redisession_users gauge
redisession_users{app="test"} 1
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"redisession_bound_sessions", "redisession_creates_total", "redisession_rejected_tokens_total", "redisession_sessions",
		"redisession_stale_tokens_total", "redisession_users")
	if err != nil {
		t.Error(err)
	}
	// The byte gauges only where the server measured memory: unknown is
	// absent, never 0 (miniredis before v2.3x answers no MEMORY usage).
	st, err := store.Stats(ctx, core.StatsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	wantN, gauges := 19, "5 gauges"
	if !st.MemoryKnown {
		wantN, gauges = 17, "3 gauges (memory unknown)"
	}
	evictionKnown := st.EvictionPolicy != ""
	if evictionKnown {
		wantN, gauges = wantN+1, gauges+" and eviction_unsafe"
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n != wantN {
		t.Errorf("gathered %d metrics, %v; want %d (12 counters, %s, scan age, scan errors)", n, err, wantN, gauges)
	}
	if n, err := testutil.GatherAndCount(reg, "redisession_eviction_unsafe"); err != nil || (n == 1) != evictionKnown {
		t.Errorf("eviction_unsafe: %d series with the policy known %v: %v", n, evictionKnown, err)
	}
	for _, name := range []string{"redisession_session_bytes", "redisession_index_bytes"} {
		n, err := testutil.GatherAndCount(reg, name)
		if err != nil || (n == 1) != st.MemoryKnown {
			t.Errorf("%s: %d series with memory known %v: %v", name, n, st.MemoryKnown, err)
		}
	}
}
