"""The moves of one assignment: the worker accepts, completes (with the evidence) or returns it;
the office reassigns a returned one, cancels, or sends a done one back for rework.

Each runs in one transaction: lock (with the scope check: 404), role (403), state (409, the
declared GRAPH), save, one timeline row, the inbox messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from assignments import policies
from assignments.evidence import form_answers_clean, location_clean, photo_clean, signature_clean
from assignments.models import GRAPH, Assignment, AssignmentAction, DeliveryOutcome
from assignments.services._common import (
    S,
    conflict,
    default_language,
    event,
    load,
    notify,
    worker_ids_for,
)
from core import workflow
from core.exceptions import PermissionDeniedError, ValidationFailed

A = AssignmentAction
SERVED_AT_TOLERANCE = timedelta(minutes=10)


@dataclass
class Evidence:
    """What the worker hands in. `signature` is the PNG data URL of the drawing."""

    note: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    latitude: Any = None
    longitude: Any = None
    photo: Any = None
    signature: str = ""
    outcome: str = ""
    served_at: datetime | None = None
    served_place: str = ""
    not_signed_reason: str = ""


def _require_assignee(actor: User, assignment: Assignment) -> None:
    if not policies.is_assignee(actor, assignment):
        raise PermissionDeniedError(_("Only the grid worker of this task may do that."))


def _require_manager(actor: User, assignment: Assignment) -> None:
    if not policies.may_manage(actor, assignment.task):
        raise PermissionDeniedError(_("Only the issuing office may do that."))


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _("Give a reason."), extra={"reason": [_("This field is required.")]}
        )
    return reason


def assignment_accept(*, assignment_id: int, actor: User) -> Assignment:
    """The worker (or a worker of the cell) takes the task; it becomes theirs."""
    with transaction.atomic():
        assignment = load(assignment_id, actor)
        _require_assignee(actor, assignment)
        workflow.check(assignment, GRAPH, A.ACCEPT, conflict=conflict)
        if assignment.accepted_at is not None:
            raise conflict(assignment, A.ACCEPT, None)
        previous = workflow.move(assignment, GRAPH, A.ACCEPT, conflict=conflict)
        assignment.worker = actor
        assignment.accepted_at = timezone.now()
        assignment.save()
        event(assignment, actor=actor, action=A.ACCEPT, from_state=previous)
    return assignment


def _evidence_errors(
    assignment: Assignment, evidence: Evidence, now: datetime
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The cleaned evidence (files, answers, location) and the field messages."""
    task = assignment.task
    is_service = task.kind.is_service_of_documents
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    try:
        cleaned["answers"] = form_answers_clean(task.form_fields, evidence.answers or {})
    except ValidationFailed as exc:
        errors.update(exc.extra)
    photo_gps = None
    if evidence.photo:
        try:
            cleaned["photo"], photo_gps = photo_clean(evidence.photo)
        except ValidationFailed as exc:
            errors["photo"] = [exc.message]
    elif task.requires_photo:
        errors["photo"] = [_("Take a photo.")]
    try:
        location = location_clean(evidence.latitude, evidence.longitude)
    except ValidationFailed as exc:
        errors.update(exc.extra)
        location = None
    if location is None and photo_gps is not None:
        location = location_clean(*photo_gps)
    if location is None and task.requires_gps:
        errors.setdefault("latitude", [_("Record the location (GPS).")])
    cleaned["location"] = location
    outcome = evidence.outcome if is_service else ""
    needs_signature = task.requires_signature and (
        not is_service or outcome == DeliveryOutcome.DELIVERED
    )
    if evidence.signature and (needs_signature or not is_service):
        try:
            cleaned["signature"] = signature_clean(evidence.signature)
        except ValidationFailed as exc:
            errors["signature"] = [exc.message]
    elif needs_signature:
        errors["signature"] = [_("The addressee's signature is required.")]
    if is_service:
        if outcome not in DeliveryOutcome.values:
            errors["outcome"] = [_("Choose delivered, refused or not found.")]
        elif outcome != DeliveryOutcome.DELIVERED and not evidence.not_signed_reason.strip():
            errors["not_signed_reason"] = [_("Say why the addressee did not sign.")]
        served_at = evidence.served_at or now
        if served_at > now + SERVED_AT_TOLERANCE or served_at < task.created_at:
            errors["served_at"] = [_("The time of service must lie between the issue and now.")]
        if not evidence.served_place.strip():
            errors["served_place"] = [_("This field is required.")]
        cleaned["served_at"] = served_at
    if not is_service and not (evidence.note or "").strip() and not task.form_fields:
        errors["note"] = [_("Say what was done.")]
    return cleaned, errors


