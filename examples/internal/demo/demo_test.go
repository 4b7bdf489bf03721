package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redisession/redisession/core"
	"golang.org/x/crypto/bcrypt"
)

func TestDeviceName(t *testing.T) {
	for ua, want := range map[string]string{
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36":                                   "Chrome on Linux",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iPhone",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0":           "Edge on Windows",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.1; rv:128.0) Gecko/20100101 Firefox/128.0":                                                     "Firefox on macOS",
		"curl/8.5.0": "curl",
		"":           "Unknown device",
	} {
		if got := DeviceName(ua); got != want {
			t.Errorf("DeviceName(%q) = %q, want %q", ua, got, want)
		}
	}
}

func TestDevicesPutsThisDeviceFirst(t *testing.T) {
	now := time.Now()
	list := []core.SessionInfo{
		{Handle: "a", UserAgent: "curl/8", LastSeen: now},
		{Handle: "b", UserAgent: "curl/8", LastSeen: now.Add(-time.Minute)},
	}
	got := Devices(list, "b")
	if len(got) != 2 || got[0].Handle != "b" || !got[0].Current || got[1].Current {
		t.Errorf("Devices(list, b) = %+v, want b first and alone marked current", got)
	}
}

func TestCart(t *testing.T) {
	var c Cart
	c, _ = c.Add("tea")
	d, _ := c.Add("tea")
	d, _ = d.Add("coffee")
	if _, ok := d.Add("nothing"); ok {
		t.Error("an unknown product was added")
	}
	if c.Count() != 1 || d.Count() != 3 {
		t.Errorf("counts %d and %d, want 1 (Add copies) and 3", c.Count(), d.Count())
	}
	if got := d.Total(); got != "€21.90" {
		t.Errorf("total %s, want €21.90", got)
	}
	if lines := d.Lines(); len(lines) != 2 || lines[0].Product.ID != "tea" || lines[0].Quantity != 2 {
		t.Errorf("lines %+v, want 2 tea then 1 coffee", lines)
	}
}

func TestCSRF(t *testing.T) {
	tok := NewCSRFToken()
	if tok == NewCSRFToken() || len(tok) != 43 {
		t.Fatalf("tokens are not fresh 32-byte values: %q", tok)
	}
	for _, c := range []struct {
		session, posted string
		want            bool
	}{
		{tok, tok, true},
		{tok, "", false},
		{tok, tok[:42], false},
		{"", "", false},
	} {
		if got := ValidCSRF(c.session, c.posted); got != c.want {
			t.Errorf("ValidCSRF(%q, %q) = %v, want %v", c.session, c.posted, got, c.want)
		}
	}
}

func TestUsers(t *testing.T) {
	u := NewUsers(bcrypt.MinCost)
	if !u.Authenticate("alice", "wonderland") || u.Authenticate("alice", "wrong") || u.Authenticate("nobody", "wonderland") {
		t.Fatal("Authenticate does not tell the demo password from others")
	}
	for _, c := range []struct {
		current, next, confirm string
		want                   error
	}{
		{"wrong", "rabbit-hole", "rabbit-hole", ErrWrongPassword},
		{"wonderland", "short", "short", ErrWeakPassword},
		{"wonderland", "rabbit-hole", "rabbit-hold", ErrMismatch},
		{"wonderland", "rabbit-hole", "rabbit-hole", nil},
	} {
		if err := u.ChangePassword("alice", c.current, c.next, c.confirm); err != c.want {
			t.Errorf("ChangePassword(%q, %q, %q) = %v, want %v", c.current, c.next, c.confirm, err, c.want)
		}
	}
	if u.Authenticate("alice", "wonderland") || !u.Authenticate("alice", "rabbit-hole") {
		t.Error("the new password does not replace the old one")
	}
}

func TestOpenRedis(t *testing.T) {
	t.Run("Embedded", func(t *testing.T) {
		t.Setenv("REDIS_URL", "")
		rdb, where, closeFn, err := OpenRedis(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer closeFn()
		if !strings.HasPrefix(where, "embedded miniredis at ") {
			t.Errorf("where = %q", where)
		}
		if err := rdb.Ping(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("BadURL", func(t *testing.T) {
		for _, u := range []string{"http://nope", "redis://127.0.0.1:1/0", "redis://127.0.0.1:1?addr=127.0.0.1:2"} {
			t.Setenv("REDIS_URL", u)
			if _, _, _, err := OpenRedis(context.Background()); err == nil || !strings.Contains(err.Error(), "REDIS_URL") {
				t.Errorf("REDIS_URL=%s: err = %v, want an error about REDIS_URL", u, err)
			}
		}
	})
}

func TestTemplatesRender(t *testing.T) {
	for _, name := range []string{"login.html", "shop.html", "devices.html", "password.html", "error.html"} {
		var b strings.Builder
		p := Page{Framework: "test", Title: "T", User: "alice", CSRF: "tok", Devices: []Device{{Handle: "h", Current: true}}}
		if err := templates.ExecuteTemplate(&b, name, p); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
