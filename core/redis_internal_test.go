package core

import (
	"strings"
	"testing"
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
	for _, sc := range []*script{saveScript, indexAddScript, retireScript, renewScript, revokeBeginScript, killScript, pruneScript, delScript, hashLoadScript} {
		for _, line := range strings.Split(sc.src, "\n") {
			if strings.HasPrefix(line, "--") || strings.HasPrefix(line, " ") {
				t.Errorf("script sends %q", line)
			}
		}
	}
}
