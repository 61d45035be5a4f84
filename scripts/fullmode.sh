#!/usr/bin/env bash
# Full mode (DESIGN.md §8), in the process layout of a production host: PostgreSQL, Redis,
# gunicorn, one Celery worker per queue group (`rollups`: processing of finished answers;
# `default` + `alerts`: claims, invitations, cases, e-mail, webhooks) and Celery beat.
#
#   scripts/fullmode.sh up      start everything (servers installed with apt-get when missing)
#   scripts/fullmode.sh down    stop everything, and the services `up` started
#   scripts/fullmode.sh env     print the environment the processes run with
#
# The services are the durable ones (scripts/services.sh: PostgreSQL with fsync in
# var/postgres, Redis with an append-only file); `make bench` sets VOCSITE_SERVICES=throwaway
# for its fast /tmp cluster. JSON logs go to var/log/, Prometheus metrics to /metrics with the
# bearer token kept in var/metrics_token.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN="$ROOT/.venv/bin"
RUN="$ROOT/var/run"
LOG="$ROOT/var/log"
PORT=${VOCSITE_PORT:-8000}
# Measured on 2 cores (README, "Operating"): 2 processes x 2 threads served decide faster than 4 or
# 6 sync processes, which spent their CPU switching between each other and PostgreSQL.
WORKERS=${VOCSITE_WEB_WORKERS:-2}
THREADS=${VOCSITE_WEB_THREADS:-2}
# The services of this full mode; `down` stops the set `up` started.
export VOCSITE_SERVICES=${VOCSITE_SERVICES:-durable}
mkdir -p "$RUN" "$LOG"

# The same key file as the embedded default (vocsite/settings/local.py), owner-only.
[ -f var/secret_key ] || (umask 077; "$BIN/python" -c "import secrets; print(secrets.token_urlsafe(64))" > var/secret_key)
chmod 600 var/secret_key
# The bearer token Prometheus scrapes /metrics with (settings: METRICS_TOKEN), owner-only too.
[ -f var/metrics_token ] || (umask 077; "$BIN/python" -c "import secrets; print(secrets.token_urlsafe(32))" > var/metrics_token)
chmod 600 var/metrics_token
# Every process of the host writes its Prometheus series here (vocsite/prometheus.py).
PROMETHEUS_DIR="$RUN/prometheus"
# Queue groups, one Celery worker each: name, queues, processes.
WORKER_GROUPS=("rollups rollups ${VOCSITE_ROLLUPS_CONCURRENCY:-2}" "default default,alerts ${VOCSITE_DEFAULT_CONCURRENCY:-2}")

full_env() {
  scripts/services.sh env
  echo "DJANGO_SETTINGS_MODULE=vocsite.settings.production"
  echo "DJANGO_SECRET_KEY=$(cat var/secret_key)"
  # Local full mode serves plain HTTP on loopback; behind TLS leave these at their defaults.
  echo "DJANGO_SECURE_SSL_REDIRECT=false"
  echo "DJANGO_SECURE_COOKIES=false"
  echo "DJANGO_SECURE_HSTS_SECONDS=0"
  echo "VOCSITE_BASE_URL=http://127.0.0.1:$PORT"
  # A laptop full mode may post webhooks to a receiver on localhost.
  echo "WEBHOOK_ALLOW_PRIVATE_TARGETS=true"
  echo "METRICS_TOKEN=$(cat var/metrics_token)"
  echo "PROMETHEUS_MULTIPROC_DIR=$PROMETHEUS_DIR"
}

# Every process is asked to stop at once (SIGTERM: gunicorn finishes its requests, a Celery
# worker its running tasks — a warm shutdown), then each is waited for, up to 30 s.
stop_processes() {
  local names=(gunicorn celery-beat celery-worker) group pid pids=()  # celery-worker: the single worker of earlier versions
  for group in "${WORKER_GROUPS[@]}"; do
    set -- $group
    names+=("celery-$1")
  done
  for name in "${names[@]}"; do
    [ -f "$RUN/$name.pid" ] || continue
    pid=$(cat "$RUN/$name.pid")  # read once: the process removes its own pid file as it exits
    kill "$pid" 2>/dev/null && pids+=("$pid")
    rm -f "$RUN/$name.pid"
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
}

