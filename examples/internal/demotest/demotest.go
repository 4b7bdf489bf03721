// Package demotest checks the flows every example app must have, over real
// HTTP with a cookie jar per simulated device, as conformance.Run does for
// adapters: an example's test is one call,
//
//	func TestFlows(t *testing.T) { demotest.Run(t, newApp) }
//
// It runs on an embedded miniredis, or on the server that REDIS_ADDR,
// REDIS_CLUSTER_ADDRS or REDIS_SENTINEL_ADDRS names (see internal/redistest).
package demotest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/examples/internal/demo"
	"github.com/redisession/redisession/internal/redistest"
	"golang.org/x/crypto/bcrypt"
)

// User agents of the simulated devices.
const (
	Laptop = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	Phone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
	Tablet = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)

// The demo accounts' passwords.
const (
	alicePassword = "wonderland"
	bobPassword   = "the-builder"
)

// Run checks the example app that newApp builds, each flow as a subtest on
// a fresh app and Redis.
func Run(t *testing.T, newApp func(demo.Config) http.Handler) {
	t.Run("Login/RenewsSessionID", func(t *testing.T) {
		a := start(t, newApp).Device(Laptop)
		a.Get("/login").Want(http.StatusOK, "/login", "Log in")
		before := a.Cookies()
		a.Login("alice", alicePassword)
		// Whoever held the cookie before the login (fixation) is not logged in.
		attacker := a.s.Device(Laptop).WithCookies(before)
		attacker.Get("/").Want(http.StatusOK, "/login", "Log in")
		a.Get("/").Want(http.StatusOK, "/", "Log out alice")
	})

	t.Run("Login/WrongPassword", func(t *testing.T) {
		a := start(t, newApp).Device(Laptop)
		a.Get("/login")
		a.Submit("/login", url.Values{"name": {"alice"}, "password": {"guess"}}).
			Want(http.StatusUnauthorized, "/login", demo.MsgBadLogin)
		a.Submit("/login", url.Values{"name": {"mallory"}, "password": {"guess"}}).
			Want(http.StatusUnauthorized, "/login", demo.MsgBadLogin)
		a.Get("/").Want(http.StatusOK, "/login", "Log in")
	})

	t.Run("Cart", func(t *testing.T) {
		s := start(t, newApp)
		a := s.Device(Laptop)
		a.Login("alice", alicePassword)
		a.Submit("/cart/add", url.Values{"item": {"tea"}})
		a.Submit("/cart/add", url.Values{"item": {"tea"}})
		a.Submit("/cart/add", url.Values{"item": {"coffee"}}).
			Want(http.StatusOK, "/", `id="cart-count">3<`, "2 × Green tea", "1 × Coffee beans", "€21.90")
		a.Submit("/cart/add", url.Values{"item": {"nothing"}}).Want(http.StatusBadRequest, "/cart/add")
		// The cart belongs to the session, not the user.
		b := s.Device(Phone)
		b.Login("alice", alicePassword).Want(http.StatusOK, "/", `id="cart-count">0<`)
		a.Get("/").Want(http.StatusOK, "/", `id="cart-count">3<`)
		a.Submit("/cart/clear", nil).Want(http.StatusOK, "/", `id="cart-count">0<`)
	})

	t.Run("Devices/Listed", func(t *testing.T) {
		s := start(t, newApp)
		a, b, c := s.Device(Laptop), s.Device(Phone), s.Device(Tablet)
		a.Login("alice", alicePassword)
		b.Login("alice", alicePassword)
		c.Login("bob", bobPassword)
		p := a.Get("/devices").Want(http.StatusOK, "/devices", "Firefox on Linux", "Safari on iPhone", "127.0.0.1:")
		if strings.Contains(p.Body, "iPad") {
			t.Errorf("alice's devices list bob's iPad:\n%s", p.Body)
		}
		if got := len(p.Handles()); got != 2 {
			t.Errorf("alice's devices: %d sessions listed, want 2:\n%s", got, p.Body)
		}
		if n := strings.Count(p.Body, "this device"); n != 1 {
			t.Errorf(`"this device" appears %d times, want 1:\n%s`, n, p.Body)
		}
		if cur := p.Current(); cur == "" || !strings.Contains(p.Body, "Firefox on Linux</strong> <span class=\"badge\">this device") {
			t.Errorf("the laptop is not marked as this device (current %q):\n%s", cur, p.Body)
		}
	})

	t.Run("Devices/RevokeOther", func(t *testing.T) {
		s := start(t, newApp)
		a, b := s.Device(Laptop), s.Device(Phone)
		a.Login("alice", alicePassword)
		b.Login("alice", alicePassword)
		p := a.Get("/devices")
		other := p.Others()
		if len(other) != 1 {
			t.Fatalf("want one other device, got %d:\n%s", len(other), p.Body)
		}
		p = a.Submit("/devices/revoke", url.Values{"handle": {other[0]}}).Want(http.StatusOK, "/devices", demo.MsgRevoked)
		if got := len(p.Handles()); got != 1 {
			t.Errorf("after revoke: %d devices listed, want 1", got)
		}
		b.Get("/").Want(http.StatusOK, "/login", "Log in")
		a.Get("/").Want(http.StatusOK, "/", "Log out alice")
		// Revoking it again is harmless.
		a.Submit("/devices/revoke", url.Values{"handle": {other[0]}}).Want(http.StatusOK, "/devices")
	})

	t.Run("Devices/LogOutEverywhereElse", func(t *testing.T) {
		s := start(t, newApp)
		a, b, c := s.Device(Laptop), s.Device(Phone), s.Device(Tablet)
		for _, d := range []*Device{a, b, c} {
			d.Login("alice", alicePassword)
		}
		bob := s.Device(Laptop)
		bob.Login("bob", bobPassword)
		a.Get("/devices")
		p := a.Submit("/devices/revoke-others", nil).Want(http.StatusOK, "/devices", demo.LoggedOutOthers(2))
		if got := len(p.Handles()); got != 1 {
			t.Errorf("after log out everywhere else: %d devices listed, want 1", got)
		}
		b.Get("/").Want(http.StatusOK, "/login")
		c.Get("/").Want(http.StatusOK, "/login")
		a.Get("/").Want(http.StatusOK, "/", "Log out alice")
		bob.Get("/").Want(http.StatusOK, "/", "Log out bob")
	})

	t.Run("ChangePassword/RevokesOthers", func(t *testing.T) {
		s := start(t, newApp)
		a, b := s.Device(Laptop), s.Device(Phone)
		a.Login("alice", alicePassword)
		b.Login("alice", alicePassword)
		a.Get("/password").Want(http.StatusOK, "/password", "Change password")
		a.Submit("/password", url.Values{"current": {"nope"}, "new": {"rabbit-hole"}, "confirm": {"rabbit-hole"}}).
			Want(http.StatusBadRequest, "/password", demo.ErrWrongPassword.Error())
		a.Submit("/password", url.Values{"current": {alicePassword}, "new": {"short"}, "confirm": {"short"}}).
			Want(http.StatusBadRequest, "/password", demo.ErrWeakPassword.Error())
		b.Get("/").Want(http.StatusOK, "/", "Log out alice") // failed attempts change nothing
		before := a.Cookies()
		a.Submit("/password", url.Values{"current": {alicePassword}, "new": {"rabbit-hole"}, "confirm": {"rabbit-hole"}}).
			Want(http.StatusOK, "/", demo.MsgPasswordSaved, demo.LoggedOutOthers(1))
		b.Get("/").Want(http.StatusOK, "/login")
		a.Get("/").Want(http.StatusOK, "/", "Log out alice")
		// The session id changed with the privilege.
		s.Device(Laptop).WithCookies(before).Get("/").Want(http.StatusOK, "/login")

		c := s.Device(Tablet)
		c.Get("/login")
		c.Submit("/login", url.Values{"name": {"alice"}, "password": {alicePassword}}).Want(http.StatusUnauthorized, "/login")
		c.Login("alice", "rabbit-hole")
	})

	t.Run("Logout", func(t *testing.T) {
		s := start(t, newApp)
		a, b := s.Device(Laptop), s.Device(Phone)
		a.Login("alice", alicePassword)
		b.Login("alice", alicePassword)
		before := a.Cookies()
		a.Submit("/logout", nil).Want(http.StatusOK, "/login", "Log in")
		a.Get("/").Want(http.StatusOK, "/login")
		s.Device(Laptop).WithCookies(before).Get("/").Want(http.StatusOK, "/login")
		p := b.Get("/devices").Want(http.StatusOK, "/devices")
		if got := len(p.Handles()); got != 1 {
			t.Errorf("after logout: the other device lists %d sessions, want 1", got)
		}
	})

	t.Run("CSRF/Rejected", func(t *testing.T) {
		s := start(t, newApp)
		a, b := s.Device(Laptop), s.Device(Phone)

		fresh := s.Device(Laptop)
		fresh.Get("/login")
		fresh.Post("/login", url.Values{"name": {"alice"}, "password": {alicePassword}}).
			Want(http.StatusForbidden, "/login", demo.MsgCSRF)
		fresh.Get("/").Want(http.StatusOK, "/login")

		a.Login("alice", alicePassword)
		b.Login("alice", alicePassword)
		a.Post("/cart/add", url.Values{"item": {"tea"}}).Want(http.StatusForbidden, "/cart/add", demo.MsgCSRF)
		a.Post("/cart/add", url.Values{"item": {"tea"}, "csrf": {"forged"}}).Want(http.StatusForbidden, "/cart/add")
		// A token is bound to its session: b's token does not work for a.
		a.Post("/cart/add", url.Values{"item": {"tea"}, "csrf": {b.CSRF()}}).Want(http.StatusForbidden, "/cart/add")
		a.Get("/").Want(http.StatusOK, "/", `id="cart-count">0<`)
		a.Post("/devices/revoke-others", nil).Want(http.StatusForbidden, "/devices/revoke-others")
		a.Post("/logout", nil).Want(http.StatusForbidden, "/logout")
		a.Post("/password", url.Values{"current": {alicePassword}, "new": {"rabbit-hole"}, "confirm": {"rabbit-hole"}}).
			Want(http.StatusForbidden, "/password")
		b.Get("/").Want(http.StatusOK, "/", "Log out alice")
		a.Get("/").Want(http.StatusOK, "/", "Log out alice")
	})

	t.Run("UnknownPath/NoSession", func(t *testing.T) {
		// A browser's stray request (favicon.ico) must not start a session
		// that races the login form's.
		d := start(t, newApp).Device(Laptop)
		d.Get("/favicon.ico").Want(http.StatusNotFound, "/favicon.ico")
		if cs := d.Cookies(); len(cs) != 0 {
			t.Errorf("GET /favicon.ico set cookies %v, want none", cs)
		}
	})

	t.Run("Metrics", func(t *testing.T) {
		s := start(t, newApp)
		s.Device(Laptop).Login("alice", alicePassword)
		s.Device(Laptop).Get("/metrics").Want(http.StatusOK, "/metrics", "redisession_creates_total", "redisession_loads_total")
	})
}

