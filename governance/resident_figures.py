"""The public home's figures (residents.city_figures), from the daily KPI counts: this month,
the whole city, no personal data. Registered at ready(). A merged duplicate is received but
never closed (governance.aggregates)."""

from __future__ import annotations

from django.db.models import Sum
from django.utils import timezone

from governance.models import IncidentDailyCount
from residents.city_figures import CityFigures, register


def month_figures() -> CityFigures:
    today = timezone.localdate()
    totals = IncidentDailyCount.objects.filter(day__gte=today.replace(day=1)).aggregate(
        received=Sum("reported"),
        closed=Sum("closed"),
        on_time=Sum("closed_on_time"),
        rated=Sum("rated"),
        satisfied=Sum("satisfied"),
    )
    closed = totals["closed"] or 0
    rated = totals["rated"] or 0
    return CityFigures(
        received=totals["received"] or 0,
        closed=closed,
        on_time_rate=(totals["on_time"] or 0) / closed if closed else None,
        satisfaction_rate=(totals["satisfied"] or 0) / rated if rated else None,
    )


def connect() -> None:
    register(month_figures)
