package bench

import (
	"fmt"
	"strings"
	"time"
)

// DefaultDelays are the simulated network delays per round trip: loopback
// through the proxy, a fast data-centre network, and a slow one.
const DefaultDelays = "0,200us,1ms"

// ParseDelays reads a comma-separated list of durations ("0,200us,1ms").
func ParseDelays(s string) ([]time.Duration, error) {
	var out []time.Duration
	seen := map[time.Duration]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		d, err := time.ParseDuration(f)
		if err != nil {
			return nil, fmt.Errorf("delay %q: %w", f, err)
		}
		if d < 0 {
			return nil, fmt.Errorf("delay %q: negative", f)
		}
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no delays in %q", s)
	}
	return out, nil
}

// NetTiming is one store at one simulated delay.
type NetTiming struct {
	Timings map[string]Timing // by workload
	// SleptPerRoundTrip is the delay the proxy actually applied per round
	// trip (the timer overshoots the requested delay a little).
	SleptPerRoundTrip time.Duration
}

// TimeNetwork builds the factory's store behind a proxy that delays every
// round trip by delay and times each workload as Time does.
func TimeNetwork(f Factory, admin *Admin, delay time.Duration, workloads []string, count int) (NetTiming, error) {
	p, err := NewDelayProxy(Addr(), delay)
	if err != nil {
		return NetTiming{}, err
	}
	defer p.Close()
	s, err := f.Build(p.Addr())
	if err != nil {
		return NetTiming{}, err
	}
	defer s.Close()
	// Open the connections the run will use, so that dialling is not timed.
	if err := s.Check(); err != nil {
		return NetTiming{}, err
	}
	p.Reset()
	out := NetTiming{Timings: map[string]Timing{}}
	for _, w := range workloads {
		if err := admin.Flush(); err != nil {
			return NetTiming{}, err
		}
		t, err := Time(s, w, count)
		if err != nil {
			return NetTiming{}, err
		}
		out.Timings[w] = t
	}
	if rt := p.RoundTrips(); rt > 0 && delay > 0 {
		out.SleptPerRoundTrip = p.Slept() / time.Duration(rt)
	}
	return out, nil
}

// delayName is a delay as the report's column heads show it.
func delayName(d time.Duration) string {
	if d == 0 {
		return "0 (proxy only)"
	}
	return d.String()
}
