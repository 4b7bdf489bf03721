// Package recipetest checks the flows every recipe must have, over real
// HTTP with a cookie jar per simulated device, each flow as a subtest on a
// fresh app and Redis: an embedded miniredis, or the server at REDIS_ADDR
// under a key prefix of the test's own (see internal/redistest). A recipe's
// test is one call:
//
//	func TestFlows(t *testing.T) { recipetest.Run(t, newApp) }
package recipetest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// User agents of the simulated devices, which the device list shows.
const (
	Laptop = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	Phone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148 Safari/604.1"
	Tablet = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"
)

// NewApp builds a recipe's app over rdb with the engine options opts (the
// test's key prefix).
type NewApp func(rdb redis.UniversalClient, opts core.Options) http.Handler

// Run checks the recipe app that newApp builds.
func Run(t *testing.T, newApp NewApp) {
	t.Run("TwoDevices/Listed", func(t *testing.T) {
		s := start(t, newApp)
		laptop, phone, tablet := s.Device(Laptop), s.Device(Phone), s.Device(Tablet)
		laptop.Login("alice")
		phone.Login("alice")
		tablet.Login("bob")
		fromLaptop, fromPhone := laptop.Devices(), phone.Devices()
		for _, list := range [][]Entry{fromLaptop, fromPhone} {
			if len(list) != 2 {
				t.Fatalf("alice's devices: %d listed, want 2 (bob's tablet is not hers): %+v", len(list), list)
			}
		}
		if cur := current(t, fromLaptop); cur.UserAgent != Laptop {
			t.Errorf("the laptop's list marks %q as this device", cur.UserAgent)
		}
		if cur := current(t, fromPhone); cur.UserAgent != Phone {
			t.Errorf("the phone's list marks %q as this device", cur.UserAgent)
		}
		if a, b := current(t, fromLaptop).Handle, current(t, fromPhone).Handle; a == b || !listed(fromLaptop, b) || !listed(fromPhone, a) {
			t.Errorf("the two lists do not name the same two sessions: %+v and %+v", fromLaptop, fromPhone)
		}
		if list := tablet.Devices(); len(list) != 1 || list[0].UserAgent != Tablet {
			t.Errorf("bob's devices: %+v, want his tablet only", list)
		}
	})

	t.Run("Login/RenewsToken", func(t *testing.T) {
		s := start(t, newApp)
		laptop := s.Device(Laptop)
		laptop.Login("alice")
		before := laptop.Cookies()
		laptop.Login("alice")
		// The token of before the login no longer works, and is not listed.
		s.Device(Laptop).WithCookies(before).Get("/").Want(http.StatusUnauthorized, "not logged in")
		if list := laptop.Devices(); len(list) != 1 {
			t.Errorf("after logging in again: %d sessions listed, want 1: %+v", len(list), list)
		}
	})

	t.Run("RevokeOthers/LogsTheOtherOut", func(t *testing.T) {
		s := start(t, newApp)
		laptop, phone, bob := s.Device(Laptop), s.Device(Phone), s.Device(Tablet)
		laptop.Login("alice")
		phone.Login("alice")
		bob.Login("bob")
		laptop.Post("/devices/revoke-others", nil).Want(http.StatusOK, `"revoked":1`)
		phone.Get("/").Want(http.StatusUnauthorized, "not logged in")
		phone.Get("/devices").Want(http.StatusUnauthorized)
		laptop.Get("/").Want(http.StatusOK, "hello alice")
		if list := laptop.Devices(); len(list) != 1 || !list[0].Current {
			t.Errorf("after revoke-others: %+v, want this device only", list)
		}
		bob.Get("/").Want(http.StatusOK, "hello bob") // another user's session is not touched
		// Nothing left to revoke.
		laptop.Post("/devices/revoke-others", nil).Want(http.StatusOK, `"revoked":0`)
	})

	t.Run("Logout/EndsTheSession", func(t *testing.T) {
		s := start(t, newApp)
		laptop, phone := s.Device(Laptop), s.Device(Phone)
		laptop.Login("alice")
		phone.Login("alice")
		before := laptop.Cookies()
		laptop.Post("/logout", nil).Want(http.StatusNoContent)
		if cs := laptop.Cookies(); len(cs) != 0 {
			t.Errorf("after logout the laptop still holds cookies %v", cs)
		}
		laptop.Get("/").Want(http.StatusUnauthorized, "not logged in")
		// The server-side session is gone, not just the cookie.
		s.Device(Laptop).WithCookies(before).Get("/").Want(http.StatusUnauthorized, "not logged in")
		if list := phone.Devices(); len(list) != 1 || list[0].UserAgent != Phone {
			t.Errorf("after the laptop's logout the phone lists %+v, want itself only", list)
		}
	})

	t.Run("NoCookie/NoSession", func(t *testing.T) {
		s := start(t, newApp)
		d := s.Device(Laptop)
		for _, r := range []*Response{
			d.Get("/"), d.Get("/devices"), d.Post("/devices/revoke-others", nil),
			d.WithCookies([]*http.Cookie{{Name: "session", Value: "forged"}}).Get("/"),
		} {
			r.Want(http.StatusUnauthorized, "not logged in")
			if sc := r.Header.Values("Set-Cookie"); len(sc) != 0 {
				t.Errorf("%s set cookies %q, want none", r.what, sc)
			}
		}
		if keys := s.srv.Keys(t, s.rdb); len(keys) != 0 {
			t.Errorf("requests without a session wrote %v to Redis", keys)
		}
	})
}

