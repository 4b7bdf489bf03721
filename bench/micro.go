package bench

import (
	"context"
	"fmt"
	"testing"
)

// Bench is the benchmark of one workload on one store. The reads and write reuse
// one logged-in session; logout ends b.N sessions logged in before the
// timer starts; login makes a new user each time.
func Bench(s *Store, workload string) func(b *testing.B) {
	return func(b *testing.B) {
		w := NewRecorder()
		var cookies []string
		switch workload {
		case Read, ReadSave, Write:
			c, err := s.LoginAs(context.Background(), "")
			if err != nil {
				b.Fatal(err)
			}
			cookies = []string{c}
		case Logout:
			cookies = make([]string, b.N)
			for i := range cookies {
				c, err := s.LoginAs(context.Background(), "")
				if err != nil {
					b.Fatal(err)
				}
				cookies[i] = c
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c := ""
			switch workload {
			case Read, ReadSave, Write:
				c = cookies[0]
			case Logout:
				c = cookies[i]
			}
			if _, err := s.Do(w, workload, c); err != nil {
				b.Fatal(err)
			}
			if (workload == Read || workload == ReadSave) && w.N == 0 {
				b.Fatalf("%s read: the session was not found", s.Name)
			}
		}
	}
}

// Timing is one workload's figures for one store.
type Timing struct {
	NsPerOp     float64
	AllocsPerOp float64
	BytesPerOp  float64
	Runs        []float64 // ns/op of each run; NsPerOp is their median
}

// Time runs the benchmark count times and keeps the median run.
func Time(s *Store, workload string, count int) (Timing, error) {
	type run struct {
		ns, allocs, bytes float64
	}
	var runs []run
	for i := 0; i < count; i++ {
		r := testing.Benchmark(Bench(s, workload))
		if r.N == 0 {
			return Timing{}, fmt.Errorf("%s %s: benchmark failed", s.Name, workload)
		}
		runs = append(runs, run{float64(r.T.Nanoseconds()) / float64(r.N), float64(r.MemAllocs) / float64(r.N), float64(r.MemBytes) / float64(r.N)})
	}
	// median by ns
	for i := 1; i < len(runs); i++ {
		for j := i; j > 0 && runs[j].ns < runs[j-1].ns; j-- {
			runs[j], runs[j-1] = runs[j-1], runs[j]
		}
	}
	m := runs[len(runs)/2]
	t := Timing{NsPerOp: m.ns, AllocsPerOp: m.allocs, BytesPerOp: m.bytes}
	for _, r := range runs {
		t.Runs = append(t.Runs, r.ns)
	}
	return t, nil
}
