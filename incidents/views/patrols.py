"""The patrol log (巡查日志): list, start, the live page, GPS points, end."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import RoleCode, User
from core.exceptions import ApplicationError, ConflictError, NotFoundError
from incidents import patrols as patrol_helpers
from incidents import selectors, services
from incidents.forms import PatrolEndForm, PatrolPointForm, PatrolStartForm
from incidents.models import PatrolLog
from incidents.queue_html import QUEUE_PAGE_SIZE
from incidents.views._common import _safe_next
from incidents.views.lists import LIST_LIMIT

# The patrol page sends its GPS fixes this often.
PATROL_POINT_SECONDS = 30


# --- patrol log (巡查日志) ----------------------------------------------------------------------

PATROL_ROLES = (RoleCode.GRID_WORKER, RoleCode.DISPATCHER, RoleCode.SUPERVISOR)


def _require_patrol_role(user: User) -> None:
    if not (user.is_portal_admin or user.has_role(*PATROL_ROLES)):
        raise PermissionDenied(_("Only grid workers, dispatchers and supervisors see patrols."))


def _patrol_or_404(user: User, pk: int) -> PatrolLog:
    try:
        return selectors.patrol_get_for_user(user=user, patrol_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def _with_figures(patrols: Any, now) -> list[PatrolLog]:
    rows = list(patrols)
    for patrol in rows:
        patrol.duration = patrol_helpers.duration(patrol.started_at, patrol.ended_at, now=now)
        minutes = int(patrol.duration.total_seconds() // 60)
        patrol.duration_label = _("%(h)s h %(m)02d min") % {"h": minutes // 60, "m": minutes % 60}
        patrol.distance_km = f"{patrol.distance_m / 1000:.2f}"
    return rows


@login_required
def patrols(request: HttpRequest) -> HttpResponse:
    """The patrol log: a grid worker's own patrols (start one here), or the patrols of the
    workers in a dispatcher's or supervisor's region."""
    user = request.user
    _require_patrol_role(user)
    now = timezone.now()
    paginator = Paginator(
        selectors.patrols_visible(user)
        .annotate(incident_count=Count("incidents"))
        .order_by("-started_at", "-id"),
        QUEUE_PAGE_SIZE,
    )
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = _with_figures(page.object_list, now)
    return render(
        request,
        "incidents/patrols.html",
        {
            "page": page,
            "is_grid_worker": user.has_role(RoleCode.GRID_WORKER),
            "open_patrol": selectors.patrol_open_for(user),
            "now": now,
        },
    )


@login_required
@require_POST
def patrol_start(request: HttpRequest) -> HttpResponse:
    form = PatrolStartForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_safe_next(request, reverse("incidents:patrols")))
    try:
        patrol = services.patrol_start(actor=request.user, notes=form.cleaned_data["notes"])
    except ConflictError as exc:
        messages.error(request, exc.message)
        current = selectors.patrol_open_for(request.user)
        if current is not None:
            return redirect("incidents:patrol_detail", pk=current.pk)
        return redirect("incidents:patrols")
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_safe_next(request, reverse("incidents:patrols")))
    messages.success(request, _("Patrol started. Keep this page open to record your track."))
    return redirect("incidents:patrol_detail", pk=patrol.pk)


@login_required
def patrol_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One patrol: its track on a map, distance, duration, cells, notes and the incidents
    reported on the way. The worker's open patrol records GPS points from this page."""
    user = request.user
    patrol = _patrol_or_404(user, pk)
    now = timezone.now()
    _with_figures([patrol], now)
    own_open = patrol.is_open and patrol.worker_id == user.pk
    cells = list(patrol.cells.all().order_by("code"))
    return render(
        request,
        "incidents/patrol_detail.html",
        {
            "patrol": patrol,
            "own_open": own_open,
            "cells": cells,
            "incidents": selectors.patrol_incidents(user, patrol)[:LIST_LIMIT],
            "point_form": PatrolPointForm(),
            "end_form": PatrolEndForm(initial={"notes": patrol.notes}),
            "map_data": {
                "track": [[p[0], p[1]] for p in patrol.track],
                "cells": [
                    {"name": cell.name, "geometry": cell.geometry}
                    for cell in cells
                    if cell.geometry
                ],
            },
            "points_url": reverse("incidents:patrol_points", args=[patrol.pk]),
            "record_every_seconds": PATROL_POINT_SECONDS,
        },
    )


def _json_points(request: HttpRequest) -> Any:
    try:
        payload = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return payload.get("points") if isinstance(payload, dict) else None


@login_required
@require_POST
def patrol_points(request: HttpRequest, pk: int) -> HttpResponse:
    """GPS points for the worker's open patrol: JSON {"points": [[lat, lng, time], ...]} from
    the page's script (answered in JSON), or one point added by hand (a form; redirect)."""
    user = request.user
    wants_json = (request.content_type or "").startswith("application/json")
    if wants_json:
        points = _json_points(request)
    else:
        form = PatrolPointForm(request.POST)
        if not form.is_valid():
            for errors in form.errors.values():
                for error in errors:
                    messages.error(request, error)
            return redirect("incidents:patrol_detail", pk=pk)
        points = [[form.cleaned_data["lat"], form.cleaned_data["lng"], None]]
    try:
        patrol = services.patrol_add_points(patrol_id=pk, actor=user, points=points)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        if wants_json:
            return JsonResponse(
                {"detail": exc.message, "errors": getattr(exc, "extra", {}) or {}},
                status=exc.status_code,
            )
        messages.error(request, exc.message)
        return redirect("incidents:patrol_detail", pk=pk)
    if wants_json:
        return JsonResponse(
            {
                "points": len(patrol.track),
                "distance_m": patrol.distance_m,
                "track": [[p[0], p[1]] for p in patrol.track],
            }
        )
    messages.success(request, _("Point added."))
    return redirect("incidents:patrol_detail", pk=pk)


@login_required
@require_POST
def patrol_end(request: HttpRequest, pk: int) -> HttpResponse:
    form = PatrolEndForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("incidents:patrol_detail", pk=pk)
    try:
        patrol = services.patrol_end(
            patrol_id=pk,
            actor=request.user,
            # The stop button on "my tasks" sends no notes: keep the ones written so far.
            notes=form.cleaned_data["notes"] if "notes" in request.POST else None,
        )
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("incidents:patrol_detail", pk=pk)
    messages.success(
        request,
        _("Patrol ended: %(km)s km.") % {"km": f"{patrol.distance_m / 1000:.2f}"},
    )
    return redirect("incidents:patrol_detail", pk=pk)
