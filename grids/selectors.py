"""Reads of the grids app, already scoped to the user (accounts.selectors decides the scope).

Who sees which cells:
- admins: every cell; a user scoped to a region (supervisor, dispatcher, grid worker, ...): the
  cells under that region's code prefix, plus a grid worker's own cells;
- a grid worker without a region: their own cells;
- a resident (or a user without any staff role): the outlines of the city's active cells, without
  any staff data (no workers, no phones);
- a staff user without a region and without cells: nothing.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import cast

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import User
from accounts.selectors import STAFF_ROLES, regions_visible, user_scope
from grids.models import GridCell, GridWorker, Region


@dataclass(frozen=True)
class CellView:
    cells: QuerySet  # of GridCell
    staff_data: bool  # may see grid workers and their contacts
    own_cell_ids: frozenset[int]


def grid_cell_view(*, user: User) -> CellView:
    """The cells `user` may see, and whether staff data may be shown with them."""
    scope = user_scope(user)
    cells = GridCell.objects.select_related("community")
    if scope.everything:
        return CellView(cells.all(), True, scope.cell_ids)
    if scope.prefix is not None:
        return CellView(
            cells.filter(Q(code__startswith=scope.prefix) | Q(pk__in=scope.cell_ids)),
            True,
            scope.cell_ids,
        )
    if scope.cell_ids:
        return CellView(cells.filter(pk__in=scope.cell_ids), True, scope.cell_ids)
    if user.is_authenticated and not (user.role_codes & STAFF_ROLES):
        return CellView(cells.filter(active=True), False, frozenset())
    return CellView(cells.none(), False, frozenset())


def grid_cells_visible(*, user: User) -> QuerySet:
    return grid_cell_view(user=user).cells


def grid_cell_get(*, user: User, code: str) -> GridCell | None:
    return grid_cells_visible(user=user).filter(code=code).first()


def region_list(*, user: User) -> QuerySet:
    """Regions inside the user's scope (admins: all), parents joined."""
    return regions_visible(user).select_related("parent")


def grid_workers_visible(*, user: User) -> QuerySet:
    """Grid workers of the cells or region the user may see (residents: none)."""
    scope = user_scope(user)
    workers = GridWorker.objects.select_related("user").prefetch_related(
        Prefetch("cells", queryset=GridCell.objects.only("pk", "code"))
    )
    if scope.everything:
        return workers.all()
    if scope.prefix is not None:
        return workers.filter(
            Q(cells__code__startswith=scope.prefix)
            | Q(user__scope_region__code__startswith=scope.prefix)
            | Q(cells__in=scope.cell_ids)
        ).distinct()
    if scope.cell_ids:
        return workers.filter(cells__in=scope.cell_ids).distinct()
    return workers.none()


def region_filter_choices(*, user: User) -> list[Region]:
    """Districts, streets and communities a user who sees several communities may narrow to."""
    regions = list(
        region_list(user=user).filter(
            level__in=[Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY]
        )
    )
    if sum(1 for r in regions if r.level == Region.Level.COMMUNITY) < 2:
        return []
    return regions


def map_features(*, user: User, region: Region | None = None) -> dict:
    """A GeoJSON FeatureCollection of the cells on the user's map (optionally under `region`).

    Each feature carries code, name, kind, community and, for staff, the grid workers with their
    phones as `user` may see them (core.masking rules via User.phone_for)."""
    view = grid_cell_view(user=user)
    cells = view.cells.filter(active=True)
    if region is not None:
        cells = cells.filter(code__startswith=region.prefix)
    if view.staff_data:
        cells = cells.prefetch_related(
            Prefetch(
                "workers",
                queryset=GridWorker.objects.select_related("user").order_by("user__username"),
            )
        )
    features = []
    for cell in cells.order_by("code"):
        properties = {
            "code": cell.code,
            "name": cell.name,
            "kind": cell.kind,
            "kind_label": str(cell.get_kind_display()),
            "community": cell.community.name,
            "community_code": cell.community.code,
            "own": cell.pk in view.own_cell_ids,
        }
        if view.staff_data:
            properties["workers"] = [
                {
                    "name": str(worker.user),
                    "phone": worker.user.phone_for(user),
                    "on_duty": worker.on_duty,
                }
                for worker in cell.workers.all()
            ]
        features.append({"type": "Feature", "geometry": cell.geometry, "properties": properties})
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class RegionRow:
    region: Region
    depth: int
    cell_count: int
    worker_count: int


def region_tree(*, user: User) -> list[RegionRow]:
    """The user's visible regions in code order, with active cells and grid workers under each."""
    regions = list(region_list(user=user))
    if not regions:
        return []
    scope = user_scope(user)
    cells = GridCell.objects.filter(active=True)
    links = GridWorker.cells.through.objects.filter(gridcell__active=True)
    if not scope.everything:
        prefix = cast(str, scope.prefix)  # typed for mypy only: the value is used as it is
        cells = cells.filter(code__startswith=prefix)
        links = links.filter(gridcell__code__startswith=prefix)
    cells_per_community = Counter(code[:12] for code in cells.values_list("code", flat=True))
    workers_per_community: dict[str, set[int]] = defaultdict(set)
    for worker_id, code in links.values_list("gridworker_id", "gridcell__code"):
        workers_per_community[code[:12]].add(worker_id)
    top = min(Region.LEVEL_ORDER.index(r.level) for r in regions)
    rows = []
    for region in regions:
        prefix = region.prefix
        communities = [c for c in cells_per_community if c.startswith(prefix)]
        worker_ids: set[int] = set()
        for code, ids in workers_per_community.items():
            if code.startswith(prefix):
                worker_ids |= ids
        rows.append(
            RegionRow(
                region=region,
                depth=Region.LEVEL_ORDER.index(region.level) - top,
                cell_count=sum(cells_per_community[c] for c in communities),
                worker_count=len(worker_ids),
            )
        )
    return rows
