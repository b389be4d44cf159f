"""Pages of the incident loop: report (signed in or anonymous), track and rate, my tasks,
my reports, the dispatch queue (htmx live rows, bulk assign), the overdue board, workload,
the incident detail with one small form per allowed action, and 随手办.

Thin: a form checks the input, one service makes the move, a selector reads. A service's
ApplicationError becomes a message on the page, never a 500: bad input (400) goes back to the
form with its field errors, a conflict (409) is shown on the fresh page ("已被 X 领取"), a
forbidden move (403) on the page as it is, an incident out of scope is a 404.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.forms.utils import flatatt
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import ROLES_SEEING_CONTACTS, RoleCode, User
from audit.services import record_unmasked
from core.exceptions import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.masking import mask_phone
from core.ratelimit import Limit, client_ip, rate_hit, with_retry_after
from incidents import page_selectors, selectors, services, tracking
from incidents import patrols as patrol_helpers
from incidents.filters import IncidentFilter
from incidents.forms import (
    AssignVerifierForm,
    BulkAssignForm,
    EmptyForm,
    ExtensionForm,
    FixOnSpotForm,
    FixOnSpotNewForm,
    NoteForm,
    NotePhotosForm,
    PatrolEndForm,
    PatrolPointForm,
    PatrolStartForm,
    PortalForm,
    RateForm,
    ReasonForm,
    ReasonPhotosForm,
    ReportForm,
    ResendCodeForm,
    ResolveForm,
    TargetForm,
    TrackForm,
    UnparkForm,
    VerifyForm,
)
from incidents.models import Action, Incident, IncidentState, PatrolLog
from incidents.queue_html import queue_rows_html, span_text, workload_html

S = IncidentState
QUEUE_ROLES = (RoleCode.DISPATCHER, RoleCode.SUPERVISOR, RoleCode.ADMIN)
TASK_ROLES = (RoleCode.GRID_WORKER, RoleCode.DEPARTMENT_HANDLER, RoleCode.DISPATCHER)
QUEUE_PAGE_SIZE = 50
LIST_LIMIT = 100
QUEUE_REFRESH_SECONDS = 10
# The queue page's workload panel arrives after the page (htmx) and is read again this often.
WORKLOAD_REFRESH_SECONDS = 60
# The patrol page sends its GPS fixes this often.
PATROL_POINT_SECONDS = 30
# Anonymous abuse limits, per client address (settings may override).
PUBLIC_REPORTS_PER_HOUR = 5
TRACKED_IN_SESSION = 10
SESSION_TRACKED = "incidents_tracked"
SESSION_REPORTED = "incidents_reported"


# --- helpers ----------------------------------------------------------------------------------


def _over_limit(request: HttpRequest, *, scope: str, limit: int, window: int) -> Limit:
    """Count one more attempt from this client in `window` seconds (core.ratelimit); limited
    past `limit`. Behind a reverse proxy REMOTE_ADDR is the proxy: settings.
    INCIDENT_CLIENT_IP_META (or CLIENT_IP_META) names the header it sets, read only from
    settings.TRUSTED_PROXIES (core.ratelimit.client_ip)."""
    meta = getattr(settings, "INCIDENT_CLIENT_IP_META", None)
    return rate_hit(f"incidents:{scope}", client_ip(request, meta), f"{limit}/{window}s")


def _incident_or_404(user: User, pk: int) -> Incident:
    try:
        return selectors.incident_get_for_user(user=user, incident_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def _require_queue_role(user: User) -> None:
    if not (user.is_portal_admin or user.has_role(*QUEUE_ROLES)):
        raise PermissionDenied(_("Only dispatchers and supervisors use the queue."))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


def _mark_overdue(incidents: Any, now=None) -> list[Incident]:
    now = now or timezone.now()
    rows = list(incidents)
    for incident in rows:
        incident.is_overdue = page_selectors.is_overdue(incident, now=now)
    return rows


def _sees_contacts(user: User) -> bool:
    return user.is_authenticated and (
        user.is_superuser or bool(user.role_codes & ROLES_SEEING_CONTACTS)
    )


# --- index ------------------------------------------------------------------------------------


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """/incidents/: where each role starts."""
    user = request.user
    if user.is_portal_admin or user.has_role(RoleCode.DISPATCHER, RoleCode.SUPERVISOR):
        return redirect("incidents:queue")
    if user.has_role(RoleCode.GRID_WORKER, RoleCode.DEPARTMENT_HANDLER):
        return redirect("incidents:my_tasks")
    return redirect("incidents:my_reports")


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


# --- tracking (public) ------------------------------------------------------------------------


def _tracked(request: HttpRequest) -> dict[str, str]:
    return dict(request.session.get(SESSION_TRACKED) or {})


def _remember_tracked(request: HttpRequest, incident: Incident) -> None:
    """The session remembers numbers this browser proved it may read: a proof derived from the
    stored hash, never the code (no code in URLs either; a new code ends it)."""
    number = incident.tracking_number
    tracked = _tracked(request)
    tracked.pop(number, None)
    tracked[number] = tracking.tracking_proof(incident.access_code_hash)
    while len(tracked) > TRACKED_IN_SESSION:
        tracked.pop(next(iter(tracked)))
    request.session[SESSION_TRACKED] = tracked


def track(request: HttpRequest) -> HttpResponse:
    """Track a report by its number and its access code (查询码). A wrong pair, and a number
    locked after too many failures, get the same answer whether the number exists or not;
    tries are limited per client address and per number, with the API's budget
    (incidents.tracking)."""
    number = (request.GET.get("no") or "").strip().upper()[:16]
    if request.method == "POST":
        form = TrackForm(request.POST)
        over = tracking.client_attempt(request)
        if over.limited:
            form.is_valid()
            form.add_error(None, _("Too many tries from this connection. Try again later."))
            return with_retry_after(render(request, "incidents/track.html", {"form": form}), over)
        if form.is_valid():
            no, code = form.cleaned_data["no"], form.cleaned_data["code"]
            try:
                incident = tracking.incident_unlock(no, code)
            except NotFoundError as exc:
                form.add_error(None, exc.message)
            else:
                _remember_tracked(request, incident)
                return redirect(f"{reverse('incidents:track')}?no={no}")
        return render(request, "incidents/track.html", {"form": form}, status=200)
    proof = _tracked(request).get(number) if number else None
    if proof:
        try:
            result = selectors.incident_track_for(selectors.incident_for_tracked(number, proof))
        except NotFoundError:
            result = None
        if result is not None:
            return render(
                request,
                "incidents/track.html",
                {
                    "track": result,
                    "rate_form": RateForm(prefix="rate"),
                    "reopen_form": RateForm(prefix="rate", auto_id="id_reopen_%s"),
                },
            )
    form = TrackForm(initial={"no": number} if number else None)
    return render(request, "incidents/track.html", {"form": form})


@require_POST
def track_rate(request: HttpRequest) -> HttpResponse:
    """The reporter rates (or, unhappy, reopens) from the tracking page, without signing in."""
    number = (request.POST.get("no") or "").strip().upper()[:16]
    proof = _tracked(request).get(number)
    page = f"{reverse('incidents:track')}?no={number}"
    if not proof:
        messages.error(request, _("Enter the tracking number and your access code first."))
        return redirect(page)
    form = RateForm(request.POST, prefix="rate")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(page)
    try:
        services.incident_rate(
            actor=request.user if request.user.is_authenticated else None,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data.get("comment", ""),
            tracking_number=number,
            tracking_proof=proof,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _rated_message(form.cleaned_data["rating"]))
    return redirect(page)


def track_resend(request: HttpRequest) -> HttpResponse:
    """ "Resend my code": the tracking number and the full phone number the report was made
    with; when they match, a new access code goes by SMS to that phone. The answer is the same
    whether or not they matched; limited per client address and per number."""
    form = ResendCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        over = tracking.resend_client_attempt(request)
        if over.limited:
            form.is_valid()
            form.add_error(None, _("Too many tries from this connection. Try again later."))
            page = render(request, "incidents/track_resend.html", {"form": form})
            return with_retry_after(page, over)
        if form.is_valid():
            tracking.access_code_resend(form.cleaned_data["no"], form.cleaned_data["phone"])
            messages.success(request, str(tracking.RESEND_ANSWER))
            return redirect(f"{reverse('incidents:track')}?no={form.cleaned_data['no']}")
        return render(request, "incidents/track_resend.html", {"form": form}, status=400)
    return render(request, "incidents/track_resend.html", {"form": form})


def _rated_message(rating: int) -> str:
    if rating <= 2:
        return _("Thank you. The case is reopened and goes back to the handler.")
    return _("Thank you for your rating.")


# --- my lists ---------------------------------------------------------------------------------


@login_required
def my_tasks(request: HttpRequest) -> HttpResponse:
    """A grid worker's or department handler's work: to verify, to check, claimable, assigned
    to me, sent to my unit."""
    user = request.user
    if not (user.is_portal_admin or user.has_role(*TASK_ROLES)):
        raise PermissionDenied(_("Only staff have tasks."))
    now = timezone.now()
    lists = selectors.my_tasks(user)
    sections = [
        ("to_verify", _("To verify on site"), lists["to_verify"]),
        ("to_check", _("To check on site"), lists["to_check"]),
        ("claimable", _("Open for claiming (抢单)"), lists["claimable"]),
        ("assigned", _("Assigned to me"), lists["assigned"]),
        ("unit", _("Sent to my unit"), lists["unit"]),
    ]
    return render(
        request,
        "incidents/my_tasks.html",
        {
            "sections": [
                {"key": key, "title": title, "rows": _mark_overdue(qs[:LIST_LIMIT], now)}
                for key, title, qs in sections
            ],
            "is_grid_worker": user.has_role(RoleCode.GRID_WORKER),
            "open_patrol": selectors.patrol_open_for(user),
            "now": now,
        },
    )


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    """What I reported, newest first, with its state."""
    paginator = Paginator(page_selectors.my_reports(request.user), QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "incidents/my_reports.html", {"page": page})


# --- the dispatch queue -----------------------------------------------------------------------


def _queue_filters(request: HttpRequest) -> QueryDict:
    """The queue's filters; with none given, the open incidents."""
    params = request.GET.copy()
    params.pop("page", None)
    if not any(value for key, values in params.lists() for value in values):
        params = QueryDict(mutable=True)
        params["open"] = "true"
    return params


