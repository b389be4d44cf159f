#!/usr/bin/env bash
# `make chaos`: the fault scenarios of docs/reliability.md ("Faults") against a throwaway
# PostgreSQL 15 + Redis + gunicorn + real Celery worker and beat processes; writes
# bench/results/reliability.json and prints the table. Everything started here is stopped on
# exit. Ports (override with the environment): PostgreSQL 55443, Redis 56443, web 58443.
#
#   bash bench/chaos.sh
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
START=$(date +%s)
WORK=$(mktemp -d /tmp/gridgov-chaos.XXXXXX)
chmod 755 "$WORK"
PG_DATA="$WORK/pgdata"
REDIS_PIDFILE="$WORK/redis.pid"
PG_USER=postgres
PG_PORT=${CHAOS_PG_PORT:-55443}
REDIS_PORT=${CHAOS_REDIS_PORT:-56443}
WEB_PORT=${CHAOS_WEB_PORT:-58443}

as_pg() {  # initdb refuses root: run the server as the unprivileged postgres user
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

cleanup() {
  local status=$?
  if [[ -f "$WORK/pids" ]]; then  # gunicorn / worker / beat the scenario runner left behind
    while read -r pid; do kill -KILL -- "-$pid" 2>/dev/null || true; done <"$WORK/pids"
  fi
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg /usr/local/bin/pg_ctl -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$REDIS_PIDFILE" ]]; then
    local redis_pid; redis_pid=$(cat "$REDIS_PIDFILE")
    kill "$redis_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  if [[ -n "${CHAOS_KEEP:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK" || true; fi
  exit "$status"
}
trap cleanup EXIT INT TERM

for port in "$PG_PORT" "$REDIS_PORT" "$WEB_PORT"; do
  if "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $port)) != 0)"; then
    echo "port $port is in use (set CHAOS_PG_PORT / CHAOS_REDIS_PORT / CHAOS_WEB_PORT)" >&2
    exit 1
  fi
done

echo "== chaos in $WORK (PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, web :$WEB_PORT)"
if [[ $(id -u) -eq 0 ]]; then
  id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
  chown "$PG_USER" "$WORK"
fi
mkdir -p "$PG_DATA"
[[ $(id -u) -eq 0 ]] && chown "$PG_USER" "$PG_DATA"
as_pg /usr/local/bin/initdb -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >/dev/null
PG_OPTS="-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off \
 -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 -c shared_buffers=256MB"
as_pg /usr/local/bin/pg_ctl -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 -o "$PG_OPTS" \
  start >/dev/null
REDIS_CMD=(redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
  --appendonly no --pidfile "$REDIS_PIDFILE" --dir "$WORK" --logfile "$WORK/redis.log")
"${REDIS_CMD[@]}" >/dev/null
"$PY" - "$PG_PORT" "$REDIS_PORT" <<'PY'
import sys, time
import psycopg, redis
pg_port, redis_port = sys.argv[1], int(sys.argv[2])
with psycopg.connect(f"host=127.0.0.1 port={pg_port} user=postgres dbname=postgres", autocommit=True) as conn:
    conn.execute("CREATE DATABASE gridgov_chaos")
for _ in range(50):
    try:
        assert redis.Redis(port=redis_port).ping()
        break
    except redis.ConnectionError:
        time.sleep(0.1)
else:
    sys.exit("redis did not answer")
PY

# The production settings (DEBUG off, manifest static files), plain HTTP on loopback: the
# load says X-Forwarded-Proto: https like the reverse proxy would.
export DJANGO_ENV=production
export DEBUG=false
export SECRET_KEY="chaos-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 60)"
FIELD_ENCRYPTION_KEY=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
export FIELD_ENCRYPTION_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/gridgov_chaos"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
export GRIDGOV_VAR_DIR="$WORK/var"
export STATIC_ROOT="$WORK/static"
export MEDIA_ROOT="$WORK/media"
export SMS_FILE_PATH="$WORK/sms.log"
export LOG_LEVEL=WARNING
# A task that left no trace is re-sent after 1 minute (production: 5); the re-drive runs every
# 15 s (the default). See docs/reliability.md.
export INCIDENT_TASK_STUCK_MINUTES=1
export INCIDENT_REDRIVE_SECONDS=15
# The login and reporting rate limits would refuse a load from one address (hardening).
export LOGIN_FAILURES_PER_IP=100000/15m
export CHAOS_WORK="$WORK"
export CHAOS_PG_DATA="$PG_DATA"
export CHAOS_PG_OPTS="$PG_OPTS"
export CHAOS_PG_USER="$PG_USER"
export CHAOS_REDIS_PORT="$REDIS_PORT"
export CHAOS_WEB_PORT="$WEB_PORT"
mkdir -p "$GRIDGOV_VAR_DIR" "$MEDIA_ROOT"

echo "== migrate + collectstatic + demo city"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py load_demo_city >"$WORK/demo.log" 2>&1 || { tail -20 "$WORK/demo.log"; exit 1; }

echo "== scenarios"
"$PY" bench/chaos.py --started "$START" "$@"
echo "== done in $(( $(date +%s) - START )) s"
