"""Celery tasks of resident services (beat: settings.CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from resident_services.services import bookings_remind, requests_sweep


@shared_task(name="resident_services.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Warn before deadlines, flag overdue requests and escalate them. Idempotent."""
    return requests_sweep()


@shared_task(name="resident_services.tasks.remind_bookings", ignore_result=True)
def remind_bookings() -> int:
    """The day-before SMS of each consultation booking. Idempotent (reminded_at, dedupe key)."""
    return bookings_remind()