// Site is one app under test, served over HTTP.
type Site struct {
	t   testing.TB
	URL string
}

func start(t testing.TB, newApp func(demo.Config) http.Handler) *Site {
	t.Helper()
	srv := redistest.Start(t)
	h := newApp(demo.Config{
		Redis: srv.NewClient(t, nil),
		Users: demo.NewUsers(bcrypt.MinCost),
		Core:  core.Options{Prefix: srv.Prefix},
	})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &Site{t: t, URL: ts.URL}
}

// Device is a browser with its own cookies and user agent.
type Device struct {
	s    *Site
	ua   string
	jar  *cookiejar.Jar
	c    *http.Client
	last *Page
}

// Device returns a new device with no cookies.
func (s *Site) Device(userAgent string) *Device {
	jar, err := cookiejar.New(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return &Device{s: s, ua: userAgent, jar: jar, c: &http.Client{Jar: jar}}
}

// Cookies returns the device's cookies for the site.
func (d *Device) Cookies() []*http.Cookie { return d.jar.Cookies(d.u("/")) }

// WithCookies puts cookies in the device's jar and returns the device.
func (d *Device) WithCookies(cs []*http.Cookie) *Device {
	d.jar.SetCookies(d.u("/"), cs)
	return d
}

func (d *Device) u(path string) *url.URL {
	u, err := url.Parse(d.s.URL + path)
	if err != nil {
		d.s.t.Fatal(err)
	}
	return u
}

// Login logs the device in and checks it lands on the shop.
func (d *Device) Login(name, password string) *Page {
	d.s.t.Helper()
	d.Get("/login")
	return d.Submit("/login", url.Values{"name": {name}, "password": {password}}).
		Want(http.StatusOK, "/", "Log out "+name)
}

// Get fetches path, following redirects.
func (d *Device) Get(path string) *Page {
	d.s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, d.s.URL+path, nil)
	if err != nil {
		d.s.t.Fatal(err)
	}
	return d.do(req)
}

