package gorillaredis_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/redisession/redisession/gorillaredis"
)

var signKey = []byte("sign-key-0123456789abcdef0123456")

// signAt is the cookie securecookie would have made for token under name
// with signKey (no encryption, the store's raw token) at time at.
func signAt(name, token string, at time.Time) string {
	value := base64.URLEncoding.EncodeToString([]byte(token))
	msg := fmt.Sprintf("%s|%d|%s", name, at.Unix(), value)
	mac := hmac.New(sha256.New, signKey)
	mac.Write([]byte(msg))
	signed := msg[len(name)+1:] + "|" + string(mac.Sum(nil))
	return base64.URLEncoding.EncodeToString([]byte(signed))
}

func setCookieValue(t *testing.T, headers []string, name string) string {
	t.Helper()
	for _, h := range headers {
		if v, ok := strings.CutPrefix(h, name+"="); ok {
			return v[:strings.IndexByte(v+";", ';')]
		}
	}
	t.Fatalf("no %s cookie in %q", name, headers)
	return ""
}

// TestCookieSignedOnce: a Save sends the request's own cookie again while
// its signature outlives every use the cookie can still have, and signs
// anew when it would not (a MaxAge shorter than its age allows), for a new
// token, and for a cookie an older key signed.
func TestCookieSignedOnce(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{}, signKey)
	ts := httptest.NewTLSServer(app(e.store))
	defer ts.Close()
	c := newClient(t, ts)
	_, h := c.get("/incr")
	first := setCookieValue(t, h, "app")
	if _, h = c.get("/show"); setCookieValue(t, h, "app") != first {
		t.Errorf("a read+Save signed the cookie again; its signature holds for the session's lifetime")
	}
	tok := tokenOf(t, e.store, first)

	// Signed an hour ago: within the 24 h window, past none of its uses.
	old := signAt("app", tok, time.Now().Add(-time.Hour))
	d := newClient(t, ts)
	d.setCookie("app", old)
	body, h := d.get("/show")
	if !strings.Contains(body, "n=1") {
		t.Fatalf("the cookie signed an hour ago lost the session: %q", body)
	}
	if got := setCookieValue(t, h, "app"); got != old {
		t.Errorf("a cookie whose signature outlives the session was signed again")
	}

	// With MaxAge 15 min each Save must move the signature too.
	short := newEnv(t, gorillaredis.Options{}, signKey)
	short.store.MaxAge(15 * 60)
	tss := httptest.NewTLSServer(app(short.store))
	defer tss.Close()
	s := newClient(t, tss)
	s.get("/incr")
	stok := tokenOf(t, short.store, s.cookie("app"))
	aged := signAt("app", stok, time.Now().Add(-10*time.Second))
	s.setCookie("app", aged)
	body, h = s.get("/show")
	if !strings.Contains(body, "n=1") {
		t.Fatalf("MaxAge 15 min, a cookie signed 10 s ago: %q", body)
	}
	resigned := setCookieValue(t, h, "app")
	if resigned == aged {
		t.Errorf("MaxAge 15 min: a cookie signed 10 s ago was sent again; its signature would lapse before the cookie")
	}
	if tokenOf(t, short.store, resigned) != stok {
		t.Errorf("signing again changed the token")
	}

	// A cookie in securecookie's own (gob) serialization under the same key
	// still presents its token.
	gobValue, err := securecookie.New(signKey, nil).Encode("app", tok)
	if err != nil {
		t.Fatal(err)
	}
	g := newClient(t, ts)
	g.setCookie("app", gobValue)
	if body, _ := g.get("/show"); !strings.Contains(body, "n=1") {
		t.Errorf("a gob-serialized cookie of the same key lost its session: %q", body)
	}
}
