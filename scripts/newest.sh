#!/usr/bin/env bash
# Runs the test suite in a temporary copy of the tree upgraded to the newest
# release of every dependency (and the Go toolchain they need, which the Go
# module proxy serves), so a user who runs `go get -u` finds it green too.
# The tree itself keeps its minimums.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$tmp"/
cd "$tmp"
export GOTOOLCHAIN=auto
go get go@latest 2>/dev/null
go get -u ./... 2>/dev/null
go mod tidy 2>/dev/null
echo "newest: $(go version | cut -d' ' -f3), $(grep -E 'go-redis|gin-gonic/gin |alexedwards/scs/v2|gorilla/sessions|miniredis' go.mod | awk '{printf "%s %s, ", $1, $2}')"
go test -count=1 ./...