def assignment_complete(
    *, assignment_id: int, actor: User, evidence: Evidence, now: datetime | None = None
) -> Assignment:
    """The worker hands in the result with the evidence the task asks for, checked on the server
    (photo, signature, location, the issuer's form; a service's outcome, time and place). A
    refusal writes nothing. The issuer gets an inbox message; a service's receipt is ready."""
    now = now or timezone.now()
    with transaction.atomic():
        assignment = load(assignment_id, actor)
        if assignment.worker_id != actor.pk:
            _require_assignee(actor, assignment)
            if assignment.worker_id is None:
                raise ValidationFailed(_("Accept the task first."))
        workflow.check(assignment, GRAPH, A.COMPLETE, conflict=conflict)
        if assignment.accepted_at is None:
            raise ValidationFailed(_("Accept the task first."))
        cleaned, errors = _evidence_errors(assignment, evidence, now)
        if errors:
            raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
        previous = workflow.move(assignment, GRAPH, A.COMPLETE, conflict=conflict)
        assignment.done_at = now
        assignment.result_note = (evidence.note or "").strip()
        assignment.form_answers = cleaned.get("answers", {})
        if cleaned["location"] is not None:
            assignment.latitude, assignment.longitude = cleaned["location"]
        if "photo" in cleaned:
            assignment.photo.save("photo.jpg", cleaned["photo"], save=False)
        if "signature" in cleaned:
            assignment.signature.save("signature.jpg", cleaned["signature"], save=False)
        if assignment.task.kind.is_service_of_documents:
            assignment.delivery_outcome = evidence.outcome
            assignment.served_at = cleaned["served_at"]
            assignment.served_place = evidence.served_place.strip()[:200]
            assignment.not_signed_reason = (
                "" if evidence.outcome == DeliveryOutcome.DELIVERED else evidence.not_signed_reason
            ).strip()
        assignment.save()
        event(
            assignment,
            actor=actor,
            action=A.COMPLETE,
            from_state=previous,
            note=assignment.result_note,
            data={"outcome": assignment.delivery_outcome} if assignment.delivery_outcome else None,
        )
        with default_language():
            notify(
                [assignment.task.issuer_id],
                title=_("Task done: %(title)s") % {"title": assignment.task.title},
                assignment=assignment,
                key=f"done-{now:%Y%m%d%H%M%S}",
            )
    return assignment


def assignment_return(*, assignment_id: int, actor: User, reason: str) -> Assignment:
    """The worker gives it back with a reason (not their cell, cannot be done); the office is
    told and may reassign it."""
    reason = _reason(reason)
    with transaction.atomic():
        assignment = load(assignment_id, actor)
        _require_assignee(actor, assignment)
        previous = workflow.move(assignment, GRAPH, A.RETURN, conflict=conflict)
        assignment.return_reason = reason
        assignment.worker = assignment.worker or actor
        assignment.save()
        event(assignment, actor=actor, action=A.RETURN, from_state=previous, note=reason)
        with default_language():
            notify(
                [assignment.task.issuer_id],
                title=_("Task returned: %(title)s") % {"title": assignment.task.title},
                assignment=assignment,
                key=f"returned-{assignment.events.count()}",
            )
    return assignment


