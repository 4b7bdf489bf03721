package bench

import (
	"bytes"

	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Proxy is a counting TCP proxy on loopback between a store's client and
// Redis. It counts round trips (a burst of bytes from the client after the
// server last answered: a command sent alone or a whole pipeline) and the
// commands in them, parsed from RESP. It works the same for go-redis and
// redigo, so every store is counted by one yardstick. It is for sequential
// traffic: requests of concurrent callers on one connection cannot be
// told apart.
type Proxy struct {
	ln     net.Listener
	target string

	roundTrips atomic.Int64
	mu         sync.Mutex
	commands   map[string]int64
	conns      []net.Conn
}

// NewProxy listens on 127.0.0.1 and forwards every connection to target.
func NewProxy(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, commands: map[string]int64{}}
	go p.serve()
	return p, nil
}

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
					if _, werr := c.Write(buf[:n]); werr != nil {
						break
					}
					waiting.Store(false)
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
