"""The supervisors' counts (scoped to their region, drill-down by region, xlsx)."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.selectors import regions_visible, user_scope
from core.spreadsheets import formula_safe
from deliberation import kpis, policies
from deliberation.views._common import page
from grids.models import Region


def _period(request: HttpRequest) -> tuple[datetime, datetime, int]:
    try:
        days = int(request.GET.get("days", "90"))
    except ValueError:
        days = 90
    days = min(max(days, 1), 730)
    until = timezone.now()
    start = timezone.make_aware(datetime.combine((until - timedelta(days=days)).date(), time.min))
    return start, until, days


def _figures(request: HttpRequest):  # type: ignore[no-untyped-def]
    user = request.user
    if not (policies.is_supervisor(user) or policies.is_reader(user)):
        raise PermissionDenied
    visible_regions = regions_visible(user)
    code = request.GET.get("region", "")
    if code:
        region = visible_regions.filter(code=code).first()
        if region is None:
            raise Http404
    else:
        scope = user_scope(user)
        region = user.scope_region if not scope.everything else None
        if region is None:
            region = Region.objects.filter(parent__isnull=True).order_by("code").first()
        if region is None:
            raise Http404
    children = list(visible_regions.filter(parent=region).order_by("code")) or [region]
    since, until, days = _period(request)
    return (
        region,
        kpis.rows_for(children, since=since, until=until),
        kpis.row_for(region, since=since, until=until),
        days,
    )


@login_required
@require_GET
def supervision(request: HttpRequest) -> HttpResponse:
    region, rows, total, days = _figures(request)
    return page(
        request,
        "deliberation/supervision.html",
        {
            "region": region,
            "rows": rows,
            "total": total,
            "days": days,
            "ancestors": list(reversed(region.ancestors())),
        },
    )


HEADERS = [
    "region",
    "proposals",
    "reviewed",
    "reviewed in time",
    "meetings held",
    "decisions",
    "decisions done",
    "done on time",
    "done on time %",
    "participants",
    "verified residents",
    "participation %",
]


@login_required
@require_GET
def supervision_export(request: HttpRequest) -> HttpResponse:
    from openpyxl import Workbook

    region, rows, total, days = _figures(request)
    book = Workbook()
    sheet = book.active
    sheet.title = "deliberation"
    sheet.append(
        [
            _("Region"),
            _("Proposals"),
            _("Reviewed"),
            _("Reviewed in time"),
            _("Meetings held"),
            _("Decisions"),
            _("Decisions done"),
            _("Done on time"),
            _("Done on time (%)"),
            _("Participants"),
            _("Verified residents"),
            _("Participation rate (%)"),
        ]
    )
    for row in [*rows, total]:
        sheet.append(
            [
                formula_safe(row.region.name),
                row.proposals,
                row.reviewed,
                row.reviewed_in_time,
                row.meetings_held,
                row.decisions,
                row.decisions_done,
                row.decisions_done_on_time,
                row.done_on_time_rate,
                row.participants,
                row.residents,
                row.participation_rate,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="deliberation-{region.code}-{days}d.xlsx"'
    )
    return response
