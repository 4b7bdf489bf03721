// Package faults holds tests that make Redis misbehave under a running
// store: killed and restarted under load, stalled, out of memory. Each test
// starts its own redis-server on a free loopback port (skipping when the
// binary is missing), so they never disturb a shared server, and skips when
// REDIS_ADDR, REDIS_CLUSTER_ADDRS or REDIS_SENTINEL_ADDRS is set: those runs
// would only repeat them.
package faults
