package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"go/parser"
	"go/token"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// setup returns a store with sessions and the flags that reach its Redis.
func setup(t *testing.T) (*core.Store, []string, map[string]*core.Session) {
	t.Helper()
	store, flags, made, _ := setupServer(t)
	return store, flags, made
}

// setupServer is setup that returns the server too.
func setupServer(t *testing.T) (*core.Store, []string, map[string]*core.Session, *redistest.Server) {
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
	return store, flags, made, srv
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
	// With sessions stored, memory is measured or said to be unknown: never
	// a made-up 0 B (TestStatsMemory).
	if strings.Contains(out, "session memory  0 B") {
		t.Errorf("stats printed zero memory for stored sessions: %q", out)
	}
	code, out, _ = cli(t, flags, "--json", "stats")
	var st map[string]interface{}
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != 3.0 || st["users"] != 2.0 {
		t.Errorf("stats --json: exit %d, %q", code, out)
	}

	code, out, _ = cli(t, flags, "user", "alice")
	if code != exitOK || !strings.Contains(out, "Firefox on Linux") || !strings.Contains(out, alice.Handle()) || strings.Contains(out, "curl") {
		t.Errorf("user alice: exit %d, output %q", code, out)
	}
	code, out, errOut := cli(t, flags, "--json", "inspect", alice.Handle())
	var info map[string]interface{}
	if code != exitOK || json.Unmarshal([]byte(out), &info) != nil || info["user_id"] != "alice" || info["user_agent"] != "Safari on iPhone" {
		t.Errorf("inspect --json: exit %d, %q, stderr %q", code, out, errOut)
	}
	for _, s := range made {
		if _, o, e := cli(t, flags, "--json", "user", "alice"); strings.Contains(o+e, s.Token()) || strings.Contains(o, "secret payload") {
			t.Errorf("output shows a token or a payload")
		}
	}

	if code, _, errOut = cli(t, flags, "revoke", alice.Handle()); code != exitOK {
		t.Errorf("revoke: exit %d, stderr %q", code, errOut)
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

// TestFlagsAnywhere: flags work before and after the command, a word that
// starts with "-" after the command is a flag and never an argument, and
// "--" ends the flags.
func TestFlagsAnywhere(t *testing.T) {
	store, flags, made := setup(t)
	ctx := context.Background()
	weird := store.NewSession(core.Device{UserAgent: "weird"})
	weird.UserID = "--weird-id"
	if err := store.Save(ctx, weird); err != nil {
		t.Fatal(err)
	}

	// Flags after the command, and split around it.
	code, out, errOut := cli(t, nil, append([]string{"stats"}, flags...)...)
	if code != exitOK || !strings.Contains(out, "4") {
		t.Errorf("stats with flags after: exit %d, %q, %q", code, out, errOut)
	}
	code, out, errOut = cli(t, flags[:2], append([]string{"--json", "stats"}, flags[2:]...)...)
	var st map[string]interface{}
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != 4.0 {
		t.Errorf("flags around stats: exit %d, %q, %q", code, out, errOut)
	}
	var list []map[string]interface{}
	for _, args := range [][]string{{"user", "alice", "--json"}, {"user", "--json", "alice"}, {"user", "-json", "alice"}, {"user", "--json=true", "alice"}} {
		code, out, errOut = cli(t, flags, args...)
		if code != exitOK || json.Unmarshal([]byte(out), &list) != nil || len(list) != 2 {
			t.Errorf("%q: exit %d, %q, %q; want alice's 2 sessions as JSON", args, code, out, errOut)
		}
	}
	code, out, _ = cli(t, flags, "user", "alice", "--json=false")
	if code != exitOK || !strings.Contains(out, "HANDLE") {
		t.Errorf("user alice --json=false: exit %d, %q; want a table", code, out)
	}

	// A word that looks like a flag is one: never a user id.
	code, out, errOut = cli(t, flags, "user", "--weird-id")
	if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "redisession: unknown flag --weird-id\n") {
		t.Errorf("user --weird-id: exit %d, %q, %q; want an unknown flag", code, out, errOut)
	}
	// After "--" it is an argument, and so is everything after it.
	code, out, errOut = cli(t, flags, "user", "--", "--weird-id")
	if code != exitOK || !strings.Contains(out, weird.Handle()) {
		t.Errorf("user -- --weird-id: exit %d, %q, %q", code, out, errOut)
	}
	code, _, errOut = cli(t, flags, "user", "--", "--weird-id", "--json")
	if code != exitUsage || !strings.HasPrefix(errOut, `redisession: user: unexpected argument "--json"`) {
		t.Errorf("user -- --weird-id --json: exit %d, %q; want --json taken as an argument", code, errOut)
	}
	code, out, _ = cli(t, flags, "--", "inspect", made["curl/8"].Handle())
	if code != exitOK || !strings.Contains(out, "curl/8") {
		t.Errorf("-- inspect: exit %d, %q", code, out)
	}
	// "--" as a flag's value is a value, not the end of the flags.
	code, out, errOut = cli(t, flags, "--prefix", "--", "user", "alice", "--json")
	if code != exitNotFound || out != "" {
		t.Errorf("--prefix -- user alice --json: exit %d, %q, %q; want alice not found under prefix \"--\"", code, out, errOut)
	}
}

// TestHelp: -h, -help and --help print the usage once, to stdout, and exit 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"-help"}, {"--help"}, {"--h"}, {"stats", "--help"}, {"user", "-h"}, {"--json", "-help", "stats"}} {
		code, out, errOut := cli(t, nil, args...)
		if code != exitOK || errOut != "" || strings.Count(out, "usage:") != 1 || strings.Contains(out, "flag:") || !strings.Contains(out, "--redis") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want the usage once on stdout", args, code, out, errOut)
		}
	}
	// After "--", -h is an argument.
	if code, out, errOut := cli(t, nil, "user", "--", "-h", "extra"); code != exitUsage || out != "" || !strings.HasPrefix(errOut, `redisession: user: unexpected argument "extra"`) {
		t.Errorf("user -- -h extra: exit %d, %q, %q", code, out, errOut)
	}
}

