package bench

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestParseDelays(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []time.Duration
		err  bool
	}{
		{DefaultDelays, []time.Duration{0, 200 * time.Microsecond, time.Millisecond}, false},
		{" 1ms , 1ms,5ms", []time.Duration{time.Millisecond, 5 * time.Millisecond}, false},
		{"", nil, true},
		{"200", nil, true},
		{"-1ms", nil, true},
	} {
		got, err := ParseDelays(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseDelays(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

// goalResults is a run with the floor, two of ours and three peers (one
// without Redis, which no goal may use), measured on loopback and at 1 ms.
func goalResults(delays ...time.Duration) *Results {
	st := func(name, kind string, redis bool) *Store {
		return &Store{Name: name, Kind: kind, Family: "gorilla", Redis: redis}
	}
	r := &Results{
		Stores: []*Store{st("floor", "floor", true), st("core", "ours", true), st("gorillaredis", "ours", true),
			st("peerA", "peer", true), st("peerB", "peer", true), st("cookie", "peer", false)},
		Delays: delays,
	}
	tm := func(ns, allocs float64) Timing { return Timing{NsPerOp: ns, AllocsPerOp: allocs} }
	all := func(t Timing) map[string]Timing {
		return map[string]Timing{Read: t, ReadSave: t, Write: t}
	}
	r.Timings = map[string]map[string]Timing{
		"floor":        all(tm(50, 10)),
		"core":         all(tm(54, 30)),
		"gorillaredis": all(tm(120, 300)),
		"peerA":        all(tm(100, 500)), // fastest Redis peer
		"peerB":        all(tm(150, 400)), // fewest allocations of a Redis peer
		"cookie":       all(tm(10, 1)),    // never the reference: nothing in Redis
	}
	r.Net = map[string]map[time.Duration]NetTiming{}
	for name, ns := range map[string]float64{"floor": 1000, "core": 1100, "gorillaredis": 2000, "peerA": 3000, "peerB": 4000, "cookie": 10} {
		r.Net[name] = map[time.Duration]NetTiming{}
		for _, d := range delays {
			r.Net[name][d] = NetTiming{Timings: all(tm(ns, 0))}
		}
	}
	return r
}

func TestGoals(t *testing.T) {
	type row struct {
		store, workload, what, ref string
		ratio                      float64
		met                        bool
	}
	var got []row
	for _, g := range goalResults(0, time.Millisecond).Goals() {
		got = append(got, row{g.Store, g.Workload, g.What, g.RefName, math.Round(g.Ratio()*1000) / 1000, g.Met()})
	}
	var want []row
	for _, w := range []string{Read, ReadSave, Write} {
		want = append(want,
			row{"core", w, "time", "peerA", 0.54, true},
			row{"core", w, "allocs", "peerB", 0.075, true})
		if w != Write {
			want = append(want, row{"core", w, "time at 1ms", "peerA", 0.367, true})
		}
	}
	for _, w := range []string{Read, ReadSave, Write} {
		want = append(want,
			row{"gorillaredis", w, "time", "peerA", 1.2, false},
			row{"gorillaredis", w, "allocs", "peerB", 0.75, false})
		if w != Write {
			want = append(want, row{"gorillaredis", w, "time at 1ms", "peerA", 0.667, false})
		}
	}
	want = append(want, row{"core", Read, "time vs floor", "floor", 1.08, true})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Goals:\n got  %v\n want %v", got, want)
	}
}

// TestGoalsWithoutSlowDelay: a run that did not measure 1 ms per round
// trip states no goal for it, rather than one without a reference.
func TestGoalsWithoutSlowDelay(t *testing.T) {
	for _, g := range goalResults(0, 200*time.Microsecond).Goals() {
		if g.What == "time at 1ms" {
			t.Fatalf("goal %+v from a run without a 1ms delay", g)
		}
	}
}

func TestGoalWithoutReference(t *testing.T) {
	g := Goal{Ours: 5, Ref: math.Inf(1), Limit: 1}
	if g.Met() || !math.IsNaN(g.Ratio()) || g.cell() != "–" {
		t.Errorf("no peer measured: ratio %v, met %v, cell %q; want NaN, false, –", g.Ratio(), g.Met(), g.cell())
	}
}
