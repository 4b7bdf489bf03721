// Package failover holds system tests that kill a Redis primary under a
// running store and check that the promotion of its replica costs nothing
// the docs do not admit to: every session replicated before the kill is
// readable afterwards, calls during the switch fail with plain errors
// within their context deadlines, and new logins work
// (TestSentinelFailover, TestClusterFailover). TestSentinelDurableReplicaPaused
// stops the replica (SIGSTOP) and checks that a revoke under
// Options.Durability{Replicas: 1} says ErrNotDurable rather than pretending.
//
// They are destructive, so they run only when REDISESSION_FAILOVER=1 is set
// together with a topology to break, one of which scripts/sentinel.sh and
// scripts/cluster.sh start (both from the ordinary redis-server binary):
//
//	scripts/sentinel.sh up
//	REDISESSION_FAILOVER=1 REDIS_SENTINEL_ADDRS=$(scripts/sentinel.sh addrs) REDIS_SENTINEL_MASTER=redisession \
//	  go test -race -count=1 -run 'TestSentinel' -v ./systest/failover
//	scripts/sentinel.sh down
//
//	scripts/cluster.sh up
//	REDISESSION_FAILOVER=1 REDIS_CLUSTER_ADDRS=$(scripts/cluster.sh addrs) \
//	  go test -race -count=1 -run 'TestClusterFailover' -v ./systest/failover
//	scripts/cluster.sh down
//
// .ci/run runs them after every other suite that uses these topologies,
// which are not the same afterwards.
package failover
