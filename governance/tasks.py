"""Celery tasks of supervision: the KPI fact refresh (beat, every minute), export jobs, and the
purge of old export files (beat, hourly). Ids in, state re-read, idempotent; only transient
database errors are retried."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "ignore_result": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="governance.tasks.refresh_facts", **RETRY)
def refresh_facts(full: bool = False) -> int | None:
    """Bring the KPI facts up to date with the incident timeline (a full rebuild on the first
    run). Skipped while another refresh runs."""
    from governance.aggregates import facts_refresh_locked

    written = facts_refresh_locked(full=full)
    if written:
        logger.info("KPI facts: %s incidents refreshed", written)
    return written


@shared_task(name="governance.tasks.export_run", acks_late=True, **RETRY)
def export_run(job_id: int) -> None:
    """Write an export's file. Idempotent: a finished job is left alone (hence acks_late)."""
    from governance.exports import export_job_run

    export_job_run(job_id=job_id)


@shared_task(name="governance.tasks.purge_exports", **RETRY)
def purge_exports() -> int:
    from governance.exports import exports_purge

    return exports_purge()
