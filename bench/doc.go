// Package bench is the side-by-side benchmark of redisession against the
// session stores users would pick instead, on one real Redis, in one run.
//
// Every store serves the same four HTTP workloads (a logged-in read that
// keeps the idle timeout sliding, a request that changes one value, login,
// logout) with the same ~1 KB session, driven in-process through
// http.Handler.ServeHTTP with real cookies. cmd/sidebyside runs everything
// (`make bench` at the top level) and writes RESULTS.md and results.svg;
// the Benchmark functions in bench_test.go run the same workloads under
// `go test -bench` for profiling.
//
// Everything is written in one Redis database (BENCH_REDIS_DB, default 9),
// which the run flushes as it goes: never point it at a database that holds
// anything else. REDIS_ADDR (default 127.0.0.1:6379) names the server.
//
// This is its own module so that the library's users never download the
// peers it compares against.
package bench
