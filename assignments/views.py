"""Pages of tasks from above (/tasks/): 我的任务 for workers, issuing and following tasks for
offices, one assignment's page with its moves, the printable receipt (送达回证), campaigns and
their progress board. Thin: forms check the shape, services decide; an ApplicationError becomes
a message on the page, never a 500. Anything out of scope is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from assignments import exports, policies, selectors, services
from assignments.evidence import form_answers_labelled
from assignments.forms import (
    CampaignForm,
    CompleteForm,
    ReasonForm,
    ReassignForm,
    TaskIssueForm,
)
from assignments.models import GRAPH, AssignmentAction, AssignmentState
from core.exceptions import ApplicationError

A = AssignmentAction
WORKER_ACTIONS = (A.ACCEPT, A.COMPLETE, A.RETURN)
OFFICE_ACTIONS = (A.REASSIGN, A.CANCEL, A.REOPEN)


def _apply_errors(form, exc: ApplicationError) -> None:
    """A service's field messages onto the form (answers: answer_<name>; unknown: the form)."""
    placed = False
    for field, errors in (exc.extra or {}).items():
        for name in (field, f"answer_{field}"):
            if name in form.fields:
                for error in errors:
                    form.add_error(name, error)
                placed = True
                break
    if not placed:
        form.add_error(None, exc.message)


def _require_office_staff(user) -> None:
    if not (policies.is_issuer(user) or user.role_codes & policies.AREA_ROLES):
        raise PermissionDenied


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """我的任务: what waits for the worker, then what they finished."""
    mine = list(selectors.assignments_mine(request.user)[:200])
    open_items = [a for a in mine if a.is_open or a.state == AssignmentState.RETURNED]
    finished = [a for a in mine if a.state == AssignmentState.DONE][:50]
    return render(
        request,
        "assignments/mine.html",
        {
            "open_items": [a for a in open_items if a.state != AssignmentState.RETURNED],
            "finished": finished,
            "is_office": policies.is_issuer(request.user)
            or bool(request.user.role_codes & policies.AREA_ROLES),
        },
    )


@login_required
def issued(request: HttpRequest) -> HttpResponse:
    _require_office_staff(request.user)
    tasks = list(selectors.tasks_for_office(request.user)[:200])
    counts = {}
    for row in (
        selectors.assignments_visible(request.user)
        .filter(task__in=tasks)
        .values_list("task_id", "state")
    ):
        counts.setdefault(row[0], {}).setdefault(row[1], 0)
        counts[row[0]][row[1]] += 1
    for task in tasks:
        task.state_counts = counts.get(task.pk, {})
    return render(
        request,
        "assignments/issued.html",
        {"tasks": tasks, "may_issue": policies.is_issuer(request.user)},
    )


def _issue_form(request: HttpRequest, data=None, files=None) -> TaskIssueForm:
    user = request.user
    return TaskIssueForm(
        data,
        files,
        kinds=selectors.kinds_active(),
        campaigns=selectors.campaigns_issuable(user),
        cells=selectors.issuable_cells(user),
        communities=selectors.issuable_communities(user),
        workers=selectors.issuable_workers(user),
    )


