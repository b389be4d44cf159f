"""Celery tasks of the incident loop: ids in, state re-read, services called.

Every task is idempotent: the service it calls does nothing when the incident has already moved
on, so a retry, a duplicate delivery or the sweep's re-enqueue is harmless (hence acks_late).
Only transient database errors are retried, with exponential backoff and a cap. Deadlines live
in database columns; nothing is scheduled as a broker ETA.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from celery import shared_task
from django.db import InterfaceError, OperationalError

from core.celery_base import GridGovTask
from core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

# task_enqueued_at of an incident whose task could not be sent (the broker was down): the oldest
# possible, so the next re-drive (beat, every INCIDENT_REDRIVE_SECONDS) sends it first.
NOT_SENT = datetime(2000, 1, 1, tzinfo=UTC)


class IncidentTask(GridGovTask):
    """An incident task (first argument: the incident id). If it cannot be sent, the report
    stays stored (the request still succeeds) and the incident is marked for the re-drive."""

    def publish_failed(self, args: tuple, kwargs: dict) -> None:
        incident_id = args[0] if args else kwargs.get("incident_id")
        if incident_id is None:
            return
        from incidents.models import Incident

        Incident.objects.filter(pk=incident_id, task_enqueued_at__isnull=False).update(
            task_enqueued_at=NOT_SENT
        )


TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "base": IncidentTask,
    "bind": False,
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}


def _quietly(step, incident_id: int, **kwargs) -> None:
    """Run a system step; a business refusal (the state moved on, the row is gone) is logged,
    not retried: there is nothing left to do."""
    try:
        step(incident_id=incident_id, **kwargs)
    except ApplicationError as exc:
        logger.info("incident %s: %s skipped: %s", incident_id, step.__name__, exc.message)


@shared_task(name="incidents.tasks.locate_and_assign", **RETRY)
def locate_and_assign(incident_id: int) -> None:
    """After a report: locate the cell, choose the verifier (or verify a grid worker's own
    report at once and route it in the same transaction: no second trip through the broker)."""
    from incidents.services import incident_start_verification

    _quietly(incident_start_verification, incident_id, route_now=True)


@shared_task(name="incidents.tasks.route", **RETRY)
def route(incident_id: int) -> None:
    """After verification (or a reopen): dispatch by the routing rules."""
    from incidents.services import incident_route

    _quietly(incident_route, incident_id)


@shared_task(name="incidents.tasks.send_feedback", **RETRY)
def send_feedback(incident_id: int) -> None:
    """After resolution (no check needed) or the on-site check: tell the reporter."""
    from incidents.services import incident_send_feedback

    _quietly(incident_send_feedback, incident_id)


@shared_task(name="incidents.tasks.apply_rating", **RETRY)
def apply_rating(incident_id: int) -> None:
    """After a rating: 3–5 stars close the incident, 1–2 reopen it."""
    from incidents.models import Incident, IncidentState
    from incidents.services import incident_close, incident_reopen

    incident = Incident.objects.filter(pk=incident_id).only("state", "rating").first()
    if incident is None or incident.state != IncidentState.RATED:
        return
    if incident.rating is not None and incident.rating <= 2:
        _quietly(incident_reopen, incident_id)
    else:
        _quietly(incident_close, incident_id)


@shared_task(name="incidents.tasks.sweep_deadlines", **RETRY)
def sweep_deadlines() -> dict:
    """Beat, every minute: re-enqueue lost tasks, close unrated work after the rating window,
    escalate overdue work one level up, warn before deadlines."""
    from dataclasses import asdict

    from incidents.services import incidents_sweep

    result = incidents_sweep()
    if any(asdict(result).values()):
        logger.info("incident sweep: %s", asdict(result))
    return asdict(result)


@shared_task(name="incidents.tasks.redrive", **RETRY)
def redrive() -> int:
    """Beat, every INCIDENT_REDRIVE_SECONDS: re-send the tasks of incidents whose task was not
    sent (broker down) or left no trace (lost by the broker or a killed worker)."""
    from incidents.services import incidents_re_enqueue_stuck

    return incidents_re_enqueue_stuck()
