package bench

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Count is what one request of a workload costs in Redis.
type Count struct {
	RoundTrips float64          // per request, counted by the proxy
	Sent       float64          // commands per request as sent (a script is one), by the proxy
	Executed   float64          // commands per request per INFO commandstats (a script's inner calls count)
	Stats      map[string]int64 // commandstats deltas over the run
	N          int
	Clean      bool // commandstats agree with what the proxy saw: no other client's commands mixed in
	Tries      int
}

// clean reports whether the commandstats deltas can only be this run's: every
// command the proxy saw is counted exactly, and anything else is no more
// than a script's inner calls.
func clean(stats map[string]int64, sent map[string]int64) bool {
	var scripts, inner int64
	for k, v := range sent {
		if k == "eval" || k == "evalsha" {
			scripts += v
		}
	}
	for k, v := range stats {
		if n, ok := sent[k]; ok {
			if n != v && scripts == 0 {
				return false
			}
			if n > v {
				return false
			}
			inner += v - n
			continue
		}
		inner += v
	}
	for k, v := range sent {
		if k != "eval" && k != "evalsha" && stats[k] < v {
			return false
		}
	}
	return inner <= 4*scripts
}

// Breakdown is the commandstats deltas per request, largest first.
func (c Count) Breakdown() string {
	type kv struct {
		k string
		v int64
	}
	var l []kv
	for k, v := range c.Stats {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var parts []string
	for _, e := range l {
		parts = append(parts, fmt.Sprintf("%s %s", strings.ToUpper(e.k), trimFloat(float64(e.v)/float64(c.N))))
	}
	return strings.Join(parts, ", ")
}

func trimFloat(f float64) string {
	s := fmt.Sprintf("%.2f", f)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s
}

// Counts runs n requests of each workload through a counting proxy in front
// of Redis and reads INFO commandstats around them.
func Counts(f Factory, admin *Admin, n int) (map[string]Count, error) {
	p, err := NewProxy(Addr())
	if err != nil {
		return nil, err
	}
	defer p.Close()
	s, err := f.Build(p.Addr())
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// Warm up: open the connections the run will use.
	if err := s.Check(); err != nil {
		return nil, err
	}
	out := map[string]Count{}
	w := NewRecorder()
	for _, wl := range Workloads {
		for try := 1; try <= 5; try++ {
			cookies := make([]string, n)
			for i := range cookies {
				if wl == Login {
					break
				}
				if i > 0 && wl != Logout {
					cookies[i] = cookies[0]
					continue
				}
				if cookies[i], err = s.LoginAs(context.Background(), ""); err != nil {
					return nil, err
				}
			}
			before, err := admin.CommandStats()
			if err != nil {
				return nil, err
			}
			p.Reset()
			for i := 0; i < n; i++ {
				if _, err := s.Do(w, wl, cookies[i]); err != nil {
					return nil, err
				}
			}
			rt, sent := p.RoundTrips(), p.Commands()
			after, err := admin.CommandStats()
			if err != nil {
				return nil, err
			}
			c := Count{RoundTrips: float64(rt) / float64(n), Stats: StatDelta(before, after), N: n}
			for _, v := range sent {
				c.Sent += float64(v)
			}
			c.Sent /= float64(n)
			for _, v := range c.Stats {
				c.Executed += float64(v)
			}
			c.Executed /= float64(n)
			c.Clean, c.Tries = clean(c.Stats, sent), try
			out[wl] = c
			if c.Clean {
				break
			}
		}
	}
	return out, nil
}
