// Package bench is the side-by-side benchmark of redisession against the
// session stores users would pick instead, on one real Redis, in one run.
//
// Every store serves the same five HTTP workloads (a logged-in read that
// keeps the idle timeout sliding; read+Save, the same read as an app that
// swapped stores and kept its code runs it, calling Save or scs's
// LoadAndSave; a request that changes one value; login; logout) with the
// same ~1 KB session, driven in-process through http.Handler.ServeHTTP
// with real cookies. The net stage runs them again with every store's
// client behind a Proxy that delays each round trip (BENCH_DELAYS or
// -delays, default 0,200us,1ms), to show what a network between the app
// and Redis does to stores of 1 and of 2-4 round trips; RESULTS.md leads
// with the goals of issue #17, the read+Save table and the delay tables,
// every ratio within the one run. cmd/sidebyside runs everything
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
