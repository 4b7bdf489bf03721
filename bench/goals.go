package bench

import (
	"fmt"
	"math"
	"time"
)

// The goals of issue #17, as ratios within one run.
const (
	GoalLoopbackTime   = 1.0 // loopback: each of ours at most this × the best peer's time (read, read+Save, write)
	GoalLoopbackAllocs = 0.6 // … and this × the fewest allocations of a peer
	GoalSlowNetDelay   = time.Millisecond
	GoalSlowNetTime    = 0.6 // with GoalSlowNetDelay per round trip, reads at most this × the best peer's time
	GoalFloorRead      = 1.1 // core's sliding read at most this × the raw GETEX floor
)

// Goal is one comparison: ours against a bound times a reference figure.
type Goal struct {
	Store, Workload string
	What            string // "time", "allocs", "time at 1ms" or "time vs floor"
	Ours            float64
	Ref             float64 // the best peer's figure, or the floor's
	RefName         string
	Limit           float64 // met when Ours ≤ Limit × Ref
}

// Ratio is Ours / Ref (NaN without a reference).
func (g Goal) Ratio() float64 {
	if g.Ref == 0 || math.IsInf(g.Ref, 0) {
		return math.NaN()
	}
	return g.Ours / g.Ref
}

// Met reports whether the goal holds; without a reference it does not.
func (g Goal) Met() bool {
	r := g.Ratio()
	return !math.IsNaN(r) && r <= g.Limit
}

func (g Goal) cell() string {
	if math.IsNaN(g.Ratio()) {
		return "–"
	}
	return fmt.Sprintf("%.2f× (%s) %s", g.Ratio(), g.RefName, mark(g.Met()))
}

// goalWorkloads are the workloads the loopback goals cover; the reads are
// also held to the slow-network goal.
var goalWorkloads = []string{Read, ReadSave, Write}

func isRead(w string) bool { return w == Read || w == ReadSave }

// Goals lists every comparison of issue #17 this run can make: for each of
// ours on read, read+Save and write, time and allocations against the best
// Redis-backed peer on loopback (direct, no proxy); the reads again with
// GoalSlowNetDelay per round trip, if the run measured that delay; and
// core's read against the floor's.
func (r *Results) Goals() []Goal {
	redis := func(s *Store) bool { return s.Redis }
	var slow map[string]map[string]Timing
	for _, d := range r.Delays {
		if d == GoalSlowNetDelay {
			slow = r.netTimings(d)
		}
	}
	var out []Goal
	for _, s := range r.Stores {
		if s.Kind != "ours" {
			continue
		}
		for _, w := range goalWorkloads {
			if t, ok := r.Timings[s.Name][w]; ok {
				bn, bns, an, aallocs := bestPeerOf(r.Stores, r.Timings, w, redis)
				out = append(out,
					Goal{s.Name, w, "time", t.NsPerOp, bns, bn, GoalLoopbackTime},
					Goal{s.Name, w, "allocs", t.AllocsPerOp, aallocs, an, GoalLoopbackAllocs})
			}
			if t, ok := slow[s.Name][w]; ok && isRead(w) {
				bn, bns, _, _ := bestPeerOf(r.Stores, slow, w, redis)
				out = append(out, Goal{s.Name, w, "time at " + GoalSlowNetDelay.String(), t.NsPerOp, bns, bn, GoalSlowNetTime})
			}
		}
	}
	if len(r.Stores) > 0 && r.Stores[0].Kind == "floor" {
		if t, ok := r.Timings["core"][Read]; ok {
			out = append(out, Goal{"core", Read, "time vs floor", t.NsPerOp, r.floor(Read), r.Stores[0].Name, GoalFloorRead})
		}
	}
	return out
}

// goals writes the goal table: one row per store and workload.
func (r *Results) goals(p func(string, ...any)) {
	gs := r.Goals()
	if len(gs) == 0 {
		return
	}
	slow := "time at " + GoalSlowNetDelay.String()
	type key struct{ s, w string }
	cells := map[key]map[string]Goal{}
	var order []key
	met := 0
	for _, g := range gs {
		k := key{g.Store, g.Workload}
		if cells[k] == nil {
			cells[k] = map[string]Goal{}
			order = append(order, k)
		}
		cells[k][g.What] = g
		if g.Met() {
			met++
		}
	}
	p("## Goals (issue #17)\n\n")
	p("Ratios within this run; %d of %d met. \"Best peer\" is the fastest (or fewest-allocating) Redis-backed peer on that workload, of any framework "+
		"(CookieStore keeps nothing server-side and is left out). Loopback figures are the direct ones of *Per request* below; "+
		"the %s column is the *Network delay* table's. read+Save is the unchanged app's read (see the next table); read is ours without Save against the peers' read, which saves.\n\n",
		met, len(gs), GoalSlowNetDelay)
	p("| ours | workload | loopback time ≤ %.1f× best peer | loopback allocs ≤ %.1f× best peer | %s per round trip: time ≤ %.1f× best peer |\n|---|---|---|---|---|\n",
		GoalLoopbackTime, GoalLoopbackAllocs, GoalSlowNetDelay, GoalSlowNetTime)
	for _, k := range order {
		c := cells[k]
		if _, ok := c["time vs floor"]; ok && len(c) == 1 {
			continue
		}
		cell := func(what string) string {
			if g, ok := c[what]; ok {
				return g.cell()
			}
			return "–"
		}
		p("| %s | %s | %s | %s | %s |\n", k.s, k.w, cell("time"), cell("allocs"), cell(slow))
	}
	for _, g := range gs {
		if g.What == "time vs floor" {
			p("\n%s's sliding read: %s against %s's %s: %.2f×, goal ≤ %.1f×: %s.\n", g.Store, us(g.Ours), g.RefName, us(g.Ref), g.Ratio(), g.Limit, mark(g.Met()))
		}
	}
	p("\n")
}

