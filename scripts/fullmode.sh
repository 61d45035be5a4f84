#!/usr/bin/env bash
# Full mode (DESIGN.md §8): PostgreSQL + Redis + gunicorn + Celery worker + Celery beat.
#
#   scripts/fullmode.sh up      start everything (servers installed with apt-get when missing)
#   scripts/fullmode.sh down    stop everything
#   scripts/fullmode.sh env     print the environment the processes run with
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
mkdir -p "$RUN" "$LOG"

# The same key file as the embedded default (vocsite/settings/local.py), owner-only.
[ -f var/secret_key ] || (umask 077; "$BIN/python" -c "import secrets; print(secrets.token_urlsafe(64))" > var/secret_key)
chmod 600 var/secret_key

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
}

stop_pid() {
  local file="$RUN/$1.pid"
  if [ -f "$file" ]; then
    local pid
    pid=$(cat "$file")  # read once: the process removes its own pid file as it exits
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$file"
  fi
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
  set -a; eval "$(full_env)"; set +a
  "$BIN/python" manage.py migrate --noinput -v0
  "$BIN/python" manage.py collectstatic --noinput -v0
  # No seed_demo: production settings refuse the demo (its staff logins have a known password).
  stop_pid gunicorn; stop_pid celery-worker; stop_pid celery-beat
  "$BIN/gunicorn" vocsite.wsgi --bind "127.0.0.1:$PORT" --workers "$WORKERS" --threads "$THREADS" --keep-alive 75 \
    --pid "$RUN/gunicorn.pid" --access-logfile "$LOG/access.log" --error-logfile "$LOG/gunicorn.log" --daemon
  # The worker yields the CPU to the web processes (nice 10): on a shared box a burst of
  # answers to process must not slow the customers' decide calls; it catches up when idle.
  nice -n 10 "$BIN/celery" -A vocsite worker -Q default,rollups,alerts --concurrency 2 --prefetch-multiplier 1 \
    --pidfile "$RUN/celery-worker.pid" --logfile "$LOG/celery-worker.log" --detach
  "$BIN/celery" -A vocsite beat --schedule "$ROOT/var/celerybeat-schedule" \
    --pidfile "$RUN/celery-beat.pid" --logfile "$LOG/celery-beat.log" --detach
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null
  # --detach starts a new session, and with the kernel's autogroup scheduling (the default on
  # desktop and many server kernels) a session is scheduled as one group beside the others:
  # nice then only orders processes inside it, so the worker took a full share beside gunicorn
  # (measured: a third of the CPU during the ingest benchmark). The group's own nice fixes that
  # (the pid file is rewritten while the worker daemonises: read it once the worker is up).
  for _ in $(seq 100); do
    pid=$(cat "$RUN/celery-worker.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ -w "/proc/$pid/autogroup" ] && echo 10 2>/dev/null > "/proc/$pid/autogroup"; then
      grep -q "nice 10" "/proc/$pid/autogroup" && break
    fi
    sleep 0.1
  done
  echo "vocsite (full mode) is up: http://127.0.0.1:$PORT/  — logs in var/log/, stop with 'make down'"
}

down() {
  stop_pid gunicorn; stop_pid celery-worker; stop_pid celery-beat
  scripts/services.sh stop
  echo "full mode stopped"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) full_env ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
