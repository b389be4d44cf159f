"""Celery tasks of the mediation app: ids in, state re-read, idempotent. The work itself is in
mediation.services.sweep (the tasks only call it).

sweep_deadlines runs every 5 minutes (settings.CELERY_BEAT_SCHEDULE); each reminder is claimed
by a conditional UPDATE, so two sweeps running at once, or a sweep run twice, send it once.
"""

from celery import shared_task
from django.db import OperationalError


@shared_task(name="mediation.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Settle-deadline warnings and overdue notices (30-day limit), judicial-confirmation
    reminders to the parties before the 30-day window closes, follow-up reminders, and a re-drive
    of incident outcome reports whose task was lost. Returns how many of each were sent."""
    from mediation.services.sweep import cases_sweep_deadlines

    return cases_sweep_deadlines()


@shared_task(
    name="mediation.tasks.report_outcome_to_incident",
    bind=True,
    ignore_result=True,
    max_retries=5,
    acks_late=True,
)
def report_outcome_to_incident(self, case_id: int) -> None:
    """Tell the referring incident how the mediation ended
    (mediation.services.case_report_outcome_to_incident). Runs once per case
    (incident_notified_at); only a locked database is retried."""
    from mediation.services.sweep import case_report_outcome_to_incident

    try:
        case_report_outcome_to_incident(case_id=case_id)
    except OperationalError as exc:  # a locked SQLite file or a dropped connection
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc
