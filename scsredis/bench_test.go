package scsredis_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// BenchmarkRevokeUser ends the 10 sessions of one user among 10K and 100K
// sessions: with scsredis's RevokeUser (the user's index), and with scs's
// recipe for stores that iterate (Iterate over every session, decode it,
// Destroy those of the user) over a store laid out like scs's goredisstore
// (one key per raw token; All lists keys, then GETs each one). Real Redis
// only: set REDIS_ADDR.
func BenchmarkRevokeUser(b *testing.B) {
	if os.Getenv("REDIS_ADDR") == "" {
		b.Skip("set REDIS_ADDR to benchmark against a real Redis")
	}
	const victims = 10
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("sessions=%d/scsredis.RevokeUser", n), func(b *testing.B) {
			srv := redistest.Start(b)
			count := redistest.NewCounter()
			raw := srv.NewClient(b, nil)
			b.Cleanup(func() { dropPrefix(b, raw, srv.Prefix) })
			store := scsredis.New(srv.NewClient(b, count), scsredis.Options{Core: core.Options{Prefix: srv.Prefix}})
			populate(b, n, func(i int, blob []byte, exp time.Time) error {
				return store.Commit(core.NewToken(), blob, exp)
			})
			b.ResetTimer()
			total := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				addVictims(b, victims, func(blob []byte, exp time.Time) error {
					return store.Commit(core.NewToken(), blob, exp)
				})
				count.Reset()
				b.StartTimer()
				k, err := store.RevokeUser(context.Background(), "victim")
				if err != nil || k != victims {
					b.Fatalf("RevokeUser: %d, %v; want %d", k, err, victims)
				}
				total += count.RoundTrips()
			}
			b.ReportMetric(float64(total)/float64(b.N), "roundtrips/op")
		})
		b.Run(fmt.Sprintf("sessions=%d/scs.Iterate", n), func(b *testing.B) {
			srv := redistest.Start(b)
			count := redistest.NewCounter()
			raw := srv.NewClient(b, nil)
			b.Cleanup(func() { dropPrefix(b, raw, srv.Prefix) })
			store := &iterStore{c: srv.NewClient(b, count), prefix: srv.Prefix + "scs:"}
			sm := scs.New()
			sm.Store = store
			populate(b, n, func(i int, blob []byte, exp time.Time) error {
				return store.Commit(core.NewToken(), blob, exp)
			})
			b.ResetTimer()
			total := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				addVictims(b, victims, func(blob []byte, exp time.Time) error {
					return store.Commit(core.NewToken(), blob, exp)
				})
				count.Reset()
				b.StartTimer()
				k := 0
				err := sm.Iterate(context.Background(), func(ctx context.Context) error {
					if sm.GetString(ctx, "user_id") != "victim" {
						return nil
					}
					k++
					return sm.Destroy(ctx)
				})
				if err != nil || k != victims {
					b.Fatalf("Iterate: %d, %v; want %d", k, err, victims)
				}
				total += count.RoundTrips()
			}
			b.ReportMetric(float64(total)/float64(b.N), "roundtrips/op")
		})
	}
}

// populate writes n sessions of other users (and some anonymous ones) with
// 16 writers.
func populate(b *testing.B, n int, commit func(i int, blob []byte, exp time.Time) error) {
	b.Helper()
	exp := time.Now().Add(time.Hour)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				values := map[string]interface{}{"cart": "3 apples"}
				if i%4 != 0 {
					values["user_id"] = "user" + strconv.Itoa(i/4)
				}
				blob, _ := scs.GobCodec{}.Encode(exp, values)
				if err := commit(i, blob, exp); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
}

func addVictims(b *testing.B, k int, commit func(blob []byte, exp time.Time) error) {
	b.Helper()
	exp := time.Now().Add(time.Hour)
	blob, _ := scs.GobCodec{}.Encode(exp, map[string]interface{}{"user_id": "victim"})
	for i := 0; i < k; i++ {
		if err := commit(blob, exp); err != nil {
			b.Fatal(err)
		}
	}
}

// dropPrefix deletes the benchmark's keys in pipelined batches.
func dropPrefix(b *testing.B, c redis.UniversalClient, prefix string) {
	ctx := context.Background()
	it := c.Scan(ctx, 0, prefix+"*", 5000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			_ = c.Unlink(ctx, batch...).Err()
			batch = batch[:0]
		}
	}
	for it.Next(ctx) {
		batch = append(batch, it.Val())
		if len(batch) == 1000 {
			flush()
		}
	}
	flush()
}

// iterStore is the baseline: the layout and All of scs's goredisstore, a
// key per raw token, All listing the keys and then reading each one. It
// lists with SCAN rather than goredisstore's KEYS so as not to block a
// shared server; the round trips are the same order.
type iterStore struct {
	c      redis.UniversalClient
	prefix string
}

func (s *iterStore) Find(token string) ([]byte, bool, error) {
	b, err := s.c.Get(context.Background(), s.prefix+token).Bytes()
	if err == redis.Nil {
		return nil, false, nil
	}
	return b, err == nil, err
}

func (s *iterStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.c.Set(context.Background(), s.prefix+token, b, time.Until(expiry)).Err()
}

func (s *iterStore) Delete(token string) error {
	return s.c.Del(context.Background(), s.prefix+token).Err()
}

func (s *iterStore) All() (map[string][]byte, error) {
	ctx := context.Background()
	out := map[string][]byte{}
	it := s.c.Scan(ctx, 0, s.prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		token := it.Val()[len(s.prefix):]
		b, found, err := s.Find(token)
		if err != nil {
			return nil, err
		}
		if found {
			out[token] = b
		}
	}
	return out, it.Err()
}
