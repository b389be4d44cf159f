"""Celery tasks of registry: ids in, state re-read, idempotent.

sweep_visits runs every 10 minutes (settings.CELERY_BEAT_SCHEDULE "registry-visit-sweep").
"""

from celery import shared_task


@shared_task(name="registry.tasks.sweep_visits", ignore_result=True)
def sweep_visits() -> dict[str, int]:
    """Reminders before key-person visits fall due; escalation of overdue visits."""
    from registry.sweep import visits_sweep

    return visits_sweep()


@shared_task(name="registry.tasks.alert_risk_raised", ignore_result=True)
def alert_risk_raised(visit_id: int) -> int:
    """A visit raised a key person's risk level: alert the community and the police officer."""
    from registry.services import alert_risk_raised as alert

    return alert(visit_id)
