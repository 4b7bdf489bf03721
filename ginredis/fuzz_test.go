package ginredis_test

import (
	"testing"

	"github.com/redisession/redisession/conformance"
)

// FuzzCookieDecode: any cookie value goes through gin's sessions middleware
// and a handler that reads the session without a panic or an error, and
// reaches Redis only when its signature holds and it carries a well-formed
// token, then with one read, and the unknown token is not adopted (see
// conformance.FuzzCookie).
func FuzzCookieDecode(f *testing.F) { conformance.FuzzCookie(f, harness{}) }

// FuzzLoadStoredBytes: whatever bytes sit under a session key, gin's
// sessions middleware and the store neither panic nor adopt its token, and
// leave them alone (see conformance.FuzzStoredBytes).
func FuzzLoadStoredBytes(f *testing.F) {
	conformance.FuzzStoredBytes(f, harness{}, conformance.StoredBytes{})
}
