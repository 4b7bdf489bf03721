// Command redisession answers an operator's questions about the sessions in
// a Redis: how many are live, how many are bound to a user, and how much
// memory they take; who has sessions; what a user's sessions are; and it
// ends them.
//
//	usage: redisession [flags] <command> [flags]
//
//	commands:
//	  stats             sessions (with a user, anonymous), users, memory
//	  users             users and their live sessions, a page at a time (--count, --cursor)
//	  user <id>         a user's sessions, with devices
//	  revoke-user <id>  end every session of a user
//	  revoke <handle>   end one session
//	  inspect <handle>  one session's metadata (never its token or data)
//	  check             the server settings that can break a guarantee (version, eviction, persistence, replicas)
//
//	flags, before or after the command ("--" ends them):
//	  --redis ADDR      redis://[user:pass@]host:port[/db], rediss://... (TLS), or host:port
//	                    (default redis://127.0.0.1:6379/0); a Cluster: redis://h1:p1?addr=h2:p2&addr=h3:p3
//	  --sentinel ADDRS  Sentinel addresses, comma-separated (with --master)
//	  --master NAME     the Sentinel master name
//	  --prefix P        the stores' key prefix (core.Options.Prefix)
//	  --json            JSON instead of tables, for scripts
//	  --timeout D       give up after D (default 5m for stats and users, 10s otherwise)
//	  --count N         users: at least N users a page unless the walk ends (default 100)
//	  --cursor C        users: go on from the cursor the last page printed
//	  -h, --help        this help
//
//	exit status: 0 done, 1 Redis failed, 2 bad usage, 3 no such session or user, 4 check found a setting unsafe
//
// Flags go before or after the command, with one dash or two. A word that
// starts with "-" is always a flag, never a user id or handle; "--" ends the
// flags, so "redisession user -- -x" looks up the user "-x". -h, -help and
// --help print the usage on stdout and exit 0. A usage error says what is
// wrong in one line, then prints the usage, on stderr, and exits 2.
//
// stats walks the keyspace with SCAN on every primary (never KEYS):
// core.Store.Stats counts sessions, those bound to a user, and user
// indexes, and estimates their memory from MEMORY USAGE of a sample. Memory
// that was not measured (a server without MEMORY USAGE) is null in --json
// and left out of the table, never 0. Its "eviction" line (eviction_policy
// and eviction_unsafe in --json) names the maxmemory-policy and says UNSAFE
// when the server may evict user indexes.
//
// check runs core.Store.CheckServer on every primary and prints each
// finding (ok, warning, unsafe) with the guarantee it costs and the fix;
// it exits 4 when one is unsafe, so a deploy script can stop on it. The
// application's own client options are checked only from the application
// (CheckServer there), not here.
//
// users lists every user index, sorted by user within a page, with the
// user's live sessions: not the indexes' bookkeeping members, nor entries
// whose session idled out (an index keeps them until their deadline, so a
// user may be listed with 0). A page holds at least --count users unless
// the walk ends, and says where to go on from: "next: <cursor>" as the
// table's last line (no such line at the end), "cursor" in JSON ("" at the
// end):
//
//	{"users":[{"user":"u1","sessions":2}],"cursor":"1234"}
//
// On a Cluster one cursor pages across every primary: the walk goes through
// the primaries in address order and the cursor is "<host:port>/<cursor>".
// After a failover or a resharding the cursor may name a node that is no
// longer a primary (start again without --cursor), and a user whose index
// moved during the walk may be listed twice or missed, as SCAN allows.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitNotFound = 3
	exitUnsafe   = 4
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) { fmt.Fprint(w, usageText) }

// usageText is also in the package doc, line for line (TestDocMatchesUsage).
const usageText = `usage: redisession [flags] <command> [flags]

commands:
  stats             sessions (with a user, anonymous), users, memory
  users             users and their live sessions, a page at a time (--count, --cursor)
  user <id>         a user's sessions, with devices
  revoke-user <id>  end every session of a user
  revoke <handle>   end one session
  inspect <handle>  one session's metadata (never its token or data)
  check             the server settings that can break a guarantee (version, eviction, persistence, replicas)

flags, before or after the command ("--" ends them):
  --redis ADDR      redis://[user:pass@]host:port[/db], rediss://... (TLS), or host:port
                    (default redis://127.0.0.1:6379/0); a Cluster: redis://h1:p1?addr=h2:p2&addr=h3:p3
  --sentinel ADDRS  Sentinel addresses, comma-separated (with --master)
  --master NAME     the Sentinel master name
  --prefix P        the stores' key prefix (core.Options.Prefix)
  --json            JSON instead of tables, for scripts
  --timeout D       give up after D (default 5m for stats and users, 10s otherwise)
  --count N         users: at least N users a page unless the walk ends (default 100)
  --cursor C        users: go on from the cursor the last page printed
  -h, --help        this help

exit status: 0 done, 1 Redis failed, 2 bad usage, 3 no such session or user, 4 check found a setting unsafe
`

