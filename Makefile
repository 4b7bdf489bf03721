# The two commands a newcomer needs are `make demo` and `make test`.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 10s

.PHONY: demo test test-redis bench lint fuzz

## demo: run the demo app on an embedded Redis (no Redis server needed)
demo:
	@if [ -d examples/gin ]; then $(GO) run ./examples/gin; \
	else echo "make demo: the examples are not built yet (see the examples issue); nothing to run." >&2; exit 2; fi

## test: every test with -race, on an embedded Redis (REDIS_ADDR=host:port for a real one)
test:
	$(GO) test -race -count=1 $(PKGS)

## test-redis: the same suite against the real server on 127.0.0.1:6379
test-redis:
	REDIS_ADDR=$${REDIS_ADDR:-127.0.0.1:6379} $(GO) test -race -count=1 $(PKGS)

## bench: benchmarks with round trips and allocations per operation, on the real server
bench:
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
