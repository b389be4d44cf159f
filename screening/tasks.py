"""Celery tasks of screening: the follow-up deadline sweep and the monthly-report sweep (beat:
settings.CELERY_BEAT_SCHEDULE). Both re-read state and are idempotent: a second run flags
nothing new and notifies nobody twice."""

from celery import shared_task


@shared_task(name="screening.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Flag open disputes whose colour's follow-up deadline has passed."""
    from screening.services import disputes_sweep_deadlines

    return disputes_sweep_deadlines()


@shared_task(name="screening.tasks.sweep_reports", ignore_result=True)
def sweep_reports() -> dict[str, int]:
    """Flag communities that have not sent last month's screening report (零报告 included)."""
    from screening.services import reports_sweep_missing

    return reports_sweep_missing()
