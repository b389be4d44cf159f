"""Celery tasks of assignments. Beat runs sweep_deadlines every 5 minutes
(settings.CELERY_BEAT_SCHEDULE, "assignment-deadline-sweep")."""

from celery import shared_task

from assignments.services import assignments_sweep


@shared_task(name="assignments.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Warn before deadlines, flag overdue assignments, escalate. Idempotent (each row is
    re-read under a lock, notices are deduped)."""
    return assignments_sweep()