// usageError is a mistake in the command line: exit 2, with the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...interface{}) error {
	return usageError{fmt.Sprintf(format, a...)}
}

// config is what the command line says.
type config struct {
	url, sentinel, master, prefix string
	json                          bool
	timeout                       time.Duration
	count                         int64           // users
	cursor                        string          // users
	set                           map[string]bool // flags given
}

// commands and the argument each takes ("" for none).
var commands = map[string]string{
	"stats": "", "users": "", "user": "user id", "revoke-user": "user id", "revoke": "handle", "inspect": "handle", "check": "",
}

// flags returns the flags, which set cfg. They print nothing: run prints
// the usage.
func flags(cfg *config) *flag.FlagSet {
	fs := flag.NewFlagSet("redisession", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&cfg.url, "redis", "redis://127.0.0.1:6379/0", "")
	fs.StringVar(&cfg.sentinel, "sentinel", "", "")
	fs.StringVar(&cfg.master, "master", "", "")
	fs.StringVar(&cfg.prefix, "prefix", "", "")
	fs.BoolVar(&cfg.json, "json", false, "")
	fs.DurationVar(&cfg.timeout, "timeout", 0, "")
	fs.Int64Var(&cfg.count, "count", 100, "")
	fs.StringVar(&cfg.cursor, "cursor", "", "")
	return fs
}

// parseArgs reads flags wherever they are, before or after the command:
// every word that starts with "-" is a flag (the flag package alone stops at
// the first word that is not), until "--", after which every word is an
// argument. It returns flag.ErrHelp for -h, -help and --help.
func parseArgs(args []string) (config, []string, error) {
	var cfg config
	fs := flags(&cfg)
	var words []string
	for i := 0; i < len(args); {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			i++
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		name, _, hasValue := strings.Cut(name, "=")
		if name == "h" || name == "help" {
			return cfg, nil, flag.ErrHelp
		}
		f := fs.Lookup(name)
		if f == nil || name == "" || strings.HasPrefix(name, "-") {
			return cfg, nil, usagef("unknown flag %s", a)
		}
		n := 1 // the flag alone: -json, -json=false, -redis=URL
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) {
			if i+1 == len(args) {
				return cfg, nil, usagef("--%s needs a value", name)
			}
			n = 2 // -redis URL
		}
		if err := fs.Parse(args[i : i+n]); err != nil {
			value := args[i+n-1]
			if hasValue {
				_, value, _ = strings.Cut(a, "=")
			}
			return cfg, nil, usagef("bad value %q for --%s%s", value, name, flagHints[name])
		}
		i += n
	}
	cfg.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { cfg.set[f.Name] = true })
	return cfg, words, nil
}

// flagHints say what a flag's value should look like.
var flagHints = map[string]string{
	"json":    ": want true or false",
	"timeout": ": want a duration such as 30s or 5m",
	"count":   ": want a whole number of users, at least 1",
}

