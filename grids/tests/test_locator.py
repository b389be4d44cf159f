import math
import threading
import time

import pytest
from django.core.cache import cache

from grids import locator
from grids.locator import CellRecord, CommunityRecord, LocatorIndex
from grids.models import GridCell, Region
from tests.builders import rectangle


@pytest.fixture
def locmem_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    return cache


def test_point_inside_a_cell(region_tree):
    location = locator.locate(24.505, 117.605)
    assert location.inside is True
    assert location.cell_id == region_tree["cell_a1_1"].pk
    assert location.cell_code == "350602001001001"
    assert location.community_id == region_tree["a1"].pk
    assert location.community_code == "350602001001"
    assert location.region_code == "350602001001"


def test_point_on_a_shared_edge_gives_the_lowest_code(region_tree):
    # 117.610 is the edge between cell_a1_1 (…001) and cell_a1_2 (…002).
    results = {locator.locate(24.505, 117.610).cell_code for _ in range(20)}
    assert results == {"350602001001001"}
    # The edge between two communities (a1_2 | a2_1 at 117.620): still exactly one cell.
    assert locator.locate(24.505, 117.620).cell_code == "350602001001002"
    # A corner shared by cells: lowest code too.
    assert locator.locate(24.500, 117.610).cell_code == "350602001001001"


def test_point_in_a_hole_is_not_in_the_cell(region_tree):
    a2 = region_tree["a2"]
    cell = region_tree["cell_a2_1"]
    outer = rectangle(24.500, 117.620, 24.510, 117.630)["coordinates"][0]
    hole = rectangle(24.504, 117.624, 24.506, 117.626)["coordinates"][0]
    cell.geometry = {"type": "Polygon", "coordinates": [outer, hole[::-1]]}
    cell.save()
    location = locator.locate(24.505, 117.625)  # in the hole
    assert location.cell_id is None
    assert location.community_id == a2.pk  # the community still covers it (属地兜底)
    assert location.inside is True
    assert locator.locate(24.502, 117.622).cell_id == cell.pk  # the ring around the hole


def test_point_in_a_community_but_in_no_cell_falls_to_the_community(region_tree):
    # Community B1 spans 117.640–117.660; its only cell covers the west half.
    location = locator.locate(24.505, 117.655)
    assert location == locator.Location(
        cell_id=None,
        cell_code=None,
        community_id=region_tree["b1"].pk,
        community_code="350602002001",
        inside=True,
    )


@pytest.mark.parametrize(
    ("lat", "lng"),
    [
        (24.6, 117.9),  # outside the city
        (0.0, 0.0),
        (24.505, 117.635),  # between two communities, in no boundary
        (math.nan, 117.605),
        (24.505, math.inf),
        (None, 117.605),
        ("abc", "def"),
    ],
)
def test_point_outside_the_city_is_not_inside(region_tree, lat, lng):
    location = locator.locate(lat, lng)
    assert location.inside is False
    assert location.cell_id is None and location.community_id is None


def test_empty_database_locates_nothing(db):
    assert locator.locate(24.505, 117.605).inside is False


def test_index_rebuilt_after_a_cell_is_added_moved_deactivated_and_deleted(region_tree):
    b1 = region_tree["b1"]
    assert locator.locate(24.505, 117.655).cell_id is None  # builds the index

    added = GridCell.objects.create(
        code="350602002001002",
        name="东铺头2网格",
        community=b1,
        geometry=rectangle(24.500, 117.650, 24.510, 117.660),
    )
    assert locator.locate(24.505, 117.655).cell_id == added.pk

    moved = region_tree["cell_a1_1"]
    moved.geometry = rectangle(24.510, 117.600, 24.520, 117.610)  # one row north
    moved.save()
    assert locator.locate(24.515, 117.605).cell_id == moved.pk
    assert locator.locate(24.505, 117.605).cell_id is None
    assert locator.locate(24.505, 117.605).community_id == region_tree["a1"].pk

    added.active = False
    added.save()
    assert locator.locate(24.505, 117.655).cell_id is None

    added.delete()
    assert locator.locate(24.505, 117.655).community_id == b1.pk


