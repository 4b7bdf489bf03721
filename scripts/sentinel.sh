#!/usr/bin/env bash
# Usage: scripts/sentinel.sh up|down|addrs
# A primary (127.0.0.1:7201), a replica (7202) and three Sentinels
# (7211-7213) watching master "redisession", from the ordinary redis-server
# binary, state in a temp dir. "up" is idempotent; "down" leaves nothing
# running and removes the dir.
set -euo pipefail
PRIMARY=7201
REPLICA=7202
SENTINELS=(7211 7212 7213)
MASTER=redisession
DIR="${REDISESSION_SENTINEL_DIR:-${TMPDIR:-/tmp}/redisession-sentinel}"

addrs() { local IFS=,; local a=(); for p in "${SENTINELS[@]}"; do a+=("127.0.0.1:$p"); done; echo "${a[*]}"; }

healthy() {
  for p in "${SENTINELS[@]}"; do
    redis-cli -p "$p" sentinel get-master-addr-by-name "$MASTER" 2>/dev/null | grep -q 127.0.0.1 || return 1
  done
  local m; m=$(redis-cli -p "${SENTINELS[0]}" sentinel get-master-addr-by-name "$MASTER" | tail -1)
  redis-cli -p "$m" info replication 2>/dev/null | grep -q '^connected_slaves:1' || return 1
  # The replica synced, so a test that waits for it (WAIT) is not timed by the first sync.
  local p
  for p in "$PRIMARY" "$REPLICA"; do
    [ "$p" = "$m" ] && continue
    redis-cli -p "$p" info replication 2>/dev/null | grep -q '^master_link_status:up' || return 1
  done
}

down() {
  for p in "$PRIMARY" "$REPLICA" "${SENTINELS[@]}"; do
    if [ -f "$DIR/$p.pid" ]; then kill "$(cat "$DIR/$p.pid")" 2>/dev/null || true; fi
    redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  for p in "$PRIMARY" "$REPLICA" "${SENTINELS[@]}"; do
    for _ in $(seq 50); do redis-cli -p "$p" ping >/dev/null 2>&1 || break; sleep 0.1; done
  done
  rm -rf "$DIR"
}

server() { # port, extra args...
  local p=$1; shift
  redis-server --port "$p" --bind 127.0.0.1 --dir "$DIR" --save "" --appendonly no --daemonize yes \
    --pidfile "$DIR/$p.pid" --logfile "$DIR/$p.log" "$@"
}

up() {
  if healthy; then echo "sentinel already up: $(addrs) master $MASTER"; return 0; fi
  down
  mkdir -p "$DIR"
  server "$PRIMARY"
  server "$REPLICA" --replicaof 127.0.0.1 "$PRIMARY"
  for p in "${SENTINELS[@]}"; do
    cat >"$DIR/sentinel-$p.conf" <<CONF
port $p
bind 127.0.0.1
dir $DIR
sentinel monitor $MASTER 127.0.0.1 $PRIMARY 2
sentinel down-after-milliseconds $MASTER 1000
sentinel failover-timeout $MASTER 5000
sentinel parallel-syncs $MASTER 1
CONF
    redis-server "$DIR/sentinel-$p.conf" --sentinel --daemonize yes --pidfile "$DIR/$p.pid" --logfile "$DIR/$p.log"
  done
  for _ in $(seq 200); do healthy && break; sleep 0.1; done
  healthy || { echo "sentinel setup not healthy"; tail -5 "$DIR"/*.log; exit 1; }
  echo "sentinel up: $(addrs) master $MASTER"
}

case "${1:-}" in
  up) up ;;
  down) down; echo "sentinel down" ;;
  addrs) addrs ;;
  *) echo "usage: $0 up|down|addrs" >&2; exit 2 ;;
esac
