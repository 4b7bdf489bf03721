package bench

import (
	"bufio"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// eventLog records, in order, what the proxy and a fake server did.
type eventLog struct {
	mu sync.Mutex
	ev []string
}

func (l *eventLog) add(e string) {
	l.mu.Lock()
	l.ev = append(l.ev, e)
	l.mu.Unlock()
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.ev, " ")
}

// fakeRedis answers every RESP command it parses with +OK and logs its
// name; it stands in for Redis so the proxy's test needs no server.
func fakeRedis(t testing.TB, log *eventLog) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var parser respParser
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					for _, name := range parser.feed(buf[:n]) {
						log.add(name)
						if _, err := c.Write([]byte("+OK\r\n")); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func resp(args ...string) string {
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	return b.String()
}

// TestProxyDelaysEachRoundTripOnce sends three commands one at a time and
// then a pipeline of three, and checks that the proxy delays four times,
// each time before the server sees the round trip's first command, and
// never inside a pipeline.
func TestProxyDelaysEachRoundTripOnce(t *testing.T) {
	log := &eventLog{}
	target := fakeRedis(t, log)
	var sleeps []time.Duration
	var mu sync.Mutex
	p, err := newProxy(target, 200*time.Microsecond, func(d time.Duration) {
		mu.Lock()
		sleeps = append(sleeps, d)
		mu.Unlock()
		log.add("delay")
	})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	readOK := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			line, err := r.ReadString('\n')
			if err != nil || line != "+OK\r\n" {
				t.Fatalf("reply %d: %q, %v", i, line, err)
			}
		}
	}
	for _, name := range []string{"GET", "SET", "DEL"} {
		if _, err := c.Write([]byte(resp(name, "k"))); err != nil {
			t.Fatal(err)
		}
		readOK(1)
	}
	if _, err := c.Write([]byte(resp("MULTI") + resp("GET", "k") + resp("EXEC"))); err != nil {
		t.Fatal(err)
	}
	readOK(3)

	const want = "delay get delay set delay del delay multi get exec"
	if got := log.String(); got != want {
		t.Errorf("events:\n got  %s\n want %s", got, want)
	}
	if got := p.RoundTrips(); got != 4 {
		t.Errorf("round trips: got %d, want 4", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(sleeps) != 4 {
		t.Fatalf("delays: got %d, want 4 (one per round trip)", len(sleeps))
	}
	for i, d := range sleeps {
		if d != 200*time.Microsecond {
			t.Errorf("delay %d: %s, want 200µs", i, d)
		}
	}
}

// TestProxyWithoutDelayNeverSleeps: the loopback proxy (delay 0) counts
// round trips as before and never calls the timer.
func TestProxyWithoutDelayNeverSleeps(t *testing.T) {
	log := &eventLog{}
	target := fakeRedis(t, log)
	var calls atomic.Int64
	p, err := newProxy(target, 0, func(time.Duration) { calls.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i := 0; i < 5; i++ {
		if _, err := c.Write([]byte(resp("PING"))); err != nil {
			t.Fatal(err)
		}
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.RoundTrips(); got != 5 {
		t.Errorf("round trips: got %d, want 5", got)
	}
	if n := calls.Load(); n != 0 || p.Slept() != 0 {
		t.Errorf("delay 0: %d sleeps, %s slept; want none", n, p.Slept())
	}
}
