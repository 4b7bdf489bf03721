package core_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/redisession/redisession/core"
)

// TestRevokeAllRace revokes a user's sessions while requests of that user
// are in flight (loaded, about to save or renew), many times over: a session
// revoked must never come back, and nothing may be left outside the index.
func TestRevokeAllRace(t *testing.T) {
	rounds := rounds()
	ctx := context.Background()
	f := newFixture(t, core.Options{})
	resurrected := 0
	for r := 0; r < rounds; r++ {
		user := "u" + strconv.Itoa(r)
		var tokens []string
		for d := 0; d < 3; d++ {
			tokens = append(tokens, f.login(t, user, "d"+strconv.Itoa(d)).Token())
		}
		inflight := make([]*core.Session, 0, len(tokens))
		for _, tok := range tokens {
			x, err := f.store.Load(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			inflight = append(inflight, x)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, x := range inflight {
			wg.Add(1)
			go func(i int, x *core.Session) {
				defer wg.Done()
				<-start
				x.Data = []byte("late write " + strconv.Itoa(i))
				var err error
				if i == 0 {
					err = f.store.Renew(ctx, x)
				} else {
					err = f.store.Save(ctx, x)
				}
				if err != nil && !errors.Is(err, core.ErrNotFound) {
					t.Errorf("round %d: in-flight write: %v", r, err)
				}
			}(i, x)
		}
		var revoked int
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var err error
			if revoked, err = f.store.RevokeUser(ctx, user); err != nil {
				t.Errorf("round %d: RevokeUser: %v", r, err)
			}
		}()
		close(start)
		wg.Wait()
		// Whatever raced, every token is dead: the originals, and the one
		// the renewal gave the first session.
		for _, tok := range append(tokens, inflight[0].Token()) {
			if _, err := f.store.Load(ctx, tok); err == nil {
				resurrected++
			}
		}
		if list, _ := f.store.UserSessions(ctx, user); len(list) != 0 {
			t.Fatalf("round %d: %d sessions outlived the revoke", r, len(list))
		}
		_ = revoked
	}
	if resurrected != 0 {
		t.Errorf("%d revoked sessions came back in %d rounds", resurrected, rounds)
	}
	for _, k := range f.srv.Keys(t, f.raw) {
		if ttl := f.pttl(t, k); ttl <= 0 {
			t.Errorf("%s left without a TTL (%v) after every session was revoked", k, ttl)
		}
	}
}

// TestConcurrentLogins: many logins of one user at once lose no index entry.
func TestConcurrentLogins(t *testing.T) {
	const n = 64
	f := newFixture(t, core.Options{})
	var wg sync.WaitGroup
	handles := make(chan string, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			handles <- f.login(t, "u1", "device"+strconv.Itoa(i)).Handle()
		}(i)
	}
	wg.Wait()
	close(handles)
	list, err := f.store.UserSessions(context.Background(), "u1")
	if err != nil || len(list) != n {
		t.Fatalf("UserSessions after %d concurrent logins: %d, %v", n, len(list), err)
	}
	listed := map[string]bool{}
	for _, s := range list {
		listed[s.Handle] = true
	}
	for h := range handles {
		if !listed[h] {
			t.Errorf("login %s lost from the index", h)
		}
	}
}
