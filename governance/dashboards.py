"""Supervision pages: the supervisor dashboard, a street office's dashboard, the large screen
(大屏), the drill-down incident ledger, exports with progress, and the printable case file.
Thin views: the figures come from governance.kpis, the files from governance.exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from accounts.selectors import regions_visible
from core.exceptions import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from governance import exports, kpis
from governance.models import ExportFormat
from grids.models import Region

DEFAULT_GROUP_BY = {
    Region.Level.PROVINCE: "district",
    Region.Level.CITY: "district",
    Region.Level.DISTRICT: "street",
    Region.Level.STREET: "community",
    Region.Level.COMMUNITY: "grid",
}


def _group_by_choices() -> list[tuple[str, str]]:
    return [
        ("district", _("District")),
        ("street", _("Street")),
        ("community", _("Community")),
        ("grid", _("Grid cell")),
        ("worker", _("Worker")),
        ("category", _("Category")),
        ("unit", _("Handling unit")),
    ]


def _interval_choices() -> list[tuple[str, str]]:
    return [("day", _("by day")), ("week", _("by week")), ("month", _("by month"))]


def _raise_for_page(exc: ApplicationError) -> None:
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(exc.message)
    if isinstance(exc, NotFoundError):
        raise Http404(exc.message)


def _build_query(request: HttpRequest, params: QueryDict | dict) -> kpis.KpiQuery:
    """The KPI query of a page: 403/404 as pages; bad values are reported and the defaults
    used instead (a page never fails on a mistyped date)."""
    try:
        query = kpis.kpi_query_build(user=request.user, params=params)
    except ValidationFailed as exc:
        for field_name, errors in exc.extra.items():
            for error in errors:
                messages.error(request, f"{field_name}: {error}")
        region = params.get("region") or ""
        try:
            query = kpis.kpi_query_build(user=request.user, params={"region": region})
        except ApplicationError as again:
            _raise_for_page(again)
            raise
    except ApplicationError as exc:
        _raise_for_page(exc)
        raise
    if not query.group_by:
        level = query.region.level if query.region else Region.Level.CITY
        query = kpis.KpiQuery(**{**query.__dict__, "group_by": DEFAULT_GROUP_BY[level]})
    return query


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
    """The <option>s of the region picker, written in Python (a template loop over a city's
    1,111 regions took a tenth of the page's time)."""
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
    # whole city (10,000 cells: ~6 MB) is fetched by the page from the heat map API instead.
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


def _record_ledger_unmasking(request: HttpRequest, incidents: list) -> None:
    """The page showed these reporters' phones in full: one audit event for the page."""
    from audit.models import AuditKind
    from audit.services import record

    shown = [i.tracking_number for i in incidents if i.reporter_phone or i.reporter_id]
    if shown:
        record(
            AuditKind.UNMASKED,
            actor=request.user,
            object_type="incidents.incident",
            details={"fields": ["reporter_phone"], "tracking_numbers": shown, "view": "ledger"},
            request=request,
            quiet=True,
        )


@login_required
@require_GET
def incident_ledger(request: HttpRequest) -> HttpResponse:
    """The list behind a KPI number: the dispatch queue's filters plus the KPI set and period;
    exports of exactly this list."""
    from incidents.filters import IncidentFilter

    if not kpis.can_view_kpis(request.user):
        raise PermissionDenied
    try:
        qs = kpis.ledger_queryset(user=request.user, params=request.GET)
    except ValidationFailed as exc:
        for field_name, errors in exc.extra.items():
            for error in errors:
                messages.error(request, f"{field_name}: {error}")
        qs = None
    except ApplicationError as exc:
        _raise_for_page(exc)
        raise
    set_key = request.GET.get("kpi") or ""
    kpi_set = kpis.SETS.get(set_key)
    filter_form = IncidentFilter(_filter_data(request.GET)).form
    page = None
    rows = []
    count = 0
    if qs is not None:
        count = qs.count()
        page = Paginator(qs, 50).get_page(request.GET.get("page"))
        contacts = exports.sees_contacts(request.user)
        now = timezone.now()
        rows = [
            {
                "incident": incident,
                "cells": exports.incident_row(
                    incident, viewer=request.user, contacts=contacts, now=now
                ),
                "overdue": bool(
                    incident.due_at
                    and incident.due_at < now
                    and incident.state in kpis.DEADLINE_STATES
                ),
            }
            for incident in page.object_list
        ]
        if contacts and rows:
            _record_ledger_unmasking(request, [row["incident"] for row in rows])
    querystring = request.GET.copy()
    querystring.pop("page", None)
    extras = [
        (key, value)
        for key in kpis.LEDGER_EXTRA_PARAMS
        if key != "page"
        for value in request.GET.getlist(key)
    ]
    return render(
        request,
        "governance/ledger.html",
        {
            "kpi_set": kpi_set,
            "set_key": set_key,
            "start": request.GET.get("start", ""),
            "end": request.GET.get("end", ""),
            "count": count,
            "page": page,
            "rows": rows,
            "headers": exports.incident_headers(),
            "filter_form": filter_form,
            "extras": extras,
            "query_string": querystring.urlencode(),
            "export_formats": ExportFormat.choices,
            "export_inline_max": exports.inline_max_rows(),
            "queue_url": _queue_link(request.GET),
        },
    )


def _filter_data(params: QueryDict) -> QueryDict:
    data = params.copy()
    for key in kpis.LEDGER_EXTRA_PARAMS:
        data.pop(key, None)
    return data


def _queue_link(params: QueryDict) -> str:
    """The dispatch queue with the same FilterSet parameters, when that page exists and the
    list needs none of the KPI extras."""
    from django.urls import NoReverseMatch

    if any(params.get(key) for key in kpis.LEDGER_EXTRA_PARAMS if key != "page"):
        return ""
    try:
        return f"{reverse('incidents:queue')}?{_filter_data(params).urlencode()}"
    except NoReverseMatch:
        return ""


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@login_required
@require_POST
def export_create(request: HttpRequest) -> HttpResponse:
    """Export the list or table a page shows (its query string is posted as `query`): small
    ones come back at once, large ones go to a job page with its progress."""
    kind = request.POST.get("kind") or ""
    fmt = request.POST.get("fmt") or ExportFormat.XLSX
    params = dict(QueryDict(request.POST.get("query") or "").lists())
    params.pop("page", None)
    back = _safe_next(request, reverse("governance:dashboard"))
    try:
        result = exports.export_request(user=request.user, kind=kind, fmt=fmt, params=params)
    except ApplicationError as exc:
        if isinstance(exc, PermissionDeniedError):
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return redirect(back)
    if result.content is not None:
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = _attachment(result.filename)
        return response
    messages.info(request, _("The export is being prepared; this page shows its progress."))
    return redirect("governance:export_detail", pk=result.job.pk)


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=filename)


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    template = "governance/_export_progress.html" if request.htmx else "governance/export_job.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file of the user's own finished export (anybody else: 404)."""
    job = _own_job(request, pk)
    if job.status != job.Status.DONE or not job.file:
        raise Http404(_("The file is not ready."))
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file has been removed; export again.")) from exc
    return FileResponse(handle, as_attachment=True, filename=exports.export_download_name(job))


