package scsredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/conformance"
	"github.com/redisession/redisession/core"
	"github.com/redisession/redisession/internal/redistest"
	"github.com/redisession/redisession/scsredis"
)

// FuzzFindStoredBytes: whatever bytes sit under a session key, scs's load
// and commit through the store neither panic nor adopt the token, and
// leave the bytes alone (conformance.FuzzStoredBytes); and FindCtx, as it
// documents, returns a miss (nil data, nil error) for bytes it did not
// write, and finds nothing in an empty value. (A well-formed record whose
// gob payload has no Values field makes scs's own Put panic on the nil map
// it decodes; scs never writes one, and the fuzz writes only to sessions
// the read did not load. See SECURITY.md.)
func FuzzFindStoredBytes(f *testing.F) {
	blob, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{"user_id": "u1", "n": "1"})
	if err != nil {
		f.Fatal(err)
	}
	conformance.FuzzStoredBytes(f, harness{}, conformance.StoredBytes{
		Seeds: [][]byte{blob, append([]byte{0xB1}, blob...)},
		Check: func(t *testing.T, env conformance.Env, token string, b []byte) {
			store := scsredis.New(env.Client, scsredis.Options{Core: env.Options})
			data, found, err := store.FindCtx(context.Background(), token)
			switch {
			case err != nil:
				t.Fatalf("FindCtx over %q: %v, want a miss or a record (Redis is up)", b, err)
			case found && len(b) == 0:
				t.Fatalf("FindCtx found a session in an empty value")
			case !found && data != nil:
				t.Fatalf("FindCtx over %q: a miss with data %q", b, data)
			}
		},
	})
}

// FuzzCookie: any cookie value reaches Redis only if it is a well-formed
// token (scs's cookie is the bare token), and is never adopted (see
// conformance.FuzzCookie).
func FuzzCookie(f *testing.F) {
	conformance.FuzzCookie(f, harness{})
}

// FuzzMigrateLegacyBytes: whatever bytes sit under the old store's key,
// Find during a migration neither panics nor fails: it adopts exactly the
// bytes the Codec decodes, bound to their user, and for any other writes
// nothing of ours and counts them malformed.
func FuzzMigrateLegacyBytes(f *testing.F) {
	blob, err := scs.GobCodec{}.Encode(time.Now().Add(time.Hour), map[string]interface{}{"user_id": "u1", "n": "1"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(blob)
	f.Add(blob[:len(blob)-1])
	f.Add([]byte{})
	f.Add([]byte("scs"))
	srv := redistest.Start(f)
	raw := srv.NewClient(f, nil)
	legacyPrefix := srv.Prefix + scsredis.DefaultLegacyPrefix
	store := scsredis.New(srv.NewClient(f, nil), scsredis.Options{
		Core:    core.Options{Prefix: srv.Prefix, Now: srv.Now},
		Migrate: &scsredis.Migration{Until: srv.Now().Add(24 * time.Hour), Prefix: legacyPrefix},
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		ctx := context.Background()
		tok := core.NewToken()
		if err := raw.Set(ctx, legacyPrefix+tok, b, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		data, found, err := store.FindCtx(ctx, tok)
		if err != nil {
			t.Fatalf("FindCtx over %q: %v", b, err)
		}
		_, values, decErr := scs.GobCodec{}.Decode(b)
		if found {
			if decErr != nil || values == nil || string(data) != string(b) {
				t.Fatalf("adopted %q (decodes: %v) as %q", b, decErr, data)
			}
			if uid, _ := core.UserIDOf(values["user_id"]); uid != "" && !core.ValidHandle(store.Core().Handle(tok)) {
				t.Fatalf("bad handle")
			}
			return
		}
		if n := raw.Exists(ctx, store.Core().SessionKey(core.Handle(tok))).Val(); n != 0 {
			t.Fatalf("not adopted, yet a key of ours was written for %q", b)
		}
	})
}
