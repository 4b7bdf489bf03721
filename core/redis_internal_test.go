package core

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/internal/redistest"
)

func TestMinifyLua(t *testing.T) {
	src := "\n-- a comment\nlocal function f(k)\n  -- another\n  return redis.call('GET', k) -- kept: never looks inside a line\nend\n\n"
	want := "local function f(k)\nreturn redis.call('GET', k) -- kept: never looks inside a line\nend\n"
	if got := minifyLua(src); got != want {
		t.Errorf("minifyLua:\n%q\nwant\n%q", got, want)
	}
}

// TestScriptsSendNoComment: what a script sends is only code.
func TestScriptsSendNoComment(t *testing.T) {
	for _, sc := range scripts {
		for _, line := range strings.Split(sc.src, "\n") {
			if strings.HasPrefix(line, "--") || strings.HasPrefix(line, " ") {
				t.Errorf("script sends %q", line)
			}
		}
	}
}

// TestExecRefusesEarlyEvalsha: on one node exec sends nothing when an
// EVALSHA stands before another group, since a NOSCRIPT there would let
// that group run first.
func TestExecRefusesEarlyEvalsha(t *testing.T) {
	srv := redistest.Start(t)
	count := redistest.NewCounter()
	s := New(srv.NewClient(t, count), Options{Prefix: srv.Prefix})
	s.ordered = false // as on one node, whatever the server (on Cluster the keys below share a slot)
	ctx := context.Background()
	key := s.sessionKeyForID("{x}")
	s.sent[delScript.n].Store(true)
	early := s.run(ctx, delScript, []string{key})
	if err := s.exec(ctx, []redis.Cmder{early}, []redis.Cmder{zremCmd(ctx, s.indexKey("{x}"), "x")}); err == nil {
		t.Errorf("exec sent an EVALSHA before a dependent group")
	}
	if n := count.Total(); n != 0 {
		t.Errorf("exec refused, yet sent %d commands", n)
	}
	if err := s.exec(ctx, []redis.Cmder{delScript.cmd(ctx, []string{key})}, []redis.Cmder{s.run(ctx, delScript, []string{key})}); err != nil {
		t.Errorf("EVAL, then EVALSHA in the last group: %v", err)
	}
}
