#!/usr/bin/env bash
# `make bench` / `make bench-quick`: throwaway PostgreSQL 15 + Redis on free 127.0.0.1 ports
# (bench/stack.sh), migrate, seed the city (bench/seed.py), run every scenario
# (bench/scenarios.py: gunicorn + a real Celery worker, load from a separate process), print the
# table and write bench/results/latest.json (+ a dated copy). Everything started here is stopped
# on exit.
#
#   bash bench/run.sh full|quick
set -euo pipefail

MODE=${1:-quick}
case "$MODE" in
  full) SCALE=1 ;;
  quick) SCALE=0.1 ;;
  *) echo "usage: $0 full|quick" >&2; exit 2 ;;
esac

source "$(dirname "$0")/stack.sh"
stack_init bench
echo "== bench ($MODE, scale $SCALE) in $WORK"
# Memory sized for one machine shared with the app; bulk loading wants big WAL and work memory.
stack_start "$(free_port)" "$(free_port)" gridgov_bench \
  shared_buffers=1GB work_mem=32MB maintenance_work_mem=512MB max_wal_size=4GB \
  checkpoint_timeout=30min effective_cache_size=4GB max_parallel_workers_per_gather=1 jit=off
stack_env gridgov_bench
export GRIDGOV_BENCH_ENDPOINTS=1
export BENCH_WORK="$WORK"
export BENCH_PG_DATA="$PG_DATA"

echo "== migrate + collectstatic"
"$PY" manage.py migrate --noinput -v 0
"$PY" manage.py collectstatic --noinput -v 0

echo "== seed"
"$PY" bench/seed.py --scale "$SCALE"

echo "== scenarios"
"$PY" bench/scenarios.py --mode "$MODE" --scale "$SCALE" --started "$START"

echo "== registry: people list and search (docs/basic-data.md)"
REGISTRY_PEOPLE=100000
if [ "$MODE" = full ]; then REGISTRY_PEOPLE=1000000; fi
"$PY" bench/registry_search.py --people "$REGISTRY_PEOPLE"
echo "== done in $(( $(date +%s) - START )) s"