// Submit posts form to path with the CSRF token of the last page, as a
// browser submits a form of that page.
func (d *Device) Submit(path string, form url.Values) *Page {
	d.s.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set(demo.CSRFField, d.CSRF())
	return d.Post(path, f)
}

// CSRF returns the CSRF token in the last page's forms.
func (d *Device) CSRF() string {
	d.s.t.Helper()
	if d.last == nil {
		d.s.t.Fatal("demotest: no page yet to take a CSRF token from")
	}
	m := csrfField.FindStringSubmatch(d.last.Body)
	if m == nil {
		d.s.t.Fatalf("demotest: no CSRF field on %s:\n%s", d.last.Path, d.last.Body)
	}
	return m[1]
}

// Post posts form to path as it is, following redirects.
func (d *Device) Post(path string, form url.Values) *Page {
	d.s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, d.s.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		d.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return d.do(req)
}

func (d *Device) do(req *http.Request) *Page {
	d.s.t.Helper()
	req.Header.Set("User-Agent", d.ua)
	resp, err := d.c.Do(req)
	if err != nil {
		d.s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		d.s.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	p := &Page{t: d.s.t, Status: resp.StatusCode, Path: resp.Request.URL.Path, Body: string(body),
		what: req.Method + " " + req.URL.Path}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		d.last = p
	}
	return p
}

