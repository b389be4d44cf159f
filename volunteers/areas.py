"""A task's area: its grid cells, a route drawn on the map (a line and a distance), or a duty
post's circle. Is a GPS fix inside it? Pure geometry (grids.geometry), no writes."""

from __future__ import annotations

import math
from typing import Any

from django.utils.translation import gettext as _
from shapely.geometry import LineString, Point, shape

from grids.geometry import to_local_metres
from incidents.patrols import haversine_m

MAX_ROUTE_POINTS = 500


def route_problems(route: Any) -> list[str]:
    """Why `route` is not a GeoJSON LineString of WGS-84 positions (empty: fine)."""
    if not isinstance(route, dict) or route.get("type") != "LineString":
        return [_("Draw the route as a line on the map.")]
    coordinates = route.get("coordinates")
    if not isinstance(coordinates, list) or not 2 <= len(coordinates) <= MAX_ROUTE_POINTS:
        return [_("A route has between 2 and %(n)s points.") % {"n": MAX_ROUTE_POINTS}]
    for position in coordinates:
        if (
            not isinstance(position, list | tuple)
            or len(position) < 2
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                for v in position[:2]
            )
            or not (-180 <= position[0] <= 180 and -90 <= position[1] <= 90)
        ):
            return [_("The route has a position that is not [longitude, latitude].")]
    return []


def distance_to_route_m(route: dict, lat: float, lng: float) -> float:
    line = LineString([(p[0], p[1]) for p in route["coordinates"]])
    point = Point(lng, lat)
    centre = (line.bounds[0] + line.bounds[2]) / 2
    return float(to_local_metres(line, centre).distance(to_local_metres(point, centre)))


def inside_task_area(task: Any, lat: float, lng: float) -> bool:
    """Is (lat, lng) inside the task's cells, near its route, or within its post's radius?"""
    if task.post_id is not None:
        post = task.post
        return haversine_m((post.lat, post.lng), (lat, lng)) <= post.radius_m
    point = Point(lng, lat)
    for cell in task.cells.all():
        if shape(cell.geometry).covers(point):
            return True
    if task.route:
        return distance_to_route_m(task.route, lat, lng) <= task.route_buffer_m
    return False


def area_centre(task: Any) -> tuple[float, float] | None:
    """A (lat, lng) inside the area, for the map's first view."""
    if task.post_id is not None:
        return task.post.lat, task.post.lng
    cell = next(iter(task.cells.all()), None)
    if cell is not None:
        centroid = shape(cell.geometry).centroid
        return centroid.y, centroid.x
    if task.route:
        first = task.route["coordinates"][0]
        return first[1], first[0]
    return None