// checkCommand says what is wrong with the command, its arguments and the
// flags that only one command takes.
func checkCommand(cfg config, words []string) error {
	if len(words) == 0 {
		return usagef("missing command")
	}
	cmd := words[0]
	arg, ok := commands[cmd]
	switch {
	case !ok:
		return usagef("unknown command %q", cmd)
	case arg != "" && len(words) < 2:
		return usagef("%s: missing %s", cmd, arg)
	case arg == "" && len(words) > 1:
		return usagef("%s: unexpected argument %q", cmd, words[1])
	case len(words) > 2:
		return usagef("%s: unexpected argument %q", cmd, words[2])
	case cmd != "users" && (cfg.set["count"] || cfg.set["cursor"]):
		return usagef("%s: --count and --cursor are for users", cmd)
	case cfg.count < 1:
		return usagef("bad value %d for --count%s", cfg.count, flagHints["count"])
	}
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, words, err := parseArgs(args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	if err == nil {
		err = checkCommand(cfg, words)
	}
	var client redis.UniversalClient
	if err == nil {
		client, err = connect(cfg)
	}
	var from cursor
	if err == nil && words[0] == "users" {
		_, cluster := client.(*redis.ClusterClient)
		if from, err = parseCursor(cfg.cursor, cluster); err != nil {
			client.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "redisession:", err)
		usage(stderr)
		return exitUsage
	}
	defer client.Close()
	cmd, rest := words[0], words[1:]
	if cfg.timeout <= 0 {
		cfg.timeout = 10 * time.Second
		if cmd == "stats" || cmd == "users" {
			cfg.timeout = 5 * time.Minute
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	store := core.New(client, core.Options{Prefix: cfg.prefix})
	out := output{w: stdout, json: cfg.json}

	switch cmd {
	case "stats":
		err = stats(ctx, store, client, out, stderr)
	case "users":
		err = users(ctx, store, client, out, from, cfg.count)
	case "user":
		err = user(ctx, store, out, rest[0])
	case "revoke-user":
		var n int
		if n, err = store.RevokeUser(ctx, rest[0]); err == nil {
			if n == 0 {
				err = fmt.Errorf("%w: user %q has no sessions", core.ErrNotFound, rest[0])
			} else {
				out.print(map[string]interface{}{"user": rest[0], "revoked": n},
					fmt.Sprintf("revoked %d session(s) of user %q\n", n, rest[0]))
			}
		}
	case "revoke":
		if err = store.RevokeHandle(ctx, rest[0]); err == nil {
			out.print(map[string]interface{}{"handle": rest[0], "revoked": 1}, "revoked session "+rest[0]+"\n")
		}
	case "check":
		var unsafe bool
		if unsafe, err = check(ctx, store, out); err == nil && unsafe {
			return exitUnsafe
		}
	case "inspect":
		var info core.SessionInfo
		if info, err = store.Inspect(ctx, rest[0]); err == nil {
			out.sessions([]core.SessionInfo{info}, true)
		}
	}
	if err == nil {
		return exitOK
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "redisession:") {
		msg = "redisession: " + msg
	}
	fmt.Fprintln(stderr, msg)
	if errors.Is(err, core.ErrNotFound) {
		return exitNotFound
	}
	return exitFailed
}

// clientHook, if set, is added to every client connect builds: tests use
// it to stand in for a server that refuses a command.
var clientHook redis.Hook

// connect builds the client the flags describe. It does not dial: a client
// connects on its first command.
func connect(cfg config) (redis.UniversalClient, error) {
	c, err := newClient(cfg)
	if err == nil && clientHook != nil {
		c.AddHook(clientHook)
		if cc, ok := c.(*redis.ClusterClient); ok {
			cc.OnNewNode(func(n *redis.Client) { n.AddHook(clientHook) })
		}
	}
	return c, err
}

func newClient(cfg config) (redis.UniversalClient, error) {
	if cfg.sentinel != "" {
		if cfg.master == "" {
			return nil, usagef("--sentinel needs --master")
		}
		if cfg.set["redis"] {
			return nil, usagef("--redis and --sentinel do not go together: give one")
		}
		return redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(cfg.sentinel, ","), MasterName: cfg.master,
			ContextTimeoutEnabled: true}), nil
	}
	if cfg.master != "" {
		return nil, usagef("--master needs --sentinel")
	}
	url, err := redisURL(cfg.url)
	if err != nil {
		return nil, err
	}
	if strings.Contains(url, "addr=") {
		o, err := redis.ParseClusterURL(url)
		if err != nil {
			return nil, usagef("--redis: %v", err)
		}
		o.ContextTimeoutEnabled = true // --timeout bounds a stalled server too
		return redis.NewClusterClient(o), nil
	}
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, usagef("--redis: %v", err)
	}
	o.ContextTimeoutEnabled = true // --timeout bounds a stalled server too
	return redis.NewClient(o), nil
}

