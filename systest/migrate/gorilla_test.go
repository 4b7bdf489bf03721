package migrate_test

import (
	"testing"
	"time"

	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

// TestMigrateFromCookieStore: alice logs in on gorilla's CookieStore, the
// app swaps to gorillaredis, and she stays logged in with her values.
func TestMigrateFromCookieStore(t *testing.T) {
	srv, rdb := gorillaRedis(t)
	old := sessions.NewCookieStore(gorillaOldKeys...)
	body, legacy := gorillaGet(t, gorillaApp(old), "/login", nil)
	if body != "ok" || legacy == nil {
		t.Fatalf("CookieStore login: %q %v", body, legacy)
	}
	store := gorillaredis.NewStoreWithOptions(rdb, gorillaredis.Options{
		Core: core.Options{Prefix: srv.Prefix},
		Migrate: &gorillaredis.Migration{
			Until:    time.Now().Add(time.Hour),
			From:     gorillaredis.FromCookieStore,
			KeyPairs: gorillaOldKeys,
		},
	}, gorillaNewKeys...)
	// The values were in the cookie: "gone" is the adoption's claim, which
	// keeps the cookie from being adopted twice.
	adopted := func() bool { return store.Core().Counters().Adopted > 0 }
	gorillaCheckSwap(t, store, legacy, adopted)
}
