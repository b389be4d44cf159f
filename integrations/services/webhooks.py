"""Webhook subscriptions and what is offered to them: subscription_create /
subscription_delete, webhook_deliveries_for_event (called by the IncidentEvent signal: one
insert per matching subscription), webhook_offer, the per-process "anybody subscribes?" flag
(webhooks_active) and the sweep's webhooks_catch_up. Sending: integrations.services.deliveries."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import DatabaseError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.cache import SharedToken
from core.exceptions import NotFoundError, ValidationFailed
from core.process_cache import ProcessCopy
from core.transactions import enqueue_on_commit
from grids.models import Region
from incidents.models import Incident, IncidentEvent
from integrations import conf, outbound
from integrations.models import (
    ApiKey,
    IncomingTicket,
    KeyScope,
    WebhookDelivery,
    WebhookSubscription,
)
from integrations.services._common import _require_scope

logger = logging.getLogger(__name__)

# --- subscriptions ----------------------------------------------------------------------------


def subscription_create(
    *, api_key: ApiKey, url: str, scope: str = WebhookSubscription.Scope.OWN, region_code: str = ""
) -> WebhookSubscription:
    """A partner subscribes (webhooks scope) to its own incidents or to a region inside the
    region the admin allowed it. A URL that does not resolve, or resolves to any non-public
    address (integrations.outbound), is refused; deliveries check again."""
    _require_scope(api_key, KeyScope.WEBHOOKS)
    partner = api_key.partner
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > 500:
            raise ValidationError("too long")
    except ValidationError:
        errors["url"] = [_("An http(s) URL of at most 500 characters.")]
    else:
        if not outbound.url_is_public(url):
            errors["url"] = [_("The URL must point to a public address.")]
    region = None
    if scope not in WebhookSubscription.Scope.values:
        errors["scope"] = [_("scope is own or region.")]
    elif scope == WebhookSubscription.Scope.REGION:
        region = Region.objects.filter(code=(region_code or "").strip()).first()
        if region is None:
            errors["region_code"] = [_("Unknown region code.")]
        elif partner.region is None or not partner.region.contains_code(region.code):
            errors["region_code"] = [_("This partner may not follow that region.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return WebhookSubscription.objects.create(partner=partner, url=url, scope=scope, region=region)


def subscription_delete(*, api_key: ApiKey, subscription_id: int) -> None:
    """A partner ends one of its subscriptions; pending deliveries are dropped with it."""
    _require_scope(api_key, KeyScope.WEBHOOKS)
    deleted, _rows = WebhookSubscription.objects.filter(
        pk=subscription_id, partner=api_key.partner
    ).delete()
    if not deleted:
        raise NotFoundError(_("Subscription not found."))


# --- what a state change offers them ----------------------------------------------------------


def _deliveries_for_existing_events(incident: Incident) -> None:
    """The ticket is linked after the report event was written: give its subscribers the
    changes they missed (idempotent)."""
    last = incident.events.exclude(from_state=F("to_state")).order_by("-pk").first()
    if last is not None:
        webhook_offer(event=last, incident=incident)


def webhook_deliveries_for_event(*, event: IncidentEvent, incident: Incident | None = None) -> int:
    """Pending deliveries of this status change for every active subscription that follows
    the incident (a partner's own ticket, or a region containing it); the sending task is
    enqueued on commit. Earlier state changes of the incident that have no delivery yet (a
    bulk write sends no signal) are added too, so the stream stays complete and in order;
    history older than a subscription is not. Called from the IncidentEvent post_save signal
    inside the engine's transaction, so it stays small: a few indexed reads and at most one
    INSERT. Idempotent (unique per subscription and event). Returns the rows added."""
    subscriptions = list(
        WebhookSubscription.objects.filter(active=True, partner__active=True).select_related(
            "region"
        )
    )
    if not subscriptions:
        return 0
    incident = incident or event.incident
    own_partner_id = None
    if any(s.scope == WebhookSubscription.Scope.OWN for s in subscriptions):
        own_partner_id = (
            IncomingTicket.objects.filter(incident_id=incident.pk)
            .values_list("partner_id", flat=True)
            .first()
        )
    code = incident.region_code or ""
    matching = [
        s
        for s in subscriptions
        if (s.scope == WebhookSubscription.Scope.OWN and s.partner_id == own_partner_id)
        or (
            s.scope == WebhookSubscription.Scope.REGION
            and s.region is not None
            and code
            and s.region.contains_code(code)
        )
    ]
    if not matching:
        return 0
    since = min(s.created_at for s in matching)
    events = {
        e.pk: e
        for e in IncidentEvent.objects.filter(
            incident_id=incident.pk, pk__lt=event.pk, created_at__gte=since
        )
        .exclude(from_state=F("to_state"))
        .only("pk", "created_at")
    }
    events[event.pk] = event
    existing = set(
        WebhookDelivery.objects.filter(
            subscription__in=matching, event_id__in=list(events)
        ).values_list("subscription_id", "event_id")
    )
    now = timezone.now()
    give_up = now + timedelta(hours=conf.webhook_retry_window_hours())
    rows = [
        WebhookDelivery(
            subscription=s,
            incident_id=incident.pk,
            event_id=e.pk,
            created_at=now,
            next_attempt_at=max(now, s.paused_until or now),
            give_up_at=give_up,
        )
        for s in matching
        for e in events.values()
        if (s.pk, e.pk) not in existing and (e.pk == event.pk or e.created_at >= s.created_at)
    ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    from integrations.tasks import webhook_deliver

    for subscription_id in {row.subscription_id for row in rows}:
        enqueue_on_commit(webhook_deliver, subscription_id, incident.pk)
    return len(rows)


# --- the "anybody subscribes?" flag -----------------------------------------------------------

WEBHOOKS_ACTIVE_KEY = "integrations:webhooks:active"
WEBHOOKS_ACTIVE_SECONDS = 60
# How long a process trusts its own copy of the flag before reading the shared token again
# (like incidents.category_cache): a shared-cache read on every timeline row is too dear
# (docs/performance.md, "integrations").
WEBHOOKS_ACTIVE_LOCAL_SECONDS = 2.0


class _LapsingToken(SharedToken):
    """A SharedToken that lapses after `seconds`: every process then reads the flag from the
    database again, so a subscription written behind the signals' back (a bulk insert, another
    tool) is seen within a minute. The key is the one the flag itself was kept under: a process
    of the previous release reads a token as "active" (a savepoint and a query, never a missed
    delivery), and its own writes or deletes of the key change the token for this one."""

    def __init__(self, name: str, seconds: int) -> None:
        super().__init__(name)
        self.seconds = seconds

    def read(self) -> str | None:
        from django.core.cache import cache

        key = self.key()
        try:
            token = cache.get(key)
            if token is None:
                token = uuid.uuid4().hex
                if not cache.add(key, token, self.seconds):
                    token = cache.get(key)
            return token
        except Exception:  # an outage must not stop the caller
            logger.warning("integrations: cache unavailable; reading subscriptions", exc_info=True)
            return None

    def publish(self) -> None:
        from django.core.cache import cache

        try:
            cache.set(self.key(), uuid.uuid4().hex, self.seconds)
        except Exception:
            logger.warning("integrations: could not clear the subscription flag")


def _any_subscription() -> bool:
    return WebhookSubscription.objects.filter(active=True, partner__active=True).exists()


_WEBHOOKS_ACTIVE_TOKEN = _LapsingToken(WEBHOOKS_ACTIVE_KEY, WEBHOOKS_ACTIVE_SECONDS)
# Whether any active subscription of an active partner exists (core.process_cache: one token,
# trusted WEBHOOKS_ACTIVE_LOCAL_SECONDS; offline=None: a cache outage answers None -> True).
WEBHOOKS_ACTIVE = ProcessCopy(
    "integrations.webhooks_active",
    build=_any_subscription,
    token=_WEBHOOKS_ACTIVE_TOKEN,
    trust_seconds=WEBHOOKS_ACTIVE_LOCAL_SECONDS,
    offline=None,
)


def _webhooks_active_key() -> str:
    # Per database (core.cache.SharedToken): parallel test processes share a file cache.
    return _WEBHOOKS_ACTIVE_TOKEN.key()


def webhooks_active() -> bool:
    """Whether any active subscription of an active partner exists, from a per-process copy
    checked against a token in the shared cache (one cache read at most every
    WEBHOOKS_ACTIVE_LOCAL_SECONDS instead of a savepoint and a query on every state change).
    Saving or deleting a subscription or a partner invalidates it (integrations.signals), now
    and on commit: the saving process sees the change at once, other processes within
    WEBHOOKS_ACTIVE_LOCAL_SECONDS. The shared token also lapses after a minute, and the
    sweep's webhooks_catch_up adds what a stale answer missed. A cache outage answers True
    (the database decides)."""
    active = WEBHOOKS_ACTIVE.get()
    return True if active is None else bool(active)


def webhooks_active_forget() -> None:
    """A subscription or partner changed: drop the flag now and after commit, here and (a new
    token) in every process."""
    WEBHOOKS_ACTIVE.invalidate()


def webhook_offer(*, event: IncidentEvent, incident: Incident | None = None) -> int:
    """webhook_deliveries_for_event in a savepoint: a database error is logged, never raised,
    so the move it follows (the engine's, or an intake) never fails because of a webhook.
    Nothing at all (no savepoint, no query) while no partner subscribes (webhooks_active)."""
    if not webhooks_active():
        return 0
    try:
        with transaction.atomic():
            return webhook_deliveries_for_event(event=event, incident=incident)
    except DatabaseError:
        logger.exception("integrations: event %s not offered to webhooks", event.pk)
        return 0


def webhooks_catch_up(*, now: datetime | None = None, minutes: int = 15) -> int:
    """The sweep's safety net: state changes of the last minutes written without a signal
    (bulk updates of the engine's sweep) get their deliveries. Only events of incidents some
    subscription follows, and that have no delivery yet, are looked at. Returns rows added."""
    now = now or timezone.now()
    subscriptions = list(
        WebhookSubscription.objects.filter(active=True, partner__active=True).select_related(
            "region"
        )
    )
    followed = Q(pk__in=[])
    own = {s.partner_id for s in subscriptions if s.scope == WebhookSubscription.Scope.OWN}
    if own:
        followed |= Q(incident__incoming_ticket__partner_id__in=own)
    for s in subscriptions:
        if s.scope == WebhookSubscription.Scope.REGION and s.region is not None:
            followed |= Q(incident__region_code__startswith=s.region.prefix)
    if not subscriptions:
        return 0
    latest = (
        IncidentEvent.objects.filter(followed, created_at__gte=now - timedelta(minutes=minutes))
        .exclude(from_state=F("to_state"))
        .exclude(Exists(WebhookDelivery.objects.filter(event_id=OuterRef("pk"))))
        .values("incident_id")
        .annotate(last=Max("pk"))
        .order_by()
    )
    added = 0
    for row in latest[:1000]:
        event = IncidentEvent.objects.select_related("incident").get(pk=row["last"])
        with transaction.atomic():
            added += webhook_deliveries_for_event(event=event, incident=event.incident)
    return added
