"""Celery tasks of volunteers: the sweep (every 5 minutes, settings.CELERY_BEAT_SCHEDULE). Each
step is idempotent (conditional updates, dedupe keys), so a sweep run twice sends nothing twice."""

from celery import shared_task


@shared_task(name="volunteers.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    """No-shows, unfilled places warned to the poster, reminders before the slot, duty shifts
    of the coming week, and the purge of GPS tracks past their retention."""
    from dataclasses import asdict

    from volunteers.services import volunteers_sweep

    return asdict(volunteers_sweep())
