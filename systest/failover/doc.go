// Package failover holds the tests that kill a Redis primary under a
// running store (Sentinel and Cluster) and check that sessions survive the
// promotion of its replica. They are destructive, so they run only when
// REDISESSION_FAILOVER=1 is set together with REDIS_SENTINEL_ADDRS +
// REDIS_SENTINEL_MASTER or REDIS_CLUSTER_ADDRS; .ci/run runs them last,
// against the throwaway topologies of scripts/sentinel.sh and
// scripts/cluster.sh.
package failover
