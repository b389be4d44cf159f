"""Benchmark of registry (issue 19): the cell's people list and a community's search by name
or ID number, at up to 1,000,000 people; and the xlsx import of 10,000 people.

Creates a throwaway test database (Django's test database machinery, migrations included: on
SQLite a temporary file, on PostgreSQL `test_<name>` of DATABASE_URL), seeds a synthetic city
(`--communities` communities of `--cells-per-community` cells) and N people spread over the
cells, with encrypted ID numbers and phones and their blind indexes, exactly as the services
store them (bulk inserts). Then it times, through the real selectors and as the real users
(a grid worker, a community dispatcher):

- cell_list: the cell's people list, first page of 50 in name order plus the count (what the
  cell page shows);
- search_name: a community's search by a name prefix (one or two characters), 50 results;
- search_id: a community's search by a full ID number (blind index), found or not.

Each query runs `--queries` times on random cells / communities / names / IDs; it reports
p50/p95/max in ms and writes bench/results/registry_search-<vendor>-<N>.json. Target: p95 < 50
ms at 1,000,000 people. With `--import-rows`, it also times registry.imports.import_content
for that many people rows into one cell (target: 10,000 rows < 60 s).

    .venv/bin/python bench/registry_search.py --people 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/registry_search.py
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
os.environ.setdefault(
    "TEST_SQLITE_NAME",
    str(Path(tempfile.gettempdir()) / f"gridgov-bench-registry-{os.getpid()}.sqlite3"),
)

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍红鹏建华文辉"
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"


def id_number(n: int) -> str:
    """A valid, unique 18-digit ID number for person n (area 350602, birth 1940-2009)."""
    year = 1940 + n % 70
    month = 1 + (n // 70) % 12
    day = 1 + (n // 840) % 28
    seq = (n // 23520) % 1000
    prefix = f"350602{year:04d}{month:02d}{day:02d}{seq:03d}"
    if n >= 23520 * 1000:
        raise SystemExit("at most 23,520,000 people")
    total = sum(int(d) * w for d, w in zip(prefix, ID_WEIGHTS, strict=True))
    return prefix + ID_CHECK[total % 11]


def seed(people: int, communities: int, cells_per: int, rng: random.Random) -> dict:
    from grids.models import GridCell, Region
    from registry.models import Person
    from registry.personal_data import lookup_key
    from tests.builders import make_grid_worker, make_user

    city = Region.objects.create(code="350600000000", name="漳州市", level="city")
    district = Region.objects.create(
        code="350602000000", name="芗城区", level="district", parent=city
    )
    street = Region.objects.create(
        code="350602001000", name="街道", level="street", parent=district
    )
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    community_rows = [
        Region(code=f"350602001{c + 1:03d}", name=f"社区{c + 1}", level="community", parent=street)
        for c in range(communities)
    ]
    Region.objects.bulk_create(community_rows)
    community_rows = list(Region.objects.filter(level="community").order_by("code"))
    cells = [
        GridCell(
            code=f"{community.code}{k + 1:03d}",
            name=f"{community.name}{k + 1}网格",
            community=community,
            geometry=square,
        )
        for community in community_rows
        for k in range(cells_per)
    ]
    GridCell.objects.bulk_create(cells)
    cells = list(GridCell.objects.select_related("community").order_by("code"))
    start = time.perf_counter()
    batch: list[Person] = []
    ids_sample: list[str] = []
    for n in range(people):
        cell = cells[n % len(cells)]
        person = Person(
            cell=cell,
            region_code=cell.community.code,
            name=rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
            kind="registered",
        )
        number = id_number(n)
        person.id_number_value = number
        person.id_key = lookup_key("id", number)
        phone = f"139{n:08d}"
        person.phone_value = phone
        person.phone_key = lookup_key("phone", phone)
        batch.append(person)
        if n % max(1, people // 2000) == 0:
            ids_sample.append(number)
        if len(batch) >= 5000:
            Person.objects.bulk_create(batch, batch_size=5000)
            batch.clear()
            if n % 100_000 < 5000:
                print(f"  {n + 1:,} people ({time.perf_counter() - start:.0f} s)", flush=True)
    if batch:
        Person.objects.bulk_create(batch, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE registry_person")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    worker = make_grid_worker("bench_worker", cells=cells[:1])
    staff = [
        make_user(f"bench_staff_{c.code}", roles=["dispatcher"], region=c)
        for c in community_rows[:20]
    ]
    return {
        "cells": cells,
        "worker": worker,
        "staff": staff,
        "ids": ids_sample,
        "seed_s": round(time.perf_counter() - start, 1),
    }


def percentiles(samples: list[float]) -> dict:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(p95, 2),
        "max_ms": round(samples[-1], 2),
        "n": len(samples),
    }


def time_queries(world: dict, queries: int, rng: random.Random) -> dict:
    from django.core.paginator import Paginator

    from accounts.models import User
    from grids.models import GridCell
    from registry import selectors
    from tests.builders import make_grid_worker

    results = {}
    # cell_list: a worker per sampled cell (their own cell), page 1 + count.
    samples = []
    cells = world["cells"]
    workers = []
    for k, cell in enumerate(rng.sample(cells, min(20, len(cells)))):
        workers.append((make_grid_worker(f"bench_w{k}", cells=[cell]), cell))
    for q in range(queries):
        user_obj, cell = workers[q % len(workers)]
        user = User.objects.get(pk=user_obj.pk)  # a fresh request's user
        cell = GridCell.objects.select_related("community").get(pk=cell.pk)
        t0 = time.perf_counter()
        page = Paginator(selectors.people_of_cell(user, cell), 50).get_page(1)
        list(page.object_list)
        _ = page.paginator.count
        samples.append((time.perf_counter() - t0) * 1000)
    results["cell_list"] = percentiles(samples)
    # search_name: one or two leading characters of a common name.
    samples = []
    for q in range(queries):
        staff = User.objects.get(pk=world["staff"][q % len(world["staff"])].pk)
        prefix = rng.choice(SURNAMES[:40]) + (rng.choice(GIVEN) if q % 2 else "")
        t0 = time.perf_counter()
        selectors.people_search(staff, prefix)
        samples.append((time.perf_counter() - t0) * 1000)
    results["search_name"] = percentiles(samples)
    # search_id: a full ID number (mostly people of other communities: not found).
    samples = []
    for q in range(queries):
        staff = User.objects.get(pk=world["staff"][q % len(world["staff"])].pk)
        number = rng.choice(world["ids"])
        t0 = time.perf_counter()
        selectors.people_search(staff, number)
        samples.append((time.perf_counter() - t0) * 1000)
    results["search_id"] = percentiles(samples)
    return results


def time_import(world: dict, rows: int) -> dict:
    from io import BytesIO

    from openpyxl import Workbook

    from registry import imports
    from registry.models import Person

    workbook = Workbook()
    sheet = workbook.active
    sheet.append([header for header, _n, _r in imports.COLUMNS["person"]])
    base = 23520 * 999  # IDs no seeded person has
    for k in range(rows):
        sheet.append(
            [f"导入{k}", id_number(base + k), f"138{k:08d}", "流动", "", "", "", "", "", "", "", ""]
        )
    buffer = BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    cell = world["cells"][0]
    t0 = time.perf_counter()
    result = imports.import_content(user=world["worker"], kind="person", cell=cell, content=content)
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = imports.import_content(user=world["worker"], kind="person", cell=cell, content=content)
    second = time.perf_counter() - t0
    assert result.created == rows and again.created == 0
    assert Person.objects.filter(cell=cell, name__startswith="导入").count() == rows
    return {
        "rows": rows,
        "first_import_s": round(first, 1),
        "re_import_s": round(second, 1),
        "target_s": 60,
    }


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--communities", type=int, default=200)
    parser.add_argument("--cells-per-community", type=int, default=10)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        print(f"seeding {args.people:,} people ({connection.vendor})", flush=True)
        world = seed(args.people, args.communities, args.cells_per_community, rng)
        print(f"seeded in {world['seed_s']} s", flush=True)
        queries = time_queries(world, args.queries, rng)
        imported = None
        if args.import_rows:
            with transaction.atomic():
                imported = time_import(world, args.import_rows)
                transaction.set_rollback(True)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    result = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit(),
        "vendor": connection.vendor,
        "python": platform.python_version(),
        "people": args.people,
        "communities": args.communities,
        "cells": args.communities * args.cells_per_community,
        "target_p95_ms": 50,
        "queries": queries,
        "import": imported,
        "seed_s": world["seed_s"],
    }
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = ROOT / "bench" / "results" / f"registry_search-{connection.vendor}-{args.people}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {out}")


if __name__ == "__main__":
    main()
