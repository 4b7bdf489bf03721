// Package soak holds a bounded soak test: 10K sessions and 64 concurrent
// clients for 30 s against a real Redis, through gorillaredis over HTTP. It
// runs only with REDIS_ADDR set and REDISESSION_SOAK=1.
package soak
