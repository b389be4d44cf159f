"""The dashboards: the supervisor's, a street office's, and the large screen (大屏)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import User
from accounts.selectors import regions_visible
from governance import kpis
from governance.dashboards._common import _build_query, _group_by_choices, _interval_choices
from governance.models import ExportFormat
from grids.models import Region


def _cards(query: kpis.KpiQuery, row: kpis.KpiRow) -> list[dict[str, Any]]:
    """One card per KPI: value, numerator and denominator with the ledger behind each, and the
    definitions of the sets it counts."""
    definitions = {d["key"]: d for d in kpis.kpi_definitions()}
    cards = []
    for kpi in kpis.KPIS:
        value = row.values[kpi.key]
        card = {
            **definitions[kpi.key],
            "display": value.display,
            "value": value.value,
            "numerator": value.numerator,
            "denominator": value.denominator,
            "url": kpis.ledger_url(query, kpi.numerator, row.filters),
            "queue_url": kpis.queue_url(query, kpi.numerator) if not row.filters else "",
            "denominator_url": (
                kpis.ledger_url(query, kpi.denominator, row.filters) if kpi.denominator else ""
            ),
        }
        if kpi.kind == "hours":
            card["numerator"] = round(value.numerator / 3600, 1)
        if kpi.key == "closure_rate":
            card["parts"] = [
                (
                    str(kpis.SETS[key].name),
                    row.counts[key],
                    kpis.ledger_url(query, key, row.filters),
                )
                for key in ("due_to_close", "deferred")
            ]
        cards.append(card)
    return cards


def _table_rows(query: kpis.KpiQuery, table: kpis.KpiTable) -> list[dict[str, Any]]:
    rows = []
    for row in [*table.rows, table.total]:
        rows.append(
            {
                "key": row.key,
                "label": row.label,
                "total": row is table.total,
                "cells": [
                    {
                        "key": kpi.key,
                        "display": row.values[kpi.key].display,
                        "url": kpis.ledger_url(query, kpi.numerator, row.filters),
                    }
                    for kpi in kpis.KPIS
                ],
            }
        )
    return rows


@dataclass(frozen=True)
class RegionChoice:
    code: str
    name: str
    level: str


REGION_INDENT = {"district": "· ", "street": "·· ", "community": "··· "}


def _region_choices(user: User) -> list[RegionChoice]:
    """The regions the user may pick (a city: 1,111), kept per process until a region or the
    user changes (incidents.page_selectors.cached_per_user)."""
    from incidents.page_selectors import cached_per_user

    levels = [Region.Level.CITY, Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY]

    def build() -> list[RegionChoice]:
        rows = regions_visible(user).filter(level__in=levels).order_by("code")
        return [RegionChoice(*row) for row in rows.values_list("code", "name", "level")]

    return cached_per_user(user, "kpi-regions", build)


def _region_options(choices: list[RegionChoice], query: kpis.KpiQuery) -> str:
    """The <option>s of the region picker, written in Python: a template loop over a city's
    regions was a large part of the page's time (docs/performance.md)."""
    chosen = query.region.code if query.region is not None else None
    return format_html_join(
        "\n",
        '<option value="{}"{}>{}{}</option>',
        (
            (
                c.code,
                " selected" if c.code == chosen else "",  # no character escaping changes
                REGION_INDENT.get(c.level, ""),
                c.name,
            )
            for c in choices
        ),
    )


def _presets(query: kpis.KpiQuery) -> list[dict[str, str]]:
    today = timezone.localdate(query.now)
    base = {k: v for k, v in query.params().items() if k not in ("start", "end")}
    spans = [
        (_("Today"), today, today),
        (_("Last 7 days"), today - timedelta(days=6), today),
        (_("Last 30 days"), today - timedelta(days=29), today),
        (_("This month"), today.replace(day=1), today),
        (_("This year"), today.replace(month=1, day=1), today),
    ]
    return [
        {
            "label": label,
            "query": urlencode({**base, "start": start.isoformat(), "end": end.isoformat()}),
            "active": start == query.start and end == query.end,
        }
        for label, start, end in spans
    ]


def _overdue(user: User, query: kpis.KpiQuery, limit: int = 20):
    """The most overdue incidents as the queue's narrow rows (incidents.selectors.queue_rows:
    the ~30 columns shown instead of 150 over 10 joined tables)."""
    from incidents.selectors import QUEUE_COLUMNS, overdue_board, queue_rows

    qs = overdue_board(user, now=query.now)
    if query.region is not None:
        qs = qs.filter(**kpis.region_code_range(query.region.prefix))
    return queue_rows(qs.select_related(None).values(*QUEUE_COLUMNS)[:limit], now=query.now)


