package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// setup returns a store with sessions and the flags that reach its Redis.
func setup(t *testing.T) (*core.Store, []string, map[string]*core.Session) {
	t.Helper()
	srv := redistest.Start(t)
	store := core.New(srv.NewClient(t, nil), core.Options{Prefix: srv.Prefix, Now: srv.Now})
	ctx := context.Background()
	made := map[string]*core.Session{}
	for _, d := range []struct{ user, agent string }{{"alice", "Firefox on Linux"}, {"alice", "Safari on iPhone"}, {"bob", "curl/8"}} {
		x := store.NewSession(core.Device{UserAgent: d.agent, RemoteAddr: "192.0.2.7:5000"})
		x.UserID, x.Data = d.user, []byte("secret payload")
		if err := store.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		made[d.agent] = x
	}
	flags := []string{"--prefix", srv.Prefix}
	addrs := srv.Addrs()
	switch srv.Kind {
	case "sentinel":
		flags = append(flags, "--sentinel", strings.Join(addrs, ","), "--master", srv.MasterName())
	case "cluster":
		url := "redis://" + addrs[0] + "?addr=" + strings.Join(addrs[1:], "&addr=")
		flags = append(flags, "--redis", url)
	default:
		flags = append(flags, "--redis", "redis://"+addrs[0]+"/0")
	}
	return store, flags, made
}

func cli(t *testing.T, flags []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), append(append([]string(nil), flags...), args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestCommands(t *testing.T) {
	store, flags, made := setup(t)
	alice := made["Safari on iPhone"]

	code, out, _ := cli(t, flags, "stats")
	if code != exitOK || !strings.Contains(out, "sessions") || !strings.Contains(out, "3") {
		t.Errorf("stats: exit %d, output %q", code, out)
	}
	// With sessions stored, memory is measured (real server) or said to be
	// unknown (miniredis has no MEMORY USAGE): never a made-up 0 B.
	if strings.Contains(out, "session memory  0 B") {
		t.Errorf("stats printed zero memory for stored sessions: %q", out)
	}
	code, out, _ = cli(t, flags, "--json", "stats")
	var st map[string]float64
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != 3 || st["users"] != 2 {
		t.Errorf("stats --json: exit %d, %q", code, out)
	}

	code, out, _ = cli(t, flags, "user", "alice")
	if code != exitOK || !strings.Contains(out, "Firefox on Linux") || !strings.Contains(out, alice.Handle()) || strings.Contains(out, "curl") {
		t.Errorf("user alice: exit %d, output %q", code, out)
	}
	code, out, _ = cli(t, flags, "--json", "inspect", alice.Handle())
	var info map[string]interface{}
	if code != exitOK || json.Unmarshal([]byte(out), &info) != nil || info["user_id"] != "alice" || info["user_agent"] != "Safari on iPhone" {
		t.Errorf("inspect --json: exit %d, %q", code, out)
	}
	for _, s := range made {
		if _, o, e := cli(t, flags, "--json", "user", "alice"); strings.Contains(o+e, s.Token()) || strings.Contains(o, "secret payload") {
			t.Errorf("output shows a token or a payload")
		}
	}

	if code, _, _ = cli(t, flags, "revoke", alice.Handle()); code != exitOK {
		t.Errorf("revoke: exit %d", code)
	}
	if _, err := store.Load(context.Background(), alice.Token()); err == nil {
		t.Errorf("revoked session still loads")
	}
	if code, _, _ = cli(t, flags, "revoke", alice.Handle()); code != exitNotFound {
		t.Errorf("revoke again: exit %d, want %d", code, exitNotFound)
	}
	code, out, _ = cli(t, flags, "revoke-user", "alice")
	if code != exitOK || !strings.Contains(out, "revoked 1 session") {
		t.Errorf("revoke-user: exit %d, %q", code, out)
	}
	if code, _, _ = cli(t, flags, "user", "alice"); code != exitNotFound {
		t.Errorf("user after revoke-user: exit %d, want %d", code, exitNotFound)
	}
	if code, _, _ = cli(t, flags, "user", "bob"); code != exitOK {
		t.Errorf("bob was hit by alice's revoke: exit %d", code)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"nope"}, {"user"}, {"revoke", "a", "b"}, {"--bogus", "stats"}, {"--redis", "ftp://x", "stats"}} {
		if code, _, errOut := cli(t, nil, args...); code != exitUsage || !strings.Contains(errOut, "usage") && !strings.Contains(errOut, "redisession:") {
			t.Errorf("%q: exit %d, stderr %q; want %d and a message", args, code, errOut, exitUsage)
		}
	}
	if code, _, _ := cli(t, []string{"--redis", "redis://127.0.0.1:1/0", "--timeout", "1s"}, "stats"); code != exitFailed {
		t.Errorf("unreachable Redis: exit %d, want %d", code, exitFailed)
	}
}
