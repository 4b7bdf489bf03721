package bench

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Memory is what n sessions cost in Redis.
type Memory struct {
	N            int
	UsedDelta    int64            // INFO used_memory after − before
	ByClass      map[string]int64 // MEMORY USAGE summed per key class
	KeysByClass  map[string]int64
	KeyLen       int // a sample session key's name
	ValueLen     int // and its value's length (STRLEN)
	SampleMemory int64
	Elapsed      time.Duration
}

// PerSession is used_memory per session.
func (m Memory) PerSession() float64 { return float64(m.UsedDelta) / float64(m.N) }

// Fill logs n sessions in through the store's own login, with workers in
// parallel, each a new user.
func Fill(s *Store, n, workers int) error {
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	per := (n + workers - 1) / workers
	for g := 0; g < workers; g++ {
		cnt := per
		if rest := n - g*per; rest < cnt {
			cnt = rest
		}
		wg.Add(1)
		go func(cnt int) {
			defer wg.Done()
			w := NewRecorder()
			for i := 0; i < cnt; i++ {
				if _, err := s.Do(w, Login, ""); err != nil {
					errs <- err
					return
				}
			}
		}(cnt)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// settle waits for the server's memory figure to stop moving (lazy frees,
// other clients' short bursts) and returns it.
func (a *Admin) settle() (int64, error) {
	var last int64 = -1
	for i := 0; i < 10; i++ {
		m, err := a.UsedMemory()
		if err != nil {
			return 0, err
		}
		if last >= 0 && abs64(m-last) < 64<<10 {
			return m, nil
		}
		last = m
		time.Sleep(100 * time.Millisecond)
	}
	return last, nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// MeasureMemory logs in n sessions through s into an empty database and
// reports what they cost.
func MeasureMemory(s *Store, admin *Admin, n int) (Memory, error) {
	if err := admin.Flush(); err != nil {
		return Memory{}, err
	}
	before, err := admin.settle()
	if err != nil {
		return Memory{}, err
	}
	start := time.Now()
	if err := Fill(s, n, 4); err != nil {
		return Memory{}, err
	}
	m := Memory{N: n, Elapsed: time.Since(start)}
	after, err := admin.settle()
	if err != nil {
		return m, err
	}
	m.UsedDelta = after - before
	if m.ByClass, m.KeysByClass, err = admin.KeyMemory(s.Class); err != nil {
		return m, err
	}
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		k := admin.C.RandomKey(ctx).Val()
		if s.Class(k) == "session" {
			m.KeyLen = len(k)
			m.ValueLen = int(admin.C.StrLen(ctx, k).Val())
			m.SampleMemory = admin.C.MemoryUsage(ctx, k, 0).Val()
			break
		}
	}
	return m, admin.Flush()
}

// SampleValue returns the value of one key of the class in the database.
func SampleValue(admin *Admin, class func(string) string, want string) (key, value string, err error) {
	ctx := context.Background()
	for i := 0; i < 50; i++ {
		k := admin.C.RandomKey(ctx).Val()
		if class(k) == want {
			v, err := admin.C.Get(ctx, k).Result()
			return k, v, err
		}
	}
	return "", "", fmt.Errorf("no %s key found", want)
}

// CopyFill writes n copies of value under keyPrefix+<random 43-char id>
// with an expiry, pipelined, and for each a one-member user index when
// indexPrefix is not "" (the layout core writes, one user per session).
func CopyFill(admin *Admin, n int, keyPrefix string, value []byte, indexPrefix string) error {
	ctx := context.Background()
	exp := time.Now().Add(IdleTimeout).UnixMilli()
	deadline := time.Now().Add(Lifetime).UnixMilli()
	const batch = 1000
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	next := make(chan int, 64)
	go func() {
		for i := 0; i < n; i += batch {
			next <- i
		}
		close(next)
	}()
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			var raw [32]byte
			for start := range next {
				end := min(start+batch, n)
				_, err := admin.C.Pipelined(ctx, func(p redis.Pipeliner) error {
					for i := start; i < end; i++ {
						_, _ = rand.Read(raw[:])
						id := base64.RawURLEncoding.EncodeToString(raw[:])
						p.Do(ctx, "set", keyPrefix+id, value, "pxat", exp)
						if indexPrefix != "" {
							ik := indexPrefix + "f" + strconv.Itoa(i)
							p.ZAdd(ctx, ik, redis.Z{Score: float64(deadline), Member: id})
							p.Do(ctx, "pexpireat", ik, deadline)
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// Compression is the experiment behind the memory proposal: the same
// records compressed with DEFLATE, what they cost in Redis and in CPU.
type Compression struct {
	Raw, Compressed   int     // bytes of one record
	RawMem, CompMem   float64 // used_memory per session, copies of each, index included
	CompressNs        float64 // per record
	DecompressNs      float64
	CompressAllocs    float64
	DecompressAllocs  float64
	N                 int
	KeyPrefix, Source string
}

func deflate(b []byte, level int) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, level)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

// flateWriters keeps compressors between calls, as a store would: a fresh
// flate.Writer allocates about 600 KB.
var flateWriters = sync.Pool{New: func() any { w, _ := flate.NewWriter(io.Discard, flate.BestSpeed); return w }}
var flateReaders = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// CompressRecord is the experiment's codec: DEFLATE at BestSpeed with
// pooled state.
func CompressRecord(dst *bytes.Buffer, b []byte) {
	w := flateWriters.Get().(*flate.Writer)
	w.Reset(dst)
	_, _ = w.Write(b)
	_ = w.Close()
	flateWriters.Put(w)
}

// DecompressRecord reverses CompressRecord.
func DecompressRecord(dst *bytes.Buffer, b []byte) error {
	r := flateReaders.Get().(io.ReadCloser)
	_ = r.(flate.Resetter).Reset(bytes.NewReader(b), nil)
	_, err := dst.ReadFrom(r)
	flateReaders.Put(r)
	return err
}

// CompressionExperiment measures n copies of record (a session as core
// stores it) raw and compressed, each with its one-member index, and the
// CPU cost of compressing and decompressing it.
func CompressionExperiment(admin *Admin, record []byte, n int) (Compression, error) {
	c := Compression{Raw: len(record), N: n, KeyPrefix: "session:"}
	comp := deflate(record, flate.BestSpeed)
	c.Compressed = len(comp)
	for i, v := range [][]byte{record, comp} {
		if err := admin.Flush(); err != nil {
			return c, err
		}
		before, err := admin.settle()
		if err != nil {
			return c, err
		}
		if err := CopyFill(admin, n, "session:", v, "user_sessions:"); err != nil {
			return c, err
		}
		after, err := admin.settle()
		if err != nil {
			return c, err
		}
		per := float64(after-before) / float64(n)
		if i == 0 {
			c.RawMem = per
		} else {
			c.CompMem = per
		}
	}
	if err := admin.Flush(); err != nil {
		return c, err
	}
	rc := testing.Benchmark(func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf.Reset()
			CompressRecord(&buf, record)
		}
	})
	rd := testing.Benchmark(func(b *testing.B) {
		var buf bytes.Buffer
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			buf.Reset()
			if err := DecompressRecord(&buf, comp); err != nil {
				b.Fatal(err)
			}
		}
	})
	c.CompressNs, c.CompressAllocs = float64(rc.NsPerOp()), float64(rc.AllocsPerOp())
	c.DecompressNs, c.DecompressAllocs = float64(rd.NsPerOp()), float64(rd.AllocsPerOp())
	return c, nil
}
