"""A small gazetteer: turn an Open311 address_string / address_id or a hotline address into a
point, using only our own data (grid cell and community names and polygons). Nothing external
is called. A point is a polygon's representative point (always inside it)."""

from __future__ import annotations

from shapely.geometry import shape

from grids.models import GridCell, Region


def _inside_point(geometry: dict | None) -> tuple[float, float] | None:
    if not geometry:
        return None
    try:
        point = shape(geometry).representative_point()
    except (ValueError, TypeError, AttributeError, KeyError):
        return None
    return (point.y, point.x)


def point_for_address_id(address_id: str) -> tuple[float, float] | None:
    """address_id is a grid cell code (what GET requests return as address_id)."""
    code = (address_id or "").strip()
    if not code:
        return None
    cell = GridCell.objects.filter(code=code, active=True).only("geometry").first()
    return _inside_point(cell.geometry) if cell else None


def point_for_address(address: str) -> tuple[float, float] | None:
    """The most specific named place the address mentions: a grid cell, else a community.
    The longest matching name wins (西桥2网格 before 西桥社区)."""
    text = (address or "").strip()
    if len(text) < 2:
        return None
    cells = [
        (len(name), pk)
        for pk, name in GridCell.objects.filter(active=True).values_list("pk", "name")
        if name and name in text
    ]
    if cells:
        cell = GridCell.objects.only("geometry").get(pk=max(cells)[1])
        point = _inside_point(cell.geometry)
        if point:
            return point
    communities = [
        (len(name), pk)
        for pk, name in Region.objects.filter(
            level=Region.Level.COMMUNITY, boundary__isnull=False
        ).values_list("pk", "name")
        if name and name in text
    ]
    if communities:
        region = Region.objects.only("boundary").get(pk=max(communities)[1])
        return _inside_point(region.boundary)
    return None