// TestUsage: every usage error says in one line what was wrong, then prints
// the usage, on stderr, and exits 2.
func TestUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "missing command"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"--json"}, "missing command"},
		{[]string{"user"}, "user: missing user id"},
		{[]string{"revoke-user", "--json"}, "revoke-user: missing user id"},
		{[]string{"inspect"}, "inspect: missing handle"},
		{[]string{"revoke"}, "revoke: missing handle"},
		{[]string{"revoke", "a", "b"}, `revoke: unexpected argument "b"`},
		{[]string{"stats", "x"}, `stats: unexpected argument "x"`},
		{[]string{"--bogus", "stats"}, "unknown flag --bogus"},
		{[]string{"stats", "-x"}, "unknown flag -x"},
		{[]string{"stats", "---json"}, "unknown flag ---json"},
		{[]string{"stats", "--timeout"}, "--timeout needs a value"},
		{[]string{"--timeout", "soon", "stats"}, `bad value "soon" for --timeout: want a duration`},
		{[]string{"stats", "--timeout=soon"}, `bad value "soon" for --timeout: want a duration`},
		{[]string{"stats", "--json=maybe"}, `bad value "maybe" for --json: want true or false`},
	} {
		code, out, errOut := cli(t, nil, c.args...)
		first, rest, _ := strings.Cut(errOut, "\n")
		if code != exitUsage || out != "" || !strings.HasPrefix(first, "redisession: ") || !strings.Contains(first, c.want) ||
			!strings.HasPrefix(rest, "usage:") || strings.Count(errOut, "usage:") != 1 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %d and %q, then the usage", c.args, code, out, errOut, exitUsage, c.want)
		}
	}
	if code, _, _ := cli(t, []string{"--redis", "redis://127.0.0.1:1/0", "--timeout", "1s"}, "stats"); code != exitFailed {
		t.Errorf("unreachable Redis: exit %d, want %d", code, exitFailed)
	}
}

