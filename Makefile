# The two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 10s

.PHONY: demo test test-redis test-browser test-recipes test-migrate bench bench-core lint fuzz

## demo: run the demo app (gin) on an embedded Redis (no Redis server needed);
## ADDR=host:port to listen elsewhere, REDIS_URL=redis://host:port for a real Redis
demo:
	$(GO) run ./examples/gin

## test: every test with -race, on an embedded Redis (REDIS_ADDR=host:port for a real one)
test:
	$(GO) test -race -count=1 $(PKGS)

## test-redis: the same suite against the real server on 127.0.0.1:6379
test-redis:
	REDIS_ADDR=$${REDIS_ADDR:-127.0.0.1:6379} $(GO) test -race -count=1 $(PKGS)

## test-browser: the examples' browser test in headless Chromium (its own module; skips without Chromium)
test-browser:
	cd examples/browser && $(GO) vet ./... && $(GO) test -count=1 -timeout 3m -v ./...

## test-recipes: echo and chi with the adapters unchanged (examples/recipes, its own module), with -race;
##               REDIS_ADDR=host:port for a real Redis
test-recipes:
	cd examples/recipes && $(GO) vet ./... && $(GO) test -race -count=1 ./...

## test-migrate: the swap from the peer stores (boj/redistore, gin-contrib/sessions, gorilla CookieStore, scs redisstore and goredisstore) with
##               the real peer libraries (systest/migrate, its own module), with -race; REDIS_ADDR=host:port required
test-migrate:
	@if [ -z "$$REDIS_ADDR" ]; then echo "test-migrate needs a real Redis: REDIS_ADDR=host:port make test-migrate"; exit 1; fi
	cd systest/migrate && $(GO) vet ./... && $(GO) test -race -count=1 ./...

## bench: side by side with the peers on the real server (bench/, its own module): writes bench/RESULTS.md
##        and bench/results.svg, then runs bench-core. Uses and flushes Redis database $(BENCH_REDIS_DB) only.
##        BENCH_DELAYS: simulated network delays per round trip for the delay tables.
BENCH_REDIS_DB ?= 9
BENCH_QUIET_WAIT ?= 2m
BENCH_DELAYS ?= 0,200us,1ms
BENCH_FLAGS ?=
bench:
	cd bench && REDIS_ADDR=$${REDIS_ADDR:-127.0.0.1:6379} BENCH_REDIS_DB=$(BENCH_REDIS_DB) \
	  $(GO) run ./cmd/sidebyside -quiet-wait $(BENCH_QUIET_WAIT) -delays $(BENCH_DELAYS) -out RESULTS.md -svg results.svg $(BENCH_FLAGS)
	$(MAKE) bench-core

## bench-core: the library's own micro-benchmarks with round trips and allocations per operation, on the real server
bench-core:
	REDIS_ADDR=$${REDIS_ADDR:-127.0.0.1:6379} $(GO) test -run '^$$' -bench . -benchmem $(PKGS)

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## fuzz: each fuzz target for $(FUZZTIME)
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done
