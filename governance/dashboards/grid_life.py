"""The other half of grid governance on the supervisor's dashboard (DESIGN.md §7): one card per
December app — resident services, volunteers and patrol coverage, dispute screening,
deliberation, the grid's basic data (key persons as counts only) — each with its headline
figures for the dashboard's region and a link to the app's own supervision page (drill-down by
region, xlsx).

Each figure comes from the app's own selectors, scoped as on its own page; personal data never
appears (counts and rates only). A card the user may not see is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import User
from governance.dashboards._common import _build_query
from governance.kpis.query import KpiQuery
from grids.models import Region


@dataclass
class Card:
    key: str
    title: str
    url: str
    figures: list[tuple[str, Any]] = field(default_factory=list)
    note: str = ""


def _percent(value: float | None, *, ratio: bool = True) -> str:
    if value is None:
        return "—"
    return f"{round(100 * value if ratio else value, 1)}%"


def _region(query: KpiQuery, user: User) -> Region | None:
    if query.region is not None:
        return query.region
    if user.scope_region_id is not None:
        return user.scope_region
    return Region.objects.filter(parent__isnull=True).order_by("code").first()


def _services(user: User, query: KpiQuery, region: Region) -> Card | None:
    from core.exceptions import ApplicationError
    from resident_services import selectors

    try:
        figures = selectors.supervision(
            user=user, code=region.code, date_from=query.start, date_to=query.end
        )
    except ApplicationError:
        return None
    return Card(
        key="services",
        title=_("Resident services"),
        url=f"{reverse('resident_services:supervision')}?region={region.code}",
        figures=[
            (_("Number of requests"), figures.total),
            (_("Completion rate"), _percent(figures.closed_rate)),
            (_("On-time completion rate"), _percent(figures.on_time_rate)),
            (_("Satisfaction rate"), _percent(figures.satisfaction_rate)),
        ],
    )


def _volunteers(region: Region) -> Card:
    from volunteers import kpis

    figures = kpis.figures(region.prefix, region=region)
    return Card(
        key="volunteers",
        title=_("Volunteers"),
        url=f"{reverse('volunteers:supervision')}?region={region.code}",
        figures=[
            (_("Cells patrolled in 24 h"), f"{figures.coverage_24h}%"),
            (_("Cells patrolled in 7 days"), f"{figures.coverage_7d}%"),
            (_("Active volunteers"), figures.volunteers_active),
            (_("Service hours this month"), figures.hours_month),
        ],
    )


def _screening(user: User, query: KpiQuery, region: Region) -> Card:
    from screening import selectors

    report = selectors.dispute_kpis(user, region=region, month=query.start)
    totals = report["totals"]
    alerts = totals["by_level"].get("red", 0) + totals["by_level"].get("orange", 0)
    return Card(
        key="screening",
        title=_("Dispute screening"),
        url=f"{reverse('screening:kpis')}?region={region.code}",
        figures=[
            (_("Disputes found"), totals["found"]),
            (
                _("Red and orange"),
                alerts,
            ),
            (_("Resolution rate"), _percent(totals["resolution_rate"])),
            (_("Communities without a monthly report"), report["reports_missing"]),
        ],
        note=_("Month of the period's start."),
    )


def _deliberation(query: KpiQuery, region: Region) -> Card:
    from deliberation import kpis

    row = kpis.row_for(region, since=query.start_at, until=query.end_at)
    return Card(
        key="deliberation",
        title=_("Community deliberation"),
        url=f"{reverse('deliberation:supervision')}?region={region.code}",
        figures=[
            (_("Proposals"), row.proposals),
            (_("Meetings held"), row.meetings_held),
            (_("Decisions done on time"), _percent(row.done_on_time_rate, ratio=False)),
        ],
    )


def _registry(user: User, region: Region) -> Card:
    from registry import selectors

    counts = selectors.counts_for(user, region)
    return Card(
        key="registry",
        title=_("Grid basic data"),
        url=f"{reverse('registry:stats')}?region={region.code}",
        figures=[
            (_("Buildings"), counts["buildings"]),
            (_("People"), counts["people"]),
            (_("Rented homes"), counts["rentals"]),
            (_("Key persons"), counts["key_persons"]),
            (_("Visits on time"), _percent(counts["compliance"]["rate"])),
            (_("Overdue visits"), counts["overdue"]),
        ],
        note=_("Today, not the period."),
    )


def grid_life_cards(user: User, query: KpiQuery) -> list[Card]:
    region = _region(query, user)
    if region is None:
        return []
    cards = [
        _services(user, query, region),
        _volunteers(region),
        _screening(user, query, region),
        _deliberation(query, region),
        _registry(user, region),
    ]
    return [card for card in cards if card is not None]


@login_required
@require_GET
def grid_life(request: HttpRequest) -> HttpResponse:
    """The cards as a fragment the dashboard loads after itself (htmx), so that the dashboard's
    own reads stay fixed (governance/tests/test_dashboard_reads.py). Same query and access as
    the dashboard: 403/404 for a region out of scope."""
    query = _build_query(request, request.GET)
    return render(
        request, "governance/_grid_life.html", {"grid_life": grid_life_cards(request.user, query)}
    )
