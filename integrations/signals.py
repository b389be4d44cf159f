"""Status-change hooks without touching the incident engine: every new IncidentEvent that
changes the state is offered to the webhook subscriptions (sent on commit). A partner's
deadline needs no hook: the engine applies it at dispatch (incident_report(resolve_by=...)).

The handler runs inside the engine's transaction, so it stays small (a few indexed reads, at
most one INSERT) and can never break the engine's move: a database error is logged and rolled
back to a savepoint. Bulk writes send no signal: the sweep (tasks.sweep) catches those up.
"""

import logging

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from incidents.models import IncidentEvent
from integrations.models import Partner, WebhookSubscription

logger = logging.getLogger(__name__)


@receiver(post_save, sender=IncidentEvent, dispatch_uid="integrations_incident_event_saved")
def incident_event_saved(sender, instance: IncidentEvent, created: bool, raw: bool = False, **kw):
    if not created or raw or instance.from_state == instance.to_state:
        return
    from integrations.services import webhook_offer

    webhook_offer(event=instance)


@receiver(post_save, sender=WebhookSubscription, dispatch_uid="integrations_subscription_saved")
@receiver(post_delete, sender=WebhookSubscription, dispatch_uid="integrations_subscription_gone")
@receiver(post_save, sender=Partner, dispatch_uid="integrations_partner_saved")
@receiver(post_delete, sender=Partner, dispatch_uid="integrations_partner_gone")
def subscriptions_changed(sender, **kw):
    """The engine skips webhooks while nobody subscribes (services.webhooks_active, cached)."""
    from integrations.services import webhooks_active_forget

    webhooks_active_forget()
