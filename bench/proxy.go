package bench

import (
	"bytes"

	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a counting TCP proxy on loopback between a store's client and
// Redis. It counts round trips (a burst of bytes from the client after the
// server last answered: a command sent alone or a whole pipeline) and the
// commands in them, parsed from RESP. It works the same for go-redis and
// redigo, so every store is counted by one yardstick. It is for sequential
// traffic: requests of concurrent callers on one connection cannot be
// told apart.
//
// A Proxy made by NewDelayProxy also simulates a network: every round trip
// costs it a fixed delay. The delay is paid once per request/response
// exchange, where the round trip is counted: when the first bytes of a
// client's burst arrive, the proxy waits, then forwards them; the rest of
// the burst (a long pipeline read in several pieces) and the server's reply
// pass through at once. A command sent alone and a whole pipeline therefore
// cost one delay each, as on a real network where the latency is paid per
// exchange, not per command or per byte. The delay stands for the whole
// round trip (both directions), so it is applied on the way in only.
// Opening a connection is not delayed (the pools are warmed before
// anything is timed), and the delay is a minimum: the wait may overshoot
// it a little (see preciseSleep), which Slept reports.
type Proxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	sleep  func(time.Duration) // preciseSleep; tests count calls instead

	roundTrips atomic.Int64
	slept      atomic.Int64 // ns actually spent delaying, since the last Reset
	mu         sync.Mutex
	commands   map[string]int64
	conns      []net.Conn
}

// NewProxy listens on 127.0.0.1 and forwards every connection to target.
func NewProxy(target string) (*Proxy, error) { return newProxy(target, 0, preciseSleep) }

// NewDelayProxy is NewProxy that delays every round trip by delay.
func NewDelayProxy(target string, delay time.Duration) (*Proxy, error) {
	return newProxy(target, delay, preciseSleep)
}

func newProxy(target string, delay time.Duration, sleep func(time.Duration)) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, delay: delay, sleep: sleep, commands: map[string]int64{}}
	go p.serve()
	return p, nil
}

// Delay is the simulated network delay per round trip.
func (p *Proxy) Delay() time.Duration { return p.delay }

// Slept is the time spent delaying round trips since the last Reset: the
// round trips times the delay, plus the timer's overshoot.
func (p *Proxy) Slept() time.Duration { return time.Duration(p.slept.Load()) }

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
}

// Reset zeroes the counts.
func (p *Proxy) Reset() {
	p.roundTrips.Store(0)
	p.slept.Store(0)
	p.mu.Lock()
	p.commands = map[string]int64{}
	p.mu.Unlock()
}

// RoundTrips counted since the last Reset.
func (p *Proxy) RoundTrips() int64 { return p.roundTrips.Load() }

// Commands counted since the last Reset, by lower-case name.
func (p *Proxy) Commands() map[string]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int64, len(p.commands))
	for k, v := range p.commands {
		out[k] = v
	}
	return out
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		var waiting atomic.Bool // the client has sent; the server has not answered yet
		go func() {
			var parser respParser
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				if n > 0 {
					if waiting.CompareAndSwap(false, true) {
						p.roundTrips.Add(1)
						if p.delay > 0 {
							t := time.Now()
							p.sleep(p.delay)
							p.slept.Add(int64(time.Since(t)))
						}
					}
					names := parser.feed(buf[:n])
					if len(names) > 0 {
						p.mu.Lock()
						for _, nm := range names {
							p.commands[nm]++
						}
						p.mu.Unlock()
					}
					if _, werr := s.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			_ = s.Close()
		}()
		go func() {
			buf := make([]byte, 64<<10)
			for {
				n, err := s.Read(buf)
				if n > 0 {
					// Before the client can see the reply, so that its next
					// command starts a new round trip however the goroutines
					// are scheduled.
					waiting.Store(false)
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			_ = c.Close()
		}()
	}
}

// respParser extracts command names from a client's RESP stream.
type respParser struct{ buf []byte }

func (r *respParser) feed(b []byte) []string {
	r.buf = append(r.buf, b...)
	var names []string
	for {
		name, n, ok := parseCommand(r.buf)
		if !ok {
			break
		}
		names = append(names, name)
		r.buf = r.buf[n:]
	}
	if len(r.buf) == 0 {
		r.buf = r.buf[:0:0]
	}
	return names
}

// parseCommand parses one array of bulk strings and returns its first
// element in lower case (with the subcommand for CLIENT and similar) and
// the bytes it used; ok is false while the command is incomplete.
func parseCommand(b []byte) (name string, used int, ok bool) {
	line, rest, ok := cutLine(b)
	if !ok {
		return "", 0, false
	}
	if len(line) == 0 || line[0] != '*' {
		// Inline command: one line.
		f := strings.Fields(string(line))
		if len(f) == 0 {
			return "", len(b) - len(rest), true
		}
		return strings.ToLower(f[0]), len(b) - len(rest), true
	}
	n, err := strconv.Atoi(string(line[1:]))
	if err != nil {
		return "?", len(b), true
	}
	var args []string
	for i := 0; i < n; i++ {
		l, r2, ok := cutLine(rest)
		if !ok || len(l) == 0 || l[0] != '$' {
			return "", 0, false
		}
		sz, err := strconv.Atoi(string(l[1:]))
		if err != nil {
			return "?", len(b), true
		}
		if len(r2) < sz+2 {
			return "", 0, false
		}
		if i < 2 {
			args = append(args, string(r2[:sz]))
		}
		rest = r2[sz+2:]
	}
	if len(args) == 0 {
		return "", len(b) - len(rest), true
	}
	name = strings.ToLower(args[0])
	switch name {
	case "client", "config", "memory", "object", "script":
		if len(args) > 1 {
			name += "|" + strings.ToLower(args[1])
		}
	}
	return name, len(b) - len(rest), true
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+2:], true
}