@login_required
def task_new(request: HttpRequest) -> HttpResponse:
    if not policies.is_issuer(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = _issue_form(request, request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                task = services.task_issue(
                    issuer=request.user,
                    kind_id=data["kind"].pk,
                    title=data["title"],
                    instructions=data["instructions"],
                    deadline=data["deadline"],
                    cell_ids=[c.pk for c in data["cells"]],
                    community_ids=[c.pk for c in data["communities"]],
                    worker_ids=[w.pk for w in data["workers"]],
                    requires_photo=data["requires_photo"],
                    requires_signature=data["requires_signature"],
                    requires_gps=data["requires_gps"],
                    form_fields=data["form_fields"],
                    campaign_id=data["campaign"].pk if data["campaign"] else None,
                    attachments=data["attachments"],
                    service=services.ServiceInput(
                        document_title=data["document_title"],
                        case_number=data["case_number"],
                        authority=data["authority"],
                        addressee_name=data["addressee_name"],
                        addressee_phone=data["addressee_phone"],
                        addressee_id_number=data["addressee_id_number"],
                        addressee_address=data["addressee_address"],
                    ),
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Task issued."))
                return redirect("assignments:task", task.pk)
    else:
        initial = {}
        campaign_id = request.GET.get("campaign", "")
        if campaign_id.isdigit():
            initial["campaign"] = int(campaign_id)
        form = _issue_form(request)
        form.initial.update(initial)
    return render(request, "assignments/task_new.html", {"form": form})


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        task = selectors.task_get_for_user(user=request.user, task_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    assignments = list(task.assignments.select_related("cell", "worker").order_by("id"))
    return render(
        request,
        "assignments/task_detail.html",
        {
            "task": task,
            "assignments": assignments,
            "may_manage": policies.may_manage(request.user, task),
            "cancel_form": ReasonForm(),
        },
    )


@login_required
@require_POST
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError(_("Give a reason."))
        count = services.task_cancel(
            task_id=pk, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        if exc.status_code == 403:
            raise PermissionDenied from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(count)s assignments withdrawn.") % {"count": count})
    return redirect("assignments:task", pk)


def _assignment_context(request: HttpRequest, assignment, forms: dict | None = None) -> dict:
    user = request.user
    is_assignee = policies.is_assignee(user, assignment)
    may_manage = policies.may_manage(user, assignment.task)
    state = assignment.state
    actions = [
        action
        for action in (WORKER_ACTIONS if is_assignee else ())
        + (OFFICE_ACTIONS if may_manage else ())
        if GRAPH.can(action, state)
    ]
    if A.ACCEPT in actions and assignment.accepted_at is not None:
        actions.remove(A.ACCEPT)
    if A.COMPLETE in actions and (
        assignment.accepted_at is None or assignment.worker_id != user.pk
    ):
        actions.remove(A.COMPLETE)
    forms = forms or {}
    if A.COMPLETE in actions:
        forms.setdefault("complete", CompleteForm(task=assignment.task))
    if A.RETURN in actions:
        forms.setdefault("return", ReasonForm(prefix="return"))
    if A.CANCEL in actions:
        forms.setdefault("cancel", ReasonForm(prefix="cancel"))
    if A.REOPEN in actions:
        forms.setdefault("reopen", ReasonForm(prefix="reopen"))
    if A.REASSIGN in actions:
        forms.setdefault(
            "reassign", ReassignForm(workers=selectors.issuable_workers(assignment.task.issuer))
        )
    labels = {
        A.RETURN: _("Return the task"),
        A.CANCEL: _("Withdraw"),
        A.REOPEN: _("Send back for rework"),
    }
    reason_forms = [
        {
            "name": str(action),
            "form": forms[str(action)],
            "url": reverse(f"assignments:assignment_{action}", args=[assignment.pk]),
            "label": labels[action],
        }
        for action in (A.RETURN, A.CANCEL, A.REOPEN)
        if str(action) in forms
    ]
    return {
        "reason_forms": reason_forms,
        "assignment": assignment,
        "task": assignment.task,
        "service": getattr(assignment.task, "service", None),
        "addressee": selectors.addressee_for_viewer(assignment, user),
        "actions": actions,
        "forms": forms,
        "answers": form_answers_labelled(assignment.task.form_fields, assignment.form_answers),
        "events": assignment.events.select_related("actor"),
        "attachments": assignment.task.attachments.all(),
        "is_assignee": is_assignee,
        "may_manage": may_manage,
        "is_office": policies.is_issuer(user) or bool(user.role_codes & policies.AREA_ROLES),
    }


def _assignment(request: HttpRequest, pk: int):
    try:
        return selectors.assignment_get_for_user(user=request.user, assignment_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc


@login_required
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = _assignment(request, pk)
    return render(request, "assignments/assignment.html", _assignment_context(request, assignment))


@login_required
@require_POST
def assignment_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    assignment = _assignment(request, pk)
    user = request.user
    form = None
    try:
        if action == A.ACCEPT:
            services.assignment_accept(assignment_id=pk, actor=user)
            messages.success(request, _("Task accepted."))
        elif action == A.COMPLETE:
            form = CompleteForm(request.POST, request.FILES, task=assignment.task)
            if not form.is_valid():
                raise ApplicationError(_("Check the form."))
            data = form.cleaned_data
            services.assignment_complete(
                assignment_id=pk,
                actor=user,
                evidence=services.Evidence(
                    note=data.get("note", ""),
                    answers=form.answers(),
                    latitude=data.get("latitude"),
                    longitude=data.get("longitude"),
                    photo=data.get("photo"),
                    signature=data.get("signature", ""),
                    outcome=data.get("outcome", ""),
                    served_at=data.get("served_at"),
                    served_place=data.get("served_place", ""),
                    not_signed_reason=data.get("not_signed_reason", ""),
                ),
            )
            messages.success(request, _("Result handed in."))
        elif action in (A.RETURN, A.CANCEL, A.REOPEN):
            form = ReasonForm(request.POST, prefix=str(action))
            if not form.is_valid():
                raise ApplicationError(_("Give a reason."))
            move = {
                A.RETURN: services.assignment_return,
                A.CANCEL: services.assignment_cancel,
                A.REOPEN: services.assignment_reopen,
            }[AssignmentAction(action)]
            move(assignment_id=pk, actor=user, reason=form.cleaned_data["reason"])
            messages.success(request, _("Done."))
        elif action == A.REASSIGN:
            form = ReassignForm(
                request.POST, workers=selectors.issuable_workers(assignment.task.issuer)
            )
            if not form.is_valid():
                raise ApplicationError(_("Choose a grid worker inside the task's region."))
            services.assignment_reassign(
                assignment_id=pk, actor=user, worker_id=form.cleaned_data["worker"].pk
            )
            messages.success(request, _("Task reassigned."))
        else:
            raise Http404
    except ApplicationError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        if exc.status_code == 403:
            raise PermissionDenied from exc
        if form is not None:
            _apply_errors(form, exc)
        key = {A.RETURN: "return", A.CANCEL: "cancel", A.REOPEN: "reopen"}.get(action, action)
        context = _assignment_context(
            request, _assignment(request, pk), {str(key): form} if form is not None else None
        )
        context["error"] = exc.message
        return render(request, "assignments/assignment.html", context, status=400)
    return redirect("assignments:assignment", pk)


@login_required
@require_GET
def receipt(request: HttpRequest, pk: int) -> HttpResponse:
    """送达回证: the printable receipt of a service of documents, once the worker recorded it."""
    assignment = _assignment(request, pk)
    service = getattr(assignment.task, "service", None)
    if (
        service is None
        or assignment.state != AssignmentState.DONE
        or not assignment.delivery_outcome
    ):
        raise Http404
    return render(
        request,
        "assignments/receipt.html",
        {
            "assignment": assignment,
            "task": assignment.task,
            "service": service,
            "addressee": selectors.addressee_for_viewer(assignment, request.user),
        },
    )


@login_required
@require_GET
def evidence(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The photo or the signature of an assignment: scoped, never a public file."""
    assignment = _assignment(request, pk)
    field = {"photo": assignment.photo, "signature": assignment.signature}.get(kind)
    if not field:
        raise Http404
    try:
        handle = field.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(handle, content_type="image/jpeg")
    response["Content-Disposition"] = f'inline; filename="{kind}-{assignment.pk}.jpg"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=600"
    return response


@login_required
@require_GET
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    try:
        item = selectors.attachment_get_for_user(user=request.user, attachment_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    try:
        handle = item.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    return FileResponse(handle, as_attachment=True, filename=item.name)


@login_required
def campaigns(request: HttpRequest) -> HttpResponse:
    _require_office_staff(request.user)
    return render(
        request,
        "assignments/campaigns.html",
        {
            "campaigns": selectors.campaigns_for_user(request.user)[:200],
            "may_issue": policies.is_issuer(request.user),
        },
    )


@login_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    if not policies.is_issuer(request.user):
        raise PermissionDenied
    form = CampaignForm(request.POST or None, regions=selectors.issuable_regions(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = services.campaign_create(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                region_id=data["region"].pk,
                deadline=data["deadline"],
            )
        except ApplicationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Campaign created."))
            return redirect("assignments:campaign", campaign.pk)
    return render(request, "assignments/campaign_new.html", {"form": form})


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    return render(
        request,
        "assignments/campaign.html",
        {
            "campaign": campaign,
            "progress": selectors.campaign_progress(campaign),
            "tasks": campaign.tasks.select_related("kind").order_by("-id"),
            "may_issue": policies.may_issue_into(request.user, campaign.region.code) is not None,
        },
    )


@login_required
@require_GET
def campaign_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress board as xlsx (those who see the campaign)."""
    try:
        campaign = selectors.campaign_get_for_user(user=request.user, campaign_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    response = HttpResponse(
        exports.campaign_xlsx(user=request.user, campaign=campaign),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}.xlsx"'
    return response
