"""Benchmark of the supervision KPIs (governance.kpis) at city scale.

Seeds a throwaway database (never the developer's: BENCH_DATABASE_URL is required, and the
database must be empty) with a synthetic city — 1 city, 5 districts, 50 streets, 500
communities, 2,000 grid cells, 20 categories, 2,000 workers — and N incidents over a year with
their timeline events (report, dispatch, escalations, close), derives the KPI facts
(governance.aggregates) and times:

- the facts' full rebuild, and an incremental refresh after 1,000 incidents changed;
- kpi_table for the city and for one street, over a month and over a year, total and grouped
  (street, community, grid), the trend by day/month, the heat map, the ledger count;
- the same city/year totals computed straight on the incident table and its timeline (what the
  fact table saves us).

Prints the figures and writes bench/results/kpis-<vendor>-<N>.json.

    BENCH_DATABASE_URL=postgres://... .venv/bin/python bench/bench_kpis.py --incidents 200000
    BENCH_DATABASE_URL=sqlite:////tmp/kpi-bench.sqlite3 .venv/bin/python bench/bench_kpis.py
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if not os.environ.get("BENCH_DATABASE_URL"):
    sys.exit("Set BENCH_DATABASE_URL to a throwaway database (it is migrated and filled).")
os.environ["DATABASE_URL"] = os.environ["BENCH_DATABASE_URL"]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault("GRIDGOV_VAR_DIR", "/tmp/gridgov-bench-var")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, F, Min, OuterRef, Q, Subquery  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, User  # noqa: E402
from governance import aggregates, kpis  # noqa: E402
from governance.models import IncidentDailyCount, IncidentFact  # noqa: E402
from grids.models import GridCell, Region  # noqa: E402
from incidents.models import Action, Category, Incident, IncidentEvent  # noqa: E402

TZ = timezone.get_default_timezone()
DAYS = 365


def square(lat: float, lng: float, size: float = 0.001) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
        ],
    }


def seed_city() -> dict:
    city = Region.objects.create(code="350600000000", name="基准市", level="city")
    districts, streets, communities, cells = [], [], [], []
    for d in range(1, 6):
        districts.append(
            Region(code=f"3506{d:02d}000000", name=f"区{d}", level="district", parent=city)
        )
    Region.objects.bulk_create(districts)
    districts = list(Region.objects.filter(level="district"))
    for district in districts:
        for s in range(1, 11):
            streets.append(
                Region(
                    code=f"{district.code[:6]}{s:03d}000",
                    name=f"{district.name}街道{s}",
                    level="street",
                    parent=district,
                )
            )
    Region.objects.bulk_create(streets)
    streets = list(Region.objects.filter(level="street"))
    for street in streets:
        for c in range(1, 11):
            communities.append(
                Region(
                    code=f"{street.code[:9]}{c:03d}",
                    name=f"{street.name}社区{c}",
                    level="community",
                    parent=street,
                )
            )
    Region.objects.bulk_create(communities)
    communities = list(Region.objects.filter(level="community"))
    for index, community in enumerate(communities):
        for g in range(1, 5):
            cells.append(
                GridCell(
                    code=f"{community.code}{g:03d}",
                    name=f"网格{index}-{g}",
                    community=community,
                    geometry=square(
                        24.4 + (index // 25) * 0.002, 117.5 + (index % 25) * 0.004 + g * 0.001
                    ),
                )
            )
    GridCell.objects.bulk_create(cells)
    cells = list(GridCell.objects.select_related("community"))
    large = [Category.objects.create(code=f"8{i}", name=f"大类{i}") for i in range(4)]
    categories = []
    for i in range(20):
        categories.append(
            Category.objects.create(
                code=f"8{i % 4}{i:02d}",
                parent=large[i % 4],
                name=f"小类{i}",
                urgent=i % 10 == 0,
                handled_at=["grid", "community", "street", "department"][i % 4],
            )
        )
    workers = User.objects.bulk_create(
        [User(username=f"bench_worker_{i}", password="!") for i in range(2000)]
    )
    supervisor = User.objects.create(username="bench_supervisor", scope_region=city)
    supervisor.roles.set(Role.objects.filter(code="supervisor"))
    street = streets[0]
    dispatcher = User.objects.create(username="bench_dispatcher", scope_region=street)
    dispatcher.roles.set(Role.objects.filter(code="dispatcher"))
    return {
        "city": city,
        "street": street,
        "cells": cells,
        "categories": categories,
        "workers": workers,
        "supervisor": supervisor,
        "dispatcher": dispatcher,
    }


def seed_incidents(world: dict, count: int, *, start: datetime, seed: int = 7) -> tuple[int, int]:
    """Bulk-insert `count` incidents over DAYS days with their timeline events."""
    rng = random.Random(seed)
    # Timestamps are part of the data set: switch off auto_now(_add) while seeding.
    for model in (Incident, IncidentEvent):
        model._meta.get_field("created_at").auto_now_add = False
    cells, categories, workers = world["cells"], world["categories"], world["workers"]
    batch: list[Incident] = []
    plans: list[list[tuple]] = []
    events_written = 0
    number = 0

    def flush() -> int:
        nonlocal batch, plans
        Incident.objects.bulk_create(batch, batch_size=2000)
        events = [
            IncidentEvent(
                incident_id=incident.pk,
                action=action,
                from_state=from_state,
                to_state=to_state,
                created_at=at,
            )
            for incident, plan in zip(batch, plans, strict=True)
            for action, at, from_state, to_state in plan
        ]
        IncidentEvent.objects.bulk_create(events, batch_size=5000)
        written = len(events)
        batch, plans = [], []
        return written

    now = start + timedelta(days=DAYS)
    for _ in range(count):
        number += 1
        cell = rng.choice(cells)
        category = rng.choice(categories)
        reported = start + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        dispatch_due = reported + timedelta(minutes=30)
        dispatched = reported + timedelta(minutes=rng.expovariate(1 / 25))
        resolve_due = dispatched + timedelta(days=3)
        resolved = dispatched + timedelta(hours=rng.expovariate(1 / 50))
        closed = resolved + timedelta(hours=rng.uniform(2, 48))
        level = category.handled_at
        roll = rng.random()
        plan = [(Action.REPORT, reported, "", "reported")]
        fields = {}
        if roll < 0.05:
            state = "invalid"
            fields = {"closed_at": reported + timedelta(hours=1)}
        elif closed < now and roll < 0.92:
            state = "closed"
            plan.append((Action.DISPATCH, dispatched, "verified", "dispatched"))
            fields = {
                "dispatched_at": dispatched,
                "dispatch_due_at": dispatch_due,
                "resolve_due_at": resolve_due,
                "resolved_at": resolved,
                "closed_at": closed,
                "rating": rng.randint(1, 5) if rng.random() < 0.6 else None,
                "rework_count": 1 if rng.random() < 0.05 else 0,
                "extension_count": 1 if rng.random() < 0.03 else 0,
            }
            plan.append((Action.CLOSE, closed, "rated", "closed"))
        else:
            state = rng.choice(["dispatched", "accepted", "verifying"])
            if state == "verifying":
                fields = {"due_at": reported + timedelta(hours=1)}
            else:
                plan.append((Action.DISPATCH, dispatched, "verified", "dispatched"))
                fields = {
                    "dispatched_at": dispatched,
                    "dispatch_due_at": dispatch_due,
                    "resolve_due_at": resolve_due,
                    "due_at": resolve_due,
                    "parked": rng.random() < 0.05,
                }
        if rng.random() < 0.04:
            at = reported + timedelta(hours=2)
            plan.append((Action.ESCALATE, at, "dispatched", "dispatched"))
            fields["escalation_level"] = 1
        batch.append(
            Incident(
                tracking_number=f"B{number:010d}",
                category=category,
                description="基准测试事件",
                grid_cell=cell,
                region_id=cell.community_id,
                region_code=cell.community.code,
                channel="resident_web",
                state=state,
                urgent=category.urgent,
                handling_level=level if state != "invalid" else "",
                handling_region_id=cell.community_id,
                assignee_id=rng.choice(workers).pk if state in ("closed", "accepted") else None,
                created_at=reported,
                **fields,
            )
        )
        plans.append(plan)
        if len(batch) >= 5000:
            events_written += flush()
            print(f"  {number:>9,} incidents", end="\r", flush=True)
    if batch:
        events_written += flush()
    print()
    return number, events_written


def reuse_city() -> dict:
    return {
        "supervisor": User.objects.get(username="bench_supervisor"),
        "dispatcher": User.objects.get(username="bench_dispatcher"),
    }


def timed(function, *, repeats: int = 3) -> tuple[float, object]:
    """Best of `repeats` wall times in ms, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), result


