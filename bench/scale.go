package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/redisession/redisession/internal/redistest"
)

// Template logs one session in through s and returns its stored record
// (core's layout: the only "session" key of the database).
func Template(s *Store, admin *Admin) ([]byte, error) {
	if err := admin.Flush(); err != nil {
		return nil, err
	}
	if _, err := s.LoginAs(context.Background(), ""); err != nil {
		return nil, err
	}
	_, v, err := SampleValue(admin, s.Class, "session")
	if err != nil {
		return nil, err
	}
	return []byte(v), admin.Flush()
}

// Revoke is the cost of ending one user's k sessions among n.
type Revoke struct {
	Name       string
	N, K       int
	Ns         float64 // median of the runs
	RoundTrips float64
	Commands   float64
	Runs       int
	Method     string
}

// RevokeOurs times scsredis's RevokeUser for a user with k sessions among
// n others (copies of a real record, each with its own user index).
func RevokeOurs(admin *Admin, n, k, runs int) (Revoke, error) {
	f := Factory{"scsredis", "ours", newSCSRedis}
	s, err := f.Build(Addr())
	if err != nil {
		return Revoke{}, err
	}
	defer s.Close()
	parts := scsOf[s]
	tmpl, err := Template(s, admin)
	if err != nil {
		return Revoke{}, err
	}
	if err := CopyFill(admin, n, "session:", tmpl, "user_sessions:"); err != nil {
		return Revoke{}, err
	}
	cnt := redistest.NewCounter()
	parts.rdb.AddHook(cnt)
	r := Revoke{Name: "scsredis RevokeUser", N: n, K: k, Runs: runs, Method: "the user's index: ZREMRANGEBYSCORE + ZRANGE, k × DEL in one pipeline, ZREM"}
	var times []float64
	ctx := context.Background()
	for i := 0; i < runs; i++ {
		for j := 0; j < k; j++ {
			if _, err := s.LoginAs(ctx, "victim01"); err != nil {
				return r, err
			}
		}
		cnt.Reset()
		start := time.Now()
		got, err := parts.ours.RevokeUser(ctx, "victim01")
		el := time.Since(start)
		if err != nil || got != k {
			return r, fmt.Errorf("RevokeUser ended %d of %d: %v", got, k, err)
		}
		times = append(times, float64(el.Nanoseconds()))
		r.RoundTrips += float64(cnt.RoundTrips()) / float64(runs)
		r.Commands += float64(cnt.Total()) / float64(runs)
	}
	r.Ns = median(times)
	return r, admin.Flush()
}

// RevokeIterate times scs's documented recipe on scs/goredisstore: Iterate
// over every session, decode it, Destroy the user's.
func RevokeIterate(admin *Admin, n, k, runs int) (Revoke, error) {
	f := Factory{"scs/goredisstore", "peer", newSCSGoRedisStore}
	s, err := f.Build(Addr())
	if err != nil {
		return Revoke{}, err
	}
	defer s.Close()
	parts := scsOf[s]
	tmpl, err := Template(s, admin)
	if err != nil {
		return Revoke{}, err
	}
	if err := CopyFill(admin, n, "scs:session:", tmpl, ""); err != nil {
		return Revoke{}, err
	}
	cnt := redistest.NewCounter()
	parts.rdb.AddHook(cnt)
	r := Revoke{Name: "scs Iterate recipe (goredisstore)", N: n, K: k, Runs: runs, Method: "SCAN the keyspace, GET every session, decode it, DEL the user's"}
	var times []float64
	ctx := context.Background()
	sm := parts.sm
	for i := 0; i < runs; i++ {
		for j := 0; j < k; j++ {
			if _, err := s.LoginAs(ctx, "victim01"); err != nil {
				return r, err
			}
		}
		cnt.Reset()
		got := 0
		start := time.Now()
		err := sm.Iterate(ctx, func(ctx context.Context) error {
			if sm.GetString(ctx, UserKey) == "victim01" {
				got++
				return sm.Destroy(ctx)
			}
			return nil
		})
		el := time.Since(start)
		if err != nil || got != k {
			return r, fmt.Errorf("Iterate ended %d of %d: %v", got, k, err)
		}
		times = append(times, float64(el.Nanoseconds()))
		r.RoundTrips += float64(cnt.RoundTrips()) / float64(runs)
		r.Commands += float64(cnt.Total()) / float64(runs)
	}
	r.Ns = median(times)
	return r, admin.Flush()
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
