"""Celery tasks of deliberation. Beat runs sweep every 5 minutes
(settings.CELERY_BEAT_SCHEDULE["deliberation-sweep"])."""

from celery import shared_task

from deliberation.services import deliberation_sweep


@shared_task(name="deliberation.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """Warn before review deadlines, escalate overdue reviews, flag overdue decisions.
    Idempotent (see services.sweep)."""
    return deliberation_sweep()
