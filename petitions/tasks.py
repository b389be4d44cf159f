"""Celery tasks of petitions. Beat runs sweep_deadlines every 5 minutes
(settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from petitions.services import petitions_sweep_deadlines


@shared_task(name="petitions.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Warn before deadlines, flag overdue petitions, close what may be closed. Idempotent:
    every petition is re-read under a lock and notifications are deduped, so a second run (or
    two overlapping runs) changes nothing."""
    return petitions_sweep_deadlines()
