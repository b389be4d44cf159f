#!/usr/bin/env bash
# `make chaos`: the fault scenarios of docs/reliability.md ("Faults") against a throwaway
# PostgreSQL 15 + Redis (bench/stack.sh) + gunicorn + real Celery worker and beat processes;
# writes bench/results/reliability.json and prints the table. Everything started here is stopped
# on exit. Ports (override with the environment): PostgreSQL 55443, Redis 56443, web 58443.
#
#   bash bench/chaos.sh [--only SCENARIO ...]
set -euo pipefail

source "$(dirname "$0")/stack.sh"
PG_PORT=${CHAOS_PG_PORT:-55443}
REDIS_PORT=${CHAOS_REDIS_PORT:-56443}
WEB_PORT=${CHAOS_WEB_PORT:-58443}
for port in "$PG_PORT" "$REDIS_PORT" "$WEB_PORT"; do
  if port_in_use "$port"; then
    echo "port $port is in use (set CHAOS_PG_PORT / CHAOS_REDIS_PORT / CHAOS_WEB_PORT)" >&2
    exit 1
  fi
done

stack_init chaos
[[ -n "${CHAOS_KEEP:-}" ]] && KEEP_WORK=1
echo "== chaos in $WORK (PostgreSQL :$PG_PORT, Redis :$REDIS_PORT, web :$WEB_PORT)"
stack_start "$PG_PORT" "$REDIS_PORT" gridgov_chaos shared_buffers=256MB
stack_env gridgov_chaos
# A task that left no trace is re-sent after 1 minute (production: 5); the re-drive runs every
# 15 s (the default). See docs/reliability.md.
export INCIDENT_TASK_STUCK_MINUTES=1
export INCIDENT_REDRIVE_SECONDS=15
# The login and reporting rate limits would refuse a load from one address (hardening).
export LOGIN_FAILURES_PER_IP=100000/15m
# What bench/chaos.py needs to stop and restart PostgreSQL and Redis and to find its processes.
export CHAOS_WORK="$WORK"
export CHAOS_PG_DATA="$PG_DATA"
export CHAOS_PG_OPTS="$PG_OPTS"
export CHAOS_PG_USER="$PG_USER"
export CHAOS_REDIS_PORT="$REDIS_PORT"
export CHAOS_WEB_PORT="$WEB_PORT"

echo "== migrate + collectstatic + demo city"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0
"$PY" manage.py load_demo_city >"$WORK/demo.log" 2>&1 || { tail -20 "$WORK/demo.log"; exit 1; }

echo "== scenarios"
"$PY" bench/chaos.py --started "$START" "$@"
echo "== done in $(( $(date +%s) - START )) s"
