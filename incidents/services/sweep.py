"""The minute deadline sweep, in bulk: re-send stuck tasks, close unrated work, escalate overdue
work, warn before deadlines. Each part is one transaction over the indexed alarm columns, in
batches; its bulk moves are checked against the declared graph (core.workflow.check_bulk).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.services import Notice, notifications_send_many
from core.transactions import enqueue_on_commit
from core.workflow import check_bulk
from grids.models import Region
from incidents.models import (
    GRAPH,
    Action,
    Incident,
    IncidentEvent,
    IncidentState,
)
from incidents.services._steps import (
    _fmt,
    _incident_path,
    _now,
)
from incidents.services.deadlines import (
    ESCALATABLE_STATES,
)
from incidents.services.handling import EscalationContext, _apply_escalation

logger = logging.getLogger(__name__)


# --- the deadline sweep (bulk) ----------------------------------------------------------------


@dataclass
class SweepResult:
    re_enqueued: int = 0
    closed: int = 0
    escalated: int = 0
    warned: int = 0


SWEEP_BATCH = 1000  # per kind of work and run; the rest waits for the next minute
STUCK_TASKS = {
    IncidentState.REPORTED: "locate_and_assign",
    IncidentState.VERIFIED: "route",
    IncidentState.REOPENED: "route",
    IncidentState.RESOLVED: "send_feedback",
    IncidentState.CHECKED: "send_feedback",
    IncidentState.RATED: "apply_rating",
}


def _locked_batch(qs):
    """Lock a batch without waiting for rows another transaction holds (PostgreSQL)."""
    from django.db import connection

    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_for_update()


def incidents_re_enqueue_stuck(*, now: datetime | None = None) -> int:
    """Re-send the task of incidents whose task left no trace (the state did not move for
    settings.INCIDENT_TASK_STUCK_MINUTES after it was enqueued). While many tasks wait in the
    broker's queue (a backlog after an outage), an old task may just be waiting: then only
    those never sent (tasks.NOT_SENT) go, so a backlog is not sent twice."""
    from core.celery_base import queue_backlog
    from incidents.tasks import NOT_SENT

    now = now or _now()
    cutoff = now - timedelta(minutes=settings.INCIDENT_TASK_STUCK_MINUTES)
    if queue_backlog() > settings.INCIDENT_REDRIVE_MAX_BACKLOG:
        cutoff = NOT_SENT
    with transaction.atomic():
        rows = list(
            _locked_batch(
                Incident.objects.filter(state__in=list(STUCK_TASKS), task_enqueued_at__lte=cutoff)
            )
            .order_by("task_enqueued_at")
            .values_list("pk", "state")[:SWEEP_BATCH]
        )
        if not rows:
            return 0
        Incident.objects.filter(pk__in=[pk for pk, _state in rows]).update(task_enqueued_at=now)
        from incidents import tasks

        for pk, state in rows:
            enqueue_on_commit(getattr(tasks, STUCK_TASKS[state]), pk)
    logger.info("incident sweep: re-enqueued %d stuck incidents", len(rows))
    return len(rows)


def incidents_close_unrated(*, now: datetime | None = None) -> int:
    """Close incidents whose rating window ran out without a rating (system event each)."""
    now = now or _now()
    with transaction.atomic():
        ids = list(
            _locked_batch(
                Incident.objects.filter(state=IncidentState.FEEDBACK_SENT, due_at__lte=now)
            ).values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if not ids:
            return 0
        # A bulk move like any other: the declared graph must allow it.
        check_bulk(GRAPH, Action.CLOSE, [IncidentState.FEEDBACK_SENT], IncidentState.CLOSED)
        Incident.objects.filter(pk__in=ids, state=IncidentState.FEEDBACK_SENT).update(
            state=IncidentState.CLOSED,
            closed_at=now,
            due_at=None,
            warn_at=None,
            escalate_at=None,
            task_enqueued_at=None,
            updated_at=now,
        )
        with translation.override(settings.LANGUAGE_CODE):
            note = str(_("Not rated within the rating window: closed."))
        IncidentEvent.objects.bulk_create(
            [
                IncidentEvent(
                    incident_id=pk,
                    actor=None,
                    action=Action.CLOSE,
                    from_state=IncidentState.FEEDBACK_SENT,
                    to_state=IncidentState.CLOSED,
                    note=note,
                    created_at=now,
                )
                for pk in ids
            ]
        )
    return len(ids)


def incidents_escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate, one level up, every incident whose escalate_at has passed (system events).
    Bulk: one read of regions and dispatchers, one UPDATE per batch, bulk events and inbox
    messages."""
    now = now or _now()
    fields = [
        "state",
        "verifier",
        "checker",
        "assignee",
        "claimable",
        "handling_level",
        "handling_region",
        "handling_department",
        "escalation_level",
        "verify_due_at",
        "dispatch_due_at",
        "resolve_due_at",
        "check_due_at",
        "dispatched_at",
        "accepted_at",
        "extension_requested",
        "extension_requested_until",
        "extension_requested_by",
        "due_at",
        "warn_at",
        "warned_at",
        "escalate_at",
        "updated_at",
    ]
    with transaction.atomic():
        incidents = list(
            _locked_batch(
                Incident.objects.filter(
                    escalate_at__lte=now, state__in=list(ESCALATABLE_STATES), parked=False
                )
            )
            .select_related("category")
            .order_by("escalate_at")[: SWEEP_BATCH // 2]
        )
        if not incidents:
            return 0
        context = EscalationContext()
        with translation.override(settings.LANGUAGE_CODE):
            note = str(_("Deadline passed: escalated one level up."))
            title = str(_("Incident %(no)s was escalated to you"))
        changed: list[Incident] = []
        events: list[IncidentEvent] = []
        notices: list[Notice] = []
        for incident in incidents:
            applied = _apply_escalation(incident, context=context, now=now)
            if applied is None:  # nowhere to go: stop trying
                incident.escalate_at = None
                incident.updated_at = now
                changed.append(incident)
                continue
            previous, data, tell = applied
            changed.append(incident)
            events.append(
                IncidentEvent(
                    incident_id=incident.pk,
                    actor=None,
                    action=Action.ESCALATE,
                    from_state=previous,
                    to_state=incident.state,
                    note=note,
                    data=data,
                    created_at=now,
                )
            )
            key = f"incident:{incident.pk}:escalate:{incident.escalation_level}"
            notices.extend(
                Notice(
                    user_id=user_id,
                    title=title % {"no": incident.tracking_number},
                    url=_incident_path(incident.pk),
                    dedupe_key=key,
                )
                for user_id in set(tell)
                if user_id
            )
        # One small UPDATE per row: far cheaper than bulk_update's CASE over 23 columns.
        attname = {field.name: field.attname for field in Incident._meta.concrete_fields}
        attnames = [attname[name] for name in fields]
        for incident in changed:
            Incident.objects.filter(pk=incident.pk).update(
                **{name: getattr(incident, name) for name in attnames}
            )
        IncidentEvent.objects.bulk_create(events, batch_size=500)
        notifications_send_many(notices, batch_size=500)
    return len(events)


def incidents_warn_due(*, now: datetime | None = None) -> int:
    """Warn whoever is responsible once before a deadline (warn_at passed): inbox message and
    an internal timeline row; warned_at is set and warn_at cleared."""
    now = now or _now()
    with transaction.atomic():
        rows = list(
            _locked_batch(Incident.objects.filter(warn_at__lte=now, parked=False))
            .order_by("warn_at")
            .values_list(
                "pk",
                "tracking_number",
                "state",
                "due_at",
                "assignee_id",
                "verifier_id",
                "checker_id",
                "claimable",
                "grid_cell_id",
                "handling_region_id",
                "region_id",
                "handling_department",
                "region_code",
            )[:SWEEP_BATCH]
        )
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        Incident.objects.filter(pk__in=ids).update(warn_at=None, warned_at=now)
        context = EscalationContext()
        cells = {row[8] for row in rows if row[7] and row[8]}
        cell_workers: dict[int, list[int]] = {}
        if cells:
            from grids.models import GridWorker

            for user_id, cell_id in GridWorker.objects.filter(
                cells__id__in=cells, on_duty=True, user__is_active=True
            ).values_list("user_id", "cells__id"):
                if cell_id in cells:
                    cell_workers.setdefault(cell_id, []).append(user_id)
        handlers = _department_handlers({row[11] for row in rows if row[11]})
        with translation.override(settings.LANGUAGE_CODE):
            title = str(_("Incident %(no)s is due at %(due)s"))
            note = str(_("Deadline warning sent."))
        events: list[IncidentEvent] = []
        notices: list[Notice] = []
        for (
            pk,
            number,
            state,
            due,
            assignee_id,
            verifier_id,
            checker_id,
            claimable,
            cell_id,
            handling_region_id,
            region_id,
            department,
            region_code,
        ) in rows:
            if state in (IncidentState.REPORTED, IncidentState.VERIFYING) and verifier_id:
                tell = [verifier_id]
            elif state == IncidentState.RESOLVED and checker_id:
                tell = [checker_id]
            elif state in (IncidentState.DISPATCHED, IncidentState.ACCEPTED) and assignee_id:
                tell = [assignee_id]
            elif state == IncidentState.DISPATCHED and claimable:
                tell = cell_workers.get(cell_id, [])
            else:
                tell = [
                    pk_
                    for pk_, prefix in handlers.get(department, [])
                    if region_code.startswith(prefix)
                ] or context.nearest_dispatchers(handling_region_id or region_id)
            events.append(
                IncidentEvent(
                    incident_id=pk,
                    actor=None,
                    action=Action.DEADLINE_WARNING,
                    from_state=state,
                    to_state=state,
                    note=note,
                    public=False,
                    data={"due_at": due.isoformat() if due else None},
                    created_at=now,
                )
            )
            key = f"incident:{pk}:warn:{int(due.timestamp()) if due else 0}"
            notices.extend(
                Notice(
                    user_id=user_id,
                    title=title % {"no": number, "due": _fmt(due)},
                    url=_incident_path(pk),
                    dedupe_key=key,
                )
                for user_id in set(tell)
            )
        IncidentEvent.objects.bulk_create(events, batch_size=500)
        notifications_send_many(notices, batch_size=500)
    return len(rows)


def _department_handlers(departments: set[str]) -> dict[str, list[tuple[int, str]]]:
    if not departments:
        return {}
    result: dict[str, list[tuple[int, str]]] = {}
    for pk, department, code, level in User.objects.filter(
        is_active=True,
        roles__code=RoleCode.DEPARTMENT_HANDLER,
        department__in=departments,
        scope_region__isnull=False,
    ).values_list("pk", "department", "scope_region__code", "scope_region__level"):
        result.setdefault(department, []).append((pk, code[: Region.PREFIX_LENGTH[level]]))
    return result


def incidents_sweep(*, now: datetime | None = None) -> SweepResult:
    """The minute sweep (tasks.sweep_deadlines): re-enqueue stuck tasks, close unrated work
    after the rating window, escalate overdue work, warn before deadlines. Each part in its
    own transaction over indexed alarm columns, in batches."""
    now = now or _now()
    return SweepResult(
        re_enqueued=incidents_re_enqueue_stuck(now=now),
        closed=incidents_close_unrated(now=now),
        escalated=incidents_escalate_overdue(now=now),
        warned=incidents_warn_due(now=now),
    )