def _own_job(request: HttpRequest, pk: int):
    try:
        return exports.export_job_get(user=request.user, job_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


@login_required
@require_GET
def case_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable case file of one incident: every field, photos and the timeline (as the
    user may see them, like the detail page: personal data masked unless the user may see
    contacts; staff names and the assignee only for staff; photos through the scoped photo
    view, never a media URL)."""
    from incidents.models import Action, IncidentPhoto, IncidentState
    from incidents.selectors import (
        actor_label,
        incident_get_for_user,
        incident_timeline_for,
        is_staff_viewer,
    )

    user = request.user
    try:
        incident = incident_get_for_user(user=user, incident_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    staff = is_staff_viewer(user)
    contacts = exports.sees_contacts(user)
    cells = exports.incident_row(incident, viewer=user, contacts=contacts, now=timezone.now())
    staff_only = set() if staff else {pgettext("supervision", "Assignee")}
    fields = [
        (label, "—" if value in ("", None) else value)
        for label, value in zip(exports.incident_headers(), cells, strict=True)
        if label not in staff_only
    ]
    events = list(incident_timeline_for(user, incident))
    timeline = [
        {
            "pk": event.pk,
            "created_at": event.created_at,
            "action": event.action,
            "action_label": _label(Action, event.action),
            "actor": actor_label(event, user, staff),
            "to_state_label": _label(IncidentState, event.to_state),
            "note": event.note,
        }
        for event in events
    ]
    labels = {event["pk"]: event["action_label"] for event in timeline}
    photos = [
        {"photo": photo, "caption": labels.get(photo.event_id, "")}
        for photo in IncidentPhoto.objects.filter(incident=incident).order_by("created_at", "id")
        if photo.event_id is None or photo.event_id in labels
    ]
    return render(
        request,
        "governance/case_file.html",
        {
            "incident": incident,
            "staff": staff,
            "fields": fields,
            "timeline": timeline,
            "photos": photos,
            "printed_at": timezone.now(),
        },
    )


def _label(choices, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value
