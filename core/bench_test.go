package core_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// payload is a ~1 KB session: user, preferences, a small cart.
var payload = realisticPayload(1)

// realisticPayload is a ~1 KB JSON session that differs with seed the way
// real sessions differ (ids, names, SKUs, prices, times), so compression is
// measured on plausible data rather than on a repeated string.
func realisticPayload(seed int) []byte {
	r := rand.New(rand.NewSource(int64(seed)))
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"user":{"id":%d,"name":"%s","email":"%s@example.com","roles":["customer"]},`,
		r.Intn(1e7), word(r, 8), word(r, 10))
	fmt.Fprintf(&b, `"prefs":{"lang":"en-GB","currency":"EUR","theme":"dark","tz":"Europe/Berlin","newsletter":%v},`, r.Intn(2) == 1)
	b.WriteString(`"cart":[`)
	for i := 0; b.Len() < 960; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"sku":"%s-%04d","name":"%s %s","qty":%d,"price":%d}`,
			strings.ToUpper(word(r, 2)), r.Intn(10000), word(r, 6), word(r, 7), 1+r.Intn(4), 100+r.Intn(20000))
	}
	fmt.Fprintf(&b, `],"csrf":"%s","seen":%d}`, word(r, 43), 1764460800+r.Intn(86400))
	return b.Bytes()
}

func word(r *rand.Rand, n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[r.Intn(len(letters))]
	}
	return string(b)
}

func benchFixture(b *testing.B) *fixture {
	b.Helper()
	return newFixture(b, core.Options{})
}

// report adds round trips, commands and bytes sent per operation to the
// benchmark line, counted since the last Reset.
func (f *fixture) report(b *testing.B) {
	reportCounts(b, f.count.RoundTrips(), f.count.Total(), f.count.BytesSent())
}

// reportCounts adds the totals of b.N operations to the benchmark line.
// sent-B/op is what the client wrote to the server (0 on Cluster, where
// the counter does not see the node connections).
func reportCounts(b *testing.B, rt, cmds int, sent int64) {
	b.ReportMetric(float64(rt)/float64(b.N), "roundtrips/op")
	b.ReportMetric(float64(cmds)/float64(b.N), "cmds/op")
	b.ReportMetric(float64(sent)/float64(b.N), "sent-B/op")
}

// tally adds up the counts of operations whose setup is not counted (Reset
// before each one, add after it).
type tally struct {
	rt, cmds int
	sent     int64
}

func (t *tally) add(c *redistest.Counter) {
	t.rt += c.RoundTrips()
	t.cmds += c.Total()
	t.sent += c.BytesSent()
}

func (t *tally) report(b *testing.B) { reportCounts(b, t.rt, t.cmds, t.sent) }

func (f *fixture) loggedIn(b *testing.B) *core.Session {
	b.Helper()
	x := f.store.NewSession(core.Device{UserAgent: "bench", RemoteAddr: "127.0.0.1:1"})
	x.UserID, x.Data = "42", payload
	if err := f.store.Save(context.Background(), x); err != nil {
		b.Fatal(err)
	}
	return x
}

func BenchmarkSlidingRead(b *testing.B) { benchRead(b, core.Options{}) }

// BenchmarkSlidingReadFailClosed is BenchmarkSlidingRead under
// EvictionFailClosed: on a server that may evict (miniredis counts as one)
// each bound load also reads its index entry; on noeviction it costs one
// INFO a minute.
func BenchmarkSlidingReadFailClosed(b *testing.B) {
	benchRead(b, core.Options{Eviction: core.EvictionFailClosed})
}

