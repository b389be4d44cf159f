"""The dashboard's charts: trend, categories and the grid-cell heat map."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ValidationFailed
from governance.kpis.caching import _cached_counts
from governance.kpis.compute import uses_daily_counts
from governance.kpis.ledger import ledger_url
from governance.kpis.query import INTERVALS, KpiQuery, dimension_q, region_code_range
from governance.kpis.sets import live_q, set_q
from governance.models import IncidentFact
from incidents.models import Category, Incident

# --- charts -------------------------------------------------------------------------------------


def kpi_trend(query: KpiQuery, *, interval: str = "day") -> list[dict[str, Any]]:
    """kpi_trend, reused for cache_seconds() like the KPI table (docs/performance.md)."""
    return _cached_counts(
        query, lambda q: _kpi_trend(q, interval=interval), f"trend|{interval}|{get_language()}"
    )


def _kpi_trend(query: KpiQuery, *, interval: str = "day") -> list[dict[str, Any]]:
    """Reported, closed and closed-on-time counts per day, week or month of the period."""
    if interval not in INTERVALS:
        raise ValidationFailed(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(INTERVALS)},
            extra={"interval": [_("Unknown interval.")]},
        )

    def bucket_of(day: date) -> str:
        if interval == "week":
            day = day - timedelta(days=day.weekday())
        elif interval == "month":
            day = day.replace(day=1)
        return day.isoformat()

    series: dict[str, dict[str, int]] = {}

    def add(day: date, key: str, value: int) -> None:
        entry = series.setdefault(bucket_of(day), {})
        entry[key] = entry.get(key, 0) + (value or 0)

    if uses_daily_counts(KpiQuery(**{**query.__dict__, "group_by": ""})):
        from governance.models import IncidentDailyCount

        days = IncidentDailyCount.objects.filter(day__gte=query.start, day__lte=query.end)
        if query.region is not None:
            days = days.filter(**region_code_range(query.region.prefix))
        for row in (
            days.values("day")
            .annotate(
                reported=Sum("reported"),
                closed=Sum("closed"),
                closed_on_time=Sum("closed_on_time"),
            )
            .order_by()
        ):
            for key in ("reported", "closed", "closed_on_time"):
                add(row["day"], key, row[key])
    else:
        tz = timezone.get_current_timezone()
        facts = IncidentFact.objects.filter(dimension_q(query))
        reported = (
            facts.filter(set_q("reported", query))
            .annotate(period=TruncDay("reported_at", tzinfo=tz))
            .values("period")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for reported_row in reported:
            add(_as_date(reported_row["period"]), "reported", reported_row["n"])
        closed = (
            facts.filter(set_q("closed", query))
            .annotate(period=TruncDay("closed_at", tzinfo=tz))
            .values("period")
            .annotate(n=Count("pk"), on_time=Count("pk", filter=Q(closed_on_time=True)))
            .order_by()
        )
        for closed_row in closed:
            add(_as_date(closed_row["period"]), "closed", closed_row["n"])
            add(_as_date(closed_row["period"]), "closed_on_time", closed_row["on_time"])
    # Every bucket of the period, empty ones too (a chart without gaps).
    buckets: list[str] = []
    day = query.start
    while day <= query.end:
        if interval == "day":
            bucket = day
        elif interval == "week":
            bucket = day - timedelta(days=day.weekday())
        else:
            bucket = day.replace(day=1)
        if not buckets or buckets[-1] != bucket.isoformat():
            buckets.append(bucket.isoformat())
        day += timedelta(days=1)
    return [
        {
            "period": key,
            "reported": series.get(key, {}).get("reported", 0),
            "closed": series.get(key, {}).get("closed", 0),
            "closed_on_time": series.get(key, {}).get("closed_on_time", 0),
        }
        for key in buckets
    ]


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def reported_by_category(query: KpiQuery, *, large_class: bool = True) -> list[dict[str, Any]]:
    """_reported_by_category, reused for cache_seconds() like the KPI table."""
    return _cached_counts(
        query,
        lambda q: _reported_by_category(q, large_class=large_class),
        f"categories|{large_class}|{get_language()}",
    )


def _reported_by_category(query: KpiQuery, *, large_class: bool = True) -> list[dict[str, Any]]:
    """Incidents reported in the period per category (large class by default), most first."""
    rows = (
        IncidentFact.objects.filter(dimension_q(query))
        .filter(set_q("reported", query))
        .values("category_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    categories = {c.pk: c for c in Category.objects.select_related("parent")}
    counts: dict[int, int] = {}
    for row in rows:
        category = categories.get(row["category_id"])
        if category is None:
            continue
        target = category.parent if large_class and category.parent is not None else category
        counts[target.pk] = counts.get(target.pk, 0) + row["n"]
    result = [
        {
            "code": categories[pk].code,
            "name": categories[pk].display_name,
            "count": n,
            "url": ledger_url(query, "reported", {"category": categories[pk].code}),
        }
        for pk, n in counts.items()
    ]
    return sorted(result, key=lambda r: (-r["count"], r["code"]))


def cell_heat(query: KpiQuery, *, user: User) -> dict[str, Any]:
    """_cell_heat, reused for cache_seconds() like the KPI table (per user: the cells are
    the ones the user sees)."""
    return _cached_counts(
        query, lambda q: _cell_heat(q, user=user), f"heat|{user.pk}|{get_language()}"
    )


def _cell_heat(query: KpiQuery, *, user: User) -> dict[str, Any]:
    """GeoJSON of the grid cells in the region the user sees, each with the incidents reported
    in the period and those overdue now (the heat map colours by either)."""
    from grids.selectors import grid_cell_view

    cells = grid_cell_view(user=user).cells.filter(active=True)
    if query.region is not None:
        cells = cells.filter(code__startswith=query.region.prefix)
    if query.grid_cell is not None:
        cells = cells.filter(pk=query.grid_cell.pk)
    reported = dict(
        IncidentFact.objects.filter(dimension_q(query))
        .filter(set_q("reported", query), grid_cell_id__isnull=False)
        .values_list("grid_cell_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    overdue = dict(
        Incident.objects.filter(dimension_q(query))
        .filter(live_q("overdue_now", query), grid_cell_id__isnull=False)
        .values_list("grid_cell_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    features = []
    for cell in cells.order_by("code").only("pk", "code", "name", "geometry", "community__name"):
        features.append(
            {
                "type": "Feature",
                "geometry": cell.geometry,
                "properties": {
                    "code": cell.code,
                    "name": cell.name,
                    "community": cell.community.name,
                    "reported": reported.get(cell.pk, 0),
                    "overdue": overdue.get(cell.pk, 0),
                    "url": ledger_url(query, "reported", {"grid_cell": cell.code}),
                    "overdue_url": ledger_url(query, "overdue_now", {"grid_cell": cell.code}),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
