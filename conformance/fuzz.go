package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redisession/redisession/core"
)

// StoredBytes is what an adapter's fuzz test adds to FuzzStoredBytes.
type StoredBytes struct {
	// Seeds are inputs to start from besides the suite's own (a record as
	// the adapter writes it, a lone record marker, a JSON object): bytes of
	// the framework's own encoding, say.
	Seeds [][]byte
	// Check, if not nil, runs for every input once b is under token's key
	// and before the suite's own checks: for what only the adapter's API
	// can see. env is what the adapter was opened with.
	Check func(t *testing.T, env Env, token string, b []byte)
}

// FuzzStoredBytes fuzzes what the adapter h opens makes of whatever bytes
// sit under a session key (Limits/MalformedStoredData tries a few by hand):
// a read-only request and then a write, both presenting the cookie of the
// token whose key holds the bytes, answer 200 (a miss, or the stored
// session) or 500 (an error), never panic; unless the stored session was
// loaded, the write saves a new session under another token and leaves
// the bytes as they were. An adapter's fuzz test is one call:
//
//	func FuzzStoredBytes(f *testing.F) {
//		conformance.FuzzStoredBytes(f, harness{}, conformance.StoredBytes{})
//	}
//
// It runs in the string layout, on the Redis Run would use, with
// MaxRecordSize 4096.
func FuzzStoredBytes(f *testing.F, h Harness, more StoredBytes) {
	p := open(f, h, core.LayoutString, func(o *core.Options) { o.MaxRecordSize = 4096 })
	ctx := context.Background()

	// A record as the adapter writes it, to start from.
	d := p.device(f, "seed")
	d.login(f, "u1")
	r := d.set(f, "n", "1")
	rec, err := p.raw.Get(ctx, p.store.SessionKey(r.Handle)).Bytes()
	if err != nil {
		f.Fatalf("conformance: the seed session %s: %v", p.store.SessionKey(r.Handle), err)
	}
	for _, seed := range append([][]byte{rec, {0xB1}, []byte(`{"n":"1"}`)}, more.Seeds...) {
		f.Add(seed)
	}

	token := core.NewToken()
	key := p.store.SessionKey(core.Handle(token))
	cookie := &http.Cookie{Name: p.ad.CookieName, Value: p.ad.Cookie(token)}
	serve := func(t *testing.T, method, path string) (reply, int) {
		t.Helper()
		req := httptest.NewRequest(method, "https://example.com"+path, nil)
		req.AddCookie(cookie)
		req.Header.Set("User-Agent", "fuzz")
		w := httptest.NewRecorder()
		p.ad.Handler.ServeHTTP(w, req) // a panic fails the input
		var out reply
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			out.Err = w.Body.String()
		}
		if w.Code != http.StatusOK && w.Code != http.StatusInternalServerError || w.Code == http.StatusOK && out.Err != "" {
			t.Fatalf("%s %s: status %d, body %.200q; want 200 with the app's reply, or 500", method, path, w.Code, w.Body.Bytes())
		}
		return out, w.Code
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := p.raw.Set(ctx, key, b, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		if more.Check != nil {
			more.Check(t, p.env, token, b)
		}
		if r, status := serve(t, "GET", "/get?k=n"); status == http.StatusOK && r.Handle == core.Handle(token) {
			return // a record the adapter could read: the stored session
		}
		r, status := serve(t, "POST", "/set?k=n&v=2")
		if status == http.StatusOK && r.Handle == core.Handle(token) {
			t.Fatalf("a write took the token of the key holding %q, which the read before did not load", b)
		}
		if status == http.StatusOK && r.Handle != "" {
			_ = p.raw.Del(ctx, p.store.SessionKey(r.Handle)).Err()
		}
		if got, err := p.raw.Get(ctx, key).Bytes(); err == nil && !bytes.Equal(got, b) {
			t.Fatalf("the bytes under %s changed from %q to %q", key, b, got)
		}
	})
}

// FuzzCookie fuzzes the session cookie's value (Security/MalformedToken
// tries a few by hand): a read-only request presenting any value answers
// 200 and finds nothing (no session is ever saved), sends Redis nothing
// unless the value presents a well-formed token (Adapter.Token), then one
// read of its session, and adopts no token. An adapter's fuzz test is one
// call:
//
//	func FuzzCookie(f *testing.F) { conformance.FuzzCookie(f, harness{}) }
//
// It runs in the string layout, on the Redis Run would use.
func FuzzCookie(f *testing.F, h Harness) {
	p := open(f, h, core.LayoutString, nil)
	decode := p.ad.Token
	if decode == nil {
		decode = func(v string) (string, bool) { return v, true }
	}
	for _, plain := range []string{core.NewToken(), "not-a-token", ""} {
		v := p.ad.Cookie(plain)
		f.Add(v)
		if v != "" {
			f.Add(v[:len(v)-1] + "A") // tampered
		}
	}
	f.Add(core.NewToken()) // the bare token, whether or not the adapter signs it
	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest("GET", "https://example.com/get?k=x", nil)
		req.Header.Set("Cookie", p.ad.CookieName+"="+value)
		p.count.Reset()
		w := httptest.NewRecorder()
		p.ad.Handler.ServeHTTP(w, req) // a panic fails the input
		var r reply
		if err := json.Unmarshal(w.Body.Bytes(), &r); w.Code != http.StatusOK || err != nil || r.Found {
			t.Fatalf("cookie %q: status %d, body %.200q; want 200 and nothing found", value, w.Code, w.Body.Bytes())
		}
		token, valid := "", false
		if c, err := req.Cookie(p.ad.CookieName); err == nil {
			token, valid = decode(c.Value)
			valid = valid && core.ValidToken(token)
		}
		cmds := p.count.Commands()
		switch {
		case !valid && p.count.Total() != 0:
			t.Fatalf("cookie %q presents no well-formed token but reached Redis: %v", value, cmds)
		case valid && (p.count.Total() != 1 || cmds["get"]+cmds["getex"] != 1):
			t.Fatalf("cookie %q presents a well-formed token: sent %v, want one read", value, cmds)
		case valid && r.Handle == core.Handle(token):
			t.Fatalf("the unknown token of cookie %q was adopted", value)
		}
	})
}
