// Package prom exports a redisession store's counters and Redis footprint as
// Prometheus metrics. It is its own package so that applications that do not
// use Prometheus never compile its client library.
//
//	store := core.New(rdb, core.Options{})
//	prometheus.MustRegister(prom.NewCollector(store, prom.Options{}))
//	http.Handle("/metrics", promhttp.Handler())
//
// Counters (loads, hits, stale and rejected tokens, creates, renews,
// revokes...) are read from the store on every scrape at no cost. The gauges
// of live sessions (and of those bound to a user), users and bytes come from
// core.Store.Stats, a SCAN of the keyspace: the collector refreshes them in
// the background at most once per Options.Refresh and reports the last
// result, so a scrape never waits for a scan. Where the server measures no
// memory (no MEMORY USAGE) the byte gauges are absent, never 0. The gauge
// eviction_unsafe is 1 while a primary may evict keys (alert on it: a
// revoke then misses the sessions of an evicted index), 0 on noeviction,
// and absent where the server does not say (INFO memory refused).
package prom

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redisession/redisession/core"
)

// Options configures a Collector.
type Options struct {
	// Namespace prefixes every metric name (default "redisession").
	Namespace string
	// Refresh is the least time between two keyspace scans (default 1 min).
	Refresh time.Duration
	// Timeout bounds one scan (default 30 s).
	Timeout time.Duration
	// ConstLabels are added to every metric, e.g. {"app": "shop"}.
	ConstLabels prometheus.Labels
}

// Collector is a prometheus.Collector for one store.
type Collector struct {
	store    *core.Store
	opts     Options
	counters map[string]*prometheus.Desc
	gauges   map[string]*prometheus.Desc

	mu        sync.Mutex
	last      core.Stats
	lastOK    time.Time
	scanning  bool
	scanErrs  float64
	scanDesc  *prometheus.Desc
	errorDesc *prometheus.Desc
}

// NewCollector returns a collector for store.
func NewCollector(store *core.Store, opts Options) *Collector {
	if opts.Namespace == "" {
		opts.Namespace = "redisession"
	}
	if opts.Refresh <= 0 {
		opts.Refresh = time.Minute
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(opts.Namespace, "", name), help, nil, opts.ConstLabels)
	}
	return &Collector{
		store: store,
		opts:  opts,
		counters: map[string]*prometheus.Desc{
			"loads":     desc("loads_total", "Session loads with a well-formed token."),
			"hits":      desc("hits_total", "Loads that found a live session."),
			"stale":     desc("stale_tokens_total", "Well-formed tokens with no live session (unknown, expired, revoked)."),
			"rejected":  desc("rejected_tokens_total", "Malformed tokens refused before Redis."),
			"malformed": desc("malformed_records_total", "Session keys holding data that is not a record."),
			"creates":   desc("creates_total", "Sessions created."),
			"saves":     desc("saves_total", "Session writes."),
			"renews":    desc("renews_total", "Token regenerations."),
			"deletes":   desc("deletes_total", "Sessions deleted (logout)."),
			"revokes":   desc("revokes_total", "Sessions ended through a user's index."),
			"opaque":    desc("opaque_payloads_total", "Payloads stored without the adapter being able to read them (a misconfigured codec)."),
			"adopted":   desc("adopted_sessions_total", "Sessions taken over from the store being replaced (a migration)."),
		},
		gauges: map[string]*prometheus.Desc{
			"sessions":       desc("sessions", "Live sessions, from the last keyspace scan."),
			"bound_sessions": desc("bound_sessions", "Live sessions that belong to a user, from the last keyspace scan."),
			"users":          desc("users", "Users with at least one session, from the last keyspace scan."),
			"session_bytes":  desc("session_bytes", "Estimated memory of session keys, from the last keyspace scan."),
			"index_bytes":    desc("index_bytes", "Estimated memory of user indexes, from the last keyspace scan."),
			"eviction_unsafe": desc("eviction_unsafe", "1 when a primary may evict keys (maxmemory with a policy other than noeviction): "+
				"user indexes can be lost, and a revoke of their user then misses sessions."),
		},
		scanDesc:  desc("stats_age_seconds", "Seconds since the last successful keyspace scan (-1: none yet)."),
		errorDesc: desc("stats_errors_total", "Keyspace scans that failed."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.counters {
		ch <- d
	}
	for _, d := range c.gauges {
		ch <- d
	}
	ch <- c.scanDesc
	ch <- c.errorDesc
}

// Collect implements prometheus.Collector. It never waits for a scan.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	k := c.store.Counters()
	for name, v := range map[string]uint64{
		"loads": k.Loads, "hits": k.Hits, "stale": k.Stale, "rejected": k.Rejected,
		"malformed": k.Malformed, "creates": k.Creates, "saves": k.Saves,
		"renews": k.Renews, "deletes": k.Deletes, "revokes": k.Revokes, "opaque": k.Opaque, "adopted": k.Adopted,
	} {
		ch <- prometheus.MustNewConstMetric(c.counters[name], prometheus.CounterValue, float64(v))
	}

	c.mu.Lock()
	st, lastOK, errs := c.last, c.lastOK, c.scanErrs
	if !c.scanning && time.Since(lastOK) >= c.opts.Refresh {
		c.scanning = true
		go c.refresh()
	}
	c.mu.Unlock()

	age := -1.0
	if !lastOK.IsZero() {
		age = time.Since(lastOK).Seconds()
		gauges := map[string]int64{"sessions": st.Sessions, "bound_sessions": st.Bound, "users": st.Users}
		if st.MemoryKnown { // unknown is absent, never 0
			gauges["session_bytes"], gauges["index_bytes"] = st.SessionBytes, st.IndexBytes
		}
		if st.EvictionPolicy != "" || st.EvictionUnsafe { // likewise
			gauges["eviction_unsafe"] = 0
			if st.EvictionUnsafe {
				gauges["eviction_unsafe"] = 1
			}
		}
		for name, v := range gauges {
			ch <- prometheus.MustNewConstMetric(c.gauges[name], prometheus.GaugeValue, float64(v))
		}
	}
	ch <- prometheus.MustNewConstMetric(c.scanDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.errorDesc, prometheus.CounterValue, errs)
}

// Refresh scans now and waits for it; for tests and for apps that want
// fresh gauges at start-up.
func (c *Collector) Refresh() error {
	c.mu.Lock()
	c.scanning = true
	c.mu.Unlock()
	return c.refresh()
}

func (c *Collector) refresh() error {
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.Timeout)
	defer cancel()
	st, err := c.store.Stats(ctx, core.StatsOptions{})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scanning = false
	if err != nil {
		c.scanErrs++
		return err
	}
	c.last, c.lastOK = st, time.Now()
	return nil
}
