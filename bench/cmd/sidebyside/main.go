// Command sidebyside runs the side-by-side benchmark against the Redis at
// REDIS_ADDR (database BENCH_REDIS_DB, default 9, which it flushes) and
// writes RESULTS.md and results.svg. `make bench` runs it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redisession/redisession/bench"
)

func main() {
	testing.Init()
	var (
		stages    = flag.String("stages", "micro,counts,net,memory,scale,revoke,load", "stages to run, comma-separated")
		check     = flag.Bool("check", false, "only check that every store works, and print its round trips")
		count     = flag.Int("count", 3, "timed runs per store and workload (the median is kept)")
		benchtime = flag.Duration("benchtime", 300*time.Millisecond, "time per timed run")
		memN      = flag.Int("mem-sessions", 100000, "sessions for the memory table")
		scales    = flag.String("scales", "10000,100000,1000000", "live sessions for the scale table")
		revokeN   = flag.Int("revoke-sessions", 100000, "sessions in Redis for the revoke-all comparison")
		loadD     = flag.Duration("load", 4*time.Second, "measured time per store under load")
		clients   = flag.Int("clients", 64, "concurrent clients under load")
		only      = flag.String("stores", "", "comma-separated store names to run (default all)")
		out       = flag.String("out", "RESULTS.md", "markdown report")
		svg       = flag.String("svg", "results.svg", "chart, written next to the report")
		quietWait = flag.Duration("quiet-wait", 0, "wait up to this long for other go test/build processes to finish first")
		delays    = flag.String("delays", envOr("BENCH_DELAYS", bench.DefaultDelays), "simulated network delays per round trip for the net stage, comma-separated (env BENCH_DELAYS)")
		netCount  = flag.Int("net-count", 3, "timed runs per store, workload and delay in the net stage (the median is kept)")
		netTime   = flag.Duration("net-benchtime", 0, "time per timed run in the net stage (default: half of -benchtime)")
	)
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		die(err)
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, a...)...)
	}
	admin, err := bench.NewAdmin()
	if err != nil {
		die(err)
	}
	defer func() { _ = admin.Flush() }()
	if err := admin.Flush(); err != nil {
		die(err)
	}

	factories := bench.Factories()
	if *only != "" {
		keep := map[string]bool{}
		for _, n := range strings.Split(*only, ",") {
			keep[n] = true
		}
		var fs []bench.Factory
		for _, f := range factories {
			if keep[f.Name] || f.Kind == "floor" {
				fs = append(fs, f)
			}
		}
		factories = fs
	}
	stores := make([]*bench.Store, len(factories))
	for i, f := range factories {
		s, err := f.Build(bench.Addr())
		if err != nil {
			die(err)
		}
		if err := s.Check(); err != nil {
			die(err)
		}
		stores[i] = s
	}
	if *check {
		for _, f := range factories {
			c, err := bench.Counts(f, admin, 20)
			if err != nil {
				die(err)
			}
			fmt.Println(f.Name)
			for _, w := range bench.Workloads {
				fmt.Printf("   %-9s round trips %.2f sent %.2f executed %.2f  %s\n", w, c[w].RoundTrips, c[w].Sent, c[w].Executed, c[w].Breakdown())
			}
		}
		return
	}

	r := &bench.Results{Stores: stores, Timings: map[string]map[string]bench.Timing{}, Counts: map[string]map[string]bench.Count{},
		Memory: map[string]bench.Memory{}, Scale: map[string]map[int]map[string]bench.Timing{}, Loads: map[string]bench.Load{}}
	r.QuietBefore = true
	if *quietWait > 0 {
		r.QuietBefore = bench.WaitQuiet(*quietWait, func(s string) { logf("%s", s) })
	} else {
		r.QuietBefore = len(bench.Busy()) == 0
	}
	r.LoadBefore = bench.LoadAvg()
	r.Started = time.Now()
	r.Env = environment(admin)
	r.Config = []string{fmt.Sprintf("timed runs: %d × %s per store and workload (median kept); Redis database %d at %s", *count, *benchtime, bench.DB(), bench.Addr())}
	run := map[string]bool{}
	for _, s := range strings.Split(*stages, ",") {
		run[strings.TrimSpace(s)] = true
	}
	if *netTime == 0 {
		*netTime = *benchtime / 2
	}
	if run["net"] {
		if r.Delays, err = bench.ParseDelays(*delays); err != nil {
			die(err)
		}
		r.Config = append(r.Config, fmt.Sprintf("network delay stage: %d × %s per store, workload and delay (median kept), delays %s", *netCount, *netTime, *delays))
	}

	if run["micro"] {
		for _, s := range stores {
			r.Timings[s.Name] = map[string]bench.Timing{}
			for _, w := range bench.Workloads {
				if err := admin.Flush(); err != nil {
					die(err)
				}
				t, err := bench.Time(s, w, *count)
				if err != nil {
					die(err)
				}
				r.Timings[s.Name][w] = t
				logf("micro %-22s %-6s %9.1f µs %6.0f allocs  runs %v", s.Name, w, t.NsPerOp/1e3, t.AllocsPerOp, fmtRuns(t.Runs))
			}
		}
	}
	if run["counts"] {
		for _, f := range factories {
			if err := admin.Flush(); err != nil {
				die(err)
			}
			c, err := bench.Counts(f, admin, 200)
			if err != nil {
				die(err)
			}
			r.Counts[f.Name] = c
			logf("counts %-22s read rt %.2f  read+Save rt %.2f  write rt %.2f  login rt %.2f  logout rt %.2f", f.Name, c[bench.Read].RoundTrips, c[bench.ReadSave].RoundTrips, c[bench.Write].RoundTrips, c[bench.Login].RoundTrips, c[bench.Logout].RoundTrips)
		}
	}
	if run["net"] {
		if err := flag.Set("test.benchtime", netTime.String()); err != nil {
			die(err)
		}
		r.Net = map[string]map[time.Duration]bench.NetTiming{}
		for _, d := range r.Delays {
			for _, f := range factories {
				nt, err := bench.TimeNetwork(f, admin, d, bench.Workloads, *netCount)
				if err != nil {
					die(err)
				}
				if r.Net[f.Name] == nil {
					r.Net[f.Name] = map[time.Duration]bench.NetTiming{}
				}
				r.Net[f.Name][d] = nt
				logf("net %-6s %-22s read %8.1f µs  read+Save %8.1f µs  write %8.1f µs  (applied %s per round trip)", d, f.Name,
					nt.Timings[bench.Read].NsPerOp/1e3, nt.Timings[bench.ReadSave].NsPerOp/1e3, nt.Timings[bench.Write].NsPerOp/1e3, nt.SleptPerRoundTrip)
			}
		}
		if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
			die(err)
		}
	}
	if run["memory"] {
		r.MemN = *memN
		var coreStore *bench.Store
		for _, s := range stores {
			if !s.Redis || s.Kind == "floor" {
				continue
			}
			if s.Name == "core" {
				coreStore = s
			}
			m, err := bench.MeasureMemory(s, admin, *memN)
			if err != nil {
				die(err)
			}
			r.Memory[s.Name] = m
			logf("memory %-22s %6.0f B/session (used_memory), key %d B, value %d B, filled in %s", s.Name, m.PerSession(), m.KeyLen, m.ValueLen, m.Elapsed.Round(time.Millisecond))
		}
		if coreStore != nil {
			rec, err := bench.Template(coreStore, admin)
			if err != nil {
				die(err)
			}
			c, err := bench.CompressionExperiment(admin, rec, *memN)
			if err != nil {
				die(err)
			}
			r.Compression = &c
			logf("compression %d → %d B; %.0f → %.0f B/session; compress %.1f µs, decompress %.1f µs", c.Raw, c.Compressed, c.RawMem, c.CompMem, c.CompressNs/1e3, c.DecompressNs/1e3)
		}
	}
	if run["scale"] {
		var coreStore *bench.Store
		for _, s := range stores {
			if s.Name == "core" {
				coreStore = s
			}
		}
		if coreStore == nil {
			die(fmt.Errorf("scale needs the core store"))
		}
		rec, err := bench.Template(coreStore, admin)
		if err != nil {
			die(err)
		}
		one := *benchtime
		if err := flag.Set("test.benchtime", (one / 2).String()); err != nil {
			die(err)
		}
		for _, nstr := range strings.Split(*scales, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(nstr))
			if err != nil {
				die(err)
			}
			r.Scales = append(r.Scales, n)
			if err := admin.Flush(); err != nil {
				die(err)
			}
			start := time.Now()
			if err := bench.CopyFill(admin, n, "session:", rec, "user_sessions:"); err != nil {
				die(err)
			}
			logf("scale: %d sessions loaded in %s (dbsize %d)", n, time.Since(start).Round(time.Millisecond), admin.DBSize())
			for _, s := range stores {
				if !s.Redis {
					continue
				}
				if r.Scale[s.Name] == nil {
					r.Scale[s.Name] = map[int]map[string]bench.Timing{}
				}
				r.Scale[s.Name][n] = map[string]bench.Timing{}
				for _, w := range []string{bench.Read, bench.Login} {
					t, err := bench.Time(s, w, 1)
					if err != nil {
						die(err)
					}
					r.Scale[s.Name][n][w] = t
				}
				logf("scale %-9d %-22s read %7.1f µs  login %7.1f µs", n, s.Name, r.Scale[s.Name][n][bench.Read].NsPerOp/1e3, r.Scale[s.Name][n][bench.Login].NsPerOp/1e3)
			}
		}
		if err := flag.Set("test.benchtime", one.String()); err != nil {
			die(err)
		}
		if err := admin.Flush(); err != nil {
			die(err)
		}
	}
	if run["revoke"] {
		ours, err := bench.RevokeOurs(admin, *revokeN, 10, 5)
		if err != nil {
			die(err)
		}
		logf("revoke ours: %.2f ms, %.0f round trips", ours.Ns/1e6, ours.RoundTrips)
		it, err := bench.RevokeIterate(admin, *revokeN, 10, 1)
		if err != nil {
			die(err)
		}
		logf("revoke Iterate: %.0f ms, %.0f round trips", it.Ns/1e6, it.RoundTrips)
		r.Revokes = []bench.Revoke{ours, it}
	}
	if run["load"] {
		for _, s := range stores {
			if err := admin.Flush(); err != nil {
				die(err)
			}
			l, err := bench.RunLoad(s, *clients, 500*time.Millisecond, *loadD)
			if err != nil {
				die(err)
			}
			r.Loads[s.Name] = l
			logf("load %-22s %7.0f req/s  p50 %s  p99 %s  errors %d", s.Name, l.RPS, l.P50.Round(time.Microsecond), l.P99.Round(time.Microsecond), l.Errors)
		}
	}
	r.Finished = time.Now()
	r.LoadAfter = bench.LoadAvg()
	r.BusyAfter = bench.Busy()
	var md, pic bytes.Buffer
	r.Markdown(&md, filepath.Base(*svg))
	r.SVG(&pic)
	if err := os.WriteFile(*out, md.Bytes(), 0o644); err != nil {
		die(err)
	}
	svgPath := filepath.Join(filepath.Dir(*out), filepath.Base(*svg))
	if err := os.WriteFile(svgPath, pic.Bytes(), 0o644); err != nil {
		die(err)
	}
	for _, s := range stores {
		s.Close()
	}
	logf("wrote %s and %s in %s", *out, svgPath, r.Finished.Sub(r.Started).Round(time.Second))
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func fmtRuns(runs []float64) string {
	var parts []string
	for _, r := range runs {
		parts = append(parts, fmt.Sprintf("%.1f", r/1e3))
	}
	return strings.Join(parts, "/")
}

func environment(admin *bench.Admin) []string {
	var env []string
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				cpu = strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
				break
			}
		}
	}
	env = append(env, fmt.Sprintf("%s, %d CPUs (GOMAXPROCS %d), %s/%s, %s", cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH, runtime.Version()))
	if m, err := admin.Info("server"); err == nil {
		env = append(env, fmt.Sprintf("Redis %s (%s), on the same machine over loopback; load generator, stores and Redis share the CPUs", m["redis_version"], m["multiplexing_api"]))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		var deps []string
		for _, d := range bi.Deps {
			switch d.Path {
			case "github.com/redis/go-redis/v9", "github.com/gomodule/redigo", "github.com/alexedwards/scs/v2", "github.com/alexedwards/scs/redisstore",
				"github.com/alexedwards/scs/goredisstore", "github.com/boj/redistore", "github.com/gorilla/sessions", "github.com/gin-contrib/sessions", "github.com/gin-gonic/gin":
				deps = append(deps, d.Path+" "+d.Version)
			}
		}
		env = append(env, "versions: "+strings.Join(deps, ", "))
	}
	return env
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "sidebyside:", err)
	os.Exit(1)
}
