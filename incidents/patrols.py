"""Pure helpers of the patrol log (巡查日志): GPS points, distance and duration. No database."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed

EARTH_RADIUS_M = 6_371_008.8
MAX_POINTS_PER_CALL = 200
# 10 hours at one point every 30 s is 1,200 points; the cap keeps a row small.
MAX_TRACK_POINTS = 5000
# A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=2)


def haversine_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Great-circle distance in metres between two (lat, lng) points."""
    lat1, lng1, lat2, lng2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def track_distance_m(track: Sequence[Sequence[Any]]) -> float:
    """The length of a track ([lat, lng, time] in time order) in metres."""
    return sum(haversine_m(track[i - 1], track[i]) for i in range(1, len(track)))


def duration(started_at: datetime, ended_at: datetime | None, *, now: datetime) -> timedelta:
    return max(timedelta(0), (ended_at or now) - started_at)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int | float):
        # Epoch seconds, or milliseconds as JavaScript's Date.now() and position.timestamp give.
        seconds = value / 1000 if value > 1e11 else value
        try:
            moment = datetime.fromtimestamp(seconds, tz=timezone.get_current_timezone())
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        try:
            moment = parse_datetime(value.strip())
        except ValueError:
            return None
        if moment is None:
            return None
    else:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def clean_points(
    points: Any, *, not_before: datetime, now: datetime, field: str = "points"
) -> list[list[Any]]:
    """Validate GPS points: a list of [lat, lng, time] (time: ISO 8601 or epoch seconds or
    milliseconds; missing means now) inside the patrol's time. Returns [[lat, lng, ISO time]]
    sorted by time. Any bad point rejects the whole batch (ValidationFailed, nothing kept)."""

    def fail(message: str) -> ValidationFailed:
        return ValidationFailed(message, extra={field: [message]})

    if not isinstance(points, list | tuple):
        raise fail(_("Send the points as a list of [latitude, longitude, time]."))
    if len(points) > MAX_POINTS_PER_CALL:
        raise fail(_("At most %(n)s points at a time.") % {"n": MAX_POINTS_PER_CALL})
    cleaned: list[list[Any]] = []
    for number, point in enumerate(points, start=1):
        if isinstance(point, dict):
            point = [point.get("lat"), point.get("lng"), point.get("time")]
        if not isinstance(point, list | tuple) or len(point) not in (2, 3):
            raise fail(_("Point %(n)s is not [latitude, longitude, time].") % {"n": number})
        try:
            lat, lng = float(point[0]), float(point[1])
        except (TypeError, ValueError):
            lat = lng = float("nan")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise fail(_("Point %(n)s has no valid coordinates.") % {"n": number})
        raw_time = point[2] if len(point) == 3 else None
        moment = now if raw_time in (None, "") else _moment(raw_time)
        if moment is None:
            raise fail(_("Point %(n)s has no valid time.") % {"n": number})
        if moment < not_before - CLOCK_SKEW or moment > now + CLOCK_SKEW:
            raise fail(_("Point %(n)s was not taken during the patrol.") % {"n": number})
        cleaned.append([round(lat, 7), round(lng, 7), timezone.localtime(moment).isoformat()])
    cleaned.sort(key=lambda p: p[2])
    return cleaned


def merge_track(track: list[list[Any]], new: list[list[Any]]) -> list[list[Any]]:
    """The track with the new points in time order; a point at a time already recorded is a
    repeat (a retried request) and is dropped."""
    seen = {p[2] for p in track}
    merged = list(track)
    for point in new:
        if point[2] not in seen:
            seen.add(point[2])
            merged.append(point)
    merged.sort(key=lambda p: _moment(p[2]) or datetime.min.replace(tzinfo=timezone.utc))
    return merged
