"""Benchmark of grids.locator: point → grid cell among 10,000 cells.

Synthesises, in memory, a city of 100 x 100 cells of about 100 m (each a 16-vertex polygon,
neighbours sharing edges exactly) in 100 communities of 10 x 10 cells with boundaries, and
builds the real LocatorIndex from it. Then it times at least 100,000 lookups through the public
`grids.locator.locate()` (the path every caller takes: freshness check + STRtree query) and
through `LocatorIndex.locate()` alone. Query points: 90 % inside the cells, 5 % exactly on
shared edges, 5 % outside the city.

Prints µs per lookup and writes bench/results/locator.json.

    .venv/bin/python bench/bench_locator.py [--cells 10000] [--lookups 200000]
"""

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

import django  # noqa: E402

django.setup()

import shapely  # noqa: E402

from grids import locator  # noqa: E402
from grids.geometry import metres_to_degrees  # noqa: E402
from grids.locator import CellRecord, CommunityRecord, LocatorIndex  # noqa: E402

SOUTH, WEST = 24.40, 117.50
CELL_M = 100.0
EDGE_POINTS = 4  # vertices per side: a 16-vertex polygon, closer to surveyed grids than a box


def ring(south: float, west: float, north: float, east: float) -> list[list[float]]:
    points = []
    sides = [((west, south), (east, south)), ((east, south), (east, north))]
    sides += [((east, north), (west, north)), ((west, north), (west, south))]
    for (x0, y0), (x1, y1) in sides:
        for k in range(EDGE_POINTS):
            f = k / EDGE_POINTS
            points.append([round(x0 + (x1 - x0) * f, 7), round(y0 + (y1 - y0) * f, 7)])
    points.append(points[0])
    return points


def community_code_of(number: int) -> str:
    """A 12-digit community code: district 01.., street 001..999, community 001."""
    return f"3506{number // 1000 + 1:02d}{number % 1000:03d}001"


