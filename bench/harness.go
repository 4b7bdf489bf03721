package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
)

// Workloads, in report order.
const (
	Read   = "read"   // logged-in request that only reads, sliding the idle timeout
	Write  = "write"  // logged-in request that changes one value
	Login  = "login"  // no cookie: create a session with the full payload, bound to a user
	Logout = "logout" // destroy the session
	// ReadSave is the read of an app that swaps stores and keeps its code:
	// gorilla and gin apps call Save on every request (CookieStore and
	// every Redis peer slide the expiry only on a Save), scs apps go
	// through LoadAndSave. Nothing changes; for the stores whose read
	// already saves it is the same request as Read.
	ReadSave = "read+Save"
)

// Workloads lists them in report order.
var Workloads = []string{Read, ReadSave, Write, Login, Logout}

// Store is one contender: an http.Handler serving the workloads at /read,
// /read+Save, /write, /login and /logout with its session cookie.
type Store struct {
	Name    string
	Kind    string // "floor", "ours" or "peer"
	Family  string // the framework an app would swap it within: "net/http", "scs", "gorilla" or "gin"
	Note    string // how it is driven, where that differs from the obvious
	Redis   bool   // keeps sessions in Redis (CookieStore does not)
	Handler http.Handler
	Cookie  string // session cookie name
	// Class names the class of a Redis key for the memory table:
	// "session" or "index".
	Class func(key string) string
	close []func()
	users atomic.Int64
}

// Close releases the store's clients.
func (s *Store) Close() {
	for _, f := range s.close {
		f()
	}
}

// UserHeader names the user a login binds the session to; without it each
// login is a new user.
const UserHeader = "X-Bench-User"

// nextUser is the user of a login request.
func (s *Store) nextUser(r *http.Request) string {
	if u := r.Header.Get(UserHeader); u != "" {
		return u
	}
	return fmt.Sprintf("u-%06d", s.users.Add(1)%1000000)
}

// Factory builds a store whose clients talk to Redis at addr (the server,
// or a counting proxy in front of it).
type Factory struct {
	Name string
	Kind string
	New  func(addr string) (*Store, error)
}