def test_index_rebuilt_after_a_community_boundary_changes(region_tree):
    assert locator.locate(24.515, 117.655).inside is False
    b1 = region_tree["b1"]
    b1.boundary = rectangle(24.500, 117.640, 24.520, 117.660)
    b1.save()
    assert locator.locate(24.515, 117.655).community_id == b1.pk
    Region.objects.filter(pk=b1.pk).update(boundary=None)  # bulk update: no signal
    locator.invalidate()  # what a bulk writer must call
    assert locator.locate(24.515, 117.655).inside is False


def test_change_is_published_to_other_processes_once_per_transaction(
    db, locmem_cache, django_capture_on_commit_callbacks
):
    before = locmem_cache.get(locator.SHARED_TOKEN.key())
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        community = Region.objects.create(code="350602002001", name="东铺头社区", level="community")
        for number in (1, 2):
            GridCell.objects.create(
                code=f"35060200200100{number}",
                name=f"网格{number}",
                community=community,
                geometry=rectangle(24.5, 117.6 + number / 100, 24.51, 117.61 + number / 100),
            )
    from grids.signals import _publish

    # Three rows written, one locator message (other apps' caches register their own).
    assert [callback for callback in callbacks if callback is _publish] == [_publish]
    assert locmem_cache.get(locator.SHARED_TOKEN.key()) not in (None, before)


def test_another_process_change_is_seen_through_the_shared_cache(monkeypatch, locmem_cache):
    builds = []

    def fake_build():
        builds.append(1)
        return LocatorIndex([], [])

    monkeypatch.setattr(locator, "index_from_database", fake_build)
    locator.locate(24.5, 117.6)
    locator.locate(24.5, 117.6)
    assert len(builds) == 1
    locmem_cache.set(locator.SHARED_TOKEN.key(), "changed-elsewhere")
    monkeypatch.setattr(locator.INDEX, "_until", 0.0)
    locator.locate(24.5, 117.6)
    assert len(builds) == 2


def test_concurrent_first_lookups_build_the_index_once(monkeypatch):
    builds = []
    index = LocatorIndex(
        [
            CellRecord(
                1, "350602001001001", 7, "350602001001", rectangle(24.5, 117.6, 24.51, 117.61)
            )
        ],
        [],
    )

    def slow_build():
        builds.append(1)
        time.sleep(0.05)
        return index

    monkeypatch.setattr(locator, "index_from_database", slow_build)
    results, errors = [], []

    def worker():
        try:
            for _ in range(200):
                results.append(locator.locate(24.505, 117.605).cell_code)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(builds) == 1
    assert set(results) == {"350602001001001"} and len(results) == 1600


def test_index_skips_unusable_geometries_and_breaks_ties_by_code():
    square = rectangle(24.5, 117.6, 24.51, 117.61)
    index = LocatorIndex(
        [
            CellRecord(2, "350602001001002", 1, "350602001001", square),  # same polygon twice
            CellRecord(1, "350602001001001", 1, "350602001001", square),
            CellRecord(3, "350602001001003", 1, "350602001001", {"type": "Point"}),
            CellRecord(4, "350602001001004", 1, "350602001001", {"type": "Polygon"}),
        ],
        [CommunityRecord(1, "350602001001", rectangle(24.5, 117.6, 24.52, 117.62))],
    )
    assert index.cell_count == 2
    assert index.locate(24.505, 117.605).cell_code == "350602001001001"
    assert index.locate(24.515, 117.615).community_code == "350602001001"


def test_fast_path_matches_the_public_shapely_api():
    cells = [
        CellRecord(
            i + 1,
            f"350602001001{i + 1:03d}",
            1,
            "350602001001",
            rectangle(24.5, 117.6 + i * 0.001, 24.501, 117.601 + i * 0.001),
        )
        for i in range(20)
    ]
    index = LocatorIndex(cells, [])
    import shapely

    tree = shapely.STRtree([shapely.geometry.shape(c.geometry) for c in cells])
    for step in range(0, 400):
        lng = 117.5995 + step * 0.0000525
        hits = tree.query(shapely.Point(lng, 24.5005), predicate="intersects").tolist()
        expected = cells[min(hits)].code if hits else None
        assert index.locate(24.5005, lng).cell_code == expected