// redisURL turns the --redis value into a URL: redis:// and rediss:// URLs
// as they are, a bare host:port as redis://host:port. The errors never
// repeat a value that may hold a password.
func redisURL(v string) (string, error) {
	if strings.HasPrefix(v, "redis://") || strings.HasPrefix(v, "rediss://") {
		return v, nil
	}
	const want = "want redis://[user:pass@]host:port[/db], rediss://... or host:port"
	if scheme, _, ok := strings.Cut(v, "://"); ok {
		return "", usagef("--redis: scheme %q is not redis or rediss: %s", scheme, want)
	}
	host, port, err := net.SplitHostPort(v)
	if err == nil && host == "" {
		err = errors.New("no host")
	}
	if n, perr := strconv.ParseUint(port, 10, 16); err == nil && (perr != nil || n == 0) {
		err = fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	if err != nil {
		shown := fmt.Sprintf("%q", v)
		if strings.Contains(v, "@") {
			shown = "the value"
		}
		return "", usagef("--redis: %s is not a URL nor host:port (%v): %s", shown, unwrapAddrErr(err), want)
	}
	return "redis://" + v, nil
}

// unwrapAddrErr keeps the reason of a net.AddrError, which repeats the value.
func unwrapAddrErr(err error) error {
	var ae *net.AddrError
	if errors.As(err, &ae) {
		return errors.New(ae.Err)
	}
	return err
}

func stats(ctx context.Context, store *core.Store, client redis.UniversalClient, out output, stderr io.Writer) error {
	start := time.Now()
	progress := func(string) func(int64) { return nil }
	if isTerminal(stderr) {
		progress = func(what string) func(int64) {
			last := time.Now()
			return func(n int64) {
				if time.Since(last) > 200*time.Millisecond {
					last = time.Now()
					fmt.Fprintf(stderr, "\r\033[K%s %d…", what, n)
				}
			}
		}
		defer fmt.Fprint(stderr, "\r\033[K")
	}
	st, err := store.Stats(ctx, core.StatsOptions{Progress: progress("keys scanned:")})
	if err != nil {
		return err
	}
	took := time.Since(start)
	bound := st.Bound
	var sessionBytes, indexBytes *int64
	if st.MemoryKnown { // unknown stays nil: null in JSON, no line in the table
		sessionBytes, indexBytes = &st.SessionBytes, &st.IndexBytes
	}
	var per *int64
	if sessionBytes != nil && indexBytes != nil && st.Sessions > 0 {
		v := (*sessionBytes + *indexBytes) / st.Sessions
		per = &v
	}

	var b strings.Builder
	fmt.Fprintf(&b, "sessions\t%d\n  with a user\t%d\n  anonymous\t%d\nusers\t%d\n", st.Sessions, bound, st.Sessions-bound, st.Users)
	if st.Other > 0 {
		fmt.Fprintf(&b, "other keys\t%d (revocation tombstones, or data that is not a session)\n", st.Other)
	}
	var unmeasured []string
	if sessionBytes != nil {
		fmt.Fprintf(&b, "session memory\t%s\n", byteSize(*sessionBytes))
	} else {
		unmeasured = append(unmeasured, "session keys")
	}
	if indexBytes != nil {
		fmt.Fprintf(&b, "index memory\t%s\n", byteSize(*indexBytes))
	} else {
		unmeasured = append(unmeasured, "user indexes")
	}
	if per != nil {
		fmt.Fprintf(&b, "per session\t%s (index included)\n", byteSize(*per))
	}
	if len(unmeasured) > 0 {
		// No figure rather than a made-up 0 B.
		fmt.Fprintf(&b, "memory\tnot measured for %s: the server did not answer MEMORY USAGE\n", strings.Join(unmeasured, " and "))
	}
	var policy *string
	switch {
	case st.EvictionUnsafe:
		fmt.Fprintf(&b, "eviction\tUNSAFE: maxmemory-policy %s may evict user indexes, and a revoke then misses "+
			"their sessions (see check)\n", st.EvictionPolicy)
	case st.EvictionPolicy != "":
		fmt.Fprintf(&b, "eviction\t%s\n", st.EvictionPolicy)
	default:
		b.WriteString("eviction\tnot known: the server did not answer INFO memory\n")
	}
	if st.EvictionPolicy != "" {
		policy = &st.EvictionPolicy
	}
	fmt.Fprintf(&b, "scanned\t%d primar%s in %v", st.Primaries, plural(st.Primaries, "y", "ies"), took.Round(time.Millisecond))
	if st.Sampled > 0 {
		fmt.Fprintf(&b, " (memory from %d sampled keys)", st.Sampled)
	}
	b.WriteString("\n")
	out.print(statsJSON{
		Sessions: st.Sessions, Bound: bound, Anonymous: st.Sessions - bound, Other: st.Other, Users: st.Users,
		SessionBytes: sessionBytes, IndexBytes: indexBytes, BytesPerSession: per,
		EvictionPolicy: policy, EvictionUnsafe: st.EvictionUnsafe,
		Sampled: st.Sampled, Primaries: st.Primaries, TookMS: took.Milliseconds(),
	}, b.String())
	return nil
}

// statsJSON is stats --json. A figure that is not known is null, never 0.
type statsJSON struct {
	Sessions        int64   `json:"sessions"`
	Bound           int64   `json:"bound_sessions"`
	Anonymous       int64   `json:"anonymous_sessions"`
	Other           int64   `json:"other_keys"`
	Users           int64   `json:"users"`
	SessionBytes    *int64  `json:"session_bytes"`
	IndexBytes      *int64  `json:"index_bytes"`
	BytesPerSession *int64  `json:"bytes_per_session"`
	EvictionPolicy  *string `json:"eviction_policy"`
	EvictionUnsafe  bool    `json:"eviction_unsafe"`
	Sampled         int     `json:"sampled"`
	Primaries       int     `json:"primaries"`
	TookMS          int64   `json:"took_ms"`
}

// check prints what CheckServer finds on the server (the CLI's own client
// is not the application's: its findings are left out) and reports whether
// any is unsafe.
func check(ctx context.Context, store *core.Store, out output) (bool, error) {
	fs, err := store.CheckServer(ctx)
	if err != nil {
		return false, err
	}
	type findingJSON struct {
		Level   string `json:"level"`
		Node    string `json:"node"`
		Topic   string `json:"topic"`
		Message string `json:"message"`
	}
	rows := []findingJSON{}
	var b strings.Builder
	unsafe := false
	for _, f := range fs {
		if f.Node == "" {
			continue
		}
		unsafe = unsafe || f.Level == core.LevelUnsafe
		rows = append(rows, findingJSON{f.Level.String(), f.Node, f.Topic, f.Message})
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", strings.ToUpper(f.Level.String()), f.Node, f.Topic, f.Message)
	}
	out.print(rows, b.String())
	return unsafe, nil
}

func users(ctx context.Context, store *core.Store, client redis.UniversalClient, out output, from cursor, count int64) error {
	ix, err := newIndexes(ctx, store, client)
	if err != nil {
		return err
	}
	rows, next, err := ix.page(ctx, from, count)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "%s\t%d\n", shownID(r.User), r.Sessions)
	}
	if next != "" {
		fmt.Fprintf(&b, "next: %s\n", next)
	}
	out.print(struct {
		Users  []userCount `json:"users"`
		Cursor string      `json:"cursor"`
	}{rows, next}, b.String())
	return nil
}

