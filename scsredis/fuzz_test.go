package scsredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// FuzzFindStoredBytes: whatever bytes sit under a session key, FindCtx does
// not panic and returns a miss or the payload of a record; scs's own load
// (Find, then its codec) and commit over it return an error or succeed,
// never panic.
func FuzzFindStoredBytes(f *testing.F) {
	srv := redistest.Start(f)
	raw := srv.NewClient(f, nil)
	store := scsredis.New(srv.NewClient(f, nil), scsredis.Options{Core: core.Options{Prefix: srv.Prefix, Now: srv.Now, MaxRecordSize: 4096}})
	sm := scs.New()
	sm.Store = store
	ctx := context.Background()
	token := core.NewToken()
	key := store.Core().SessionKey(core.Handle(token))

	// A record as the store writes it, to start from.
	seed := core.NewToken()
	blob, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{"user_id": "u1", "n": 1})
	if err != nil {
		f.Fatal(err)
	}
	if err := store.CommitCtx(ctx, seed, blob, time.Now().Add(time.Hour)); err != nil {
		f.Fatal(err)
	}
	rec, err := raw.Get(ctx, store.Core().SessionKey(core.Handle(seed))).Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(rec)
	f.Add(append([]byte{0xB1}, blob...))
	f.Add([]byte{0xB1})
	f.Add(blob)

	f.Fuzz(func(t *testing.T, b []byte) {
		if err := raw.Set(ctx, key, b, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		data, found, err := store.FindCtx(ctx, token)
		if err != nil {
			t.Fatalf("FindCtx over %q: %v, want a miss or a record (Redis is up)", b, err)
		}
		if found && len(b) == 0 {
			t.Fatalf("FindCtx found a session in an empty value")
		}
		if !found && data != nil {
			t.Fatalf("FindCtx over %q: a miss with data %q", b, data)
		}
		lctx, err := sm.Load(ctx, token)
		if err != nil {
			return // the codec refused the payload: scs answers with its ErrorFunc
		}
		if _, values, _ := (scs.GobCodec{}).Decode(data); found && values == nil {
			// A well-formed record whose gob payload has no Values field
			// (scs never writes one: it sends even an empty map): scs's
			// Put would panic on the nil map it decodes. Only someone who
			// can write to Redis can plant it; see SECURITY.md.
			return
		}
		sm.Put(lctx, "k", "v")
		_, _, _ = sm.Commit(lctx)
	})
}
