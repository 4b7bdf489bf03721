// Package faults holds tests that make Redis misbehave under a running
// store: killed and restarted under load, stalled, out of memory. Each test
// starts its own redis-server on a free loopback port (skipping when the
// binary is missing), so they never disturb a shared server.
package faults