// Entry is one device in GET /devices.
type Entry struct {
	Handle    string `json:"handle"`
	UserAgent string `json:"user_agent"`
	Current   bool   `json:"current"`
}

func current(t *testing.T, list []Entry) Entry {
	t.Helper()
	var cur []Entry
	for _, d := range list {
		if d.Current {
			cur = append(cur, d)
		}
	}
	if len(cur) != 1 {
		t.Fatalf("%d devices marked current, want 1: %+v", len(cur), list)
	}
	return cur[0]
}

func listed(list []Entry, handle string) bool {
	for _, d := range list {
		if d.Handle == handle {
			return true
		}
	}
	return false
}

// Site is one app under test, served over HTTP.
type Site struct {
	t   testing.TB
	URL string
	srv *redistest.Server
	rdb redis.UniversalClient
}

func start(t testing.TB, newApp NewApp) *Site {
	t.Helper()
	srv := redistest.Start(t)
	rdb := srv.NewClient(t, nil)
	ts := httptest.NewServer(newApp(rdb, core.Options{Prefix: srv.Prefix}))
	t.Cleanup(ts.Close)
	return &Site{t: t, URL: ts.URL, srv: srv, rdb: rdb}
}

// Client is a browser with its own cookie jar and user agent.
type Client struct {
	s   *Site
	ua  string
	jar *cookiejar.Jar
	c   *http.Client
}

// Device returns a new client with no cookies.
func (s *Site) Device(userAgent string) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &Client{s: s, ua: userAgent, jar: jar, c: &http.Client{Jar: jar}}
}

// Cookies returns the client's cookies for the site.
func (d *Client) Cookies() []*http.Cookie { return d.jar.Cookies(d.root()) }

// WithCookies puts cookies in the client's jar and returns the client.
func (d *Client) WithCookies(cs []*http.Cookie) *Client {
	d.jar.SetCookies(d.root(), cs)
	return d
}

func (d *Client) root() *url.URL {
	u, err := url.Parse(d.s.URL + "/")
	if err != nil {
		d.s.t.Fatal(err)
	}
	return u
}

// Login logs the client in as name.
func (d *Client) Login(name string) {
	d.s.t.Helper()
	d.Post("/login", url.Values{"name": {name}}).Want(http.StatusOK, "logged in as "+name)
}

// Devices returns the client's GET /devices.
func (d *Client) Devices() []Entry {
	d.s.t.Helper()
	r := d.Get("/devices").Want(http.StatusOK)
	var list []Entry
	if err := json.Unmarshal([]byte(r.Body), &list); err != nil {
		d.s.t.Fatalf("GET /devices: %v:\n%s", err, r.Body)
	}
	return list
}

// Get fetches path.
func (d *Client) Get(path string) *Response {
	d.s.t.Helper()
	return d.do(http.MethodGet, path, nil)
}

// Post posts form to path.
func (d *Client) Post(path string, form url.Values) *Response {
	d.s.t.Helper()
	return d.do(http.MethodPost, path, form)
}

func (d *Client) do(method, path string, form url.Values) *Response {
	d.s.t.Helper()
	req, err := http.NewRequest(method, d.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		d.s.t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("User-Agent", d.ua)
	resp, err := d.c.Do(req)
	if err != nil {
		d.s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		d.s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return &Response{t: d.s.t, what: method + " " + path, Status: resp.StatusCode, Header: resp.Header, Body: string(body)}
}

// Response is one answer of the app.
type Response struct {
	t      testing.TB
	what   string
	Status int
	Header http.Header
	Body   string
}

// Want checks the status and that the body contains each of texts.
func (r *Response) Want(status int, texts ...string) *Response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("%s: got %d, want %d:\n%s", r.what, r.Status, status, r.Body)
	}
	for _, s := range texts {
		if !strings.Contains(r.Body, s) {
			r.t.Fatalf("%s: the body does not contain %q:\n%s", r.what, s, r.Body)
		}
	}
	return r
}
