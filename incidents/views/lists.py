"""Where each role starts, and the personal lists: my tasks, my reports."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode
from incidents import page_selectors, selectors
from incidents.queue_html import QUEUE_PAGE_SIZE
from incidents.views._common import _mark_overdue

TASK_ROLES = (RoleCode.GRID_WORKER, RoleCode.DEPARTMENT_HANDLER, RoleCode.DISPATCHER)
LIST_LIMIT = 100


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
