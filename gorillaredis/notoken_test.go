package gorillaredis_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/redistest"
)

// TestErrorsNameNoToken: with Redis down and with malformed data under a
// session key, no error the store returns carries the token or the cookie.
func TestErrorsNameNoToken(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	opts := gorillaredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}}
	up := gorillaredis.NewStoreWithOptions(srv.NewClient(t, nil), opts, testKeys...)
	down := gorillaredis.NewStoreWithOptions(redistest.Down(t), opts, testKeys...)

	// A live session, then requests presenting its cookie to a store whose
	// Redis is down.
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	s, _ := up.Get(req, "s")
	s.Values["user_id"] = "u1"
	w := httptest.NewRecorder()
	if err := s.Save(req, w); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0].Value
	var token string
	if err := up.Codecs[0].Decode("s", cookie, &token); err != nil {
		t.Fatal(err)
	}
	secrets := []string{token, cookie}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		redistest.NoSecret(t, what, err.Error(), secrets...)
	}
	req = httptest.NewRequest("GET", "https://example.com/", nil)
	req.AddCookie(&http.Cookie{Name: "s", Value: cookie})
	s, err := down.Get(req, "s")
	check("Get, Redis down", err)
	s.Values["k"] = "v"
	check("Save, Redis down", s.Save(req, httptest.NewRecorder()))
	check("Renew, Redis down", down.Renew(req, s))
	_, err = down.UserSessions(ctx, "u1")
	check("UserSessions, Redis down", err)
	_, err = down.RevokeUser(ctx, "u1")
	check("RevokeUser, Redis down", err)
	check("RevokeSession, Redis down", down.RevokeSession(ctx, "u1", core.Handle(token)))

	// Malformed data under the key of a signed token: a miss, no error.
	raw := srv.NewClient(t, nil)
	tok := core.NewToken()
	c, _ := up.CookieValue("s", tok)
	secrets = append(secrets, tok, c)
	for what, v := range map[string]string{"garbage": "\xb1\xff\xff garbage", "foreign": `{"user":"x"}`, "record of another format": "\xb2\x01\x00\x00\x00\x00\x00\xff"} {
		if err := raw.Set(ctx, up.Core().SessionKey(core.Handle(tok)), v, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.AddCookie(&http.Cookie{Name: "s", Value: c})
		s, err := up.Get(req, "s")
		if err != nil {
			redistest.NoSecret(t, "Get over "+what, err.Error(), secrets...)
		}
		if !s.IsNew {
			t.Errorf("Get over %s: loaded a session", what)
		}
	}
}