def _dashboard_context(request: HttpRequest, query: kpis.KpiQuery) -> dict[str, Any]:
    user = request.user
    table = kpis.kpi_table(query)
    interval = request.GET.get("interval") or (
        "month" if (query.end - query.start).days > 92 else "day"
    )
    if interval not in kpis.INTERVALS:
        interval = "day"
    trend = kpis.kpi_trend(query, interval=interval)
    categories = kpis.reported_by_category(query)
    # The heat map's GeoJSON goes inline for a region of up to HEAT_INLINE_MAX_CELLS cells; a
    # whole city (megabytes: docs/performance.md) is fetched by the page from the heat map API.
    inline = _heat_cells(query, user) <= HEAT_INLINE_MAX_CELLS
    heat = kpis.cell_heat(query, user=user) if inline else None
    ranking = [
        {
            "label": row.label,
            "reported": row.counts["reported"],
            "on_time_closure": row.values["on_time_closure"].value,
            "overdue_now": row.counts["overdue_now"],
        }
        for row in table.rows
    ]
    labels = {
        "reported": str(kpis.SETS["reported"].name),
        "closed": str(kpis.SETS["closed"].name),
        "closedOnTime": str(kpis.SETS["closed_on_time"].name),
        "onTimeClosure": str(kpis.KPI_BY_KEY["on_time_closure"].name),
        "overdue": str(kpis.SETS["overdue_now"].name),
        "colourBy": _("Colour by"),
        "none": _("No data"),
        "open": _("Open the list"),
    }
    params = query.params()
    regions = _region_choices(user)
    return {
        "query": query,
        "params": params,
        "query_string": urlencode(params),
        "table": table,
        "cards": _cards(query, table.total),
        "table_rows": _table_rows(query, table),
        "kpi_names": [kpi.name for kpi in kpis.KPIS],
        "group_by_choices": _group_by_choices(),
        "group_by_label": dict(_group_by_choices()).get(query.group_by, ""),
        "interval": interval,
        "interval_choices": _interval_choices(),
        "region_choices": regions,
        "region_options": _region_options(regions, query),
        "presets": _presets(query),
        "overdue": _overdue(user, query),
        "overdue_url": kpis.ledger_url(query, "overdue_now"),
        "mediation": kpis.mediation_kpis(query, user=user),
        "petitions": kpis.petition_kpis(query, user=user),
        "facts_as_of": kpis.facts_watermark(),
        "chart_data": {
            "trend": trend,
            "categories": categories,
            "ranking": ranking,
            "labels": labels,
        },
        "heat": heat,
        "heat_url": f"{reverse('governance-api-kpi-heatmap')}?{urlencode(params)}",
        "export_formats": ExportFormat.choices,
        "MAP_TILE_URL": _tile_url(),
    }


HEAT_INLINE_MAX_CELLS = 2000


def _heat_cells(query: kpis.KpiQuery, user: User) -> int:
    """How many cells the heat map would draw (the cells kpis.cell_heat returns)."""
    from grids.selectors import grid_cell_view

    if query.grid_cell is not None:
        return 1
    cells = grid_cell_view(user=user).cells.filter(active=True)
    if query.region is not None:
        cells = cells.filter(code__startswith=query.region.prefix)
    return cells.count()


def _tile_url() -> str:
    from django.conf import settings

    return settings.MAP_TILE_URL


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The supervisor's dashboard: KPI cards with definitions, trend, categories, ranking,
    heat map and overdue board for a region and period."""
    query = _build_query(request, request.GET)
    with kpis.one_watermark_read():
        context = _dashboard_context(request, query)
    return render(request, "governance/dashboard.html", context)


@login_required
@require_GET
def street_dashboard(request: HttpRequest) -> HttpResponse:
    """A street office's own dashboard: its communities and grid cells, its workers' load and
    its overdue work. A street user lands on their street; others choose one in scope."""
    from incidents.selectors import workload_per_worker

    if not kpis.can_view_kpis(request.user):
        raise PermissionDenied
    scope_region = request.user.scope_region
    street = None
    code = request.GET.get("region") or ""
    if code:
        street = regions_visible(request.user).filter(code=code).first()
        if street is None:
            raise Http404(_("Region not found."))
    elif scope_region is not None and scope_region.level in (
        Region.Level.STREET,
        Region.Level.COMMUNITY,
    ):
        street = scope_region
    if street is None or street.level not in (Region.Level.STREET, Region.Level.COMMUNITY):
        streets = regions_visible(request.user).filter(level=Region.Level.STREET).order_by("code")
        return render(request, "governance/street_choose.html", {"streets": streets})
    params = request.GET.copy()
    params["region"] = street.code
    query = _build_query(request, params)
    context = _dashboard_context(request, query)
    grid_query = kpis.KpiQuery(**{**query.__dict__, "group_by": "grid"})
    grid_table = kpis.kpi_table(grid_query)
    context.update(
        {
            "street": street,
            "grid_rows": _table_rows(grid_query, grid_table),
            "workload": workload_per_worker(street, now=query.now),
        }
    )
    return render(request, "governance/street.html", context)


@login_required
@require_GET
def big_screen(request: HttpRequest) -> HttpResponse:
    """The command centre's large screen: big numbers, trend, ranking and heat map, refreshed
    every minute from the KPI API (screen.js)."""
    query = _build_query(request, request.GET)
    context = _dashboard_context(request, query)
    api = {
        "kpis": reverse("governance-api-kpis"),
        "trend": reverse("governance-api-kpi-trend"),
        "heatmap": reverse("governance-api-kpi-heatmap"),
        "query": urlencode(query.params()),
        "interval": context["interval"],
        "refreshSeconds": 60,
    }
    context["screen_config"] = api
    context["screen_kpis"] = [
        card
        for card in context["cards"]
        if card["key"]
        in (
            "reported",
            "on_time_dispatch",
            "closure_rate",
            "on_time_closure",
            "satisfaction",
            "solved_in_grid",
            "overdue_now",
            "mean_handling_hours",
        )
    ]
    return render(request, "governance/screen.html", context)
