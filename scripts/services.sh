#!/usr/bin/env bash
# Start or stop the local PostgreSQL and Redis used by the full mode, the tests and benchmarks.
#
#   scripts/services.sh install   apt-get the servers (and Chromium) when missing
#   scripts/services.sh start     private PostgreSQL cluster + Redis, idempotent
#   scripts/services.sh stop
#   scripts/services.sh env       print the environment variables that point at them
#
# Two sets of services, chosen by VOCSITE_SERVICES:
#   throwaway (the default: `make test`, `make integration`, `make bench`): PostgreSQL in /tmp
#     without fsync, synchronous commit or full-page writes, Redis without persistence, on
#     ports 55432 and 56379. Fast, and a crash of the machine loses what they held.
#   durable (`make up`): PostgreSQL with its durable defaults (fsync, synchronous_commit and
#     full_page_writes on: a commit is on disk before the client hears of it) in var/postgres,
#     Redis with an append-only file synced every second in var/redis-durable, on ports 55433
#     and 56380, so both sets can run side by side.
# PostgreSQL refuses to run as root, so a cluster lives in a folder owned by `postgres`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR="$ROOT/var"
PROFILE=${VOCSITE_SERVICES:-throwaway}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
case "$PROFILE" in
  throwaway)
    PG_PORT=${VOCSITE_PG_PORT:-55432}
    REDIS_PORT=${VOCSITE_REDIS_PORT:-56379}
    PG_DIR=/tmp/vocsite-pg-$PG_PORT
    REDIS_DIR="$VAR/redis"
    ;;
  durable)
    PG_PORT=${VOCSITE_PG_PORT:-55433}
    REDIS_PORT=${VOCSITE_REDIS_PORT:-56380}
    PG_DIR="$VAR/postgres"
    REDIS_DIR="$VAR/redis-durable"
    ;;
  *) echo "VOCSITE_SERVICES must be throwaway or durable, not $PROFILE" >&2; exit 2 ;;
esac

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install() {
  local missing=()
  [ -x "${PG_BIN:-/nonexistent}/initdb" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || missing+=(chromium)
  # A CJK font, so Chinese surveys render as text (not boxes) in the browser tests' screenshots.
  [ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
  # GNU gettext: `make messages`, and the test that every marked text is translated.
  command -v xgettext >/dev/null || missing+=(gettext)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start() {
  install
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  mkdir -p "$VAR" "$REDIS_DIR"
  if [ ! -f "$PG_DIR/PG_VERSION" ]; then
    mkdir -p "$PG_DIR"
    if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PG_DIR"; fi
    as_postgres "$PG_BIN/initdb" -D "$PG_DIR" -A trust -U postgres -E UTF8 >/dev/null
  fi
  # shared_buffers: the default 128 MB held a fraction of the benchmarks' display and contact
  # indexes (pg_statio: tens of thousands of index blocks read back) and single-row display
  # INSERTs were logged at 100–900 ms — a quarter of the machine's memory is the usual
  # setting; 2 GB of this 24 GB one is plenty for the benchmark data. Slow statements are
  # logged (server.log) to explain outliers.
  local common="-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=2GB -c log_min_duration_statement=100ms -c log_autovacuum_min_duration=1s -c log_checkpoints=on"
  local options
  if [ "$PROFILE" = durable ]; then
    # PostgreSQL's own defaults, spelled out: what `make up` promises about accepted answers
    # rests on them (tests/integration/test_durability.py kills the server mid-ingest).
    options="$common -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
  else
    # A throwaway cluster for tests and benchmarks: no fsync. max_wal_size: the rollups benchmark
    # writes a million rows at a time, and with the default 1 GB PostgreSQL checkpointed every
    # 18 s through it.
    options="$common -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_wal_size=4GB"
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -o "$options" start >/dev/null
  fi
  as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname='vocsite'" | grep -q 1 ||
    as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres vocsite
  # Durable: the broker's queued tasks survive a Redis restart (append-only file, fsync once a
  # second: a crash loses at most a second of messages, which the sweeper re-sends from the
  # committed rows). Throwaway: nothing is kept.
  local persistence=(--appendonly no)
  if [ "$PROFILE" = durable ]; then persistence=(--appendonly yes --appendfsync everysec); fi
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --daemonize yes \
      --save "" "${persistence[@]}" --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid"
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  echo "PostgreSQL on 127.0.0.1:$PG_PORT, Redis on 127.0.0.1:$REDIS_PORT ($PROFILE)"
}

stop() {
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
  [ -f "$PG_DIR/PG_VERSION" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PG_DIR" -m fast stop >/dev/null 2>&1 || true
  # A durable Redis writes its append-only file out as it shuts down; `nosave` skips only the
  # snapshot, which it does not keep.
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

env_vars() {
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/vocsite"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) env_vars ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
