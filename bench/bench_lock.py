"""Micro-benchmark of the incident row lock (issue 16, review section D).

Every incident service and system step starts by locking the incident row. Until issue 16 the
lock was a compiled raw query (`PreparedQuery` of `select_for_update(of=("self",))`, run
through `Incident.objects.raw`); now it is core.workflow.lock, a plain
`select_for_update(of=("self",)).get(pk=...)`. This script times both, each lock in its own
transaction (as a service takes it), on one incident row, alternating the two variants in
rounds and keeping the best round of each. It records wall time and the process's CPU time per
lock (the CPU is what the ORM's compiler costs; the wall time adds the database's answer).

It creates a throwaway test database (Django's test database machinery, migrations included)
and drops it at the end.

    .venv/bin/python bench/bench_lock.py [--locks 2000] [--rounds 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/bench_lock.py

Prints ms per lock and writes bench/results/lock.json (one entry per database vendor, so a
SQLite run and a PostgreSQL run sit side by side).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
# SQLite: a file (WAL, IMMEDIATE transactions, as the project runs it), not an in-memory db.
os.environ.setdefault(
    "TEST_SQLITE_NAME",
    str(Path(tempfile.gettempdir()) / f"gridgov-bench-lock-{os.getpid()}.sqlite3"),
)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "lock.json"


def prepared_lock():
    """The lock as it was before issue 16 (incidents/services.py `_LOCK` and `_lock`)."""
    from core.prepared_query import PreparedQuery
    from incidents.models import Incident

    compiled = PreparedQuery(
        lambda incident_id: (
            Incident.objects.select_for_update(of=("self",)).filter(pk=incident_id).order_by()
        )
    )

    def lock(incident_id: int) -> Incident:
        sql, params = compiled.sql_with_params(incident_id)
        incident = next(iter(Incident.objects.raw(sql, params)), None)
        if incident is None:
            raise LookupError(incident_id)
        return incident

    return lock


def plain_lock():
    """The lock of today's services (incidents/services/_steps.py `_lock`)."""
    from core.exceptions import NotFoundError
    from core.workflow import lock as workflow_lock
    from incidents.models import Incident

    def lock(incident_id: int) -> Incident:
        return workflow_lock(
            Incident, incident_id, of=("self",), not_found=NotFoundError("Incident not found.")
        )

    return lock


def one_incident() -> int:
    from incidents.models import Category, Incident

    parent = Category.objects.create(code="01", name="城市管理")
    category = Category.objects.create(code="0102", name="垃圾", parent=parent)
    incident = Incident.objects.create(
        tracking_number="GGBENCHLK1",
        category=category,
        description="bench",
        lat=24.5,
        lng=117.6,
        channel="resident_web",
        state="dispatched",
    )
    return incident.pk


def time_variant(lock, incident_id: int, locks: int) -> tuple[float, float]:
    """(wall ms, CPU ms) per lock, each lock in its own transaction."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _n in range(locks):
        with transaction.atomic():
            lock(incident_id)
    return (
        (time.perf_counter() - wall) * 1000 / locks,
        (time.process_time() - cpu) * 1000 / locks,
    )


def time_empty(locks: int) -> tuple[float, float]:
    """The transaction alone (BEGIN/COMMIT or the savepoint), to show what the lock adds."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _n in range(locks):
        with transaction.atomic():
            pass
    return (
        (time.perf_counter() - wall) * 1000 / locks,
        (time.process_time() - cpu) * 1000 / locks,
    )


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        incident_id = one_incident()
        variants = {"prepared_raw": prepared_lock(), "plain_select_for_update": plain_lock()}
        for lock in variants.values():  # warm: compile once, load the model's converters
            time_variant(lock, incident_id, 50)
        best: dict[str, tuple[float, float]] = {}
        for _round in range(args.rounds):
            for name, lock in variants.items():
                figure = time_variant(lock, incident_id, args.locks)
                if name not in best or figure[0] < best[name][0]:
                    best[name] = figure
        empty = min(time_empty(args.locks) for _round in range(args.rounds))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()

    vendor = connection.vendor
    server = ""
    if vendor == "postgresql":
        server = ".".join(str(part) for part in divmod(connection.pg_version, 10000))
    difference_wall = best["plain_select_for_update"][0] - best["prepared_raw"][0]
    difference_cpu = best["plain_select_for_update"][1] - best["prepared_raw"][1]
    print(f"{vendor} {server}: {args.locks} locks x {args.rounds} rounds, best round")
    print(f"  {'variant':<26} {'wall ms/lock':>12} {'CPU ms/lock':>12}")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<26} {wall:>12.3f} {cpu:>12.3f}")
    print(f"  {'empty transaction':<26} {empty[0]:>12.3f} {empty[1]:>12.3f}")
    print(f"  plain - prepared: {difference_wall:+.3f} ms wall, {difference_cpu:+.3f} ms CPU")

    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[vendor] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "database": f"{vendor} {server}".strip(),
        "locks_per_round": args.locks,
        "rounds": args.rounds,
        "unit": "ms per lock (best round), each in its own transaction",
        "prepared_raw": {
            "wall_ms": round(best["prepared_raw"][0], 4),
            "cpu_ms": round(best["prepared_raw"][1], 4),
        },
        "plain_select_for_update": {
            "wall_ms": round(best["plain_select_for_update"][0], 4),
            "cpu_ms": round(best["plain_select_for_update"][1], 4),
        },
        "empty_transaction": {"wall_ms": round(empty[0], 4), "cpu_ms": round(empty[1], 4)},
        "plain_minus_prepared_ms": {
            "wall": round(difference_wall, 4),
            "cpu": round(difference_cpu, 4),
        },
        "threshold_ms": 0.3,
        "machine": {
            "python": platform.python_version(),
            "cores": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