// shownID is a user id as a table shows it: quoted if it is empty or holds
// spaces or control characters, which would break the columns.
func shownID(id string) string {
	if id == "" || strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return strconv.Quote(id)
	}
	return id
}

func user(ctx context.Context, store *core.Store, out output, id string) error {
	list, err := store.UserSessions(ctx, id)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("%w: user %q has no sessions", core.ErrNotFound, id)
	}
	out.sessions(list, false)
	return nil
}

type output struct {
	w    io.Writer
	json bool
}

// print writes v as JSON, or text through a tabwriter.
func (o output) print(v interface{}, text string) {
	if o.json {
		enc := json.NewEncoder(o.w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
		return
	}
	tw := tabwriter.NewWriter(o.w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, text)
	tw.Flush()
}

type sessionJSON struct {
	Handle     string    `json:"handle"`
	UserID     string    `json:"user_id"`
	UserAgent  string    `json:"user_agent"`
	RemoteAddr string    `json:"remote_addr"`
	Created    time.Time `json:"created"`
	LastSeen   time.Time `json:"last_seen"`
	ExpiresAt  time.Time `json:"expires_at"`
	Deadline   time.Time `json:"deadline"`
}

func (o output) sessions(list []core.SessionInfo, one bool) {
	if o.json {
		js := make([]sessionJSON, len(list))
		for i, s := range list {
			js[i] = sessionJSON{s.Handle, s.UserID, s.UserAgent, s.RemoteAddr, s.Created.UTC(), s.LastSeen.UTC(), s.ExpiresAt.UTC(), s.Deadline.UTC()}
		}
		if one {
			o.print(js[0], "")
		} else {
			o.print(js, "")
		}
		return
	}
	var b strings.Builder
	if one {
		s := list[0]
		fmt.Fprintf(&b, "handle\t%s\nuser\t%s\ndevice\t%s\naddress\t%s\ncreated\t%s\nlast active\t%s\nexpires\t%s\ndeadline\t%s\n",
			s.Handle, s.UserID, s.UserAgent, s.RemoteAddr, stamp(s.Created), stamp(s.LastSeen), stamp(s.ExpiresAt), stamp(s.Deadline))
	} else {
		fmt.Fprintf(&b, "HANDLE\tDEVICE\tADDRESS\tCREATED\tLAST ACTIVE\tEXPIRES\n")
		for _, s := range list {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Handle, clip(s.UserAgent, 40), s.RemoteAddr, stamp(s.Created), stamp(s.LastSeen), stamp(s.ExpiresAt))
		}
	}
	o.print(nil, b.String())
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
