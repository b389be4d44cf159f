"""GeoJSON polygons (WGS-84) as shapely geometries: checks, areas in square metres, rectangles.

Areas use a sinusoidal projection centred on the shape (an equal-area projection), so a cell of
100 m x 100 m measures 10,000 m² to well under 0.1 % at city scale.
"""

import math
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely.geometry import Polygon, shape
from shapely.validation import explain_validity

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def rectangle(south: float, west: float, north: float, east: float, digits: int = 7) -> dict:
    """A GeoJSON polygon for a lat/lng box (GeoJSON order is [lng, lat]), counter-clockwise."""
    s, w, n, e = (round(v, digits) for v in (south, west, north, east))
    return {
        "type": "Polygon",
        "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]],
    }


def metres_to_degrees(metres: float, latitude: float) -> tuple[float, float]:
    """(degrees of latitude, degrees of longitude) spanned by `metres` at `latitude`."""
    dlat = metres / METRES_PER_DEGREE_LAT
    dlng = metres / (METRES_PER_DEGREE_LAT * math.cos(math.radians(latitude)))
    return dlat, dlng


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def polygon_problems(geometry: Any) -> list[str]:
    """Every reason why `geometry` is not a closed, valid WGS-84 GeoJSON Polygon (empty: fine)."""
    if not isinstance(geometry, dict):
        return [_("The geometry is missing or is not a GeoJSON object.")]
    if geometry.get("type") != "Polygon":
        return [
            _("The geometry must be a Polygon, not %(type)s.")
            % {"type": geometry.get("type") or "-"}
        ]
    rings = geometry.get("coordinates")
    if not isinstance(rings, list) or not rings:
        return [_("The polygon has no coordinates.")]
    problems: list[str] = []
    for ring_index, ring in enumerate(rings):
        label = _("outer ring") if ring_index == 0 else _("hole %(n)s") % {"n": ring_index}
        if not isinstance(ring, list):
            problems.append(_("%(ring)s is not a list of positions.") % {"ring": label})
            continue
        positions_ok = True
        for position_index, position in enumerate(ring):
            if (
                not isinstance(position, list | tuple)
                or len(position) not in (2, 3)
                or not all(_is_number(v) for v in position)
            ):
                problems.append(
                    _("%(ring)s, position %(n)s: not a [longitude, latitude] pair of numbers.")
                    % {"ring": label, "n": position_index}
                )
                positions_ok = False
                continue
            lng, lat = float(position[0]), float(position[1])
            if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                problems.append(
                    _(
                        "%(ring)s, position %(n)s: [%(lng)s, %(lat)s] is outside WGS-84 ranges "
                        "(longitude -180..180, latitude -90..90)."
                    )
                    % {"ring": label, "n": position_index, "lng": lng, "lat": lat}
                )
                positions_ok = False
        if not positions_ok:
            continue
        if len(ring) < 4:
            problems.append(
                _("%(ring)s has %(count)s positions; a closed ring needs at least 4.")
                % {"ring": label, "count": len(ring)}
            )
        elif list(ring[0][:2]) != list(ring[-1][:2]):
            problems.append(
                _("%(ring)s is not closed: its first and last positions differ.") % {"ring": label}
            )
    if problems:
        return problems
    polygon = shape(geometry)
    if not polygon.is_empty and not polygon.is_valid:
        return [_("The polygon is not valid: %(reason)s.") % {"reason": explain_validity(polygon)}]
    if polygon.is_empty or polygon.area == 0:
        return [_("The polygon is empty (it has no area).")]
    return []


def polygon_from_geojson(geometry: dict) -> Polygon:
    """The shapely polygon of a GeoJSON geometry already checked with polygon_problems."""
    return shape(geometry)


def to_local_metres(geometry: shapely.Geometry, centre_lng: float | None = None):
    """The geometry in metres, sinusoidal projection centred on `centre_lng` (equal-area)."""
    if centre_lng is None:
        minx, _miny, maxx, _maxy = geometry.bounds
        centre_lng = (minx + maxx) / 2
    lng0 = centre_lng

    def project(coords: np.ndarray) -> np.ndarray:
        lat = np.radians(coords[:, 1])
        x = EARTH_RADIUS_M * np.radians(coords[:, 0] - lng0) * np.cos(lat)
        y = EARTH_RADIUS_M * lat
        return np.column_stack([x, y])

    return shapely.transform(geometry, project)


def area_m2(geometry: shapely.Geometry) -> float:
    """Area of a WGS-84 geometry in square metres (equal-area local projection)."""
    if geometry.is_empty:
        return 0.0
    return float(to_local_metres(geometry).area)
