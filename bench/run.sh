#!/usr/bin/env bash
# `make bench` / `make bench-quick`: throwaway PostgreSQL 15 + Redis on free 127.0.0.1 ports,
# migrate, seed the city (bench/seed.py), run every scenario (bench/scenarios.py: gunicorn + a
# real Celery worker, load from a separate process), print the table and write
# bench/results/latest.json (+ a dated copy). Everything started here is stopped on exit.
#
#   bash bench/run.sh full|quick
set -euo pipefail

MODE=${1:-quick}
case "$MODE" in
  full) SCALE=1 ;;
  quick) SCALE=0.1 ;;
  *) echo "usage: $0 full|quick" >&2; exit 2 ;;
esac

cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
START=$(date +%s)
WORK=$(mktemp -d /tmp/gridgov-bench.XXXXXX)
chmod 755 "$WORK"
PG_DATA="$WORK/pgdata"
REDIS_PIDFILE="$WORK/redis.pid"
PG_USER=postgres

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_pg() {  # initdb refuses root: run the server as the unprivileged postgres user
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

cleanup() {
  local status=$?
  if [[ -f "$PG_DATA/postmaster.pid" ]]; then
    as_pg /usr/local/bin/pg_ctl -D "$PG_DATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$REDIS_PIDFILE" ]]; then
    local redis_pid; redis_pid=$(cat "$REDIS_PIDFILE")
    kill "$redis_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$WORK" || true
  exit "$status"
}
trap cleanup EXIT INT TERM

echo "== bench ($MODE, scale $SCALE) in $WORK"
if [[ $(id -u) -eq 0 ]]; then
  id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
  chown "$PG_USER" "$WORK"
fi
PG_PORT=$(free_port)
mkdir -p "$PG_DATA"
[[ $(id -u) -eq 0 ]] && chown "$PG_USER" "$PG_DATA"
as_pg /usr/local/bin/initdb -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
  --locale=C.UTF-8 >/dev/null
# Durability off (a throwaway server); memory sized for one machine shared with the app.
as_pg /usr/local/bin/pg_ctl -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 \
  -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off \
      -c synchronous_commit=off -c full_page_writes=off -c max_connections=100 \
      -c shared_buffers=1GB -c work_mem=32MB -c maintenance_work_mem=512MB \
      -c max_wal_size=4GB -c checkpoint_timeout=30min -c effective_cache_size=4GB \
      -c max_parallel_workers_per_gather=1 -c jit=off" \
  start >/dev/null
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
  --pidfile "$REDIS_PIDFILE" --dir "$WORK" --logfile "$WORK/redis.log" >/dev/null
"$PY" - "$PG_PORT" "$REDIS_PORT" <<'PY'
import sys, time
import psycopg, redis
pg_port, redis_port = sys.argv[1], int(sys.argv[2])
with psycopg.connect(f"host=127.0.0.1 port={pg_port} user=postgres dbname=postgres", autocommit=True) as conn:
    conn.execute("CREATE DATABASE gridgov_bench")
for _ in range(50):
    try:
        assert redis.Redis(port=redis_port).ping()
        break
    except redis.ConnectionError:
        time.sleep(0.1)
else:
    sys.exit("redis did not answer")
PY

# The production settings (DEBUG off, manifest static files), plain HTTP on loopback: the load
# generator says X-Forwarded-Proto: https like the reverse proxy would.
export DJANGO_ENV=production
export DEBUG=false
export SECRET_KEY="bench-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 60)"
FIELD_ENCRYPTION_KEY=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
export FIELD_ENCRYPTION_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export SECURE_SSL_REDIRECT=false
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/gridgov_bench"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
export GRIDGOV_VAR_DIR="$WORK/var"
export STATIC_ROOT="$WORK/static"
export MEDIA_ROOT="$WORK/media"
export SMS_FILE_PATH="$WORK/sms.log"
export LOG_LEVEL=WARNING
export GRIDGOV_BENCH_ENDPOINTS=1
export BENCH_WORK="$WORK"
export BENCH_PG_DATA="$PG_DATA"
mkdir -p "$GRIDGOV_VAR_DIR" "$MEDIA_ROOT"

echo "== migrate + collectstatic"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0

echo "== seed"
"$PY" bench/seed.py --scale "$SCALE"

echo "== scenarios"
"$PY" bench/scenarios.py --mode "$MODE" --scale "$SCALE" --started "$START"
echo "== done in $(( $(date +%s) - START )) s"
