#!/usr/bin/env bash
# Usage: scripts/cluster.sh up|down|addrs
# A Redis Cluster of 3 primaries with 1 replica each on 127.0.0.1:7101-7106,
# from the ordinary redis-server and redis-cli binaries, state in a temp dir.
# "up" is idempotent (a healthy cluster is left as it is); "down" leaves
# nothing running and removes the dir.
set -euo pipefail
PORTS=(7101 7102 7103 7104 7105 7106)
DIR="${REDISESSION_CLUSTER_DIR:-${TMPDIR:-/tmp}/redisession-cluster}"

addrs() { local IFS=,; local a=(); for p in "${PORTS[@]}"; do a+=("127.0.0.1:$p"); done; echo "${a[*]}"; }

healthy() {
  for p in "${PORTS[@]}"; do
    redis-cli -p "$p" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
  done
  [ "$(redis-cli -p "${PORTS[0]}" cluster nodes 2>/dev/null | grep -c master)" -eq 3 ] || return 1
  # Replicas synced, so a test that waits for them (WAIT) is not timed by the first sync.
  for p in "${PORTS[@]}"; do
    local r; r=$(redis-cli -p "$p" info replication 2>/dev/null)
    if grep -q '^role:slave' <<<"$r"; then grep -q '^master_link_status:up' <<<"$r" || return 1; fi
  done
}

down() {
  for p in "${PORTS[@]}"; do
    if [ -f "$DIR/$p/redis.pid" ]; then kill "$(cat "$DIR/$p/redis.pid")" 2>/dev/null || true; fi
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  for p in "${PORTS[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 || break; sleep 0.1; done
  done
  rm -rf "$DIR"
}

up() {
  if healthy; then echo "cluster already up: $(addrs)"; return 0; fi
  down
  mkdir -p "$DIR"
  # node-timeout 5s, not 2s: on a 2-core machine running the race suite a
  # node can miss its pings for 2s, be marked failed and fail over, and the
  # calls of that moment get CLUSTERDOWN (seen once in CI).
  for p in "${PORTS[@]}"; do
    mkdir -p "$DIR/$p"
    redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes \
      --cluster-config-file "$DIR/$p/nodes.conf" --cluster-node-timeout 5000 \
      --dir "$DIR/$p" --save "" --appendonly no --daemonize yes \
      --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log"
  done
  for p in "${PORTS[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  local nodes=(); for p in "${PORTS[@]}"; do nodes+=("127.0.0.1:$p"); done
  redis-cli --cluster create "${nodes[@]}" --cluster-replicas 1 --cluster-yes >"$DIR/create.log" 2>&1 ||
    { cat "$DIR/create.log"; exit 1; }
  for _ in $(seq 200); do healthy && break; sleep 0.1; done
  healthy || { echo "cluster did not reach cluster_state:ok"; exit 1; }
  # Replicas must be attached before failover tests mean anything.
  for _ in $(seq 100); do
    [ "$(redis-cli -p "${PORTS[0]}" cluster nodes | grep slave | grep -c connected)" -eq 3 ] && break; sleep 0.1
  done
  echo "cluster up: $(addrs)"
}

case "${1:-}" in
  up) up ;;
  down) down; echo "cluster down" ;;
  addrs) addrs ;;
  *) echo "usage: $0 up|down|addrs" >&2; exit 2 ;;
esac