class _QuickSelect(forms.Select):
    """A single Select written in Python: the same HTML as Django's widget templates, without
    a template include per option (the queue's pickers have up to 500 options)."""

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> str:
        chosen = set(self.format_value(value))
        parts = [
            format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))
        ]
        for option, label in self.choices:
            option = "" if option is None else str(option)
            selected = option in chosen
            if selected:  # like Django's Select: the first match only
                chosen.discard(option)
            template = (
                '\n  <option value="{}" selected>{}</option>\n'
                if selected
                else '\n  <option value="{}">{}</option>\n'
            )
            parts.append(format_html(template, option, label))
        parts.append("\n</select>")
        # Every part went through format_html.
        return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


def _queue_filter_html(params: QueryDict, user: User) -> str:
    """The filter box's fields. For the default view (open incidents: what a dispatcher
    opens) rendered once per user and language and kept with the pickers it shows
    (page_selectors.cached_per_user: a changed cell, region, user or role renders it again);
    other queries (searches, one-off filters) are rendered each time, so the process keeps a
    bounded number of them."""

    def build() -> str:
        return render_to_string(
            "incidents/_queue_filters.html", {"filter_form": _queue_filter_form(params, user)}
        )

    query = params.urlencode()
    if query != "open=true":
        return build()
    return page_selectors.cached_per_user(user, f"filter-html|{get_language()}|{query}", build)


