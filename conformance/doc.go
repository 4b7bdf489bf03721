// Package conformance is the suite every redisession adapter passes: one
// exported function, Run, that drives an adapter through real HTTPS requests
// with cookie jars and checks Redis directly, one named subtest per property
// of the product contract (expiry, sliding, absolute cap, no adoption of
// unknown tokens, malformed tokens never reaching Redis, renew, logout, the
// user index, no resurrection of revoked sessions, TTLs on every key, size
// limits, garbage under a session key, round trips, concurrency).
//
// An adapter's test provides a Harness, which says how to serve an app
// through the adapter, and calls Run:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, harness{})
//	}
//
// Package reference is a complete, minimal adapter with its harness: the
// model for a new one. The suite runs against an embedded miniredis by
// default, the server at REDIS_ADDR when set, and the Cluster at
// REDIS_CLUSTER_ADDRS (comma-separated) when set.
package conformance
