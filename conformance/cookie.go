package conformance

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/redisession/redisession/internal/hostcookie"
)

// The loose cookie attributes Env.LooseCookie asks for.
const (
	loosePath   = "/app"
	looseDomain = "example.com"
)

// cookiePrefix: with a prefixed name and the adapter's usual attributes,
// every Set-Cookie of the session (new, renewed, expired at logout) is one
// browsers keep, and the session round-trips through a cookie jar.
func cookiePrefix(t *testing.T, p *prop) {
	for _, name := range []string{"__Host-session", "__host-Session", "__Secure-session"} {
		q := p.with(t, func(e *Env) { e.CookieName = name })
		cookieFlow(t, q, true, func(step string, c sentCookie) {
			if err := hostcookie.Check(c.Cookie); err != nil {
				t.Errorf("%s, %s: Set-Cookie %q: %v", name, step, c.line, err)
			}
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
				t.Errorf("%s, %s: Set-Cookie %q, want Secure, HttpOnly, SameSite=Lax", name, step, c.line)
			}
		})
	}
}

// cookiePrefixEnforced: with attributes that break the name's prefix, a
// prefixed cookie is still sent as the prefix requires (or refused at
// startup), and an unprefixed one as configured.
func cookiePrefixEnforced(t *testing.T, p *prop) {
	for _, name := range []string{"__Host-session", "__host-session", "__Secure-session", "session"} {
		q := p.with(t, func(e *Env) { e.CookieName, e.LooseCookie = name, true })
		secure, hostOnly := hostcookie.Rules(name)
		if q.ad.CookieRefused != nil {
			if !secure {
				t.Errorf("%s (no prefix) with Path %s and Domain %s: refused: %v", name, loosePath, looseDomain, q.ad.CookieRefused)
			}
			continue // the app does not start with a cookie browsers refuse
		}
		// Only a "__Host-" cookie comes back here: the others keep their
		// Domain (and Path).
		cookieFlow(t, q, hostOnly, func(step string, c sentCookie) {
			if secure {
				if err := hostcookie.Check(c.Cookie); err != nil {
					t.Errorf("%s, %s: Set-Cookie %q: %v", name, step, c.line, err)
				}
			} else if c.Secure || c.Path != loosePath || c.Domain != looseDomain {
				t.Errorf("%s, %s: Set-Cookie %q, want the attributes as configured: not Secure, Path=%s, Domain=%s",
					name, step, c.line, loosePath, looseDomain)
			}
		})
	}
}

// cookieFlow has check look at every Set-Cookie of q's session cookie in a
// first write, then, if the cookie comes back to the server, in a login, a
// read that must see both, and a logout that must expire the cookie.
func cookieFlow(t *testing.T, q *prop, comesBack bool, check func(step string, c sentCookie)) {
	t.Helper()
	name := q.ad.CookieName
	d := q.device(t, "a")
	send := func(step, method, path string) response {
		t.Helper()
		res := d.send(t, method, path)
		for _, c := range res.cookies {
			check(step, c)
		}
		return res
	}
	if res := send("first write", "POST", "/set?k=n&v=1"); res.status != http.StatusOK || len(res.cookies) == 0 {
		t.Fatalf("%s: the first write answered %d with %d Set-Cookie for the session, want 200 and one", name, res.status, len(res.cookies))
	}
	if !comesBack {
		return
	}
	send("login", "POST", "/login?user=u1")
	if got := d.get(t, "n"); got.Value != "1" || got.User != "u1" {
		t.Errorf("%s: read back %+v, want n=1 for u1: the cookie did not round-trip", name, got)
	}
	res := send("logout", "POST", "/logout")
	if len(res.cookies) == 0 || res.cookies[len(res.cookies)-1].MaxAge >= 0 {
		t.Errorf("%s: logout sent %q, want the cookie expired", name, res.header())
	}
	if d.cookie() != "" {
		t.Errorf("%s: the jar still holds the cookie after logout", name)
	}
	if d.loggedIn(t) {
		t.Errorf("%s: still logged in after logout", name)
	}
}

// cookieSize: the Set-Cookie of a session holding 10 KiB is as small as
// that of one holding a byte, and both fit in what browsers keep.
func cookieSize(t *testing.T, p *prop) {
	q := p.with(t, func(e *Env) { e.CookieName = "__Host-session" })
	big := strings.Repeat("x", 10<<10)
	small := q.device(t, "small").send(t, "POST", "/set?k=a&v=1")
	large := q.device(t, "large").send(t, "POST", "/set?k=a&v="+url.QueryEscape(big))
	if len(small.cookies) == 0 || len(large.cookies) == 0 {
		t.Fatalf("a new session got %d and %d Set-Cookie for its cookie (status %d, %d), want one each",
			len(small.cookies), len(large.cookies), small.status, large.status)
	}
	base := len(small.cookies[0].line)
	d := q.device(t, "grows")
	d.set(t, "a", "1")
	grown := d.send(t, "POST", "/set?k=b&v="+url.QueryEscape(big))
	for what, res := range map[string]response{"1 byte": small, "10 KiB": large, "10 KiB added": grown} {
		for _, c := range res.cookies {
			if n := len(c.line); n > hostcookie.MaxSize {
				t.Errorf("with %s in the session: Set-Cookie of %d bytes, over %d: %.80q…", what, n, hostcookie.MaxSize, c.line)
			}
			if n := len(c.line); n > base+16 { // Expires may differ by a digit or so
				t.Errorf("with %s in the session: Set-Cookie of %d bytes, %d with 1 byte: the cookie carries the session", what, n, base)
			}
		}
	}
	t.Logf("Set-Cookie of %d bytes", base)
}

// header returns the Set-Cookie headers of the session cookie.
func (r response) header() []string {
	lines := make([]string, len(r.cookies))
	for i, c := range r.cookies {
		lines[i] = c.line
	}
	return lines
}
