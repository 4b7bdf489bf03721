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
	script := []string{"/show", "/incr", "/incr", "/show", "/cart?item=apple", "/cart?item=pear", "/show",
		"/flash", "/flashes", "/flashes", "/del?k=cart", "/show", "/incr", "/logout", "/show", "/incr"}
	run := func(store sessions.Store) []string {
		ts := httptest.NewTLSServer(app(store))
		defer ts.Close()
		c := newClient(t, ts)
		var out []string
		for _, p := range script {
			body, _ := c.get(p)
			out = append(out, body)
		}
		return out
	}
	want := run(sessions.NewCookieStore(testKeys...))
	for _, ser := range []gorillaredis.Serializer{gorillaredis.GobSerializer{}} {
		got := run(newEnv(t, gorillaredis.Options{Core: core.Options{Layout: core.LayoutHash}, Serializer: ser}).store)
		for i := range script {
			if got[i] != want[i] {
				t.Errorf("%T: GET %s: %q on redis (hash layout), %q on CookieStore", ser, script[i], got[i], want[i])
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
		if cmds := e.count.Commands(); e.count.RoundTrips() != 1 || len(cmds) != 1 || cmds["eval"] != 1 {
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