def _queue_filter_form(params: QueryDict, user: User) -> Any:
    """The engine's FilterSet form, with pickers instead of code boxes (presentation only:
    the values stay the codes the FilterSet expects)."""
    form = IncidentFilter(params, queryset=Incident.objects.none()).form
    anything = [("", _("All"))]
    # The pickers are kept per process until a category, cell, region or user changes.
    categories = page_selectors.category_options(user)
    large = {c.parent.code: c.parent.display_name for c in categories if c.parent}
    form.fields["category"].widget = _QuickSelect(
        choices=anything
        + [(code, name) for code, name in sorted(large.items())]
        + [(c.code, f"· {c.display_name}") for c in categories]
    )
    form.fields["grid_cell"].widget = _QuickSelect(
        choices=anything + page_selectors.cell_options(user)
    )
    form.fields["community"].widget = _QuickSelect(
        choices=anything + page_selectors.community_options(user)
    )
    for name in ("reported_from", "reported_to"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form


def _queue_bulk_fields_html(user: User) -> str:
    """The bulk form's two fields (the person to assign to, a note), as the page showed
    `{{ bulk_form.assignee }}` and `{{ bulk_form.note }}`. The page's form is never bound and
    its only variable part is the list of people (page_selectors.staff_options, kept per
    process until a user, a region or a role changes), so the HTML is kept with it, per user
    and language: the long <select> is not rendered through the widget templates each time."""

    def build() -> str:
        form = BulkAssignForm(user=user)
        assignee, note = form["assignee"], form["note"]
        return format_html(
            '<div>\n    <label for="{}">{}</label>\n    {}\n  </div>\n'
            '  <div>\n    <label for="{}">{}</label>\n    {}\n  </div>',
            assignee.id_for_label,
            assignee.label,
            assignee,
            note.id_for_label,
            note.label,
            note,
        )

    return page_selectors.cached_per_user(user, f"bulk-html|{get_language()}", build)


_URL_SENTINEL = 987654321


def _queue_row_texts(rows: list[selectors.QueueRow], now: Any) -> list[selectors.QueueRow]:
    """The per-row texts of the table, computed once per page (the same words the shared
    _state/_deadline includes say, without an include and a URL lookup per row)."""
    url = reverse("incidents:detail", args=[_URL_SENTINEL])
    select = _("Select %(no)s")
    overdue = _("overdue by %(late)s")
    left = _("%(left)s left")
    for row in rows:
        row.url = url.replace(str(_URL_SENTINEL), str(row.pk))
        row.select_label = select % {"no": row.tracking_number}
        if row.due_at is not None:
            if row.is_overdue:
                row.deadline_text = overdue % {"late": span_text(row.due_at, now)}
            else:
                row.deadline_text = left % {"left": span_text(now, row.due_at)}
    return rows


def _queue_page(request: HttpRequest, *, with_form: bool = True) -> dict:
    """The queue's rows (narrow rows: selectors.queue_rows) and, for the full page, the filter
    form (the htmx rows partial does not show it)."""
    user = request.user
    params = _queue_filters(request)
    error = ""
    try:
        queryset = selectors.dispatch_queue_values(user, params)
    except ValidationFailed as exc:
        error = exc.message
        queryset = selectors.QueuePages(Incident.objects.none())
    paginator = Paginator(queryset, QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    now = timezone.now()
    query = params.urlencode()
    if request.GET.get("page"):
        query = f"{query}&page={page.number}" if query else f"page={page.number}"
    rows = _queue_row_texts(selectors.queue_rows(page.object_list, now=now), now)
    context = {
        "page": page,
        # The table body, written in Python (incidents/queue_html.py: the same HTML the
        # template loop wrote, at a fraction of its cost).
        "rows_html": queue_rows_html(rows),
        "filter_error": error,
        "query": query,
        "filter_query": params.urlencode(),
        "now": now,
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }
    if with_form:
        context["filter_html"] = _queue_filter_html(params, user)
    return context


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The dispatch queue: filters, sorted by deadline, bulk assign, workload; the table body
    refreshes itself every few seconds (htmx) while nothing is selected. The workload panel is
    only a placeholder here: htmx fetches it (queue_workload) once the page has loaded."""
    user = request.user
    _require_queue_role(user)
    context = _queue_page(request)
    context.update(
        {
            "bulk_fields_html": _queue_bulk_fields_html(user),
            # The user's own region is loaded with their scope: no query for a dispatcher.
            "workload_region": page_selectors.workload_region(user),
            "workload_refresh_seconds": WORKLOAD_REFRESH_SECONDS,
        }
    )
    return render(request, "incidents/queue.html", context)


@login_required
@require_GET
def queue_rows(request: HttpRequest) -> HttpResponse:
    """The queue's table rows only (htmx polls this)."""
    _require_queue_role(request.user)
    # Only the rows: no template, no context processor (menu, badge queries).
    return HttpResponse(_queue_page(request, with_form=False)["rows_html"])


@login_required
@require_GET
def queue_workload(request: HttpRequest) -> HttpResponse:
    """The queue page's workload panel only (htmx loads it after the page, then every minute):
    open work per grid worker of the user's own workload region."""
    user = request.user
    _require_queue_role(user)
    region = page_selectors.workload_region(user)
    if region is None:
        return HttpResponse(status=204)  # the page shows no panel either
    # Only the table (queue_html.workload_html: _workload.html's HTML): no template, no context
    # processor (menu, badge queries).
    return HttpResponse(workload_html(selectors.workload_per_worker(region, with_cells=False)))


@login_required
@require_POST
def queue_assign(request: HttpRequest) -> HttpResponse:
    """Bulk assign: each selected incident goes to the chosen person (dispatch when it waits
    for dispatch, reassign when it is being handled), each in its own transaction; the page
    says which ones could not be moved and why."""
    user = request.user
    _require_queue_role(user)
    back = _safe_next(request, reverse("incidents:queue"))
    form = BulkAssignForm(request.POST, user=user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    assignee_id = form.cleaned_data["assignee"]
    note = form.cleaned_data.get("note", "")
    done: list[str] = []
    for incident_id in dict.fromkeys(form.cleaned_data["incident"]):
        label = f"#{incident_id}"
        try:
            incident = selectors.incident_get_for_user(user=user, incident_id=incident_id)
            label = incident.tracking_number
            if incident.state in (S.VERIFIED, S.REOPENED):
                service: Callable[..., Incident] = services.incident_dispatch
            else:
                service = services.incident_reassign
            service(incident_id=incident.pk, actor=user, assignee_id=assignee_id, note=note)
        except ApplicationError as exc:
            messages.error(request, f"{label}: {exc.message}")
        else:
            done.append(label)
    if done:
        messages.success(
            request,
            _("Assigned %(n)s incident(s): %(numbers)s.")
            % {"n": len(done), "numbers": "、".join(done)},
        )
    return redirect(back)


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    """Open incidents past their deadline, most overdue first."""
    _require_queue_role(request.user)
    now = timezone.now()
    paginator = Paginator(selectors.overdue_board(request.user, now=now), QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/overdue.html",
        {"page": page, "rows": _mark_overdue(page.object_list, now), "now": now},
    )


@login_required
def workload(request: HttpRequest) -> HttpResponse:
    """Open work per grid worker in a region the user may see."""
    user = request.user
    _require_queue_role(user)
    code = (request.GET.get("region") or "").strip()
    region = page_selectors.workload_region(user, code)
    if region is None and code:
        raise Http404(_("Region not found."))
    return render(
        request,
        "incidents/workload.html",
        {
            "regions": page_selectors.workload_regions(user).order_by("code"),
            "workload_region": region,
            "workload": selectors.workload_per_worker(region) if region else [],
        },
    )


# --- detail and actions -----------------------------------------------------------------------


@dataclass(frozen=True)
class PageAction:
    """One move of the loop as a small form on the detail page."""

    form: type[PortalForm]
    perform: Callable[[User, Incident, Any], Incident]
    label: Any
    done: Any
    primary: bool = False


def _photos(form: PortalForm) -> list:
    return form.cleaned_data.get("photos") or []


PAGE_ACTIONS: dict[str, PageAction] = {
    Action.ASSIGN_VERIFIER: PageAction(
        AssignVerifierForm,
        lambda user, incident, form: services.incident_assign_verifier(
            incident_id=incident.pk,
            actor=user,
            verifier_id=form.cleaned_data["verifier"],
            note=form.cleaned_data.get("note", ""),
        ),
        gettext_lazy("Assign a verifier"),
        gettext_lazy("The verifier was assigned."),
    ),
    Action.VERIFY: PageAction(
        VerifyForm,
        lambda user, incident, form: services.incident_verify(
            incident_id=incident.pk,
            actor=user,
            note=form.cleaned_data.get("note", ""),
            category_id=form.cleaned_data["category"].pk
            if form.cleaned_data.get("category")
            else None,
            photos=_photos(form),
        ),
        gettext_lazy("Verify: the matter is real"),
        gettext_lazy("Verified. It is being dispatched."),
        primary=True,
    ),
    Action.FIX_ON_SPOT: PageAction(
        FixOnSpotForm,
        lambda user, incident, form: services.incident_fix_on_spot(
            incident_id=incident.pk,
            actor=user,
            result=form.cleaned_data["result"],
            photos=_photos(form),
        ),
        gettext_lazy("Fix on the spot (随手办)"),
        gettext_lazy("Recorded as fixed on the spot."),
    ),
    Action.MARK_INVALID: PageAction(
        ReasonForm,
        lambda user, incident, form: services.incident_mark_invalid(
            incident_id=incident.pk, actor=user, reason=form.cleaned_data["reason"]
        ),
        gettext_lazy("Mark invalid"),
        gettext_lazy("The report was marked invalid."),
    ),
    Action.DISPATCH: PageAction(
        TargetForm,
        lambda user, incident, form: services.incident_dispatch(
            incident_id=incident.pk, actor=user, **form.service_kwargs()
        ),
        gettext_lazy("Dispatch"),
        gettext_lazy("Dispatched."),
        primary=True,
    ),
    Action.CLAIM: PageAction(
        EmptyForm,
        lambda user, incident, form: services.incident_claim(incident_id=incident.pk, actor=user),
        gettext_lazy("Claim (抢单)"),
        gettext_lazy("You claimed it: it is yours now."),
        primary=True,
    ),
    Action.ACCEPT: PageAction(
        NoteForm,
        lambda user, incident, form: services.incident_accept(
            incident_id=incident.pk, actor=user, note=form.cleaned_data.get("note", "")
        ),
        gettext_lazy("Accept"),
        gettext_lazy("Accepted."),
        primary=True,
    ),
    Action.RETURN: PageAction(
        ReasonForm,
        lambda user, incident, form: services.incident_return(
            incident_id=incident.pk, actor=user, reason=form.cleaned_data["reason"]
        ),
        gettext_lazy("Return: not ours"),
        gettext_lazy("Returned to the dispatchers."),
    ),
    Action.REASSIGN: PageAction(
        TargetForm,
        lambda user, incident, form: services.incident_reassign(
            incident_id=incident.pk, actor=user, **form.service_kwargs()
        ),
        gettext_lazy("Reassign"),
        gettext_lazy("Reassigned."),
    ),
    Action.ESCALATE: PageAction(
        ReasonForm,
        lambda user, incident, form: services.incident_escalate(
            incident_id=incident.pk, actor=user, reason=form.cleaned_data["reason"]
        ),
        gettext_lazy("Escalate one level up"),
        gettext_lazy("Escalated one level up."),
    ),
    Action.REQUEST_EXTENSION: PageAction(
        ExtensionForm,
        lambda user, incident, form: services.incident_request_extension(
            incident_id=incident.pk,
            actor=user,
            until=form.cleaned_data["until"],
            reason=form.cleaned_data["reason"],
        ),
        gettext_lazy("Request an extension"),
        gettext_lazy("Extension requested; the dispatchers were told."),
    ),
    Action.APPROVE_EXTENSION: PageAction(
        NoteForm,
        lambda user, incident, form: services.incident_approve_extension(
            incident_id=incident.pk, actor=user, note=form.cleaned_data.get("note", "")
        ),
        gettext_lazy("Approve the extension"),
        gettext_lazy("Extension approved."),
        primary=True,
    ),
    Action.REJECT_EXTENSION: PageAction(
        ReasonForm,
        lambda user, incident, form: services.incident_reject_extension(
            incident_id=incident.pk, actor=user, reason=form.cleaned_data["reason"]
        ),
        gettext_lazy("Refuse the extension"),
        gettext_lazy("Extension refused."),
    ),
    Action.PARK: PageAction(
        ReasonForm,
        lambda user, incident, form: services.incident_park(
            incident_id=incident.pk, actor=user, reason=form.cleaned_data["reason"]
        ),
        gettext_lazy("Park (挂账)"),
        gettext_lazy("Parked."),
    ),
    Action.UNPARK: PageAction(
        UnparkForm,
        lambda user, incident, form: services.incident_unpark(
            incident_id=incident.pk,
            actor=user,
            resolve_by=form.cleaned_data.get("resolve_by"),
            note=form.cleaned_data.get("note", ""),
        ),
        gettext_lazy("Take up again"),
        gettext_lazy("Taken up again with a new deadline."),
    ),
    Action.RESOLVE: PageAction(
        ResolveForm,
        lambda user, incident, form: services.incident_resolve(
            incident_id=incident.pk,
            actor=user,
            result=form.cleaned_data["result"],
            photos=_photos(form),
        ),
        gettext_lazy("Resolve"),
        gettext_lazy("Resolved. Thank you."),
        primary=True,
    ),
    Action.CHECK: PageAction(
        NotePhotosForm,
        lambda user, incident, form: services.incident_check(
            incident_id=incident.pk,
            actor=user,
            note=form.cleaned_data.get("note", ""),
            photos=_photos(form),
        ),
        gettext_lazy("Check: it is fixed"),
        gettext_lazy("Checked. The reporter is told."),
        primary=True,
    ),
    Action.REWORK: PageAction(
        ReasonPhotosForm,
        lambda user, incident, form: services.incident_rework(
            incident_id=incident.pk,
            actor=user,
            reason=form.cleaned_data["reason"],
            photos=_photos(form),
        ),
        gettext_lazy("Rework: not fixed"),
        gettext_lazy("Sent back for rework."),
    ),
    Action.SEND_FEEDBACK: PageAction(
        EmptyForm,
        lambda user, incident, form: services.incident_send_feedback(
            incident_id=incident.pk, actor=user
        ),
        gettext_lazy("Send the result to the reporter"),
        gettext_lazy("The result was sent to the reporter."),
    ),
    Action.RATE: PageAction(
        RateForm,
        lambda user, incident, form: services.incident_rate(
            actor=user,
            incident_id=incident.pk,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data.get("comment", ""),
        ),
        gettext_lazy("Rate the result"),
        gettext_lazy("Thank you for your rating."),
        primary=True,
    ),
    Action.REOPEN: PageAction(
        NoteForm,
        lambda user, incident, form: services.incident_reopen(
            incident_id=incident.pk, actor=user, note=form.cleaned_data.get("note", "")
        ),
        gettext_lazy("Reopen"),
        gettext_lazy("Reopened."),
    ),
    Action.CLOSE: PageAction(
        NoteForm,
        lambda user, incident, form: services.incident_close(
            incident_id=incident.pk, actor=user, note=form.cleaned_data.get("note", "")
        ),
        gettext_lazy("Close"),
        gettext_lazy("Closed."),
    ),
}


def _action_url(name: str, incident: Incident) -> str:
    return reverse(f"incidents:{name}", args=[incident.pk])


_actor_label = selectors.actor_label  # the old name, kept importable


def _render_detail(
    request: HttpRequest,
    incident: Incident,
    *,
    bound: tuple[str, PortalForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    staff = selectors.sees_as_staff(user, incident)
    now = timezone.now()
    timeline = list(selectors.incident_timeline_for(user, incident))
    photos = [photo for event in timeline for photo in event.photos.all()]
    for event in timeline:
        event.actor_label = _actor_label(event, user, staff)
        event.action_label = (
            Action(event.action).label if event.action in Action.values else event.action
        )
        event.to_state_label = IncidentState(event.to_state).label if event.to_state else ""
    actions = []
    for name in selectors.incident_actions_for(user, incident):
        spec = PAGE_ACTIONS.get(name)
        if spec is None:
            continue
        if bound is not None and bound[0] == name:
            form = bound[1]
        else:
            form = spec.form(user=user, incident=incident, prefix=name)
        actions.append(
            {
                "name": name,
                "label": spec.label,
                "form": form,
                "url": _action_url(name, incident),
                "primary": spec.primary,
                "empty": not form.fields,
                "open": bound is not None and bound[0] == name,
            }
        )
    reopen_form = None
    if any(action["name"] == Action.RATE for action in actions):
        reopen_form = RateForm(prefix=Action.RATE, auto_id="id_reopen_%s")
    phone = incident.reporter_phone or (
        incident.reporter.phone if incident.reporter_id and incident.reporter.phone else ""
    )
    own = incident.reporter_id == user.pk
    if phone and not own and _sees_contacts(user):
        record_unmasked(user, incident, ["reporter_phone"])  # PIPL audit trail
    cell = incident.grid_cell
    map_data = {
        "lat": incident.lat,
        "lng": incident.lng,
        "cell": cell.geometry if cell else None,
        "cell_name": cell.name if cell else "",
    }
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "staff": staff,
            "own": own,
            "reporter_phone": phone if (own or _sees_contacts(user)) else mask_phone(phone),
            "timeline": timeline,
            "photos": photos,
            "deadlines": page_selectors.deadlines(incident, now=now),
            "is_overdue": page_selectors.is_overdue(incident, now=now),
            "actions": actions,
            "reopen_form": reopen_form,
            "rate_url": _action_url(Action.RATE, incident),
            "can_refer": staff and page_selectors.can_refer_to_mediation(user, incident),
            **page_selectors.linked_matters(user, incident),
            "map_data": map_data,
            "now": now,
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One incident: map, photos, timeline, deadlines and the actions allowed to me."""
    return _render_detail(request, _incident_or_404(request.user, pk))


@login_required
@require_POST
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One move of the loop: validate the small form, call the service, show the outcome."""
    spec = PAGE_ACTIONS.get(action)
    if spec is None:
        raise Http404
    user = request.user
    incident = _incident_or_404(user, pk)
    form = spec.form(request.POST, request.FILES, user=user, incident=incident, prefix=action)
    if form.is_valid():
        try:
            moved = spec.perform(user, incident, form)
        except ValidationFailed as exc:
            form.add_service_errors(exc.extra, exc.message)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except PermissionDeniedError as exc:
            messages.error(request, exc.message)
            return _render_detail(request, _incident_or_404(user, pk), status=403)
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("incidents:detail", pk=pk)
        else:
            if action == Action.RATE:
                messages.success(request, _rated_message(form.cleaned_data["rating"]))
            else:
                messages.success(request, str(spec.done))
            if selectors.incident_is_visible(user, moved):
                fallback = reverse("incidents:detail", args=[pk])
            else:
                fallback = reverse("incidents:index")
            return redirect(_safe_next(request, fallback))
    messages.error(request, _("Check the form: %(action)s was not done.") % {"action": spec.label})
    return _render_detail(request, _incident_or_404(user, pk), bound=(action, form), status=400)


# --- photos (scoped, never public files) ------------------------------------------------------

PHOTO_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
}


@require_GET
def photo(request: HttpRequest, pk: int, thumb: bool = False) -> HttpResponse:
    """One incident photo (or its thumbnail), streamed to a viewer who may see it: signed in
    and the incident in scope, or an anonymous tracker whose session proved the tracking
    number and phone digits. Anything else is a 404 (the same for a photo that does not
    exist). Media files are never served publicly."""
    try:
        if request.user.is_authenticated:
            item = selectors.photo_get_for_user(user=request.user, photo_id=pk)
        else:
            item = selectors.photo_get_for_tracker(photo_id=pk, tracked=_tracked(request))
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    field = item.thumbnail if thumb and item.thumbnail else item.image
    name = field.name or ""
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    content_type = PHOTO_TYPES.get(suffix)
    if content_type is None:
        raise Http404
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type=content_type)
    filename = f"{item.incident.tracking_number}-{item.pk}{'-thumb' if thumb else ''}{suffix}"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    response["Vary"] = "Cookie"
    return response


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