// benchRead loads one bound session over and over, after a first load
// (the eviction guard's first INFO, where it is on).
func benchRead(b *testing.B, opts core.Options) {
	f := newFixture(b, opts)
	tok := f.loggedIn(b).Token()
	ctx := context.Background()
	if _, err := f.store.Load(ctx, tok); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	f.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.store.Load(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
	f.report(b)
}

func BenchmarkUnchangedSave(b *testing.B) {
	f := benchFixture(b)
	x, err := f.store.Load(context.Background(), f.loggedIn(b).Token())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	f.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.store.Save(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
	f.report(b)
}

// BenchmarkWrite is a request that changes the session: load, change, save.
func BenchmarkWrite(b *testing.B) {
	f := benchFixture(b)
	tok := f.loggedIn(b).Token()
	ctx := context.Background()
	b.ReportAllocs()
	f.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x, err := f.store.Load(ctx, tok)
		if err != nil {
			b.Fatal(err)
		}
		x.Data = append(x.Data[:len(payload)-8], strconv.Itoa(i%10000000)...)
		if err := f.store.Save(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
	f.report(b)
}

// BenchmarkLogin creates a session bound to a user (index included).
func BenchmarkLogin(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	f.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		x := f.store.NewSession(core.Device{UserAgent: "bench", RemoteAddr: "127.0.0.1:1"})
		x.UserID, x.Data = "u"+strconv.Itoa(i%1000), payload
		if err := f.store.Save(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
	f.report(b)
}

// BenchmarkLoginBind binds a stored anonymous session to a user (a login
// that keeps its session): an update with the index.
func BenchmarkLoginBind(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	var t tally
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		x := f.store.NewSession(core.Device{UserAgent: "bench", RemoteAddr: "127.0.0.1:1"})
		x.Data = payload
		if err := f.store.Save(ctx, x); err != nil {
			b.Fatal(err)
		}
		f.count.Reset()
		b.StartTimer()
		x.UserID = "u" + strconv.Itoa(i%1000)
		if err := f.store.Save(ctx, x); err != nil {
			b.Fatal(err)
		}
		t.add(f.count)
	}
	t.report(b)
}

// BenchmarkLoginRenew renews a bound session's token (regenerate on login),
// index included.
func BenchmarkLoginRenew(b *testing.B) {
	f := benchFixture(b)
	x := f.loggedIn(b)
	ctx := context.Background()
	b.ReportAllocs()
	f.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.store.Renew(ctx, x); err != nil {
			b.Fatal(err)
		}
	}
	f.report(b)
}

// BenchmarkLogout deletes a bound session and its index entry (its
// creation is not timed).
func BenchmarkLogout(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	var t tally
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		x := f.loggedIn(b)
		f.count.Reset()
		b.StartTimer()
		if err := f.store.Delete(ctx, x); err != nil {
			b.Fatal(err)
		}
		t.add(f.count)
	}
	t.report(b)
}

// BenchmarkLogoutRevoke ends one session of a user by its handle (a device
// list's "log out that device"; its creation is not timed).
func BenchmarkLogoutRevoke(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	var t tally
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		x := f.loggedIn(b)
		f.count.Reset()
		b.StartTimer()
		if err := f.store.RevokeSession(ctx, "42", x.Handle()); err != nil {
			b.Fatal(err)
		}
		t.add(f.count)
	}
	t.report(b)
}

// BenchmarkList lists a user's 10 sessions.
func BenchmarkList(b *testing.B) {
	f := benchFixture(b)
	for i := 0; i < 10; i++ {
		f.loggedIn(b)
	}
	ctx := context.Background()
	b.ReportAllocs()
	f.count.Reset()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		list, err := f.store.UserSessions(ctx, "42")
		if err != nil || len(list) != 10 {
			b.Fatalf("listed %d, %v", len(list), err)
		}
	}
	f.report(b)
}

// BenchmarkRevokeAll ends a user's 10 sessions (their creation is not timed).
func BenchmarkRevokeAll(b *testing.B) {
	f := benchFixture(b)
	ctx := context.Background()
	b.ReportAllocs()
	var t tally
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for j := 0; j < 10; j++ {
			f.loggedIn(b)
		}
		f.count.Reset()
		b.StartTimer()
		if n, err := f.store.RevokeUser(ctx, "42"); err != nil || n != 10 {
			b.Fatalf("revoked %d, %v", n, err)
		}
		t.add(f.count)
	}
	t.report(b)
}