def live_totals(query: kpis.KpiQuery) -> dict:
    """The city totals straight on the incident table and its timeline (no fact table)."""
    first_dispatch = (
        IncidentEvent.objects.filter(
            incident_id=OuterRef("pk"), action__in=[Action.DISPATCH, Action.FIX_ON_SPOT]
        )
        .order_by()
        .values("incident_id")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    s, e = query.start_at, query.end_at
    incidents = Incident.objects.filter(**kpis.region_code_range(query.region.prefix))
    closed = incidents.filter(state="closed", closed_at__gte=s, closed_at__lt=e).aggregate(
        closed=Count("pk"),
        on_time=Count("pk", filter=Q(resolved_at__lte=F("resolve_due_at"))),
        reworked=Count("pk", filter=Q(rework_count__gt=0)),
        rated=Count("pk", filter=Q(rating__isnull=False)),
    )
    dispatched = (
        incidents.annotate(first=Subquery(first_dispatch))
        .filter(first__gte=s, first__lt=e)
        .aggregate(n=Count("pk"), extended=Count("pk", filter=Q(extension_count__gt=0)))
    )
    reported = incidents.filter(created_at__gte=s, created_at__lt=e).count()
    return {"closed": closed, "dispatched": dispatched, "reported": reported}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the queries on a database this script seeded before (facts kept)",
    )
    args = parser.parse_args()

    from django.conf import settings

    settings.GOVERNANCE_KPI_CACHE_SECONDS = 0  # time the queries, not the cache
    call_command("migrate", verbosity=0)
    vendor = connection.vendor
    end_day = date(2026, 11, 22)
    start = datetime.combine(end_day - timedelta(days=DAYS - 1), datetime.min.time(), tzinfo=TZ)
    if args.reuse:
        world = reuse_city()
        incidents, events = Incident.objects.count(), IncidentEvent.objects.count()
        seed_seconds = rebuild_seconds = None
        facts = IncidentFact.objects.count()
        with connection.schema_editor() as editor:  # a database seeded by an older version
            if IncidentDailyCount._meta.db_table not in connection.introspection.table_names():
                editor.create_model(IncidentDailyCount)
            with connection.cursor() as cursor:
                existing = connection.introspection.get_constraints(
                    cursor, IncidentFact._meta.db_table
                )
            for index in IncidentFact._meta.indexes:
                if index.name not in existing:
                    editor.add_index(IncidentFact, index)
        started = time.perf_counter()
        rows = aggregates.daily_counts_recompute(days=None)
        daily_seconds = time.perf_counter() - started
        print(f"reusing {incidents:,} incidents; {rows:,} daily rows in {daily_seconds:.1f} s")
    else:
        if Incident.objects.exists():
            sys.exit("The benchmark database is not empty: give it a fresh one (or --reuse).")
        print(f"database: {vendor}; seeding {args.incidents:,} incidents over {DAYS} days ...")
        started = time.perf_counter()
        world = seed_city()
        incidents, events = seed_incidents(world, args.incidents, start=start)
        seed_seconds = time.perf_counter() - started
        print(f"seeded {incidents:,} incidents and {events:,} events in {seed_seconds:.0f} s")
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        started = time.perf_counter()
        facts = aggregates.incident_facts_rebuild()
        rebuild_seconds = time.perf_counter() - started
        print(f"facts and daily counts rebuilt for {facts:,} incidents in {rebuild_seconds:.1f} s")
    daily_rows = IncidentDailyCount.objects.count()
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # Incremental refresh: 1,000 random incidents are escalated now (their facts and the daily
    # counts of their scattered days move).
    changed = list(Incident.objects.order_by("?").values_list("pk", flat=True)[:1000])
    Incident.objects.filter(pk__in=changed).update(escalation_level=F("escalation_level") + 1)
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(incident_id=pk, action=Action.ESCALATE, created_at=timezone.now())
            for pk in changed
        ]
    )
    started = time.perf_counter()
    refreshed = aggregates.incident_facts_refresh_recent()
    refresh_ms = (time.perf_counter() - started) * 1000
    print(f"incremental refresh: {refreshed:,} incidents in {refresh_ms:.0f} ms")

    now = datetime.combine(end_day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=12)
    supervisor, dispatcher = world["supervisor"], world["dispatcher"]
    month = {"start": "2026-10-01", "end": "2026-10-31"}
    year = {"start": start.date().isoformat(), "end": end_day.isoformat()}

    def query(user, period, **extra):
        return kpis.kpi_query_build(user=user, params={**period, **extra}, now=now)

    cases = {
        "city month total": lambda: kpis.kpi_table(query(supervisor, month)),
        "city year total": lambda: kpis.kpi_table(query(supervisor, year)),
        "city month by street": lambda: kpis.kpi_table(query(supervisor, month, group_by="street")),
        "city year by street": lambda: kpis.kpi_table(query(supervisor, year, group_by="street")),
        "city month by community": lambda: kpis.kpi_table(
            query(supervisor, month, group_by="community")
        ),
        "city month by grid": lambda: kpis.kpi_table(query(supervisor, month, group_by="grid")),
        "city month by category": lambda: kpis.kpi_table(
            query(supervisor, month, group_by="category")
        ),
        "street month total": lambda: kpis.kpi_table(query(dispatcher, month)),
        "street year by community": lambda: kpis.kpi_table(
            query(dispatcher, year, group_by="community")
        ),
        "city year trend by month": lambda: kpis.kpi_trend(
            query(supervisor, year), interval="month"
        ),
        "city month trend by day": lambda: kpis.kpi_trend(query(supervisor, month), interval="day"),
        "city month heat map (2,000 cells)": lambda: kpis.cell_heat(
            query(supervisor, month), user=supervisor
        ),
        "ledger count: city month closed on time": lambda: kpis.ledger_queryset(
            user=supervisor, params={"kpi": "closed_on_time", **month}, now=now
        ).count(),
        "facts only (no daily counts): city year total": lambda: kpis._fact_counts(
            query(supervisor, year)
        ),
        "facts only (no daily counts): city year by street": lambda: kpis._fact_counts(
            query(supervisor, year, group_by="street")
        ),
        "no fact table: city year totals on incidents + timeline": lambda: live_totals(
            query(supervisor, year)
        ),
    }
    results = {}
    for name, function in cases.items():
        milliseconds, _ = timed(function, repeats=args.repeats)
        results[name] = round(milliseconds, 1)
        print(f"{name:<58} {milliseconds:>9.1f} ms")

    table = kpis.kpi_table(query(supervisor, year)).total
    summary = {key: value.display for key, value in table.values.items()}
    print("city, year:", summary)
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    output = {
        "benchmark": "kpis",
        "database": vendor,
        "incidents": incidents,
        "events": events,
        "facts": facts,
        "daily_count_rows": daily_rows,
        "reused_database": args.reuse,
        "seed_seconds": None if seed_seconds is None else round(seed_seconds, 1),
        "facts_rebuild_seconds": None if rebuild_seconds is None else round(rebuild_seconds, 1),
        "daily_counts_recompute_seconds": (round(daily_seconds, 1) if args.reuse else None),
        "incremental_refresh": {"incidents": refreshed, "ms": round(refresh_ms, 1)},
        "unit": f"ms (best of {args.repeats})",
        "timings": results,
        "city_year_kpis": summary,
        "commit": commit,
        "machine": {
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average": os.getloadavg()[0],
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    path = results_dir / f"kpis-{vendor}-{incidents}.json"
    path.write_text(json.dumps(output, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    median = statistics.median(results.values())
    print(f"written {path.relative_to(ROOT)}; median of the timings {median:.1f} ms")


if __name__ == "__main__":
    main()