// unchanged writes the unchanged-app table: read+Save beside the read, per
// framework, against that framework's best Redis-backed peer.
func (r *Results) unchanged(p func(string, ...any)) {
	if len(r.Timings) == 0 {
		return
	}
	p("## The unchanged app: read+Save\n\n")
	p("An app that swaps its store keeps its code: gorilla and gin apps call `Save` on every request (CookieStore and every Redis peer slide the expiry only on a Save; gin-contrib saves only a written session, so the app re-Sets a value), " +
		"scs apps serve every request through `LoadAndSave`. read+Save is that request with nothing changed; for the peers, and for scs, it is the same request as read. " +
		"Loopback, direct, as in *Per request*; ratios against the best Redis-backed peer of the same framework.\n\n")
	p("| framework | store | kind | read+Save time/op | allocs/op | round trips | × framework's best peer: time | allocs | read (no Save) time/op | allocs/op | round trips |\n")
	p("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, fam := range []string{"gorilla", "gin", "scs", "net/http"} {
		sameFamily := func(s *Store) bool { return s.Family == fam && s.Redis }
		_, bns, _, aallocs := bestPeerOf(r.Stores, r.Timings, ReadSave, sameFamily)
		for _, s := range r.Stores {
			if s.Family != fam {
				continue
			}
			rs, ok := r.Timings[s.Name][ReadSave]
			if !ok {
				continue
			}
			rd := r.Timings[s.Name][Read]
			tr, ar := "–", "–"
			if !math.IsInf(bns, 1) {
				tr = fmt.Sprintf("%.2f×", rs.NsPerOp/bns)
				ar = fmt.Sprintf("%.2f×", rs.AllocsPerOp/aallocs)
			}
			p("| %s | %s | %s | %s | %.0f | %s | %s | %s | %s | %.0f | %s |\n", fam, s.Name, s.Kind,
				us(rs.NsPerOp), rs.AllocsPerOp, r.roundTrips(s, ReadSave), tr, ar, us(rd.NsPerOp), rd.AllocsPerOp, r.roundTrips(s, Read))
		}
	}
	p("\n")
}

// roundTrips is the counted round trips per request, as a cell.
func (r *Results) roundTrips(s *Store, w string) string {
	if !s.Redis {
		return "0"
	}
	if c, ok := r.Counts[s.Name][w]; ok && c.N > 0 {
		return trimFloat(c.RoundTrips)
	}
	return "–"
}

// network writes one table per workload: time per request at each
// simulated delay, and its ratio to the best Redis-backed peer there.
func (r *Results) network(p func(string, ...any)) {
	if len(r.Net) == 0 {
		return
	}
	p("## Network delay per round trip\n\n")
	p("The same requests with every store's client behind the counting proxy, which holds each round trip (a command alone or a whole pipeline) for a fixed delay before passing it to Redis: " +
		"what a network between the app and Redis adds. `0` is the proxy hop alone (slower than the direct loopback figures of the other tables). " +
		"Each cell is the median time per request and, in brackets, its ratio to the best Redis-backed peer at the same delay; round trips are the counting pass's.")
	var applied []string
	for _, d := range r.Delays {
		if d == 0 {
			continue
		}
		var sum time.Duration
		n := 0
		for _, m := range r.Net {
			if nt, ok := m[d]; ok && nt.SleptPerRoundTrip > 0 {
				sum += nt.SleptPerRoundTrip
				n++
			}
		}
		if n > 0 {
			applied = append(applied, fmt.Sprintf("%s took %s", d, (sum/time.Duration(n)).Round(time.Microsecond)))
		}
	}
	if len(applied) > 0 {
		p(" The timer overshoots a little: per round trip, on average, a requested %s.", joinAnd(applied))
	}
	p("\n\n")
	for _, w := range Workloads {
		p("### %s\n\n| store | kind | round trips |", workloadTitle(w))
		for _, d := range r.Delays {
			p(" %s |", delayName(d))
		}
		p("\n|---|---|--:|")
		for range r.Delays {
			p("--:|")
		}
		p("\n")
		best := map[time.Duration]float64{}
		for _, d := range r.Delays {
			_, best[d], _, _ = bestPeerOf(r.Stores, r.netTimings(d), w, func(s *Store) bool { return s.Redis })
		}
		for _, s := range r.Stores {
			m, ok := r.Net[s.Name]
			if !ok {
				continue
			}
			p("| %s | %s | %s |", s.Name, s.Kind, r.roundTrips(s, w))
			for _, d := range r.Delays {
				t, ok := m[d].Timings[w]
				if !ok {
					p(" – |")
					continue
				}
				if b := best[d]; b > 0 && !math.IsInf(b, 1) {
					p(" %s (%.2f×) |", us(t.NsPerOp), t.NsPerOp/b)
				} else {
					p(" %s |", us(t.NsPerOp))
				}
			}
			p("\n")
		}
		p("\n")
	}
}

func joinAnd(l []string) string {
	switch len(l) {
	case 0:
		return ""
	case 1:
		return l[0]
	}
	out := l[0]
	for _, s := range l[1 : len(l)-1] {
		out += ", " + s
	}
	return out + " and " + l[len(l)-1]
}
