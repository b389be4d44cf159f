"""Seed a freshly migrated, EMPTY database with a city-scale data set, fast.

Everything big is written by PostgreSQL itself (INSERT ... SELECT over generate_series, or COPY
for rows made in Python), with the secondary indexes of the big tables dropped during the load
and rebuilt afterwards, foreign-key triggers off for the load (session_replication_role), then
ANALYZE. Only the handful of named bench users go through the ORM (real password hashes).

At --scale 1 (``make bench``):
  1 city, 10 districts, 100 streets, 1,000 communities, 10,000 grid cells (100 m squares),
  12,000 grid workers, 1,000,000 incidents over 3 years (10 % open) with about 6 timeline
  events each, their KPI facts, 50,000 mediation cases, 100,000 petitions.
At --scale 0.1 (``make bench-quick``): a tenth of each (communities: 1 per street).

Writes bench/results/seed.json (counts and seconds) for the scenario runner.

    DATABASE_URL=postgres://... .venv/bin/python bench/seed.py --scale 1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

RESULTS = ROOT / "bench" / "results"
# The city: Zhangzhou's code prefix; cells are squares of CELL_DEG degrees (about 100 m).
CITY_CODE = "350600000000"
LNG0, LAT0, CELL_DEG = 117.50, 24.40, 0.001
COLUMNS = 100  # cells per row of the city's grid
DISTRICTS, STREETS_PER_DISTRICT, CELLS_PER_COMMUNITY = 10, 10, 10
BENCH_PASSWORD = "Bench-2026!"  # a throwaway database only


def sizes(scale: float) -> dict[str, int]:
    communities_per_street = 10 if scale >= 1 else max(1, round(10 * scale))
    communities = DISTRICTS * STREETS_PER_DISTRICT * communities_per_street
    return {
        "districts": DISTRICTS,
        "streets": DISTRICTS * STREETS_PER_DISTRICT,
        "communities_per_street": communities_per_street,
        "communities": communities,
        "cells": communities * CELLS_PER_COMMUNITY,
        "workers": round(12_000 * scale),
        "incidents": round(1_000_000 * scale),
        "mediation_cases": round(50_000 * scale),
        "petitions": round(100_000 * scale),
    }


def community_code(index: int, per_street: int) -> str:
    street, community = divmod(index, per_street)
    district, street_in_district = divmod(street, STREETS_PER_DISTRICT)
    return f"3506{district + 1:02d}{street_in_district + 1:03d}{community + 1:03d}"


def street_code(street: int) -> str:
    district, street_in_district = divmod(street, STREETS_PER_DISTRICT)
    return f"3506{district + 1:02d}{street_in_district + 1:03d}000"


def cell_square(index: int) -> tuple[float, float, float, float]:
    row, column = divmod(index, COLUMNS)
    x0, y0 = LNG0 + column * CELL_DEG, LAT0 + row * CELL_DEG
    return x0, y0, x0 + CELL_DEG, y0 + CELL_DEG


def cell_center(index: int) -> tuple[float, float]:
    x0, y0, x1, y1 = cell_square(index)
    return (y0 + y1) / 2, (x0 + x1) / 2  # lat, lng


def polygon(x0: float, y0: float, x1: float, y1: float) -> dict:
    ring = [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    return {"type": "Polygon", "coordinates": [[[round(x, 6), round(y, 6)] for x, y in ring]]}


class Loader:
    """SQL helpers that fill every NOT NULL column the caller did not name with its type's
    neutral value (Django sets no database defaults)."""

    NEUTRAL = {
        "character varying": "''",
        "text": "''",
        "integer": "0",
        "smallint": "0",
        "bigint": "0",
        "boolean": "false",
        "timestamp with time zone": "now()",
        "date": "current_date",
        "double precision": "0",
        "jsonb": "'{}'::jsonb",
        "numeric": "0",
    }

    def __init__(self, conn) -> None:
        self.conn = conn
        self.timings: dict[str, float] = {}

    def missing(self, table: str, named: set[str]) -> dict[str, str]:
        rows = self.conn.execute(
            "SELECT column_name, data_type, is_identity, column_default FROM "
            "information_schema.columns WHERE table_name = %s AND is_nullable = 'NO'",
            (table,),
        ).fetchall()
        return {
            name: self.NEUTRAL[kind]
            for name, kind, identity, default in rows
            if name not in named and identity != "YES" and default is None
        }

    def insert_select(self, table: str, exprs: dict[str, str], tail: str, params=()) -> int:
        exprs = {**exprs, **self.missing(table, set(exprs))}
        sql = f"INSERT INTO {table} ({', '.join(exprs)}) SELECT {', '.join(exprs.values())} {tail}"
        return self.conn.execute(sql, params).rowcount

    def copy(self, table: str, columns: list[str], rows) -> int:
        extra = self.missing(table, set(columns))
        consts = {}
        for name, literal in extra.items():
            consts[name] = self.conn.execute(f"SELECT {literal}").fetchone()[0]
        names = [*columns, *consts]
        count = 0
        with self.conn.cursor().copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, *consts.values()))
                count += 1
        return count

    def reset_sequence(self, table: str) -> None:
        self.conn.execute(  # table: one of ours, never input
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )

    def drop_indexes(self, table: str) -> list[str]:
        """Drop the secondary indexes (not the primary key nor unique constraints); return
        their definitions to rebuild after the load."""
        rows = self.conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT "
            "EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            (table,),
        ).fetchall()
        for name, _definition in rows:
            self.conn.execute(f'DROP INDEX "{name}"')
        return [definition for _name, definition in rows]

    def step(self, name: str, started: float) -> None:
        self.timings[name] = round(time.perf_counter() - started, 1)
        print(f"  {name}: {self.timings[name]} s", flush=True)


def seed(scale: float) -> dict:
    import django

    django.setup()
    from django.db import connection

    from incidents.loaders import load_calendar, load_categories

    n = sizes(scale)
    began = time.perf_counter()
    connection.ensure_connection()
    conn = connection.connection  # psycopg 3
    conn.autocommit = True
    db = Loader(conn)
    if conn.execute("SELECT count(*) FROM incidents_incident").fetchone()[0]:
        sys.exit("The database already holds incidents: seed only a fresh, migrated database.")

    t = time.perf_counter()
    load_categories()
    load_calendar()
    db.step("categories + calendar", t)

    # --- regions and grid cells ----------------------------------------------------------------
    t = time.perf_counter()
    per_street = n["communities_per_street"]
    regions = [(CITY_CODE, "漳州市(基准)", "city", None, None)]
    for d in range(DISTRICTS):
        regions.append((f"3506{d + 1:02d}000000", f"第{d + 1}区", "district", CITY_CODE, None))
    for s in range(n["streets"]):
        parent = f"3506{s // STREETS_PER_DISTRICT + 1:02d}000000"
        regions.append((street_code(s), f"第{s + 1}街道", "street", parent, None))
    for c in range(n["communities"]):
        first = c * CELLS_PER_COMMUNITY  # a community is a strip of 10 cells in one row
        x0, y0, _x, _y = cell_square(first)
        _x, _y, x1, y1 = cell_square(first + CELLS_PER_COMMUNITY - 1)
        code = community_code(c, per_street)
        boundary = json.dumps(polygon(x0, y0, x1, y1))
        street = street_code(c // per_street)
        regions.append((code, f"第{c + 1}社区", "community", street, boundary))
    db.copy(
        "grids_region",
        ["code", "name", "level", "boundary"],
        [(code, name, level, boundary) for code, name, level, _parent, boundary in regions],
    )
    conn.execute("CREATE TEMP TABLE bench_parent (code varchar(12), parent varchar(12))")
    with conn.cursor().copy("COPY bench_parent (code, parent) FROM STDIN") as copy:
        for code, _name, _level, parent, _boundary in regions:
            copy.write_row((code, parent))
    conn.execute(
        "UPDATE grids_region r SET parent_id = p.id FROM bench_parent b "
        "JOIN grids_region p ON p.code = b.parent WHERE r.code = b.code"
    )
    community_ids = dict(
        conn.execute("SELECT code, id FROM grids_region WHERE level = 'community'").fetchall()
    )
    cells = []
    for i in range(n["cells"]):
        code = community_code(i // CELLS_PER_COMMUNITY, per_street)
        geometry = json.dumps(polygon(*cell_square(i)))
        cells.append(
            (
                f"{code}{i % CELLS_PER_COMMUNITY + 1:03d}",
                f"网格{i + 1}",
                "basic",
                community_ids[code],
                geometry,
                10_000.0,
                True,
            )
        )
    db.copy(
        "grids_gridcell",
        ["code", "name", "kind", "community_id", "geometry", "area_m2", "active"],
        cells,
    )
    # bench_cell: cell index -> ids, codes and centre (the incidents below are spread on it).
    conn.execute(
        "CREATE TABLE bench_cell (idx int PRIMARY KEY, cell_id bigint, community_id bigint, "
        "community_code varchar(12), street_id bigint, lat float8, lng float8)"
    )
    cell_ids = dict(conn.execute("SELECT code, id FROM grids_gridcell").fetchall())
    street_ids = dict(
        conn.execute("SELECT code, id FROM grids_region WHERE level = 'street'").fetchall()
    )
    with conn.cursor().copy("COPY bench_cell FROM STDIN") as copy:
        for i, row in enumerate(cells):
            code = row[0][:12]
            lat, lng = cell_center(i)
            copy.write_row(
                (
                    i,
                    cell_ids[row[0]],
                    community_ids[code],
                    code,
                    street_ids[code[:9] + "000"],
                    lat,
                    lng,
                )
            )
    db.step(f"regions ({len(regions)}) + grid cells ({len(cells)})", t)

    # --- grid workers (users with the role, GridWorker rows, their cells) ------------------
    t = time.perf_counter()
    workers = n["workers"]
    db.insert_select(
        "accounts_user",
        {
            "username": "'w' || lpad(g::text, 6, '0')",
            "password": "'!bench'",
            "phone": "'139' || lpad(g::text, 8, '0')",
            "display_name": "'网格员' || g",
            "is_active": "true",
            "date_joined": "now()",
        },
        "FROM generate_series(1, %s::int) g",
        (workers,),
    )
    conn.execute(
        "INSERT INTO accounts_user_roles (user_id, role_id) SELECT id, 'grid_worker' "
        "FROM accounts_user WHERE username LIKE 'w%%'"
    )
    db.insert_select(
        "grids_gridworker",
        {"user_id": "u.id", "kind": "'full_time'", "on_duty": "true"},
        "FROM accounts_user u WHERE u.username LIKE 'w%%'",
    )
    # Worker k looks after cell k mod cells: every cell has one, some two.
    conn.execute(
        "INSERT INTO grids_gridworker_cells (gridworker_id, gridcell_id) "
        "SELECT w.id, c.cell_id FROM grids_gridworker w JOIN accounts_user u ON u.id = w.user_id "
        "JOIN bench_cell c ON c.idx = (substr(u.username, 2)::int - 1) %% %s",
        (n["cells"],),
    )
    conn.execute(
        "CREATE TABLE bench_worker AS SELECT row_number() OVER (ORDER BY w.id) - 1 AS idx, "
        "w.user_id FROM grids_gridworker w"
    )
    conn.execute("ALTER TABLE bench_worker ADD PRIMARY KEY (idx)")
    db.step(f"grid workers ({workers})", t)

    # --- the named users the scenarios sign in as (ORM: real password hashes) ---------------
    t = time.perf_counter()
    users = named_users()
    db.step("named users", t)

    # --- incidents ------------------------------------------------------------------------------
    t = time.perf_counter()
    total = n["incidents"]
    leaf = [
        row[0]
        for row in conn.execute(
            "SELECT id FROM incidents_category WHERE parent_id IS NOT NULL AND active ORDER BY code"
        ).fetchall()
    ]
    dropped = db.drop_indexes("incidents_incident")
    conn.execute("SET session_replication_role = replica")  # no FK triggers during the load
    conn.execute("SELECT setseed(0.42)")
    # r: per-row random numbers. Open (10 %): reported in the last 30 days, in a timed state,
    # with deadlines from 2 days ago to 20 days ahead; about 2 % of them due for a warning,
    # 1 % for escalation, the feedback_sent ones partly past their rating window.
    open_states = (
        "(ARRAY['verifying','verified','dispatched','dispatched','accepted','accepted',"
        "'accepted','resolved','feedback_sent','feedback_sent'])[1 + (r.a * 10)::int %% 10]"
    )
    db.insert_select(
        "incidents_incident",
        {
            "id": "g",
            "created_at": "r.created",
            "updated_at": "r.created + interval '2 days'",
            "tracking_number": "'GB' || lpad(g::text, 9, '0')",
            "public_id": "'B' || lpad(g::text, 11, '0')",  # unique: Open311's public id
            "category_id": "(%s::bigint[])[1 + (r.b * %s)::int %% %s]",
            "description": "'基准事件 ' || g || ':占道经营,请尽快处理。'",
            "lat": "c.lat + (r.c - 0.5) * 0.0009",
            "lng": "c.lng + (r.d - 0.5) * 0.0009",
            "address": "'基准路' || (g %% 500) || '号'",
            "grid_cell_id": "c.cell_id",
            "region_id": "c.community_id",
            "region_code": "c.community_code",
            "reporter_id": "CASE WHEN r.e < 0.4 THEN w.user_id END",
            "reporter_name": "CASE WHEN r.e < 0.4 THEN '网格员' ELSE '市民' END",
            "reporter_phone": "CASE WHEN r.e < 0.4 THEN '' "
            "ELSE '138' || lpad((g %% 99999999)::text, 8, '0') END",
            "channel": "CASE WHEN r.e < 0.4 THEN 'patrol' WHEN r.e < 0.8 THEN 'hotline_12345' "
            "ELSE 'resident_web' END",
            "state": "CASE WHEN r.open THEN "
            + open_states
            + " WHEN r.a < 0.05 THEN 'invalid' ELSE 'closed' END",
            "urgent": "r.b < 0.05",
            "handling_level": "'grid'",
            "handling_region_id": "c.community_id",
            "assignee_id": "CASE WHEN NOT r.open OR r.a >= 0.2 THEN w.user_id END",
            "verifier_id": "w.user_id",
            "check_required": "true",
            "escalation_level": "CASE WHEN r.f < 0.03 THEN 1 ELSE 0 END",
            "rework_count": "CASE WHEN r.f > 0.97 THEN 1 ELSE 0 END",
            "verify_due_at": "r.created + interval '4 hours'",
            "dispatch_due_at": "r.created + interval '1 day'",
            "resolve_due_at": "r.created + interval '5 days'",
            "due_at": "CASE WHEN r.open THEN r.due END",
            "warn_at": "CASE WHEN r.open AND r.f < 0.02 THEN now() - interval '1 minute' "
            "WHEN r.open AND r.due > now() + interval '1 day' THEN r.due - interval '1 day' END",
            "escalate_at": "CASE WHEN r.open AND r.f BETWEEN 0.02 AND 0.03 "
            "THEN now() - interval '1 minute' WHEN r.open AND r.due > now() THEN r.due END",
            "verified_at": "CASE WHEN r.open AND r.a < 0.1 THEN NULL "
            "ELSE r.created + interval '1 hour' END",
            "dispatched_at": "CASE WHEN r.open AND r.a < 0.2 THEN NULL "
            "ELSE r.created + interval '3 hours' END",
            "accepted_at": "CASE WHEN r.open AND r.a < 0.4 THEN NULL "
            "ELSE r.created + interval '4 hours' END",
            "resolved_at": "CASE WHEN r.open AND r.a < 0.7 THEN NULL "
            "ELSE r.created + (interval '1 hour' * (6 + r.f * 150)) END",
            "feedback_at": "CASE WHEN r.open AND r.a < 0.8 THEN NULL "
            "ELSE r.created + interval '7 days' END",
            "closed_at": "CASE WHEN r.open THEN NULL ELSE r.created + interval '8 days' END",
            "rating": "CASE WHEN NOT r.open AND r.a >= 0.05 THEN 3 + (r.f * 3)::int %% 3 END",
            "rated_at": "CASE WHEN NOT r.open AND r.a >= 0.05 "
            "THEN r.created + interval '7 days' END",
            "result": "CASE WHEN r.open THEN '' ELSE '已处理完毕' END",
        },
        """FROM generate_series(1, %s::int) g
        CROSS JOIN LATERAL (
            SELECT s.*, s.open_ AS open,
                   CASE WHEN s.open_ THEN now() - interval '30 days' * s.t
                        ELSE now() - interval '1095 days' * s.t END AS created,
                   now() + interval '1 day' * (20 * s.u - 2) AS due
            FROM (SELECT g %% 10 = 0 AS open_, random() AS t, random() AS u, random() AS a,
                         random() AS b, random() AS c, random() AS d, random() AS e,
                         random() AS f, g AS gg) s
        ) r
        JOIN bench_cell c ON c.idx = (hashint4(g) & 2147483647) %% %s
        JOIN bench_worker w ON w.idx = c.idx %% %s
        """,
        (leaf, len(leaf), len(leaf), total, n["cells"], workers),
    )
    # feedback_sent: the current deadline is the rating window; 10 % of those ran out.
    conn.execute(
        "UPDATE incidents_incident SET warn_at = NULL, escalate_at = NULL, "
        "feedback_at = now() - interval '1 day' * CASE WHEN id %% 100 < 10 THEN 8 ELSE 1 END, "
        "due_at = now() + interval '1 day' * CASE WHEN id %% 100 < 10 THEN -1 ELSE 6 END "
        "WHERE state = 'feedback_sent'",
        (),
    )
    db.reset_sequence("incidents_incident")
    db.step(f"incidents ({total})", t)

    # --- timelines: report, located, dispatched, accepted, resolved, closed (fewer if open) ---
    t = time.perf_counter()
    dropped_events = db.drop_indexes("incidents_incidentevent")
    events = db.insert_select(
        "incidents_incidentevent",
        {
            "incident_id": "i.id",
            "created_at": "i.created_at + interval '3 hours' * (s - 1)",
            "actor_id": "CASE WHEN s IN (1, 4, 5) THEN i.assignee_id END",
            "action": "(ARRAY['report','start_verification','dispatch','accept','resolve',"
            "'close'])[s]",
            "from_state": "(ARRAY['','reported','verified','dispatched','accepted',"
            "'feedback_sent'])[s]",
            "to_state": "(ARRAY['reported','verified','dispatched','accepted','resolved',"
            "'closed'])[s]",
            "note": "''",
            "public": "true",
            "data": "'{}'::jsonb",
        },
        """FROM incidents_incident i CROSS JOIN LATERAL generate_series(1,
            CASE WHEN i.state = 'closed' THEN 6 WHEN i.state = 'invalid' THEN 2
                 WHEN i.state IN ('verifying', 'verified') THEN 2
                 WHEN i.state = 'dispatched' THEN 3 WHEN i.state = 'accepted' THEN 4
                 ELSE 5 END) s""",
    )
    db.reset_sequence("incidents_incidentevent")
    db.step(f"timeline events ({events})", t)

    # --- KPI facts (governance.IncidentFact), derived in SQL from the seeded rows ---------------
    t = time.perf_counter()
    facts = 0
    if table_exists(conn, "governance_incidentfact"):
        dropped_facts = db.drop_indexes("governance_incidentfact")
        facts = db.insert_select(
            "governance_incidentfact",
            {
                "incident_id": "i.id",
                "region_code": "i.region_code",
                "grid_cell_id": "i.grid_cell_id",
                "category_id": "i.category_id",
                "channel": "i.channel",
                "urgent": "i.urgent",
                "state": "i.state",
                "parked": "i.parked",
                "handling_level": "i.handling_level",
                "handling_region_id": "i.handling_region_id",
                "handling_department": "i.handling_department",
                "assignee_id": "i.assignee_id",
                "reported_at": "i.created_at",
                "first_dispatched_at": "i.dispatched_at",
                "dispatch_due_at": "i.dispatch_due_at",
                "dispatched_on_time": "CASE WHEN i.dispatched_at IS NOT NULL THEN "
                "i.dispatched_at <= i.dispatch_due_at END",
                "resolve_due_at": "i.resolve_due_at",
                "resolved_at": "i.resolved_at",
                "closed_at": "CASE WHEN i.state = 'closed' THEN i.closed_at END",
                "closed_on_time": "CASE WHEN i.state = 'closed' THEN "
                "coalesce(i.resolved_at, i.closed_at) <= i.resolve_due_at "
                "AND i.escalation_level = 0 END",
                "handling_seconds": "CASE WHEN i.state = 'closed' AND i.resolved_at IS NOT NULL "
                "THEN greatest(0, extract(epoch FROM i.resolved_at - i.dispatched_at))::bigint END",
                "reworked": "i.rework_count > 0",
                "extended": "i.extension_count > 0",
                "escalated": "i.escalation_level > 0",
                "rating": "i.rating",
                "refreshed_at": "now()",
            },
            "FROM incidents_incident i",
        )
        for definition in dropped_facts:
            conn.execute(definition)
        from django.utils import timezone

        from governance.aggregates import WATERMARK
        from governance.models import FactWatermark

        moment = timezone.now()
        FactWatermark.objects.update_or_create(
            name=WATERMARK, defaults={"value": moment, "full_rebuild_at": moment}
        )
        # The daily aggregate of the facts (governance), by its own full recompute.
        if table_exists(conn, "governance_incidentdailycount"):
            from governance import aggregates

            recompute = getattr(aggregates, "daily_counts_recompute", None)
            if recompute is not None:
                recompute(days=None)
    db.step(f"KPI facts ({facts})", t)

    # --- mediation cases and petitions ---------------------------------------------------------
    t = time.perf_counter()
    cases = petitions = 0
    if table_exists(conn, "mediation_mediationcase"):
        db.insert_select(
            "mediation_mediationroom",
            {
                "name": "'基准调解室' || d.id",
                "room_type": "'xiangxian'",
                "level": "'county'",
                "region_id": "d.id",
                "region_code": "d.code",
                "active": "true",
                "created_at": "now()",
                "updated_at": "now()",
            },
            "FROM grids_region d WHERE d.level = 'district'",
        )
        room_ids = [r[0] for r in conn.execute("SELECT id FROM mediation_mediationroom")]
        if room_ids:
            cases = db.insert_select(
                "mediation_mediationcase",
                {
                    "created_at": "now() - interval '1095 days' * random()",
                    "updated_at": "now()",
                    "case_number": "'TJB' || lpad(g::text, 9, '0')",
                    "facts": "'邻里纠纷:噪音扰民。'",
                    "requests": "'停止侵害'",
                    "source": "'walk_in'",
                    "region_code": "c.community_code",
                    "state": "(ARRAY['agreement_reached','agreement_reached','failed',"
                    "'withdrawn','applied','accepted','scheduled','agreement_reached'])"
                    "[1 + g %% 8]",
                    "room_id": "(%s::bigint[])[1 + g %% %s]",
                },
                "FROM generate_series(1, %s::int) g "
                "JOIN bench_cell c ON c.idx = (hashint4(g + 7) & 2147483647) %% %s",
                (room_ids, len(room_ids), n["mediation_cases"], n["cells"]),
            )
            db.reset_sequence("mediation_mediationcase")
    if table_exists(conn, "petitions_petition"):
        category = conn.execute(
            "SELECT id FROM petitions_petitioncategory ORDER BY id LIMIT 1"
        ).fetchone()
        if category:
            petitions = db.insert_select(
                "petitions_petition",
                {
                    "created_at": "r.at",
                    "updated_at": "r.at",
                    "received_at": "r.at",
                    "tracking_number": "'XB' || lpad(g::text, 9, '0')",
                    "channel": "'web'",
                    "kind": "'request'",
                    "headcount": "1",
                    "matter": "'道路维修诉求'",
                    "request": "'请求维修道路'",
                    "region_code": "c.community_code",
                    "region_id": "c.community_id",
                    "level": "'village'",
                    "state": "CASE WHEN g %% 10 = 0 THEN 'in_handling' ELSE 'closed' END",
                    "category_id": "%s",
                },
                "FROM generate_series(1, %s::int) g "
                "CROSS JOIN LATERAL (SELECT now() - interval '1095 days' * random() + "
                "interval '0 s' * g AS at) r "
                "JOIN bench_cell c ON c.idx = (hashint4(g + 11) & 2147483647) %% %s",
                (category[0], n["petitions"], n["cells"]),
            )
            db.reset_sequence("petitions_petition")
    db.step(f"mediation cases ({cases}) + petitions ({petitions})", t)

    # --- indexes back, then statistics ------------------------------------------------------
    t = time.perf_counter()
    conn.execute("SET session_replication_role = DEFAULT")
    conn.execute("SET maintenance_work_mem = '512MB'")
    for definition in [*dropped, *dropped_events]:
        conn.execute(definition)
    db.step(f"indexes rebuilt ({len(dropped) + len(dropped_events)})", t)
    t = time.perf_counter()
    conn.execute("VACUUM ANALYZE")
    db.step("vacuum analyze", t)

    counts = {
        "regions": len(regions),
        "grid_cells": len(cells),
        "grid_workers": workers,
        "incidents": total,
        "open_incidents": conn.execute(
            "SELECT count(*) FROM incidents_incident WHERE state NOT IN ('closed', 'invalid')"
        ).fetchone()[0],
        "timeline_events": events,
        "kpi_facts": facts,
        "mediation_cases": cases,
        "petitions": petitions,
    }
    result = {
        "scale": scale,
        "counts": counts,
        "users": users,
        "seconds": round(time.perf_counter() - began, 1),
        "steps_s": db.timings,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "seed.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"  seeded in {result['seconds']} s: {counts}")
    return result


def table_exists(conn, table: str) -> bool:
    return bool(conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0])


def column_exists(conn, table: str, column: str) -> bool:
    return bool(
        conn.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
            (table, column),
        ).fetchone()
    )


def named_users() -> dict:
    """The users the scenarios sign in as; returns what the load generator needs."""
    from accounts.models import RoleCode
    from grids.models import GridCell, GridWorker, Region
    from tests.builders import make_user

    city = Region.objects.get(code=CITY_CODE)
    street = Region.objects.filter(level="street").order_by("code").first()
    admin = make_user(
        "bench_admin",
        roles=[RoleCode.ADMIN],
        region=city,
        phone="13700000001",
        password=BENCH_PASSWORD,
        is_staff=True,
        is_superuser=True,
    )
    make_user(
        "bench_supervisor",
        roles=[RoleCode.SUPERVISOR],
        region=city,
        phone="13700000002",
        password=BENCH_PASSWORD,
    )
    make_user(
        "bench_dispatcher",
        roles=[RoleCode.DISPATCHER],
        region=street,
        phone="13700000003",
        password=BENCH_PASSWORD,
    )
    make_user(
        "bench_resident", roles=[RoleCode.RESIDENT], phone="13700000004", password=BENCH_PASSWORD
    )
    patrol = make_user(
        "bench_gridworker",
        roles=[RoleCode.GRID_WORKER],
        region=street,
        phone="13700000005",
        password=BENCH_PASSWORD,
    )
    worker = GridWorker.objects.create(user=patrol)
    worker.cells.set(GridCell.objects.filter(community__code__startswith=street.code[:9])[:10])
    return {
        "password": BENCH_PASSWORD,
        "admin": admin.username,
        "supervisor": "bench_supervisor",
        "dispatcher": "bench_dispatcher",
        "dispatcher_street": street.code,
        "resident": "bench_resident",
        "gridworker": "bench_gridworker",
        "city": {"lng0": LNG0, "lat0": LAT0, "cell_deg": CELL_DEG, "columns": COLUMNS},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    seed(args.scale)


if __name__ == "__main__":
    main()