// Build makes the factory's store over Redis at addr.
func (f Factory) Build(addr string) (*Store, error) {
	s, err := f.New(addr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	s.Name, s.Kind = f.Name, f.Kind
	return s, nil
}

var paths = map[string]*url.URL{}

func init() {
	for _, w := range Workloads {
		paths["/"+w] = &url.URL{Path: "/" + w}
	}
}

// Recorder is a reusable, allocation-free http.ResponseWriter.
type Recorder struct {
	h    http.Header
	Code int
	N    int
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{h: http.Header{}, Code: 200} }

// Header implements http.ResponseWriter.
func (w *Recorder) Header() http.Header { return w.h }

// Write implements http.ResponseWriter; the body is counted, not kept.
func (w *Recorder) Write(b []byte) (int, error) { w.N += len(b); return len(b), nil }

// WriteString lets io.WriteString skip a conversion.
func (w *Recorder) WriteString(s string) (int, error) { w.N += len(s); return len(s), nil }

// WriteHeader implements http.ResponseWriter.
func (w *Recorder) WriteHeader(code int) { w.Code = code }

// Reset empties it for the next request.
func (w *Recorder) Reset() { clear(w.h); w.Code, w.N = 200, 0 }

var userAgent = []string{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"}

// NewRequest is a GET of the workload's path with the cookie header (may be
// ""): what a browser sends, built with as few allocations as net/http's
// server would make.
func NewRequest(workload, cookie string) *http.Request {
	h := http.Header{"User-Agent": userAgent}
	if cookie != "" {
		h["Cookie"] = []string{cookie}
	}
	return &http.Request{
		Method: "GET", URL: paths["/"+workload], RequestURI: "/" + workload,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Host: "shop.example", RemoteAddr: "203.0.113.9:51234",
	}
}

// Do serves one request and returns the response's session cookie as
// "name=value" ("" if none was set, "-" if it was expired).
func (s *Store) Do(w *Recorder, workload, cookie string) (string, error) {
	w.Reset()
	// net/http gives every request a context of its own, cancelled when the
	// handler returns; stores may key per-request state by it (scsredis).
	ctx, cancel := context.WithCancel(context.Background())
	s.Handler.ServeHTTP(w, NewRequest(workload, cookie).WithContext(ctx))
	cancel()
	if w.Code != 200 {
		return "", fmt.Errorf("%s %s: status %d", s.Name, workload, w.Code)
	}
	return s.sessionCookie(w), nil
}

// LoginAs logs a new session in as user ("" for a fresh user) and returns
// its cookie.
func (s *Store) LoginAs(ctx context.Context, user string) (string, error) {
	w := NewRecorder()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := NewRequest(Login, "").WithContext(ctx)
	if user != "" {
		r.Header.Set(UserHeader, user)
	}
	s.Handler.ServeHTTP(w, r)
	if w.Code != 200 {
		return "", fmt.Errorf("%s login: status %d", s.Name, w.Code)
	}
	c := s.sessionCookie(w)
	if c == "" || c == "-" {
		return "", fmt.Errorf("%s login: no session cookie in %q", s.Name, w.h.Values("Set-Cookie"))
	}
	return c, nil
}

func (s *Store) sessionCookie(w *Recorder) string {
	for _, line := range w.h["Set-Cookie"] {
		name, rest, ok := strings.Cut(line, "=")
		if !ok || name != s.Cookie {
			continue
		}
		val, attrs, _ := strings.Cut(rest, ";")
		if val == "" || strings.Contains(attrs, "Max-Age=0") {
			return "-"
		}
		return name + "=" + val
	}
	return ""
}

// Check runs each workload once and verifies the session behaves: the read
// sees the user, the write sticks, logout kills it.
func (s *Store) Check() error {
	w := NewRecorder()
	c, err := s.LoginAs(context.Background(), "u-check1")
	if err != nil {
		return err
	}
	if _, err := s.Do(w, Read, c); err != nil {
		return err
	}
	if w.N == 0 {
		return fmt.Errorf("%s read: empty body, the session was not found", s.Name)
	}
	if _, err := s.Do(w, ReadSave, c); err != nil {
		return err
	}
	if w.N == 0 {
		return fmt.Errorf("%s read+Save: empty body, the session was not found", s.Name)
	}
	if _, err := s.Do(w, Write, c); err != nil {
		return err
	}
	if out, err := s.Do(w, Logout, c); err != nil {
		return err
	} else if out != "-" {
		return fmt.Errorf("%s logout: cookie not expired (%q)", s.Name, out)
	}
	if !s.Redis {
		return nil
	}
	if _, err := s.Do(w, Read, c); err != nil {
		return err
	}
	if w.N != 0 {
		return fmt.Errorf("%s read after logout: still found the session", s.Name)
	}
	return nil
}

// jsonTemplate is PayloadJSON with a fixed-width user id, and the offsets to
// patch for the user and for the changed value: the floor and core, which
// keep opaque bytes, build their payload by copying it.
var jsonTemplate, userOff, pageOff = func() ([]byte, int, int) {
	b := PayloadJSON("u-000000")
	u := bytes.Index(b, []byte(`"u-000000"`)) + 1
	p := bytes.Index(b, []byte(`"/products/A-1042`)) + len(`"/products/A-`)
	return b, u, p
}()

func userPayload(user string) []byte {
	b := append([]byte(nil), jsonTemplate...)
	if len(user) == 8 {
		copy(b[userOff:], user)
	}
	return b
}

// patchPage overwrites the four digits of the page in a copy of data.
func patchPage(data []byte, i int) []byte {
	b := append([]byte(nil), data...)
	if pageOff+4 <= len(b) {
		copy(b[pageOff:], strconv.Itoa(1000+i%9000))
	}
	return b
}
