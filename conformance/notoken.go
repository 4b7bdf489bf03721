package conformance

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// errorsNameNoToken presents tokens the suite knows where the adapter can
// only fail: to an adapter whose Redis is down, over garbage and the wrong
// type under their keys, to one whose Redis refuses writes (as a replica
// does: the session loads, then saving, renewing, logging out and revoking
// fail), and in a save too large to write. What every response says, and
// what the standard logger prints meanwhile (gin-contrib logs a store's
// load errors there), must name none of them.
func errorsNameNoToken(t *testing.T, p *prop) {
	logged := tapLog(t)
	var secrets []string
	check := func(what string, res response) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(res.body), s) {
				t.Errorf("%s: the response (status %d) holds a token or cookie value: %.300q", what, res.status, res.body)
				return
			}
		}
	}
	// Every route of the app, presenting cookie.
	routes := func(q *prop, cookie, what string) map[string]response {
		d := q.device(t, what)
		token, _ := q.token(cookie)
		out := map[string]response{}
		for _, route := range []string{"GET /get?k=a", "POST /set?k=a&v=changed", "POST /login?user=u1", "POST /renew",
			"GET /devices", "POST /revoke?h=" + core.Handle(token), "POST /revoke-others", "POST /revoke-user?user=u1",
			"POST /logout"} {
			d.setCookie(cookie)
			method, path, _ := strings.Cut(route, " ")
			out[route] = d.send(t, method, path)
			check(what+": "+route, out[route])
		}
		return out
	}
	mustFail := func(what string, res response) {
		t.Helper()
		if res.status == http.StatusOK || res.Err == "" {
			t.Errorf("%s: a write answered %d, err %q; want an error, with its text", what, res.status, res.Err)
		}
	}

	down := p.with(t, func(e *Env) { e.Client = redistest.Down(t) })
	token := core.NewToken()
	secrets = append(secrets, token, down.ad.Cookie(token))
	mustFail("Redis down", routes(down, down.ad.Cookie(token), "Redis down")["POST /set?k=a&v=changed"])

	ctx := context.Background()
	for what, plant := range map[string]func(key string) error{
		"garbage":      func(key string) error { return p.raw.Set(ctx, key, "\xb1\xff\xff garbage", time.Hour).Err() },
		"foreign JSON": func(key string) error { return p.raw.Set(ctx, key, `{"user":"x"}`, time.Hour).Err() },
		"another format": func(key string) error {
			return p.raw.Set(ctx, key, "\xb2\x01\x00\x00\x00\x00\x00\xff", time.Hour).Err()
		},
		"a list": func(key string) error { return p.raw.RPush(ctx, key, "x").Err() },
	} {
		token := core.NewToken()
		secrets = append(secrets, token, p.ad.Cookie(token))
		key := p.store.SessionKey(core.Handle(token))
		if err := plant(key); err != nil {
			t.Fatal(err)
		}
		routes(p, p.ad.Cookie(token), what+" under the key")
		_ = p.raw.Del(ctx, key).Err()
	}

	// A live session, first where Redis refuses writes, then in a save too
	// large to write.
	d := p.device(t, "live")
	d.login(t, "u1")
	d.set(t, "a", "1")
	token, _ = p.token(d.cookie())
	secrets = append(secrets, d.cookie(), token)
	ro := p.with(t, func(e *Env) { e.Client = p.newClient(t, readOnly{}) })
	mustFail("Redis refusing writes", routes(ro, d.cookie(), "Redis refusing writes")["POST /set?k=a&v=changed"])
	res := d.send(t, "POST", "/set?k=b&v="+strings.Repeat("x", 2*p.opts.MaxRecordSize))
	mustFail("a save too large", res)
	check("a save too large", res)

	for _, s := range secrets {
		if s != "" && strings.Contains(logged.String(), s) {
			t.Errorf("the standard logger printed a token or cookie value: %.300q", logged.String())
			break
		}
	}
}

// token returns the token a cookie value of q's adapter presents.
func (q *prop) token(cookie string) (string, bool) {
	if q.ad.Token == nil {
		return cookie, true
	}
	return q.ad.Token(cookie)
}

// readOnly is a go-redis hook that refuses every command but reads, as a
// replica does.
type readOnly struct{}

var errReadOnly = errors.New("READONLY You can't write against a read only replica.")

func readCommand(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "get", "getex", "hgetall", "hmget", "exists", "pttl", "ttl", "type", "scan", "zscore", "zcard",
		"zrange", "zrangebyscore", "zrangestore", "ping", "hello", "auth", "select", "client", "readonly":
		return true
	}
	return false
}

func (readOnly) DialHook(next redis.DialHook) redis.DialHook { return next }

func (readOnly) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !readCommand(cmd) {
			cmd.SetErr(errReadOnly)
			return errReadOnly
		}
		return next(ctx, cmd)
	}
}

func (readOnly) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if !readCommand(cmd) {
				for _, c := range cmds {
					c.SetErr(errReadOnly)
				}
				return errReadOnly
			}
		}
		return next(ctx, cmds)
	}
}

// logTap copies what the standard logger writes to the buffers of the
// properties that read it, while passing it on. Properties run in
// parallel, so the first to tap installs it and the last to leave restores
// the logger's writer.
var logTap struct {
	install sync.Mutex // held while the logger's writer changes hands
	taps    int

	mu    sync.Mutex // guards what Write reads; never held while calling log
	out   io.Writer
	sinks map[*tapBuffer]bool
}

type tapWriter struct{}

func (tapWriter) Write(b []byte) (int, error) {
	logTap.mu.Lock()
	defer logTap.mu.Unlock()
	for s := range logTap.sinks {
		s.write(b)
	}
	return logTap.out.Write(b)
}

// tapBuffer is what one property saw the standard logger print.
type tapBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *tapBuffer) write(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(b)
}

func (s *tapBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tapLog returns what the standard logger prints until t ends.
func tapLog(t testing.TB) *tapBuffer {
	s := &tapBuffer{}
	logTap.install.Lock()
	defer logTap.install.Unlock()
	if logTap.taps == 0 {
		out := log.Writer()
		logTap.mu.Lock()
		logTap.out, logTap.sinks = out, map[*tapBuffer]bool{}
		logTap.mu.Unlock()
		log.SetOutput(tapWriter{})
	}
	logTap.taps++
	logTap.mu.Lock()
	logTap.sinks[s] = true
	logTap.mu.Unlock()
	t.Cleanup(func() {
		logTap.install.Lock()
		defer logTap.install.Unlock()
		logTap.mu.Lock()
		delete(logTap.sinks, s)
		out := logTap.out
		logTap.mu.Unlock()
		if logTap.taps--; logTap.taps == 0 {
			log.SetOutput(out)
		}
	})
	return s
}
