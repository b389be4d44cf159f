# Sourced by bench/run.sh (make bench) and bench/chaos.sh (make chaos): a throwaway PostgreSQL 15
# and Redis on 127.0.0.1 in a work directory, the production settings pointing at them, and
# a cleanup that stops everything started (also on Ctrl-C).
#
#   stack_init NAME                      WORK, PG_DATA, REDIS_PIDFILE; the cleanup trap
#   stack_start PG_PORT REDIS_PORT DB [extra postgres -c options ...]
#   stack_env DB                         export the production settings for this stack
# Set KEEP_WORK=1 to keep the work directory; a file "$WORK/pids" lists process groups the
# Python runners started (killed on exit).

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
START=$(date +%s)
PG_USER=postgres

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port_in_use() { "$PY" -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1', $1)) != 0)"; }
as_pg() {  # initdb refuses root: run the server as the unprivileged postgres user
  if [[ $(id -u) -eq 0 ]]; then runuser -u "$PG_USER" -- "$@"; else "$@"; fi
}

stack_cleanup() {
  local status=$?
  if [[ -f "$WORK/pids" ]]; then  # gunicorn / worker / beat a runner left behind
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
  if [[ -n "${KEEP_WORK:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK" || true; fi
  exit "$status"
}

stack_init() {
  WORK=$(mktemp -d "/tmp/gridgov-$1.XXXXXX")
  chmod 755 "$WORK"
  PG_DATA="$WORK/pgdata"
  REDIS_PIDFILE="$WORK/redis.pid"
  trap stack_cleanup EXIT INT TERM
}

stack_start() {
  local db=$3
  PG_PORT=$1
  REDIS_PORT=$2
  shift 3
  if [[ $(id -u) -eq 0 ]]; then
    id "$PG_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    chown "$PG_USER" "$WORK"
  fi
  mkdir -p "$PG_DATA"
  [[ $(id -u) -eq 0 ]] && chown "$PG_USER" "$PG_DATA"
  as_pg /usr/local/bin/initdb -D "$PG_DATA" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >/dev/null
  # Durability off: a throwaway server.
  PG_OPTS="-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off \
 -c synchronous_commit=off -c full_page_writes=off -c max_connections=100"
  local option
  for option in "$@"; do PG_OPTS="$PG_OPTS -c $option"; done
  as_pg /usr/local/bin/pg_ctl -D "$PG_DATA" -l "$PG_DATA/server.log" -w -t 60 -o "$PG_OPTS" \
    start >/dev/null
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
    --pidfile "$REDIS_PIDFILE" --dir "$WORK" --logfile "$WORK/redis.log" >/dev/null
  "$PY" - "$PG_PORT" "$REDIS_PORT" "$db" <<'PY'
import sys, time
import psycopg, redis
pg_port, redis_port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with psycopg.connect(f"host=127.0.0.1 port={pg_port} user=postgres dbname=postgres", autocommit=True) as conn:
    conn.execute(f'CREATE DATABASE "{db}"')
for _ in range(50):
    try:
        assert redis.Redis(port=redis_port).ping()
        break
    except redis.ConnectionError:
        time.sleep(0.1)
else:
    sys.exit("redis did not answer")
PY
}

stack_env() {
  # The production settings (DEBUG off, manifest static files), plain HTTP on loopback: the
  # load says X-Forwarded-Proto: https like the reverse proxy would.
  export DJANGO_ENV=production
  export DEBUG=false
  SECRET_KEY="$1-$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 60)"
  FIELD_ENCRYPTION_KEY=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  export SECRET_KEY FIELD_ENCRYPTION_KEY
  export ALLOWED_HOSTS=127.0.0.1,localhost
  export SECURE_SSL_REDIRECT=false
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$1"
  export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
  export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/1"
  export GRIDGOV_VAR_DIR="$WORK/var"
  export STATIC_ROOT="$WORK/static"
  export MEDIA_ROOT="$WORK/media"
  export SMS_FILE_PATH="$WORK/sms.log"
  export LOG_LEVEL=WARNING
  mkdir -p "$GRIDGOV_VAR_DIR" "$MEDIA_ROOT"
}