# --detach starts a new session, and with the kernel's autogroup scheduling (the default on
# desktop and many server kernels) a session is scheduled as one group beside the others:
# nice then only orders processes inside it, so the worker took a full share beside gunicorn
# (measured: a third of the CPU during the ingest benchmark). The group's own nice fixes that
# (the pid file is rewritten while the worker daemonises: read it once the worker is up).
lower_session_priority() {
  local pid
  for _ in $(seq 100); do
    pid=$(cat "$RUN/$1.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ -w "/proc/$pid/autogroup" ] && echo 10 2>/dev/null > "/proc/$pid/autogroup"; then
      grep -q "nice 10" "/proc/$pid/autogroup" && return 0
    fi
    sleep 0.1
  done
}

# gunicorn's access log gains a line per request (~2.5 GB a day at 300 req/s): each start keeps
# the current logs as *.1 once they pass 100 MB, so a long-lived checkout never fills its disk.
# A production host hands these files to logrotate (USR1 makes gunicorn reopen its own;
# copytruncate suits Celery's).
rotate_logs() {
  local file
  for file in "$LOG"/*.log; do
    [ -f "$file" ] && [ "$(stat -c %s "$file")" -gt $((100 * 1024 * 1024)) ] && mv -f "$file" "$file.1"
  done
  return 0
}

up() {
  rotate_logs
  scripts/services.sh start
  echo "$VOCSITE_SERVICES" > "$RUN/services"
  set -a; eval "$(full_env)"; set +a
  "$BIN/python" manage.py migrate --noinput -v0
  "$BIN/python" manage.py collectstatic --noinput -v0
  # No seed_demo: production settings refuse the demo (its staff logins have a known password).
  stop_processes
  # Series of processes from an earlier run would be added to this run's.
  rm -rf "$PROMETHEUS_DIR"; mkdir -p "$PROMETHEUS_DIR"
  # --capture-output: Django's JSON log lines (stderr) go to gunicorn.log beside gunicorn's own.
  "$BIN/gunicorn" vocsite.wsgi --config scripts/gunicorn.conf.py --bind "127.0.0.1:$PORT" \
    --workers "$WORKERS" --threads "$THREADS" --keep-alive 75 --capture-output \
    --pid "$RUN/gunicorn.pid" --access-logfile "$LOG/access.log" --error-logfile "$LOG/gunicorn.log" --daemon
  # The workers yield the CPU to the web processes (nice 10): on a shared box a burst of
  # answers to process must not slow the customers' decide calls; they catch up when idle.
  local group
  for group in "${WORKER_GROUPS[@]}"; do
    set -- $group
    nice -n 10 "$BIN/celery" -A vocsite worker -n "$1@%h" -Q "$2" --concurrency "$3" --prefetch-multiplier 1 \
      --pidfile "$RUN/celery-$1.pid" --logfile "$LOG/celery-$1.log" --detach
  done
  "$BIN/celery" -A vocsite beat --schedule "$ROOT/var/celerybeat-schedule" \
    --pidfile "$RUN/celery-beat.pid" --logfile "$LOG/celery-beat.log" --detach
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null || { curl -s "http://127.0.0.1:$PORT/readyz"; echo; exit 1; }
  for group in "${WORKER_GROUPS[@]}"; do
    set -- $group
    lower_session_priority "celery-$1"
  done
  echo "vocsite (full mode, $VOCSITE_SERVICES services) is up: http://127.0.0.1:$PORT/  — logs in var/log/, stop with 'make down'"
}

down() {
  stop_processes
  VOCSITE_SERVICES=$(cat "$RUN/services" 2>/dev/null || echo "$VOCSITE_SERVICES") scripts/services.sh stop
  rm -f "$RUN/services"
  echo "full mode stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) full_env ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
