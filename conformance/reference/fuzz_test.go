package reference_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/redisession/redisession/conformance/reference"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// FuzzLoadStoredBytes: whatever bytes sit under a session key, Load with a
// cookie naming it does not panic and yields a session (the stored one, or
// a new one under another token), and saving a new session leaves those
// bytes alone.
func FuzzLoadStoredBytes(f *testing.F) {
	srv := redistest.Start(f)
	raw := srv.NewClient(f, nil)
	store := reference.New(core.New(srv.NewClient(f, nil), core.Options{Prefix: srv.Prefix, Now: srv.Now, MaxRecordSize: 4096}))
	ctx := context.Background()
	token := core.NewToken()
	key := store.Core.SessionKey(core.Handle(token))
	request := func() *http.Request {
		r := httptest.NewRequest("GET", "https://example.com/", nil)
		r.AddCookie(&http.Cookie{Name: store.Cookie.Name, Value: token})
		return r
	}

	// A record as the store writes it, to start from.
	x := store.Load(httptest.NewRequest("GET", "https://example.com/", nil))
	x.Set("user_id", "u1")
	x.Set("n", "1")
	if err := store.Save(httptest.NewRecorder(), request(), x); err != nil {
		f.Fatal(err)
	}
	rec, err := raw.Get(ctx, store.Core.SessionKey(x.Handle())).Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add([]byte{0xB1})
	f.Add([]byte(`{"n":"1"}`))

	f.Fuzz(func(t *testing.T, b []byte) {
		if err := raw.Set(ctx, key, b, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		r := request()
		x := store.Load(r)
		if x == nil {
			t.Fatal("Load returned nil")
		}
		if x.Handle() == core.Handle(token) {
			return // a record with a JSON payload: the stored session
		}
		x.Set("n", "2")
		if err := store.Save(httptest.NewRecorder(), r, x); err != nil {
			t.Fatalf("Save of a new session over %q: %v", b, err)
		}
		_ = raw.Del(ctx, store.Core.SessionKey(x.Handle())).Err()
		if got, err := raw.Get(ctx, key).Bytes(); err == nil && !bytes.Equal(got, b) {
			t.Fatalf("the bytes under %s changed from %q to %q", key, b, got)
		}
	})
}