// TestRedisFlag: --redis takes redis:// and rediss:// URLs and a bare
// host:port; anything else is a usage error that names the flag.
func TestRedisFlag(t *testing.T) {
	_, _, _, srv := setupServer(t)
	if srv.Kind == "miniredis" || srv.Kind == "redis" {
		addr := srv.Addrs()[0]
		code, out, errOut := cli(t, []string{"--prefix", srv.Prefix, "--json"}, "stats", "--redis", addr)
		var st map[string]interface{}
		if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != 3.0 {
			t.Errorf("--redis %s: exit %d, %q, %q", addr, code, out, errOut)
		}
	}
	// Accepted, and then the connection fails: exit 1, not a usage error.
	for _, v := range []string{"127.0.0.1:1", "redis://127.0.0.1:1/0", "rediss://127.0.0.1:1", "[::1]:1"} {
		code, _, errOut := cli(t, []string{"--redis", v, "--timeout", "1s"}, "stats")
		if code != exitFailed || strings.Contains(errOut, "usage:") || strings.Contains(errOut, "--redis") {
			t.Errorf("--redis %s: exit %d, %q; want it accepted and the connection to fail", v, code, errOut)
		}
	}
	for _, c := range []struct{ value, want string }{
		{"ftp://x", `scheme "ftp" is not redis or rediss`},
		{"localhost", `"localhost" is not a URL nor host:port (missing port in address)`},
		{"127.0.0.1:6379/0", `port "6379/0" is not a number`},
		{"127.0.0.1:0", `port "0" is not a number`},
		{":6379", "no host"},
		{"user:secret@127.0.0.1:6379", "the value is not a URL nor host:port"},
		{"redis://127.0.0.1:x", "--redis: "},
	} {
		code, _, errOut := cli(t, []string{"--redis", c.value}, "stats")
		first, rest, _ := strings.Cut(errOut, "\n")
		if code != exitUsage || !strings.HasPrefix(first, "redisession: --redis: ") || !strings.Contains(first, c.want) ||
			strings.Contains(first, "first path segment") || strings.Contains(first, "secret") || !strings.HasPrefix(rest, "usage:") {
			t.Errorf("--redis %s: exit %d, %q; want %d and %q", c.value, code, errOut, exitUsage, c.want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--sentinel", "127.0.0.1:1"}, "--sentinel needs --master"},
		{[]string{"--master", "m"}, "--master needs --sentinel"},
		{[]string{"--sentinel", "127.0.0.1:1", "--master", "m", "--redis", "127.0.0.1:1"}, "--redis and --sentinel do not go together"},
	} {
		code, _, errOut := cli(t, c.args, "stats")
		if first, _, _ := strings.Cut(errOut, "\n"); code != exitUsage || !strings.Contains(first, c.want) {
			t.Errorf("%q: exit %d, %q; want %d and %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}

// refuse is a go-redis hook that answers a command as a server without it
// does.
type refuse string

func (refuse) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r refuse) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() == string(r) {
			err := fmt.Errorf("ERR unknown command '%s'", cmd.Name())
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (refuse) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// TestStatsMemory: memory the server measured is a number; memory it did
// not measure is null in JSON and missing from the table, never 0.
func TestStatsMemory(t *testing.T) {
	_, flags, _, srv := setupServer(t)
	var st map[string]interface{}
	positive := func(k string) bool { v, ok := st[k].(float64); return ok && v > 0 }

	// Measured: a real Redis answers MEMORY USAGE.
	if srv.Real() {
		code, out, errOut := cli(t, flags, "stats", "--json")
		if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || !positive("session_bytes") || !positive("index_bytes") || !positive("bytes_per_session") || !positive("sampled") {
			t.Errorf("stats --json: exit %d, %s, %q; want memory figures above 0", code, out, errOut)
		}
		code, out, _ = cli(t, flags, "stats")
		if code != exitOK || !strings.Contains(out, "session memory") || !strings.Contains(out, "per session") || strings.Contains(out, " 0 B") || strings.Contains(out, "not measured") {
			t.Errorf("stats: exit %d, %q; want measured memory", code, out)
		}
	}

	// Not measured: a server that refuses MEMORY (miniredis answers only
	// "MEMORY USAGE" in capitals, and go-redis sends "memory usage").
	clientHook = refuse("memory")
	defer func() { clientHook = nil }()
	code, out, errOut := cli(t, flags, "stats", "--json")
	st = nil
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != 3.0 {
		t.Fatalf("stats --json without MEMORY: exit %d, %s, %q", code, out, errOut)
	}
	for _, k := range []string{"session_bytes", "index_bytes", "bytes_per_session"} {
		if v, ok := st[k]; !ok || v != nil {
			t.Errorf("stats --json without MEMORY: %s = %v (present %v), want null", k, v, ok)
		}
	}
	code, out, _ = cli(t, flags, "stats")
	if code != exitOK || strings.Contains(out, "session memory") || strings.Contains(out, "index memory") || strings.Contains(out, "per session") ||
		strings.Contains(out, " B\n") || strings.Contains(out, "sampled") || !strings.Contains(out, "not measured for session keys and user indexes") {
		t.Errorf("stats without MEMORY: exit %d, %q; want no memory figures and a note", code, out)
	}
	clientHook = nil

	// Nothing stored: 0 bytes is a true figure; bytes per session has none.
	empty := append(append([]string(nil), flags...), "--prefix", srv.Prefix+"empty[*]:")
	code, out, errOut = cli(t, empty, "stats", "--json")
	st = nil
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != 0.0 || st["session_bytes"] != 0.0 || st["index_bytes"] != 0.0 || st["bytes_per_session"] != nil {
		t.Errorf("stats --json of an empty store: exit %d, %s, %q; want 0 bytes and no per-session figure", code, out, errOut)
	}
	if code, out, _ = cli(t, empty, "stats"); code != exitOK || strings.Contains(out, "per session") || strings.Contains(out, "not measured") {
		t.Errorf("stats of an empty store: exit %d, %q", code, out)
	}
}

// TestStatsBound: stats tells sessions bound to a user from anonymous ones,
// counting only live sessions the indexes list: not the indexes'
// bookkeeping members, nor entries whose session idled out.
func TestStatsBound(t *testing.T) {
	store, flags, made, srv := setupServer(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if err := store.Save(ctx, store.NewSession(core.Device{UserAgent: "anonymous"})); err != nil {
			t.Fatal(err)
		}
	}
	raw := srv.NewClient(t, nil)
	alice := made["Firefox on Linux"]
	future := float64(time.Now().Add(time.Hour).UnixMilli())
	if err := raw.ZAdd(ctx, store.IndexKey("alice"),
		redis.Z{Score: future, Member: "\x00" + alice.Handle()},
		redis.Z{Score: future, Member: "\x01" + core.NewToken()},
	).Err(); err != nil {
		t.Fatal(err)
	}
	check := func(what string, sessions, bound, anonymous float64) {
		t.Helper()
		var st map[string]interface{}
		code, out, errOut := cli(t, flags, "stats", "--json")
		if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["sessions"] != sessions || st["bound_sessions"] != bound || st["anonymous_sessions"] != anonymous {
			t.Errorf("%s: stats --json: exit %d, %s, %q; want %v sessions, %v bound, %v anonymous", what, code, out, errOut, sessions, bound, anonymous)
		}
		code, out, _ = cli(t, flags, "stats")
		want := fmt.Sprintf("sessions %v | with a user %v | anonymous %v | users", sessions, bound, anonymous)
		if code != exitOK || !strings.HasPrefix(words(out), want) {
			t.Errorf("%s: stats: exit %d, %q; want it to start with %q", what, code, out, want)
		}
	}
	check("3 bound, 2 anonymous", 5, 3, 2)

	// A session that idled out leaves its entry in the index until its
	// deadline: it is not a bound session any more.
	if err := raw.Del(ctx, store.SessionKey(alice.Handle())).Err(); err != nil {
		t.Fatal(err)
	}
	check("one idled out", 4, 2, 2)

	// A revoke's tombstone is not a session: it is counted on its own.
	tomb := store.SessionKey(core.Handle(core.NewToken()))
	if err := raw.RPush(ctx, tomb, "revoked").Err(); err != nil {
		t.Fatal(err)
	}
	raw.PExpire(ctx, tomb, time.Hour)
	check("and a tombstone", 4, 2, 2)
	var st map[string]interface{}
	if _, out, _ := cli(t, flags, "stats", "--json"); json.Unmarshal([]byte(out), &st) != nil || st["other_keys"] != float64(1) {
		t.Errorf("stats --json with a tombstone: %s; want other_keys 1", out)
	}
}

// words is text with each line's runs of spaces made one, and lines
// joined by " | ".
func words(text string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return strings.Join(lines, " | ")
}

// TestUsers: users lists every user with an index and their live sessions,
// without the indexes' bookkeeping members or idled-out entries, a page at
// a time.
func TestUsers(t *testing.T) {
	store, flags, made, srv := setupServer(t)
	ctx := context.Background()
	raw := srv.NewClient(t, nil)
	login := func(user string) *core.Session {
		x := store.NewSession(core.Device{})
		x.UserID = user
		if err := store.Save(ctx, x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	future := float64(time.Now().Add(time.Hour).UnixMilli())
	if err := raw.ZAdd(ctx, store.IndexKey("alice"),
		redis.Z{Score: future, Member: "\x00" + made["Firefox on Linux"].Handle()},
		redis.Z{Score: future, Member: "\x01" + core.NewToken()},
	).Err(); err != nil {
		t.Fatal(err)
	}
	gone := login("carol x") // idles out: its entry stays in the index
	if err := raw.Del(ctx, store.SessionKey(gone.Handle())).Err(); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, store.NewSession(core.Device{})); err != nil { // anonymous: in no index
		t.Fatal(err)
	}

	type page struct {
		Users []struct {
			User     string  `json:"user"`
			Sessions float64 `json:"sessions"`
		} `json:"users"`
		Cursor *string `json:"cursor"`
	}
	code, out, errOut := cli(t, flags, "users", "--json")
	var p page
	if code != exitOK || json.Unmarshal([]byte(out), &p) != nil || p.Cursor == nil || *p.Cursor != "" || fmt.Sprint(p.Users) != "[{alice 2} {bob 1} {carol x 0}]" {
		t.Errorf("users --json: exit %d, %s, %q; want alice 2, bob 1, carol x 0 and an empty cursor", code, out, errOut)
	}
	code, out, _ = cli(t, flags, "users")
	if code != exitOK || words(out) != `alice 2 | bob 1 | "carol x" 0` {
		t.Errorf("users: exit %d, %q", code, out)
	}

	// Pages of about one user each, to the end.
	for i := 0; i < 10; i++ {
		login(fmt.Sprintf("p%d", i))
	}
	seen := map[string]float64{}
	pages := 0
	for cursor := ""; ; pages++ {
		if pages > 100 {
			t.Fatalf("users --count 1: no end after %d pages", pages)
		}
		code, out, errOut = cli(t, flags, "users", "--json", "--count", "1", "--cursor", cursor)
		p = page{}
		if code != exitOK || json.Unmarshal([]byte(out), &p) != nil || p.Cursor == nil {
			t.Fatalf("users --count 1 --cursor %q: exit %d, %s, %q", cursor, code, out, errOut)
		}
		for _, u := range p.Users {
			seen[u.User] = u.Sessions
		}
		if cursor = *p.Cursor; cursor == "" {
			break
		}
		if len(p.Users) == 0 {
			t.Errorf("users --count 1: an empty page with a cursor to go on from (%q)", cursor)
		}
	}
	if len(seen) != 13 || seen["alice"] != 2 || seen["bob"] != 1 || seen["carol x"] != 0 || seen["p9"] != 1 {
		t.Errorf("users in pages of 1: %v in %d pages; want 13 users", seen, pages+1)
	}
	t.Logf("users --count 1: %d users in %d pages", len(seen), pages+1)
	if srv.Real() && pages < 2 {
		t.Errorf("users --count 1 gave 13 users in %d pages", pages+1)
	}
	// A table page that is not the last ends with where to go on from.
	if srv.Real() {
		code, out, _ = cli(t, flags, "users", "--count", "1")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != exitOK || len(lines) < 2 || !strings.HasPrefix(lines[len(lines)-1], "next: ") {
			t.Errorf("users --count 1: exit %d, %q; want users, then next: <cursor>", code, out)
		}
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--count", "0"}, "bad value 0 for --count"},
		{[]string{"--count", "many"}, `bad value "many" for --count`},
		{[]string{"--cursor", "x"}, `--cursor "x": want a cursor users printed`},
		{[]string{"--cursor", "127.0.0.1:7000/5"}, "is a Cluster's, and --redis names one Redis"},
		{[]string{"x"}, `users: unexpected argument "x"`},
	} {
		if srv.Kind == "cluster" {
			break
		}
		code, _, errOut := cli(t, flags, append([]string{"users"}, c.args...)...)
		if first, rest, _ := strings.Cut(errOut, "\n"); code != exitUsage || !strings.Contains(first, c.want) || !strings.HasPrefix(rest, "usage:") {
			t.Errorf("users %q: exit %d, %q; want %d and %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}

// TestUsersCluster: on a Cluster (miniredis answers CLUSTER SLOTS as one
// primary with every slot) users and stats walk every primary, and a cursor
// names its primary.
func TestUsersCluster(t *testing.T) {
	_, _, _, srv := setupServer(t)
	if srv.Kind != "miniredis" {
		t.Skip("a Cluster client over miniredis")
	}
	addr := srv.Addrs()[0]
	flags := []string{"--prefix", srv.Prefix, "--redis", "redis://" + addr + "?addr=" + addr}
	code, out, errOut := cli(t, flags, "users")
	if code != exitOK || words(out) != "alice 2 | bob 1" {
		t.Errorf("users on a Cluster: exit %d, %q, %q", code, out, errOut)
	}
	var st map[string]interface{}
	code, out, errOut = cli(t, flags, "stats", "--json")
	if code != exitOK || json.Unmarshal([]byte(out), &st) != nil || st["bound_sessions"] != 3.0 || st["anonymous_sessions"] != 0.0 {
		t.Errorf("stats on a Cluster: exit %d, %s, %q", code, out, errOut)
	}
	if code, out, _ = cli(t, flags, "users", "--cursor", addr+"/0"); code != exitOK || words(out) != "alice 2 | bob 1" {
		t.Errorf("users --cursor %s/0: exit %d, %q", addr, code, out)
	}
	code, _, errOut = cli(t, flags, "users", "--cursor", "192.0.2.1:7000/5")
	if code != exitFailed || !strings.Contains(errOut, "not a primary of this Cluster") || strings.Contains(errOut, "usage:") {
		t.Errorf("users --cursor of another node: exit %d, %q", code, errOut)
	}
	code, _, errOut = cli(t, flags, "users", "--cursor", "5")
	if code != exitUsage || !strings.HasPrefix(errOut, `redisession: --cursor "5": on a Cluster, want a cursor users printed (<host:port>/<number>)`) {
		t.Errorf("users --cursor 5 on a Cluster: exit %d, %q", code, errOut)
	}
}

// TestDocMatchesUsage: the package doc holds the usage line for line, and
// the usage names every command and flag.
func TestDocMatchesUsage(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "main.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil || f.Doc == nil {
		t.Fatalf("main.go: no package doc: %v", err)
	}
	doc := f.Doc.Text()
	indented := "\t" + strings.ReplaceAll(strings.TrimSuffix(usageText, "\n"), "\n", "\n\t")
	indented = strings.ReplaceAll(indented, "\t\n", "\n") // gofmt keeps no tab on an empty line
	if !strings.Contains(doc, indented+"\n") {
		t.Errorf("the package doc does not hold the usage as it is:\n%s", usageText)
	}
	for cmd := range commands {
		if !strings.Contains(usageText, "\n  "+cmd+" ") {
			t.Errorf("the usage does not list the command %s", cmd)
		}
	}
	flags(&config{}).VisitAll(func(fl *flag.Flag) {
		if !strings.Contains(usageText, "\n  --"+fl.Name+" ") {
			t.Errorf("the usage does not list the flag --%s", fl.Name)
		}
	})
	if !strings.Contains(usageText, "-h, --help") {
		t.Errorf("the usage does not list -h, --help")
	}
}
