package main

import (
	"encoding/json"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// privateServer starts a redis-server of the test's own with extra
// arguments, for settings a shared server must not be given.
func privateServer(t *testing.T, extra ...string) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command("redis-server", append([]string{"--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", t.TempDir()}, extra...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "127.0.0.1:" + port
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return addr
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("redis-server on %s did not start", addr)
	return ""
}

// TestCheck: check prints one finding per line and exits 0 on a server
// that keeps every guarantee, and 4, naming the policy, where an eviction
// policy can drop user indexes.
func TestCheck(t *testing.T) {
	safe := privateServer(t)
	code, out, errOut := cli(t, []string{"--redis", safe}, "check")
	if code != exitOK || !strings.Contains(out, "OK") || strings.Contains(out, "UNSAFE") {
		t.Errorf("check of a safe server: exit %d, %q, %q", code, out, errOut)
	}
	lru := privateServer(t, "--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru")
	code, out, errOut = cli(t, []string{"--redis", lru}, "check", "--json")
	var fs []map[string]string
	if err := json.Unmarshal([]byte(out), &fs); err != nil || code != exitUnsafe {
		t.Fatalf("check --json of an allkeys-lru server: exit %d, %q, %q", code, out, errOut)
	}
	found := false
	for _, f := range fs {
		if f["topic"] == "eviction" && f["level"] == "unsafe" && strings.Contains(f["message"], "allkeys-lru") && f["node"] == lru {
			found = true
		}
	}
	if !found {
		t.Errorf("check --json of an allkeys-lru server: %v, want an unsafe eviction finding naming the policy", fs)
	}
}

// TestStatsEviction: stats names the eviction policy, and says UNSAFE (and
// eviction_unsafe in JSON) where it may drop user indexes.
func TestStatsEviction(t *testing.T) {
	for _, c := range []struct {
		args   []string
		policy string
		unsafe bool
	}{
		{nil, "noeviction", false},
		{[]string{"--maxmemory", "64mb", "--maxmemory-policy", "volatile-lru"}, "volatile-lru", true},
	} {
		addr := privateServer(t, c.args...)
		code, out, errOut := cli(t, []string{"--redis", addr}, "stats")
		if code != exitOK || !strings.Contains(out, "eviction") || !strings.Contains(out, c.policy) || strings.Contains(out, "UNSAFE") != c.unsafe {
			t.Errorf("%s: stats: exit %d, %q, %q; want an eviction line naming it, UNSAFE %v", c.policy, code, out, errOut, c.unsafe)
		}
		var st map[string]interface{}
		_, out, _ = cli(t, []string{"--redis", addr}, "stats", "--json")
		if json.Unmarshal([]byte(out), &st) != nil || st["eviction_policy"] != c.policy || st["eviction_unsafe"] != c.unsafe {
			t.Errorf("%s: stats --json: %s; want eviction_policy %q, eviction_unsafe %v", c.policy, out, c.policy, c.unsafe)
		}
	}
}
