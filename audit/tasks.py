"""Celery tasks of the audit app: the daily retention run and integrity check (beat)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


@shared_task(
    name="audit.tasks.anonymise_closed_cases",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def anonymise_closed_cases() -> dict[str, int]:
    """Idempotent: objects already anonymised are skipped (audit.AnonymisedRecord)."""
    from audit.retention import anonymise_closed_cases as run

    return run()


@shared_task(
    name="audit.tasks.verify_chain",
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=30,
    max_retries=5,
)
def verify_chain() -> bool:
    """Daily: check the audit log's hash chain and seal the new rows (audit.chain). Running it
    twice is harmless (the second run checks again and finds nothing new to seal)."""
    from audit.chain import chain_verify_and_extend

    return chain_verify_and_extend().ok