var (
	csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	handleRow = regexp.MustCompile(`<tr class="device( current)?" data-handle="([^"]+)"`)
)

// Page is a response, after redirects.
type Page struct {
	t      testing.TB
	what   string
	Status int
	Path   string // where the redirects ended
	Body   string
}

// Want checks the status, the final path and that the body contains each
// of texts.
func (p *Page) Want(status int, path string, texts ...string) *Page {
	p.t.Helper()
	if p.Status != status || p.Path != path {
		p.t.Fatalf("%s: got %d at %s, want %d at %s:\n%s", p.what, p.Status, p.Path, status, path, p.Body)
	}
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			p.t.Fatalf("%s: the page at %s does not contain %q:\n%s", p.what, p.Path, s, p.Body)
		}
	}
	return p
}

// Handles returns the session handles listed on a devices page.
func (p *Page) Handles() []string {
	var hs []string
	for _, m := range handleRow.FindAllStringSubmatch(p.Body, -1) {
		hs = append(hs, m[2])
	}
	return hs
}

// Current returns the handle marked as this device, "" if none.
func (p *Page) Current() string {
	for _, m := range handleRow.FindAllStringSubmatch(p.Body, -1) {
		if m[1] != "" {
			return m[2]
		}
	}
	return ""
}

// Others returns the handles of the other devices.
func (p *Page) Others() []string {
	var hs []string
	for _, m := range handleRow.FindAllStringSubmatch(p.Body, -1) {
		if m[1] == "" {
			hs = append(hs, m[2])
		}
	}
	return hs
}
