package scsredis_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// TestErrorsNameNoToken: with Redis down, and with session data the codec
// cannot read, no error the store returns, and none scs hands its
// ErrorFunc, carries the token.
func TestErrorsNameNoToken(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	opts := scsredis.Options{Core: core.Options{Prefix: srv.Prefix}}
	up := scsredis.New(srv.NewClient(t, nil), opts)
	down := scsredis.New(redistest.Down(t), opts)
	token := core.NewToken()
	blob, _ := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{"user_id": "u1"})
	if err := up.CommitCtx(ctx, token, blob, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: no error", what)
			return
		}
		redistest.NoSecret(t, what, err.Error(), token)
	}
	_, _, err := down.FindCtx(ctx, token)
	check("FindCtx, Redis down", err)
	if err := down.CommitCtx(ctx, token, blob, time.Now().Add(time.Hour)); err != nil {
		// nil until core reports a pipeline that could not be sent: see
		// core's TestRedisDownFailsWrites.
		check("CommitCtx, Redis down", err)
	}
	check("DeleteCtx, Redis down", down.DeleteCtx(ctx, token))
	_, err = down.RevokeUser(ctx, "u1")
	check("RevokeUser, Redis down", err)

	// Through scs: what LoadAndSave hands its ErrorFunc.
	var errs []error
	sm := scs.New()
	sm.Store = down
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		errs = append(errs, err)
		http.Error(w, "session error", http.StatusInternalServerError)
	}
	h := sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sm.Put(r.Context(), "k", "v") }))
	for _, c := range []*http.Cookie{{Name: sm.Cookie.Name, Value: token}, nil} {
		req := httptest.NewRequest("GET", "https://example.com/", nil)
		if c != nil {
			req.AddCookie(c)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	if len(errs) != 2 {
		t.Fatalf("ErrorFunc called %d times, want 2 (load, then commit of a new session)", len(errs))
	}
	for _, err := range errs {
		check("scs ErrorFunc, Redis down", err)
	}
}
