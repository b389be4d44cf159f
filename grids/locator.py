"""Point → grid cell, in memory: a shapely 2 STRtree over the prepared cell polygons.

Contract (other apps code against it): `locate(lat, lng) -> Location`, never raises for a point
outside; `Location.inside` is False outside the jurisdiction.

Rules:
- A point on a shared edge (or corner) touches several cells: the cell with the lowest code wins,
  so the answer is deterministic. A point in a hole of a polygon is not in that cell.
- A point in no cell falls to the community whose boundary (Region.boundary) contains it
  (属地兜底); between communities the lowest code wins too. Else it is outside.
- Only active cells are indexed.

Freshness: the index is a per-process copy (core.process_cache, `INDEX`). post_save/post_delete
of GridCell and Region forget it (grids.signals); the next lookup rebuilds. Other processes
(web, Celery worker) learn of a change through a token in the shared cache (`SHARED_TOKEN`),
checked at most every SHARED_CHECK_SECONDS. Lookups read one immutable snapshot; one thread
builds at a time.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import Point, STRtree
from shapely.geometry import shape

from core.cache import SharedToken
from core.process_cache import ProcessCopy

logger = logging.getLogger(__name__)

# Other processes learn of a change through this token (core.cache.SharedToken).
SHARED_TOKEN = SharedToken("grids:locator:token")
SHARED_CHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Location:
    cell_id: int | None
    cell_code: str | None
    community_id: int | None
    community_code: str | None
    inside: bool

    @property
    def region_code(self) -> str | None:
        """The 12-digit code of the community the point belongs to (None outside)."""
        return self.community_code


OUTSIDE = Location(None, None, None, None, False)


@dataclass(frozen=True, slots=True)
class CellRecord:
    id: int
    code: str
    community_id: int
    community_code: str
    geometry: dict  # GeoJSON


@dataclass(frozen=True, slots=True)
class CommunityRecord:
    id: int
    code: str
    boundary: dict  # GeoJSON


def _shapes(records: Iterable, attribute: str) -> tuple[list, list]:
    """(records, shapely geometries) of the records whose geometry is usable, sorted by code."""
    kept, geometries = [], []
    for record in sorted(records, key=lambda r: r.code):
        try:
            geometry = shape(getattr(record, attribute))
        except Exception:  # bad stored data must not break locating
            logger.warning("locator: %s has an unreadable geometry; skipped", record.code)
            continue
        if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            logger.warning("locator: %s is not a polygon; skipped", record.code)
            continue
        if not geometry.is_valid:
            # make_valid keeps a self-touching ring usable rather than silently dropping it.
            geometry = shapely.make_valid(geometry)
        kept.append(record)
        geometries.append(geometry)
    shapely.prepare(geometries)
    return kept, geometries


# The per-lookup cost is dominated by Python-level argument handling of shapely's public
# Point() and STRtree.query() (docs/performance.md, "core and grids"). Where shapely's compiled
# layer offers the same operations (shapely.lib.points, STRtree._tree.query), the index uses
# them, but only after checking at build time that they give exactly the public API's answers;
# any difference or error (another shapely version) falls back to the public API.
_NAN_ALLOWED = np.intc(0)
_INTERSECTS = 1
try:
    from shapely import lib as _shapely_lib
    from shapely.strtree import BinaryPredicate

    _INTERSECTS = BinaryPredicate.get_value("intersects")
except Exception:
    _shapely_lib = None


def _query_functions(tree: STRtree, geometries: list) -> Callable[[float, float], list[int]]:
    """A function (x, y) -> indices of the tree geometries the point intersects."""

    def public(x: float, y: float) -> list[int]:
        return tree.query(Point(x, y), predicate="intersects").tolist()

    raw_tree = getattr(tree, "_tree", None)
    if _shapely_lib is None or raw_tree is None:
        return public

    def compiled(x: float, y: float) -> list[int]:
        points = np.empty(1, dtype=object)
        points[0] = _shapely_lib.points(np.array((x, y)), _NAN_ALLOWED)
        return raw_tree.query(points, _INTERSECTS)[1].tolist()

    # Self-check on the vertices and centres of some geometries plus points outside.
    probes: list[tuple[float, float]] = [(1000.0, 1000.0), (-1000.0, -1000.0)]
    for geometry in geometries[:: max(1, len(geometries) // 50)]:
        minx, miny, maxx, maxy = geometry.bounds
        probes += [(minx, miny), ((minx + maxx) / 2, (miny + maxy) / 2), (maxx, maxy)]
    try:
        if all(sorted(compiled(x, y)) == sorted(public(x, y)) for x, y in probes):
            return compiled
    except Exception:
        logger.warning("locator: shapely fast path unavailable; using the public API")
    return public


class LocatorIndex:
    """An immutable snapshot: cells and community boundaries in two STRtrees.

    Geometries are stored sorted by code, so the smallest hit index is the lowest code.
    """

    __slots__ = (
        "_cell_locations",
        "_cell_tree",
        "_community_locations",
        "_community_tree",
        "_query_cells",
        "_query_communities",
        "bounds",
    )

    def __init__(self, cells: Iterable[CellRecord], communities: Iterable[CommunityRecord]):
        cell_records, cell_geometries = _shapes(cells, "geometry")
        community_records, community_geometries = _shapes(communities, "boundary")
        self._cell_tree = STRtree(cell_geometries)
        self._community_tree = STRtree(community_geometries)
        self._query_cells = _query_functions(self._cell_tree, cell_geometries)
        self._query_communities = _query_functions(self._community_tree, community_geometries)
        self._cell_locations = [
            Location(c.id, c.code, c.community_id, c.community_code, True) for c in cell_records
        ]
        self._community_locations = [
            Location(None, None, c.id, c.code, True) for c in community_records
        ]
        everything = cell_geometries + community_geometries
        if everything:
            minx, miny, maxx, maxy = shapely.total_bounds(np.array(everything, dtype=object))
            self.bounds: tuple[float, float, float, float] | None = (minx, miny, maxx, maxy)
        else:
            self.bounds = None

    @property
    def cell_count(self) -> int:
        return len(self._cell_locations)

    @property
    def community_count(self) -> int:
        return len(self._community_locations)

    def locate(self, lat: float, lng: float) -> Location:
        bounds = self.bounds
        if bounds is None:
            return OUTSIDE
        try:
            x, y = float(lng), float(lat)
        except (TypeError, ValueError):
            return OUTSIDE
        # Cheap rejection first; also refuses NaN (every comparison with NaN is False).
        if not (bounds[0] <= x <= bounds[2] and bounds[1] <= y <= bounds[3]):
            return OUTSIDE
        # "intersects" counts the boundary, so a point on a shared edge hits both cells; the
        # smallest index (= lowest code) wins. A point in a hole does not intersect the cell.
        hits = self._query_cells(x, y)
        if hits:
            return self._cell_locations[hits[0] if len(hits) == 1 else min(hits)]
        hits = self._query_communities(x, y)
        if hits:
            return self._community_locations[hits[0] if len(hits) == 1 else min(hits)]
        return OUTSIDE


def index_from_database() -> LocatorIndex:
    """A snapshot of the active cells and the community boundaries as stored now."""
    from grids.models import GridCell, Region

    cells = [
        CellRecord(id=pk, code=code, community_id=cid, community_code=ccode, geometry=geometry)
        for pk, code, cid, ccode, geometry in GridCell.objects.filter(active=True).values_list(
            "pk", "code", "community_id", "community__code", "geometry"
        )
    ]
    communities = [
        CommunityRecord(id=pk, code=code, boundary=boundary)
        for pk, code, boundary in Region.objects.filter(
            level=Region.Level.COMMUNITY, boundary__isnull=False
        ).values_list("pk", "code", "boundary")
        if boundary
    ]
    return LocatorIndex(cells, communities)


def _build_index() -> LocatorIndex:
    started = time.perf_counter()
    index = index_from_database()
    logger.info(
        "locator: index built with %d cells and %d community boundaries in %.1f ms",
        index.cell_count,
        index.community_count,
        (time.perf_counter() - started) * 1000,
    )
    return index


# The process-wide index (core.process_cache): rebuilt after a change of this process at once,
# of another process within SHARED_CHECK_SECONDS; one build at a time; while the shared cache
# is down, the local index is kept (a build per lookup would stop locating).
INDEX: ProcessCopy[LocatorIndex] = ProcessCopy(
    "grids.locator",
    _build_index,
    token=SHARED_TOKEN,
    trust_seconds=SHARED_CHECK_SECONDS,
    offline="keep",
    single_build=True,
)
# An index installed by use_index() (benchmarks, tests), with the INDEX generation it was
# installed at: it is used instead of INDEX until the next invalidate() (or clear_all_local()).
_pinned: tuple[int, LocatorIndex] | None = None


def current_index() -> LocatorIndex:
    """The up-to-date index of this process (built or rebuilt on demand, thread-safe)."""
    pinned = _pinned
    if pinned is not None and pinned[0] == INDEX.generation:
        return pinned[1]
    index = INDEX.get()
    if index is None:  # offline="keep" always answers
        raise AssertionError('offline="keep" always answers')
    return index


def locate(lat: float, lng: float) -> Location:
    """The grid cell (or, failing that, the community) containing the WGS-84 point.

    Never raises for a point outside (or for a non-number, NaN or infinity): returns
    Location(inside=False).
    """
    index = current_index()
    # LocatorIndex.locate converts and range-checks; NaN fails every comparison there and an
    # infinity lies outside any bounds.
    return index.locate(lat, lng)


def invalidate(*, shared: bool = True) -> None:
    """Mark the index stale (the next lookup rebuilds it). Called by the GridCell/Region signals
    and after bulk writes that bypass signals. `shared` also tells the other processes."""
    INDEX.clear_local()  # also ends a use_index() pin
    if shared:
        SHARED_TOKEN.publish()


def use_index(index: LocatorIndex) -> None:
    """Install a ready-made index (benchmarks, tests) until the next invalidate()."""
    global _pinned
    _pinned = (INDEX.generation, index)
