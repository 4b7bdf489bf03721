package scsredis_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// TestOpaqueBytes: scs's store contract is opaque bytes (scs's own store
// tests commit "encoded_data"): whatever Commit is given, Find returns byte
// for byte; Commit overwrites; an expiry in the past deletes; an unknown
// token is not found; Delete of it is a no-op.
func TestOpaqueBytes(t *testing.T) {
	srv := redistest.Start(t)
	store := scsredis.New(srv.NewClient(t, nil), scsredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tok := core.NewToken()
	if err := store.CommitCtx(ctx, tok, []byte("encoded_data"), time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Commit of bytes no codec can read: %v", err)
	}
	if b, found, err := store.FindCtx(ctx, tok); !found || err != nil || string(b) != "encoded_data" {
		t.Fatalf("Find = %q, %v, %v; want the bytes committed", b, found, err)
	}
	if err := store.CommitCtx(ctx, tok, []byte("new_encoded_data"), time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if b, _, _ := store.FindCtx(ctx, tok); string(b) != "new_encoded_data" {
		t.Errorf("after an overwrite Find = %q", b)
	}
	if err := store.CommitCtx(ctx, tok, []byte("x"), time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := store.FindCtx(ctx, tok); found {
		t.Errorf("a commit with a past expiry left the session")
	}
	if _, found, err := store.FindCtx(ctx, core.NewToken()); found || err != nil {
		t.Errorf("an unknown token: found %v, %v", found, err)
	}
	if err := store.DeleteCtx(ctx, core.NewToken()); err != nil {
		t.Errorf("Delete of an unknown token: %v", err)
	}
	if n := store.Core().Counters().Opaque; n != 3 {
		t.Errorf("Counters().Opaque = %d, want 3 (one per commit)", n)
	}
	for _, k := range srv.Keys(t, srv.NewClient(t, nil)) {
		if ttl, _ := srv.NewClient(t, nil).PTTL(ctx, k).Result(); ttl <= 0 {
			t.Errorf("%s has no TTL", k)
		}
	}
}

// jsonCodec is an scs.Codec other than gob.
type jsonCodec struct{}

func (jsonCodec) Encode(deadline time.Time, values map[string]interface{}) ([]byte, error) {
	return json.Marshal(struct {
		D time.Time
		V map[string]interface{}
	}{deadline, values})
}

func (jsonCodec) Decode(b []byte) (time.Time, map[string]interface{}, error) {
	var v struct {
		D time.Time
		V map[string]interface{}
	}
	err := json.Unmarshal(b, &v)
	return v.D, v.V, err
}

// TestMismatchedCodec: a manager whose Codec the store was not told of
// still works (its bytes are stored opaque), and Check names the option to
// set.
func TestMismatchedCodec(t *testing.T) {
	f := newFixture(t, setup{tweak: func(sm *scs.SessionManager) { sm.Codec = jsonCodec{} }})
	c := f.client(t)
	c.do(t, "/put?k=a&v=1", nil)
	if got := c.get(t, "a"); got != "1" {
		t.Fatalf("a custom Codec: read %q, want 1", got)
	}
	if f.store.Core().Counters().Opaque == 0 {
		t.Errorf("no opaque payload counted")
	}
	err := f.store.CheckManager(f.sm)
	if err == nil || !strings.Contains(err.Error(), "Options.Codec") {
		t.Errorf("CheckManager = %v, want an error naming Options.Codec", err)
	}
	matched := newFixture(t, setup{
		opts:  scsredis.Options{Codec: jsonCodec{}},
		tweak: func(sm *scs.SessionManager) { sm.Codec = jsonCodec{}; sm.Cookie.Secure = true },
	})
	if err := matched.store.CheckManager(matched.sm); err != nil {
		t.Errorf("CheckManager with matching codecs: %v", err)
	}
	m := matched.client(t)
	m.do(t, "/login?user=u1", nil)
	if !matched.indexed(t, "u1", m.handle(t)) {
		t.Errorf("with the matching Options.Codec the session is not bound to its user")
	}
}

// TestLongLifetime: a 7-day sm.Lifetime is what the session gets; a store
// cap below it is reported by Check.
func TestLongLifetime(t *testing.T) {
	const week = 7 * 24 * time.Hour
	f := newFixture(t, setup{tweak: func(sm *scs.SessionManager) { sm.Lifetime = week; sm.Cookie.Secure = true }})
	if err := f.store.CheckManager(f.sm); err != nil {
		t.Errorf("CheckManager: %v", err)
	}
	c := f.client(t)
	c.do(t, "/login?user=u1", nil)
	info, err := f.store.Core().Inspect(context.Background(), c.handle(t))
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(info.Deadline); left < week-time.Minute || left > week+time.Minute {
		t.Errorf("deadline in %v, want ≈%v (sm.Lifetime)", left, week)
	}
	capped := newFixture(t, setup{
		opts:  scsredis.Options{Core: core.Options{Lifetime: 24 * time.Hour}},
		tweak: func(sm *scs.SessionManager) { sm.Lifetime = week },
	})
	if err := capped.store.CheckManager(capped.sm); err == nil || !strings.Contains(err.Error(), "Lifetime") {
		t.Errorf("CheckManager with a 24h cap under a 7-day sm.Lifetime = %v, want an error", err)
	}
}

// countingCodec counts the store's decodes.
type countingCodec struct {
	scs.GobCodec
	n *atomic.Int64
}

func (c countingCodec) Decode(b []byte) (time.Time, map[string]interface{}, error) {
	c.n.Add(1)
	return c.GobCodec.Decode(b)
}

// TestDecodeOncePerRequest: scs encodes its values in random map order, so
// an unchanged session rarely commits the bytes it was read with; the store
// still decodes once per request, not once for what scs commits and again
// for what is stored.
func TestDecodeOncePerRequest(t *testing.T) {
	var n atomic.Int64
	f := newFixture(t, setup{opts: scsredis.Options{Codec: countingCodec{n: &n}}})
	c := f.client(t)
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		c.do(t, "/put?k="+k+"&v=value-"+k, nil)
	}
	const reads = 20
	n.Store(0)
	for i := 0; i < reads; i++ {
		f.count.Reset()
		if got := c.get(t, "c"); got != "value-c" {
			t.Fatalf("read %q", got)
		}
		if cmds := f.count.Commands(); cmds["pexpireat"] != 1 || len(cmds) != 2 {
			t.Fatalf("read %d rewrote the session: %v", i, cmds)
		}
	}
	if got := n.Load(); got > reads {
		t.Errorf("%d decodes in %d read-only requests, want at most one each", got, reads)
	}
}
