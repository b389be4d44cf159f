"""Report an incident (signed in or anonymous), the done page, and 随手办."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import RoleCode
from core.exceptions import ApplicationError, ValidationFailed
from core.ratelimit import with_retry_after
from incidents import page_selectors, services
from incidents.forms import FixOnSpotNewForm, ReportForm
from incidents.models import Incident
from incidents.views._common import _over_limit

# Anonymous abuse limits, per client address (settings may override).
PUBLIC_REPORTS_PER_HOUR = 5
SESSION_REPORTED = "incidents_reported"


# --- report -----------------------------------------------------------------------------------

REPORT_FIELD_ALIASES = {"location": "lat"}


def _map_context() -> dict:
    return {
        "map_cells": page_selectors.map_cells(),
        "map_labels": {
            "locating": _("Finding your location…"),
            "located": _("Pin set at your location. Drag or tap the map to correct it."),
            "unavailable": _("Your location is not available: tap the map instead."),
            "pinned": _("Pin set. Drag it or tap elsewhere to move it."),
        },
        # 附议 (incidents/_nearby.html, static/js/residents/nearby.js)
        "nearby_labels": {
            "same": _("This is the same problem (这是同一个问题)"),
            "followers": _("%(n)s people follow it"),
        },
    }


def report(request: HttpRequest) -> HttpResponse:
    """Report an incident: signed in, or anonymously with a mobile number (public page,
    limited per client address; a hidden field catches bots)."""
    user = request.user if request.user.is_authenticated else None
    form = ReportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        user=user,
    )
    status = 200
    if request.method == "POST":
        limit = getattr(settings, "INCIDENT_PUBLIC_REPORTS_PER_HOUR", PUBLIC_REPORTS_PER_HOUR)
        over = (
            _over_limit(request, scope="report", limit=limit, window=3600) if user is None else None
        )
        if over is not None and over.limited:
            form.is_valid()
            form.add_error(None, _("Too many reports from this connection. Try again later."))
            response = render(
                request,
                "incidents/report.html",
                {"form": form, "anonymous": True, "fix_on_spot": False, **_map_context()},
            )
            return with_retry_after(response, over)
        elif form.is_valid():
            try:
                incident = services.incident_report(actor=user, **form.service_kwargs())
            except ValidationFailed as exc:
                form.add_service_errors(exc.extra, exc.message, aliases=REPORT_FIELD_ALIASES)
            else:
                return _reported(request, incident, anonymous=user is None)
        if status == 200:
            status = 400
    return render(
        request,
        "incidents/report.html",
        {"form": form, "anonymous": user is None, "fix_on_spot": False, **_map_context()},
        status=status,
    )


def _reported(request: HttpRequest, incident: Incident, *, anonymous: bool) -> HttpResponse:
    code = getattr(incident, "access_code", "")
    if anonymous:
        # The done page shows the number and the code (once more on reload).
        request.session[SESSION_REPORTED] = {"no": incident.tracking_number, "code": code}
        return redirect("incidents:report_done")
    messages.success(
        request,
        _("Reported. Your tracking number is %(no)s, its access code %(code)s.")
        % {"no": incident.tracking_number, "code": code},
    )
    return redirect("incidents:detail", pk=incident.pk)


@require_GET
def report_done(request: HttpRequest) -> HttpResponse:
    """After an anonymous report: the tracking number and the access code to keep."""
    reported = request.session.get(SESSION_REPORTED)
    if not isinstance(reported, dict) or not reported.get("no"):
        return redirect("incidents:report")
    return render(
        request,
        "incidents/report_done.html",
        {"tracking_number": reported["no"], "access_code": reported.get("code", "")},
    )


@login_required
def fix_on_spot(request: HttpRequest) -> HttpResponse:
    """随手办: a grid worker records a small matter fixed on the spot (evidence required)."""
    user = request.user
    if not user.has_role(RoleCode.GRID_WORKER):
        raise PermissionDenied(_("Only grid workers record on-the-spot fixes."))
    form = FixOnSpotNewForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        user=user,
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                incident = services.incident_fix_on_spot(
                    actor=user,
                    category=data["category"],
                    description=data["description"],
                    result=data["result"],
                    photos=data["photos"],
                    lat=data.get("lat"),
                    lng=data.get("lng"),
                    address=data.get("address", ""),
                    use_photo_location=data.get("use_photo_location", False),
                )
            except ValidationFailed as exc:
                form.add_service_errors(exc.extra, exc.message, aliases=REPORT_FIELD_ALIASES)
            except ApplicationError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("Recorded as fixed on the spot: %(no)s.") % {"no": incident.tracking_number},
                )
                return redirect("incidents:detail", pk=incident.pk)
    return render(
        request,
        "incidents/report.html",
        {"form": form, "anonymous": False, "fix_on_spot": True, **_map_context()},
        status=status,
    )
