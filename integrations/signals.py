"""Status-change hooks without touching the incident engine: every new IncidentEvent that
changes the state is offered to the webhook subscriptions, and a dispatch of a partner's
ticket re-applies the partner's deadline (both enqueued on commit).

The handler runs inside the engine's transaction, so it stays small (a few indexed reads, at
most one INSERT) and can never break the engine's move: a database error is logged and rolled
back to a savepoint. Bulk writes send no signal: the sweep (tasks.sweep) catches those up.
"""

import logging

from django.db import DatabaseError, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from incidents.models import IncidentEvent, IncidentState

logger = logging.getLogger(__name__)


@receiver(post_save, sender=IncidentEvent, dispatch_uid="integrations_incident_event_saved")
def incident_event_saved(sender, instance: IncidentEvent, created: bool, raw: bool = False, **kw):
    if not created or raw or instance.from_state == instance.to_state:
        return
    from integrations.models import IncomingTicket
    from integrations.services import webhook_offer
    from integrations.tasks import ticket_apply_deadline

    webhook_offer(event=instance)
    if instance.to_state != IncidentState.DISPATCHED:
        return
    try:
        with transaction.atomic():
            has_deadline = IncomingTicket.objects.filter(
                incident_id=instance.incident_id, due_at__isnull=False
            ).exists()
    except DatabaseError:
        logger.exception("integrations: deadline of incident %s not checked", instance.incident_id)
        return
    if has_deadline:
        incident_id = instance.incident_id
        transaction.on_commit(lambda: ticket_apply_deadline.delay(incident_id))
