// Package soak holds a bounded soak test: 10K sessions and 64 concurrent
// clients for 30 s of reads, writes, logins, logouts, device lists and
// revocations through gorillaredis over HTTP against a real Redis. It
// attacks the invariants a long busy run could erode: it wants zero errors,
// and afterwards no key without a TTL, no index member without its session,
// and no bound session outside its user's index.
//
// It runs only with a real Redis and REDISESSION_SOAK=1 (REDISESSION_SOAK_DURATION
// changes the 30 s); its keys are under a prefix of its own:
//
//	REDISESSION_SOAK=1 REDIS_ADDR=127.0.0.1:6379 go test -count=1 -run Soak -v ./systest/soak/
package soak
