package reference_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/redisession/redisession/conformance/reference"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
)

// TestErrorsNameNoToken: with Redis down, the error Save returns carries
// no token.
func TestErrorsNameNoToken(t *testing.T) {
	up := newStore(t)
	down := reference.New(core.New(redistest.Down(t), up.Core.Options()))
	x := up.Load(httptest.NewRequest("GET", "https://example.com/", nil))
	x.Set("user_id", "u1")
	w := httptest.NewRecorder()
	if err := up.Save(w, httptest.NewRequest("GET", "https://example.com/", nil), x); err != nil {
		t.Fatal(err)
	}
	token := w.Result().Cookies()[0].Value
	r := httptest.NewRequest("GET", "https://example.com/", nil)
	r.AddCookie(&http.Cookie{Name: up.Cookie.Name, Value: token})
	y := down.Load(r)
	y.Set("k", "v")
	err := down.Save(httptest.NewRecorder(), r, y)
	if err == nil {
		t.Fatal("Save with Redis down: no error")
	}
	redistest.NoSecret(t, "Save, Redis down", err.Error(), token)
	if err := y.Renew(r); err != nil {
		redistest.NoSecret(t, "Renew, Redis down", err.Error(), token)
	}
	if err := y.Destroy(r); err != nil {
		redistest.NoSecret(t, "Destroy, Redis down", err.Error(), token)
	}
}

func newStore(t *testing.T) *reference.Store {
	srv := redistest.Start(t)
	return reference.New(core.New(srv.NewClient(t, nil), core.Options{Prefix: srv.Prefix}))
}
