"""The sessions calendar and the statistics page."""

from datetime import datetime, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date

from accounts.models import RoleCode
from mediation import selectors
from mediation.forms import (
    StatsForm,
)
from mediation.models import (
    MediationSession,
)

# --- calendar and statistics --------------------------------------------------------------


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """A week of sessions (Monday to Sunday) of the cases the user sees."""
    day = parse_date(request.GET.get("week", "") or "") or timezone.localdate()
    monday = day - timedelta(days=day.weekday())
    tz = timezone.get_current_timezone()
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    sessions = list(
        selectors.sessions_between(user=request.user, start=start, end=start + timedelta(days=7))
        .exclude(state=MediationSession.State.CANCELLED)
        .order_by("starts_at")
    )
    days = []
    for offset in range(7):
        current = monday + timedelta(days=offset)
        days.append(
            {
                "date": current,
                "sessions": [
                    s for s in sessions if timezone.localtime(s.starts_at).date() == current
                ],
            }
        )
    return render(
        request,
        "mediation/calendar.html",
        {
            "days": days,
            "monday": monday,
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
        },
    )


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_portal_admin or user.has_role(RoleCode.SUPERVISOR, RoleCode.MEDIATOR)):
        raise PermissionDenied
    form = StatsForm(request.GET or None)
    group_by, date_from, date_to = "room", None, None
    if form.is_valid():
        group_by = form.cleaned_data["group_by"] or "room"
        date_from = form.cleaned_data["concluded_from"]
        date_to = form.cleaned_data["concluded_to"]
    rows = selectors.case_stats(
        user=user, group_by=group_by, concluded_from=date_from, concluded_to=date_to
    )
    concluded = sum(r["concluded"] for r in rows)
    agreements = sum(r["agreements"] for r in rows)
    chart = {
        "labels": [r["label"] for r in rows],
        "rates": [round(r["success_rate"] * 100, 1) for r in rows],
        "days": [r["average_days_to_settle"] for r in rows],
    }
    return render(
        request,
        "mediation/stats.html",
        {
            "form": form,
            "rows": rows,
            "group_by": group_by,
            "total_concluded": concluded,
            "total_agreements": agreements,
            "total_rate": (agreements / concluded) if concluded else None,
            "chart": chart,
        },
    )
