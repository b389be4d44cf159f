"""Celery tasks of the integrations app: ids in, state re-read, services called.

- webhook_deliver(subscription_id, incident_id): send the pair's pending deliveries in order
  (enqueued on commit by the IncidentEvent signal, by a retry with backoff, or by the sweep).
- sweep(): every minute (beat): partners' deadlines and webhook deliveries that a bulk write
  (no signal) missed are caught up, and pairs whose delivery is due are re-enqueued
  (webhooks_redrive), so a retry whose broker message was lost, or a worker that died while
  sending, is picked up again.

All are idempotent (deliveries are leased and re-read; the deadline step checks the state), so
acks_late is safe. Only transient database errors are retried; an unreachable partner is not
an error of the task (the delivery row records it and schedules its own retry).
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

logger = logging.getLogger(__name__)

TRANSIENT = (OperationalError, InterfaceError)
RETRY = {
    "ignore_result": True,
    "acks_late": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 6,
}


@shared_task(name="integrations.tasks.webhook_deliver", **RETRY)
def webhook_deliver(subscription_id: int, incident_id: int) -> int:
    from integrations.services import webhook_deliver_pending

    return webhook_deliver_pending(subscription_id=subscription_id, incident_id=incident_id)


@shared_task(name="integrations.tasks.webhooks_redrive", **RETRY)
def webhooks_redrive() -> int:
    from integrations.services import webhooks_due

    pairs = webhooks_due()
    for subscription_id, incident_id in pairs:
        webhook_deliver.delay(subscription_id, incident_id)
    if pairs:
        logger.info("webhooks: %d incident streams re-enqueued", len(pairs))
    return len(pairs)


@shared_task(name="integrations.tasks.sweep", **RETRY)
def sweep() -> dict[str, int]:
    from integrations.services import tickets_deadline_catch_up, webhooks_catch_up

    result = {
        "deadlines": tickets_deadline_catch_up(),
        "deliveries_added": webhooks_catch_up(),
    }
    result["streams_redriven"] = webhooks_redrive()
    return result
