"""The drill-down incident ledger: the list behind a KPI number."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.exceptions import (
    ApplicationError,
    ValidationFailed,
)
from governance import exports, kpis
from governance.dashboards._common import _raise_for_page
from governance.models import ExportFormat


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
