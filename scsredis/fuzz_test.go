package scsredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"

	"github.com/redisession/redisession/conformance"
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
