"""Shared steps of the assignment services: load under lock with the scope check, the timeline
row, the notices (texts in the portal's default language)."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from assignments import policies
from assignments.models import Assignment, AssignmentEvent, AssignmentState
from core import workflow
from core.exceptions import ConflictError, NotFoundError
from core.services import notification_send
from grids.models import GridWorker


def default_language():
    """Stored texts (notifications) are in the portal's default language (Chinese)."""
    return translation.override(settings.LANGUAGE_CODE)


def conflict(assignment: Assignment, action: str, target: str | None) -> ConflictError:
    return ConflictError(
        _("This task cannot be changed that way while it is “%(state)s”.")
        % {"state": assignment.get_state_display()},
        extra={"state": [assignment.state]},
    )


def load(assignment_id: int, actor: User) -> Assignment:
    """The assignment locked for this transaction; 404 when it is missing or not visible."""
    not_found = NotFoundError(_("Task not found."))
    assignment = workflow.lock(
        Assignment.objects.select_related("task", "task__office_region", "task__kind"),
        assignment_id,
        of=("self",),
        not_found=not_found,
    )
    if not policies.may_see_assignment(actor, assignment):
        raise not_found
    return assignment


def event(
    assignment: Assignment,
    *,
    actor: User | None,
    action: str,
    from_state: str | None = None,
    note: str = "",
    data: dict | None = None,
) -> AssignmentEvent:
    """The timeline row: a move (from_state given; "" on creation) ends in the current state;
    a side event (a warning, an escalation) has neither."""
    return workflow.record(
        AssignmentEvent,
        assignment,
        actor=actor,
        action=action,
        from_state=from_state or "",
        to_state="" if from_state is None else assignment.state,
        note=note,
        data=data,
    )


def assignment_url(assignment: Assignment) -> str:
    return reverse("assignments:assignment", args=[assignment.pk])


def cell_worker_ids(cell_id: int | None) -> list[int]:
    if not cell_id:
        return []
    return list(
        GridWorker.objects.filter(cells=cell_id, on_duty=True, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


def worker_ids_for(assignment: Assignment) -> list[int]:
    """Who works on it: the worker, else the cell's workers on duty."""
    if assignment.worker_id:
        return [assignment.worker_id]
    return cell_worker_ids(assignment.cell_id)


def supervisors_of(region_code: str) -> list[int]:
    """Supervisors whose scope region is exactly this region."""
    return list(
        User.objects.filter(
            is_active=True, roles__code=RoleCode.SUPERVISOR, scope_region__code=region_code
        ).values_list("pk", flat=True)
    )


def notify(user_ids: Iterable[int | None], *, title: str, assignment: Assignment, key: str) -> int:
    return notification_send(
        user_ids=user_ids,
        title=title,
        body=assignment.task.title,
        url=assignment_url(assignment),
        dedupe_key=f"assignment-{assignment.pk}-{key}",
    )


S = AssignmentState
