"""The dispatch queue (htmx live rows, bulk assign), the overdue board and workload: view
functions only; the queue's data and hand-written HTML are incidents.queue_html."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ApplicationError
from incidents import page_selectors, queue_html, selectors, services
from incidents.forms import BulkAssignForm
from incidents.models import Incident
from incidents.queue_html import QUEUE_PAGE_SIZE, queue_page_context, workload_html
from incidents.views._common import S, _mark_overdue, _require_queue_role, _safe_next

# The queue page's workload panel arrives after the page (htmx) and is read again this often.
WORKLOAD_REFRESH_SECONDS = 60


# --- the dispatch queue -----------------------------------------------------------------------


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The dispatch queue: filters, sorted by deadline, bulk assign, workload; the table body
    refreshes itself every few seconds (htmx) while nothing is selected. The workload panel is
    only a placeholder here: htmx fetches it (queue_workload) once the page has loaded."""
    user = request.user
    _require_queue_role(user)
    context = queue_page_context(request)
    context.update(
        {
            "bulk_fields_html": queue_html.queue_bulk_fields_html(user),
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
    return HttpResponse(queue_page_context(request, with_form=False)["rows_html"])


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
    # Only the table (queue_html.workload_html): no template, no context
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
            # The table, as the queue page's panel writes it (queue_html.workload_html).
            "workload_html": workload_html(selectors.workload_per_worker(region)) if region else "",
        },
    )
