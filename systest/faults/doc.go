// Package faults holds system tests that make Redis misbehave under a
// running store and check what the store promises then:
//
//   - killed and restarted under load, stalled (DEBUG SLEEP, CLIENT PAUSE),
//     full (maxmemory with noeviction): every call fails with a plain error
//     within its context deadline, the store recovers by itself, and no
//     goroutine is left behind (TestKillAndRestart, TestStall, TestFull,
//     TestDeadlines);
//   - evicting (every maxmemory-policy but noeviction): the eviction guard
//     flags, refuses or fails closed, and under real memory pressure an
//     evicted user index lets sessions outlive RevokeUser unless the store
//     fails closed (TestEvictionGuard, TestEvictionUnderPressure);
//   - crashed with RDB only, with AOF, or with a stopped replica: what
//     Options.Durability waits for, and what a kill -9 brings back
//     (TestDurableReplicas, TestDurableAOF);
//   - CheckServer's grade of each of those settings (TestCheck*).
//
// Each test starts its own redis-server on a free loopback port, in a
// temporary directory, and kills it when it ends, so it never disturbs a
// shared server. The tests run in the plain `make test` (they need a unix
// and redis-server on PATH, and skip without it); on their own:
//
//	go test -race -count=1 ./systest/faults/
//
// TestDurableAOF needs WAITAOF (Redis 7.2 or Valkey 8): it uses the
// valkey-server scripts/valkey.sh finds (VALKEY_SERVER names one). -short
// skips TestEvictionUnderPressure. With REDIS_ADDR, REDIS_CLUSTER_ADDRS or
// REDIS_SENTINEL_ADDRS set every test skips: a run against a shared server
// would only repeat them.
package faults
