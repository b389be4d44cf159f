"""Benchmark of the incident deadline sweep (incidents.tasks.sweep_deadlines) over 100,000 open
incidents.

Builds a throwaway database (a SQLite file in its own GRIDGOV_VAR_DIR, or a test_... database
on the PostgreSQL server of DATABASE_URL, created and dropped), the small test city, and N open
incidents spread over the timed states with deadlines from a week ago to a month ahead: about
2 % due for a warning, 1 % due for escalation, 1 % past their rating window and 0.5 % with a
lost task. Then it times three sweeps with that backlog (the work is capped per run; the rest
is the next minute's) and a sweep with nothing to do (the cost every minute).

Prints the timings and writes bench/results/incident_sweep.json.

    .venv/bin/python bench/bench_incident_sweep.py [--incidents 100000]
"""

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
if not os.environ.get("DATABASE_URL"):
    import atexit
    import shutil

    os.environ["GRIDGOV_VAR_DIR"] = tempfile.mkdtemp(prefix="gridgov-bench-sweep-")
    atexit.register(shutil.rmtree, os.environ["GRIDGOV_VAR_DIR"], ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import get_runner

    if settings.DATABASE_IS_POSTGRES:
        runner = get_runner(settings)(verbosity=0, interactive=False)
        old_config = runner.setup_databases()  # a fresh test_… database, dropped at the end
        try:
            result = run(args.incidents)
        finally:
            runner.teardown_databases(old_config)
    else:  # a SQLite file in the throwaway GRIDGOV_VAR_DIR (as in production: WAL, a file)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        result = run(args.incidents)
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "incident_sweep.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


def run(count: int) -> dict:
    from django.db import connection
    from django.utils import timezone

    from governance.celery import app
    from incidents.models import Incident, IncidentEvent, IncidentState
    from incidents.services import incidents_sweep, tracking_number_new
    from incidents.tests.factories import build_city

    app.conf.task_always_eager = False
    app.conf.broker_url = "memory://"  # the re-enqueued tasks go nowhere
    random.seed(2026)
    city = build_city()
    now = timezone.now()
    states = [
        IncidentState.VERIFYING,
        IncidentState.VERIFIED,
        IncidentState.DISPATCHED,
        IncidentState.ACCEPTED,
        IncidentState.RESOLVED,
        IncidentState.FEEDBACK_SENT,
    ]
    cells = [city.cell_a1_1, city.cell_a1_2, city.cell_a2_1, city.cell_b1_1]
    category = city.categories["0102"]
    started = time.perf_counter()
    rows = []
    due_counts = {"warn": 0, "escalate": 0, "close": 0, "stuck": 0}
    for n in range(count):
        cell = cells[n % len(cells)]
        state = states[n % len(states)]
        due = now + timedelta(minutes=random.randint(-7 * 24 * 60, 30 * 24 * 60))
        roll = random.random()
        warn_at = escalate_at = task_enqueued_at = None
        if state == IncidentState.FEEDBACK_SENT:
            due = now - timedelta(hours=1) if roll < 0.06 else now + timedelta(days=3)
            due_counts["close"] += roll < 0.06
        else:
            warn_at = now - timedelta(minutes=1) if roll < 0.02 else due - timedelta(hours=1)
            due_counts["warn"] += roll < 0.02
            late = 0.02 <= roll < 0.03
            escalate_at = now - timedelta(minutes=1) if late else max(due, now + timedelta(hours=1))
            due_counts["escalate"] += late
            if state == IncidentState.VERIFIED and roll > 0.97:
                task_enqueued_at = now - timedelta(hours=1)
                due_counts["stuck"] += 1
        rows.append(
            Incident(
                tracking_number=tracking_number_new(),
                category=category,
                description="bench",
                lat=24.505,
                lng=117.605,
                channel="resident_web",
                reporter=city.resident,
                state=state,
                grid_cell=cell,
                region=cell.community,
                region_code=cell.community.code,
                handling_level="grid",
                handling_region=cell.community,
                verifier=city.worker,
                assignee=city.worker if state in (IncidentState.ACCEPTED,) else None,
                due_at=due,
                warn_at=warn_at,
                escalate_at=escalate_at,
                task_enqueued_at=task_enqueued_at,
            )
        )
        if len(rows) == 5000:
            Incident.objects.bulk_create(rows)
            rows = []
    Incident.objects.bulk_create(rows)
    build_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE incidents_incident")

    from incidents import services

    parts = [
        ("re_enqueued", services.incidents_re_enqueue_stuck),
        ("closed", services.incidents_close_unrated),
        ("escalated", services.incidents_escalate_overdue),
        ("warned", services.incidents_warn_due),
    ]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        swept, split = {}, {}
        for name, part in parts:  # what incidents_sweep() runs, timed part by part
            part_started = time.perf_counter()
            swept[name] = part(now=timezone.now())
            split[name] = round(time.perf_counter() - part_started, 3)
        timings.append((time.perf_counter() - started, swept, split))
    idle_started = time.perf_counter()
    idle = incidents_sweep(now=now - timedelta(days=30))
    idle_seconds = time.perf_counter() - idle_started
    return {
        "benchmark": "incident deadline sweep",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "open_incidents": Incident.objects.exclude(state__in=["closed", "invalid"]).count(),
        "due_at_start": due_counts,
        "build_seconds": round(build_seconds, 1),
        "sweeps": [
            {"seconds": round(seconds, 3), "done": swept, "seconds_per_part": split}
            for seconds, swept, split in timings
        ],
        "idle_sweep_seconds": round(idle_seconds, 4),
        "idle_sweep": idle.__dict__,
        "events_written": IncidentEvent.objects.count(),
        "limit_seconds": 5.0,
    }


if __name__ == "__main__":
    main()
