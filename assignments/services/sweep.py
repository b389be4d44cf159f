"""The deadline sweep (Celery beat, assignments.tasks.sweep_deadlines), like the incident loop's:
warn the worker before the deadline, flag what is overdue (worker and issuer told), then escalate
an overdue assignment one level up every `escalate_hours` of its kind (community and street
supervisors, then the district's, then the city's), the issuer told each time."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from assignments.models import GRAPH, Assignment, AssignmentAction, TaskKind
from assignments.services._common import (
    S,
    default_language,
    event,
    notify,
    supervisors_of,
    worker_ids_for,
)
from core import workflow
from grids.models import Region

A = AssignmentAction
MAX_ESCALATION = 3
LOCKED = Assignment.objects.select_related("task", "task__kind")


def _levels(region_code: str) -> list[list[str]]:
    """Region codes to escalate to, per escalation level (1: community and street, 2: district,
    3: city)."""
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        return [[], [], []]
    chain = [region, *region.ancestors()]
    by_level = {r.level: r.code for r in chain}
    return [
        [code for code in (by_level.get("community"), by_level.get("street")) if code],
        [code for code in (by_level.get("district"),) if code],
        [code for code in (by_level.get("city"),) if code],
    ]


def assignments_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """Idempotent: each assignment is re-read under a lock and checked again; notices are
    deduped (a second run, or two overlapping ones, change nothing)."""
    now = now or timezone.now()
    counts = {"warned": 0, "overdue": 0, "escalated": 0}
    longest = TaskKind.objects.aggregate(longest=Max("warn_hours"))["longest"] or 0

    to_warn = Assignment.objects.filter(
        state__in=[S.ISSUED, S.ACCEPTED], due_at__gt=now, due_at__lte=now + timedelta(hours=longest)
    ).filter(Q(warned_for__isnull=True) | ~Q(warned_for=F("due_at")))
    for assignment_id in list(to_warn.values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = workflow.lock(LOCKED, assignment_id, of=("self",))
            window = timedelta(hours=assignment.task.kind.warn_hours)
            if (
                not GRAPH.can(A.WARN, assignment.state)
                or assignment.warned_for == assignment.due_at
            ):
                continue
            if not (now < assignment.due_at <= now + window):
                continue
            assignment.warned_for = assignment.due_at
            assignment.save(update_fields=["warned_for", "updated_at"])
            event(assignment, actor=None, action=A.WARN)
            with default_language():
                notify(
                    worker_ids_for(assignment),
                    title=_("Task due %(date)s: %(title)s")
                    % {
                        "date": timezone.localtime(assignment.due_at).strftime("%Y-%m-%d %H:%M"),
                        "title": assignment.task.title,
                    },
                    assignment=assignment,
                    key=f"warn-{assignment.due_at:%Y%m%d%H%M}",
                )
            counts["warned"] += 1

    to_flag = Assignment.objects.filter(state__in=[S.ISSUED, S.ACCEPTED], due_at__lt=now)
    for assignment_id in list(to_flag.values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = workflow.lock(LOCKED, assignment_id, of=("self",))
            if not GRAPH.can(A.OVERDUE, assignment.state) or assignment.due_at >= now:
                continue
            previous = workflow.move(assignment, GRAPH, A.OVERDUE)
            assignment.overdue_since = now
            assignment.ever_overdue = True
            assignment.save()
            event(assignment, actor=None, action=A.OVERDUE, from_state=previous)
            with default_language():
                notify(
                    [*worker_ids_for(assignment), assignment.task.issuer_id],
                    title=_("Task overdue: %(title)s") % {"title": assignment.task.title},
                    assignment=assignment,
                    key=f"overdue-{assignment.due_at:%Y%m%d%H%M}",
                )
            counts["overdue"] += 1

    to_escalate = Assignment.objects.filter(
        state=S.OVERDUE, escalation_level__lt=MAX_ESCALATION, overdue_since__isnull=False
    )
    for assignment_id in list(to_escalate.values_list("pk", flat=True)):
        with transaction.atomic():
            assignment = workflow.lock(LOCKED, assignment_id, of=("self",))
            if assignment.state != S.OVERDUE or assignment.overdue_since is None:
                continue
            level = assignment.escalation_level
            step = timedelta(hours=assignment.task.kind.escalate_hours)
            if level >= MAX_ESCALATION or now < assignment.overdue_since + step * (level + 1):
                continue
            assignment.escalation_level = level + 1
            assignment.escalated_at = now
            assignment.save(update_fields=["escalation_level", "escalated_at", "updated_at"])
            codes = _levels(assignment.region_code)[level]
            recipients = [user_id for code in codes for user_id in supervisors_of(code)]
            event(
                assignment,
                actor=None,
                action=A.ESCALATE,
                data={"level": level + 1, "regions": codes},
            )
            with default_language():
                notify(
                    [*recipients, assignment.task.issuer_id],
                    title=_("Overdue task escalated (level %(level)s): %(title)s")
                    % {"level": level + 1, "title": assignment.task.title},
                    assignment=assignment,
                    key=f"escalate-{level + 1}",
                )
            counts["escalated"] += 1
    return counts
