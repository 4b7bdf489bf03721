package gorillaredis_test

import (
	"testing"

	"github.com/redisession/redisession/conformance"
)

// FuzzCookieDecode: any cookie value goes through Get without a panic and
// reaches Redis only when its signature holds and it carries a well-formed
// token, then with one read, and the unknown token is not adopted (see
// conformance.FuzzCookie).
func FuzzCookieDecode(f *testing.F) { conformance.FuzzCookie(f, harness{}) }

// FuzzLoadStoredBytes: whatever bytes sit under a session key, Get and
// Save with a valid cookie for it neither panic nor adopt its token, and
// leave them alone (see conformance.FuzzStoredBytes).
func FuzzLoadStoredBytes(f *testing.F) {
	conformance.FuzzStoredBytes(f, harness{}, conformance.StoredBytes{})
}
