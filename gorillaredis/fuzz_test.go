package gorillaredis_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/redis/go-redis/v9"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
	"github.com/redisession/redisession/internal/redistest"
)

const fuzzName = "session"

// FuzzCookieDecode: any cookie value goes through Get without a panic,
// always yields a session, and reaches Redis only when its signature holds
// and it carries a well-formed token; then with one GETEX, and the unknown
// token is not adopted.
func FuzzCookieDecode(f *testing.F) {
	srv := redistest.Start(f)
	count := redistest.NewCounter()
	store := gorillaredis.NewStoreWithOptions(srv.NewClient(f, count),
		gorillaredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}}, testKeys...)
	for _, plain := range []string{core.NewToken(), "not-a-token", ""} {
		signed, err := store.CookieValue(fuzzName, plain)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(signed)
		f.Add(signed[:len(signed)-1] + "A") // tampered
	}
	f.Add(core.NewToken()) // the bare token, unsigned
	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.Header.Set("Cookie", fuzzName+"="+value)
		count.Reset()
		s, err := store.Get(req, fuzzName)
		if err != nil || s == nil {
			t.Fatalf("Get: %v, %v; want a session and no error (Redis is up)", s, err)
		}
		if !s.IsNew {
			t.Fatalf("cookie %q loaded a session though none was ever saved", value)
		}
		var token string
		valid := false
		if c, err := req.Cookie(fuzzName); err == nil {
			valid = securecookie.DecodeMulti(fuzzName, c.Value, &token, store.Codecs...) == nil && core.ValidToken(token)
		}
		cmds := count.Commands()
		if !valid && count.Total() != 0 {
			t.Fatalf("cookie %q is not a signed token but reached Redis: %v", value, cmds)
		}
		if valid && (count.Total() != 1 || cmds["getex"] != 1) {
			t.Fatalf("signed token: sent %v, want one GETEX", cmds)
		}
		if valid && s.ID == core.Handle(token) {
			t.Fatalf("the unknown token of cookie %q was adopted", value)
		}
	})
}

// FuzzLoadStoredBytes: whatever bytes sit under a session key, Get with a
// valid cookie for it does not panic and yields a session (the stored one,
// or a new one), and a save of a new session leaves those bytes alone.
func FuzzLoadStoredBytes(f *testing.F) {
	srv := redistest.Start(f)
	raw := srv.NewClient(f, nil)
	store := gorillaredis.NewStoreWithOptions(srv.NewClient(f, nil),
		gorillaredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now, MaxRecordSize: 4096}}, testKeys...)
	ctx := context.Background()
	token := core.NewToken()
	key := store.Core().SessionKey(core.Handle(token))
	cookie, err := store.CookieValue(fuzzName, token)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(storedRecord(f, store, raw))
	f.Add([]byte{0xB1})
	f.Add([]byte(`{"n":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := raw.Set(ctx, key, b, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		req.AddCookie(&http.Cookie{Name: fuzzName, Value: cookie})
		s, err := store.Get(req, fuzzName)
		if err != nil || s == nil {
			t.Fatalf("Get over %q: %v, %v; want a session and no error", b, s, err)
		}
		if !s.IsNew {
			return // a record with a payload gob could read: the stored session
		}
		s.Values["n"] = 1
		if err := s.Save(req, httptest.NewRecorder()); err != nil {
			t.Fatalf("Save of a new session: %v", err)
		}
		if s.ID == core.Handle(token) {
			t.Fatalf("a new session took the token of the key holding %q", b)
		}
		_ = raw.Del(ctx, store.Core().SessionKey(s.ID)).Err()
		if got, err := raw.Get(ctx, key).Bytes(); err == nil && !bytes.Equal(got, b) {
			t.Fatalf("the bytes under %s changed from %q to %q", key, b, got)
		}
	})
}

// storedRecord saves a session through store and returns the bytes Redis
// holds for it.
func storedRecord(t testing.TB, store *gorillaredis.Store, raw redis.UniversalClient) []byte {
	t.Helper()
	req := httptest.NewRequest("GET", "https://example.com/", nil)
	s, err := store.Get(req, fuzzName)
	if err != nil {
		t.Fatal(err)
	}
	s.Values["user_id"] = "u1"
	s.Values["n"] = 1
	if err := s.Save(req, httptest.NewRecorder()); err != nil {
		t.Fatal(err)
	}
	b, err := raw.Get(context.Background(), store.Core().SessionKey(s.ID)).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
