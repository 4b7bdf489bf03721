package reference_test

import (
	"testing"

	"github.com/redisession/redisession/conformance"
)

// FuzzLoadStoredBytes: whatever bytes sit under a session key, the
// reference adapter neither panics nor adopts its token, and leaves them
// alone (see conformance.FuzzStoredBytes).
func FuzzLoadStoredBytes(f *testing.F) {
	conformance.FuzzStoredBytes(f, harness{}, conformance.StoredBytes{})
}

// FuzzCookie: any cookie value reaches Redis only if it is a well-formed
// token, and is never adopted (see conformance.FuzzCookie).
func FuzzCookie(f *testing.F) {
	conformance.FuzzCookie(f, harness{})
}