def assignment_reassign(*, assignment_id: int, actor: User, worker_id: int) -> Assignment:
    """The office gives a returned assignment to another grid worker inside its region."""
    with transaction.atomic():
        assignment = load(assignment_id, actor)
        _require_manager(actor, assignment)
        workflow.check(assignment, GRAPH, A.REASSIGN, conflict=conflict)
        worker = (
            User.objects.filter(pk=worker_id, is_active=True, roles__code=RoleCode.GRID_WORKER)
            .select_related("scope_region")
            .first()
        )
        if worker is None or not (
            worker.scope_region is not None
            and assignment.task.office_region.contains_code(worker.scope_region.code)
        ):
            raise ValidationFailed(
                _("Choose a grid worker inside the task's region."),
                extra={"worker": [_("Choose a grid worker inside the task's region.")]},
            )
        if (
            Assignment.objects.filter(task=assignment.task, worker=worker, cell__isnull=True)
            .exclude(pk=assignment.pk)
            .exists()
        ):
            raise ValidationFailed(
                _("This worker already has this task."),
                extra={"worker": [_("This worker already has this task.")]},
            )
        previous = workflow.move(assignment, GRAPH, A.REASSIGN, conflict=conflict)
        assignment.worker = worker
        assignment.accepted_at = None
        assignment.save()
        event(
            assignment,
            actor=actor,
            action=A.REASSIGN,
            from_state=previous,
            data={"worker": worker.pk},
        )
        with default_language():
            notify(
                [worker.pk],
                title=_("New task from %(office)s: due %(date)s")
                % {
                    "office": assignment.task.office,
                    "date": timezone.localtime(assignment.due_at).strftime("%Y-%m-%d %H:%M"),
                },
                assignment=assignment,
                key=f"reassigned-{worker.pk}",
            )
    return assignment


def assignment_cancel(*, assignment_id: int, actor: User, reason: str) -> Assignment:
    """The office withdraws it (撤回) with a reason; the worker is told."""
    reason = _reason(reason)
    with transaction.atomic():
        assignment = load(assignment_id, actor)
        _require_manager(actor, assignment)
        previous = workflow.move(assignment, GRAPH, A.CANCEL, conflict=conflict)
        assignment.save()
        event(assignment, actor=actor, action=A.CANCEL, from_state=previous, note=reason)
        with default_language():
            notify(
                worker_ids_for(assignment),
                title=_("Task withdrawn: %(title)s") % {"title": assignment.task.title},
                assignment=assignment,
                key="cancelled",
            )
    return assignment


def assignment_reopen(*, assignment_id: int, actor: User, reason: str) -> Assignment:
    """The office sends a done assignment back for rework (the result was not good enough); the
    worker hands it in again. The earlier result stays on the timeline."""
    reason = _reason(reason)
    with transaction.atomic():
        assignment = load(assignment_id, actor)
        _require_manager(actor, assignment)
        previous = workflow.move(assignment, GRAPH, A.REOPEN, conflict=conflict)
        data = {
            "result": assignment.result_note,
            "outcome": assignment.delivery_outcome,
            "done_at": assignment.done_at.isoformat() if assignment.done_at else "",
        }
        assignment.done_at = None
        assignment.delivery_outcome = ""
        assignment.save()
        event(assignment, actor=actor, action=A.REOPEN, from_state=previous, note=reason, data=data)
        with default_language():
            notify(
                [assignment.worker_id],
                title=_("Task sent back for rework: %(title)s") % {"title": assignment.task.title},
                assignment=assignment,
                key=f"reopened-{assignment.events.count()}",
            )
    return assignment


__all__ = [
    "Evidence",
    "S",
    "assignment_accept",
    "assignment_cancel",
    "assignment_complete",
    "assignment_reassign",
    "assignment_reopen",
    "assignment_return",
]
