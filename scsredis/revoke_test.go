package scsredis_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// renewApp is an scs app whose /renew calls sm.RenewToken and, when hold is
// set, waits inside the handler (after scs deleted the old token, before it
// commits the new one) until release is closed.
type renewApp struct {
	srv     *redistest.Server
	raw     redis.UniversalClient
	store   *scsredis.Store
	sm      *scs.SessionManager
	ts      *httptest.Server
	entered chan struct{}
	release chan struct{}
}

func newRenewApp(t *testing.T) *renewApp {
	t.Helper()
	srv := redistest.Start(t)
	a := &renewApp{raw: srv.NewClient(t, nil), srv: srv}
	a.store = scsredis.New(srv.NewClient(t, nil), scsredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}})
	a.sm = scs.New()
	a.sm.Store = a.store
	a.sm.IdleTimeout = 30 * time.Minute
	a.ts = httptest.NewServer(a.sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		switch r.URL.Path {
		case "/login":
			_ = a.sm.RenewToken(ctx)
			a.sm.Put(ctx, "user_id", r.URL.Query().Get("user"))
		case "/renew":
			_ = a.sm.RenewToken(ctx)
			if r.URL.Query().Get("hold") != "" {
				close(a.entered)
				<-a.release
			}
		case "/logout":
			_ = a.sm.Destroy(ctx)
		case "/put-held":
			close(a.entered)
			<-a.release
			a.sm.Put(ctx, "k", "late")
		}
		_, _ = w.Write([]byte(a.sm.GetString(ctx, "user_id")))
	})))
	t.Cleanup(a.ts.Close)
	return a
}

// get sends a request presenting token and returns the token the response
// sets (token itself if none) and the body.
func (a *renewApp) get(t *testing.T, path, token string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", a.ts.URL+path, nil)
	if token != "" {
		req.AddCookie(&http.Cookie{Name: a.sm.Cookie.Name, Value: token})
	}
	res, err := a.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body [64]byte
	n, _ := res.Body.Read(body[:])
	for _, c := range res.Cookies() {
		if c.Name == a.sm.Cookie.Name {
			token = c.Value
		}
	}
	return token, string(body[:n])
}

func (a *renewApp) alive(t *testing.T, token string) bool {
	t.Helper()
	_, found, err := a.store.Find(token)
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestRenewTokenInFlightDuringRevoke: a request that called sm.RenewToken
// (scs deleted the old token; the new one is committed when the handler
// returns) while RevokeUser ran does not bring the session back under the
// new token.
func TestRenewTokenInFlightDuringRevoke(t *testing.T) {
	a := newRenewApp(t)
	old, _ := a.get(t, "/login?user=u1", "")
	a.entered, a.release = make(chan struct{}), make(chan struct{})
	done := make(chan string)
	go func() {
		tok, _ := a.get(t, "/renew?hold=1", old)
		done <- tok
	}()
	<-a.entered
	if _, err := a.store.RevokeUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	close(a.release)
	renewed := <-done
	if a.alive(t, old) || a.alive(t, renewed) {
		t.Errorf("after RevokeUser the session lives on: old token %v, renewed token %v", a.alive(t, old), a.alive(t, renewed))
	}
	if _, user := a.get(t, "/", renewed); user != "" {
		t.Errorf("the renewed cookie is still logged in as %q", user)
	}
}

// TestRenewTokenRacingRevoke plays sm.RenewToken against RevokeUser with
// real goroutines: no session of the user is alive once both returned.
func TestRenewTokenRacingRevoke(t *testing.T) {
	rounds := 200
	if n, err := strconv.Atoi(os.Getenv("REDISESSION_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	a := newRenewApp(t)
	survivors := 0
	for r := 0; r < rounds; r++ {
		user := "u" + strconv.Itoa(r)
		old, _ := a.get(t, "/login?user="+user, "")
		var renewed string
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); renewed, _ = a.get(t, "/renew", old) }()
		go func() {
			defer wg.Done()
			if _, err := a.store.RevokeUser(context.Background(), user); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		// A renewal that ran after the revoke finds no session and starts
		// an anonymous one: only a session still logged in survived.
		for _, tok := range []string{old, renewed} {
			if _, u := a.get(t, "/", tok); u == user {
				survivors++
				break
			}
		}
	}
	if survivors != 0 {
		t.Errorf("sm.RenewToken racing RevokeUser: %d of %d sessions survived", survivors, rounds)
	}
}

// TestDestroyLeavesNoDevice: sm.Destroy deletes a bound session; its index
// entry is gone at once, and the retirement marker core.Retire left in its
// place goes when the request ends: nothing of the session stays indexed.
func TestDestroyLeavesNoDevice(t *testing.T) {
	a := newRenewApp(t)
	tok, _ := a.get(t, "/login?user=u1", "")
	a.get(t, "/logout", tok)
	if a.alive(t, tok) {
		t.Fatalf("the session outlived sm.Destroy")
	}
	ctx := context.Background()
	if list, err := a.store.UserSessions(ctx, "u1"); err != nil || len(list) != 0 {
		t.Errorf("devices after sm.Destroy: %v, %v", list, err)
	}
	// The marker goes just after the response, off the request's path.
	idx := a.store.Core().IndexKey("u1")
	var members []string
	for i := 0; i < 500; i++ {
		var err error
		if members, err = a.raw.ZRange(ctx, idx, 0, -1).Result(); err != nil {
			t.Fatal(err)
		}
		if len(members) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Errorf("%s still holds %q after sm.Destroy's request ended", idx, members)
}

// TestLongRequest: how long a request runs does not matter. A request that
// found its session, then held it while the session was revoked and more
// time passed than any table would keep (11 minutes; the store used to
// forget after 10), commits nothing.
func TestLongRequest(t *testing.T) {
	a := newRenewApp(t)
	tok, _ := a.get(t, "/login?user=u1", "")
	a.entered, a.release = make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); a.get(t, "/put-held", tok) }()
	<-a.entered
	if _, err := a.store.RevokeUser(context.Background(), "u1"); err != nil {
		t.Fatal(err)
	}
	if !a.srv.Real() { // a real server's clock cannot be moved; the hold still counts
		a.srv.Advance(11 * time.Minute)
	}
	close(a.release)
	<-done
	if a.alive(t, tok) {
		t.Errorf("a request held 11 minutes across a revoke wrote its session back")
	}
}