def synthesise(cell_count: int) -> tuple[list[CellRecord], list[CommunityRecord], dict]:
    side = math.isqrt(cell_count)
    if side * side != cell_count:
        raise SystemExit("--cells must be a square number (e.g. 10000)")
    dlat, dlng = metres_to_degrees(CELL_M, SOUTH)
    lats = [round(SOUTH + k * dlat, 7) for k in range(side + 1)]
    lngs = [round(WEST + k * dlng, 7) for k in range(side + 1)]
    block = 10  # a community is 10 x 10 cells
    cells, communities = [], []
    for row in range(side):
        for col in range(side):
            community_number = (row // block) * (side // block) + col // block + 1
            community_code = (
                f"3506{community_number // 1000 + 1:02d}{community_number % 1000:03d}001"
            )
            number = (row % block) * block + col % block + 1
            cells.append(
                CellRecord(
                    id=len(cells) + 1,
                    code=f"{community_code}{number:03d}",
                    community_id=community_number,
                    community_code=community_code,
                    geometry={
                        "type": "Polygon",
                        "coordinates": [ring(lats[row], lngs[col], lats[row + 1], lngs[col + 1])],
                    },
                )
            )
    for row in range(0, side, block):
        for col in range(0, side, block):
            community_number = (row // block) * (side // block) + col // block + 1
            community_code = (
                f"3506{community_number // 1000 + 1:02d}{community_number % 1000:03d}001"
            )
            communities.append(
                CommunityRecord(
                    id=community_number,
                    code=community_code,
                    boundary={
                        "type": "Polygon",
                        "coordinates": [
                            ring(
                                lats[row],
                                lngs[col],
                                lats[min(row + block, side)],
                                lngs[min(col + block, side)],
                            )
                        ],
                    },
                )
            )
    extent = {"lats": lats, "lngs": lngs}
    return cells, communities, extent


def query_points(extent: dict, count: int, seed: int = 2026) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    lats, lngs = extent["lats"], extent["lngs"]
    south, north, west, east = lats[0], lats[-1], lngs[0], lngs[-1]
    points = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.90:
            points.append((rng.uniform(south, north), rng.uniform(west, east)))
        elif roll < 0.95:  # exactly on a shared vertical edge
            points.append((rng.uniform(south, north), rng.choice(lngs[1:-1])))
        else:  # outside, north of the city
            points.append((north + rng.uniform(0.001, 0.05), rng.uniform(west, east)))
    return points


def time_lookups(function, points) -> float:
    started = time.perf_counter()
    for lat, lng in points:
        function(lat, lng)
    return (time.perf_counter() - started) / len(points) * 1e6


def machine() -> dict:
    memory_kb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "grids", "bench"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", None
    return {
        "commit": commit,
        "working_tree_dirty": dirty,
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kb / 1024 / 1024, 1) if memory_kb else None,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "shapely": shapely.__version__,
        "geos": shapely.geos_version_string,
        "platform": platform.platform(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=10_000)
    parser.add_argument("--lookups", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N timed runs")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results" / "locator.json"))
    args = parser.parse_args()
    if args.lookups < 100_000:
        raise SystemExit("--lookups must be at least 100000")

    cells, communities, extent = synthesise(args.cells)
    started = time.perf_counter()
    index = LocatorIndex(cells, communities)
    build_ms = (time.perf_counter() - started) * 1000
    points = query_points(extent, args.lookups)

    # Correctness spot checks before timing: a point in a known cell, on an edge, outside.
    lats, lngs = extent["lats"], extent["lngs"]
    centre = index.locate((lats[0] + lats[1]) / 2, (lngs[0] + lngs[1]) / 2)
    assert centre.cell_code == cells[0].code, centre
    on_edge = index.locate((lats[0] + lats[1]) / 2, lngs[1])
    assert on_edge.cell_code == min(cells[0].code, cells[1].code), on_edge
    assert not index.locate(lats[-1] + 1, lngs[0]).inside

    locator.use_index(index)  # the public path, without a database
    locator.locate(*points[0])  # warm-up
    hits = sum(1 for lat, lng in points if locator.locate(lat, lng).cell_id is not None)

    public = [time_lookups(locator.locate, points) for _ in range(args.repeats)]
    direct = [time_lookups(index.locate, points) for _ in range(args.repeats)]

    # The same index on shapely's public API only (the fallback if the compiled fast path is
    # unavailable in another shapely version).
    saved_lib, locator._shapely_lib = locator._shapely_lib, None
    try:
        fallback_index = LocatorIndex(cells, communities)
    finally:
        locator._shapely_lib = saved_lib
    fallback = [time_lookups(fallback_index.locate, points) for _ in range(args.repeats)]

    result = {
        "benchmark": "grids.locator.locate",
        "unit": "µs/lookup",
        "us_per_lookup": round(min(public), 2),
        "us_per_lookup_index_only": round(min(direct), 2),
        "us_per_lookup_public_shapely_api_fallback": round(min(fallback), 2),
        "runs_us_per_lookup": [round(v, 2) for v in public],
        "target_us_per_lookup": 20,
        "dataset": {
            "cells": len(cells),
            "communities": len(communities),
            "vertices_per_cell": EDGE_POINTS * 4,
            "cell_m": CELL_M,
            "lookups": len(points),
            "share_in_cell": round(hits / len(points), 3),
            "mix": "90% random inside, 5% on shared edges, 5% outside",
        },
        "index_build_ms": round(build_ms, 1),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(
        f"locator: {result['us_per_lookup']} µs/lookup via locate() "
        f"({result['us_per_lookup_index_only']} µs index only; "
        f"{result['us_per_lookup_public_shapely_api_fallback']} µs on the public-API fallback) "
        f"over {len(points):,} lookups, "
        f"{len(cells):,} cells; index built in {build_ms:.0f} ms -> {output}"
    )


if __name__ == "__main__":
    main()
