#!/usr/bin/env bash
# Usage: scripts/valkey.sh up|down|addrs|single|server
# A single Valkey node on 127.0.0.1:6390 and a Valkey Cluster of 3 primaries
# (no replicas) on 127.0.0.1:7221-7223, state in a temp dir. The Cluster is
# not on 7201-7203: scripts/sentinel.sh holds 7201 and 7202, and .ci/run has
# both up at once. VALKEY_PORT and VALKEY_CLUSTER_PORTS ("p1 p2 p3") move them.
# "up" is idempotent (a healthy setup is left as it is); "down" stops only the
# servers this script started (by pid file, or a Valkey answering on our
# ports) and removes the dir. "addrs" prints the Cluster's seed addresses,
# "single" the single node's, "server" the valkey-server used: $VALKEY_SERVER,
# else ../shared/tools/valkey-server next to the checkout, else
# /work/shared/tools/valkey-server, else valkey-server on PATH (exit 1 if none).
# The Cluster is created with redis-cli, which speaks to Valkey as to Redis.
set -euo pipefail
SINGLE=${VALKEY_PORT:-6390}
read -r -a PORTS <<<"${VALKEY_CLUSTER_PORTS:-7221 7222 7223}"
DIR="${REDISESSION_VALKEY_DIR:-${TMPDIR:-/tmp}/redisession-valkey}"

server() {
  if [ -n "${VALKEY_SERVER:-}" ]; then
    [ -x "$VALKEY_SERVER" ] || { echo "VALKEY_SERVER=$VALKEY_SERVER is not an executable" >&2; return 1; }
    echo "$VALKEY_SERVER"; return 0
  fi
  local top c
  if top=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) &&
    [ -x "$top/../shared/tools/valkey-server" ]; then
    echo "$top/../shared/tools/valkey-server"; return 0
  fi
  if [ -x /work/shared/tools/valkey-server ]; then echo /work/shared/tools/valkey-server; return 0; fi
  if c=$(command -v valkey-server); then echo "$c"; return 0; fi
  return 1
}

join() { local IFS=,; echo "$*"; }
addrs() { local a=(); for p in "${PORTS[@]}"; do a+=("127.0.0.1:$p"); done; join "${a[@]}"; }

is_valkey() { # port: a Valkey answers there (never a Redis someone else runs)
  redis-cli -p "$1" info server 2>/dev/null | grep -q '^server_name:valkey'
}

healthy() {
  is_valkey "$SINGLE" || return 1
  for p in "${PORTS[@]}"; do
    is_valkey "$p" || return 1
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  [ "$(redis-cli -p "${PORTS[0]}" cluster nodes 2>/dev/null | grep -c master)" -eq "${#PORTS[@]}" ]
}

down() {
  for p in "$SINGLE" "${PORTS[@]}"; do
    if [ -f "$DIR/$p/valkey.pid" ]; then kill "$(cat "$DIR/$p/valkey.pid")" 2>/dev/null || true; fi
    if is_valkey "$p"; then redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; fi
  done
  for p in "$SINGLE" "${PORTS[@]}"; do
    for _ in $(seq 50); do is_valkey "$p" || break; sleep 0.1; done
  done
  rm -rf "$DIR"
}

start() { # port, extra args...
  local p=$1; shift
  mkdir -p "$DIR/$p"
  "$BIN" --port "$p" --bind 127.0.0.1 --dir "$DIR/$p" --save "" --appendonly no --daemonize yes \
    --pidfile "$DIR/$p/valkey.pid" --logfile "$DIR/$p/valkey.log" "$@"
}

up() {
  BIN=$(server) || { echo "no valkey-server here (set VALKEY_SERVER)" >&2; exit 1; }
  if healthy; then echo "valkey already up: single 127.0.0.1:$SINGLE, cluster $(addrs)"; return 0; fi
  down
  for p in "$SINGLE" "${PORTS[@]}"; do
    if redis-cli -p "$p" ping >/dev/null 2>&1; then echo "port $p is taken by something else" >&2; exit 1; fi
  done
  mkdir -p "$DIR"
  start "$SINGLE"
  for p in "${PORTS[@]}"; do
    start "$p" --cluster-enabled yes --cluster-config-file "$DIR/$p/nodes.conf" --cluster-node-timeout 5000
  done
  for p in "$SINGLE" "${PORTS[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  local nodes=(); for p in "${PORTS[@]}"; do nodes+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 ||
    { cat "$DIR/create.log"; exit 1; }
  for _ in $(seq 200); do healthy && break; sleep 0.1; done
  healthy || { echo "valkey cluster did not reach cluster_state:ok"; tail -5 "$DIR"/*/valkey.log; exit 1; }
  echo "valkey up ($("$BIN" --version | cut -d' ' -f3)): single 127.0.0.1:$SINGLE, cluster $(addrs)"
}

case "${1:-}" in
  up) up ;;
  down) down; echo "valkey down" ;;
  addrs) addrs ;;
  single) echo "127.0.0.1:$SINGLE" ;;
  server) server ;;
  *) echo "usage: $0 up|down|addrs|single|server" >&2; exit 2 ;;
esac
