// Package conformance is the contract every redisession adapter passes, as
// tests: Run drives an adapter through real HTTPS requests with cookie jars
// and checks Redis directly, one named subtest per property (Run's doc lists
// them: tokens, expiry, renew and logout, the user index and revocation,
// cookies, errors, limits, round trips, concurrency), and FuzzStoredBytes
// and FuzzCookie fuzz what it makes of any bytes under a session key and of
// any cookie value. An adapter's test provides a Harness, which says how to
// serve an app through the adapter (package reference is a complete,
// minimal adapter with its harness: the model for a new one), and may say
// more by being a Layouter or a ClientMaker:
//
//	func TestConformance(t *testing.T) { conformance.Run(t, harness{}) }
//
//	func FuzzStoredBytes(f *testing.F) {
//		conformance.FuzzStoredBytes(f, harness{}, conformance.StoredBytes{})
//	}
//
//	func FuzzCookie(f *testing.F) { conformance.FuzzCookie(f, harness{}) }
package conformance
