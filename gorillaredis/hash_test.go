package gorillaredis_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gorilla/sessions"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/gorillaredis"
)

// TestSwapHashLayout: the swap script behaves the same with one hash field
// per value (ints, registered structs, flashes, delete, logout).
func TestSwapHashLayout(t *testing.T) {
	want := runSwap(t, sessions.NewCookieStore(testKeys...))
	for _, ser := range []gorillaredis.Serializer{gorillaredis.GobSerializer{}, gorillaredis.JSONSerializer{}} {
		got := runSwap(t, newEnv(t, gorillaredis.Options{Core: core.Options{Layout: core.LayoutHash}, Serializer: ser}).store)
		if _, isJSON := ser.(gorillaredis.JSONSerializer); isJSON {
			// JSON cannot keep ints and structs: only check it runs the script.
			if len(got) != len(swapScript) {
				t.Errorf("JSONSerializer: %d replies", len(got))
			}
			continue
		}
		for i := range swapScript {
			if got[i] != want[i] {
				t.Errorf("%T: GET %s: %q on redis (hash layout), %q on CookieStore", ser, swapScript[i], got[i], want[i])
			}
		}
	}
}

// TestHashLayoutWritesOnlyWhatChanged: a read sends one command; a change of
// one value writes one field, not the session.
func TestHashLayoutWritesOnlyWhatChanged(t *testing.T) {
	e := newEnv(t, gorillaredis.Options{Core: core.Options{Layout: core.LayoutHash}})
	ts := httptest.NewTLSServer(app(e.store))
	defer ts.Close()
	c := newClient(t, ts)
	c.get("/incr")
	c.get("/cart?item=a")
	for i := 0; i < 10; i++ {
		e.count.Reset()
		c.get("/show")
		if cmds := e.count.Commands(); e.count.RoundTrips() != 1 || len(cmds) != 1 || cmds["eval"]+cmds["evalsha"] != 1 {
			t.Fatalf("read %d: %d round trips %v, want one script call", i, e.count.RoundTrips(), cmds)
		}
	}
	token := tokenOf(t, e.store, c.cookie("app"))
	key := e.store.Core().SessionKey(e.store.Core().Handle(token))
	if typ := e.raw.Type(context.Background(), key).Val(); typ != "hash" {
		t.Fatalf("%s is a %s, want a hash", key, typ)
	}
	if body, _ := c.get("/incr"); body != "n=2" {
		t.Errorf("incr after reads: %q, want n=2", body)
	}
}
