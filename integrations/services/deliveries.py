"""Sending webhook deliveries: webhook_deliver_pending (the task: oldest pending delivery
first, HTTP outside any transaction, exponential backoff up to a day), webhook_delivery_replay,
webhooks_due (the sweep), and the payload and signature."""

from __future__ import annotations

import http.client
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError
from core.transactions import enqueue_on_commit
from integrations import conf, outbound, security
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.services._common import open311_status

logger = logging.getLogger(__name__)

USER_AGENT = "GridGov-Webhooks/1.0"


def webhook_payload(delivery: WebhookDelivery) -> dict[str, Any]:
    """What a subscriber receives. Built from the (append-only) timeline event only, so a
    retry or a replay sends the same content."""
    event = delivery.event
    incident = delivery.incident
    ticket = getattr(incident, "incoming_ticket", None)
    if ticket is not None and ticket.partner_id != delivery.subscription.partner_id:
        ticket = None  # another partner's ticket: not this subscriber's to see
    own = ticket is not None
    return {
        "event_id": str(delivery.uuid),
        "type": "incident.status_changed",
        "sequence": event.pk,
        "occurred_at": timezone.localtime(event.created_at).isoformat(),
        "incident": {
            # The tracking number lets its holder follow and rate the report: only the partner
            # that sent the incident gets it; everybody gets the Open311 public id.
            "tracking_number": incident.tracking_number if own else None,
            "service_request_id": incident.public_id,
            "category_code": incident.category.code,
            "region_code": incident.region_code,
        },
        "change": {
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "status": open311_status(event.to_state),
            "note": event.note if event.public else "",
        },
        "ticket": {
            "ticket_id": ticket.external_id or None,
            "police_reference": ticket.police_reference or None,
        }
        if ticket is not None
        else None,
    }


@dataclass(frozen=True)
class PostResult:
    ok: bool
    status_code: int | None
    error: str


def webhook_http_post(*, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult:
    """POST outside any transaction, with a short timeout; 2xx = delivered. The target is
    resolved and vetted now, and the connection goes to the vetted address (integrations.
    outbound): a URL that resolves to a non-public address is refused and nothing is sent."""
    try:
        answer = outbound.post(
            url, body=body, headers=dict(headers), timeout=conf.webhook_timeout_seconds()
        )
    except outbound.UnsafeTarget as exc:
        logger.warning("webhook target refused: %s", exc)
        return PostResult(False, None, f"refused: {exc}"[:500])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return PostResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= answer.status < 300:
        return PostResult(True, answer.status, "")
    return PostResult(False, answer.status, f"HTTP {answer.status} {answer.reason}".strip()[:500])


def retry_delay_seconds(attempts: int) -> float:
    """Exponential backoff: base, 2×base, 4×base ... capped (30 s … 1 h by default)."""
    base = conf.webhook_retry_base_seconds()
    return min(base * (2 ** max(0, attempts - 1)), conf.webhook_retry_max_seconds())


def retry_delay_jittered(attempts: int) -> float:
    """The backoff step drawn between half and all of it (jitter): streams that failed together
    (a partner down for minutes) do not all come back at the same second."""
    step = retry_delay_seconds(attempts)
    return round(random.uniform(step / 2, step), 1)  # nosec B311 # spreading load, not secrecy


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    url: str
    secret: str
    body: bytes
    event_id: str


def _hold_pair(head: WebhookDelivery, until: datetime) -> None:
    """The head of a (subscription, incident) stream waits until `until`: so do the
    deliveries behind it (the sweep then leaves the stream alone until it is due)."""
    WebhookDelivery.objects.filter(
        subscription_id=head.subscription_id,
        incident_id=head.incident_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lt=until,
    ).update(next_attempt_at=until)


def _claim_head(subscription_id: int, incident_id: int, now: datetime) -> _Claim | datetime | None:
    """Lease the oldest pending delivery of the pair if it is due. Returns the claim, the time
    it will be due (nothing to send yet), or None (nothing pending, or somebody is sending)."""
    with transaction.atomic():
        pending = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__partner", "event", "incident__category")
            .filter(
                subscription_id=subscription_id,
                incident_id=incident_id,
                status=WebhookDelivery.Status.PENDING,
            )
            .order_by("event_id", "pk")
        )
        head = pending.first()
        if head is None:
            return None
        subscription = head.subscription
        if not subscription.active or not subscription.partner.active:
            return None
        if head.leased_until and head.leased_until > now:
            return None
        if subscription.paused_until and subscription.paused_until > now:
            _hold_pair(head, subscription.paused_until)
            return subscription.paused_until
        if head.next_attempt_at > now:
            return head.next_attempt_at
        head.leased_until = now + timedelta(seconds=conf.webhook_timeout_seconds() + 60)
        head.attempts += 1
        head.last_attempt_at = now
        head.save(update_fields=["leased_until", "attempts", "last_attempt_at"])
        body = json.dumps(webhook_payload(head), ensure_ascii=False, sort_keys=True).encode()
        return _Claim(
            delivery_id=head.pk,
            url=subscription.url,
            secret=subscription.partner.hmac_secret,
            body=body,
            event_id=str(head.uuid),
        )


def _record_result(claim: _Claim, result: PostResult, now: datetime) -> tuple[str, float]:
    """Store the attempt; returns the delivery's new status and the retry delay."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=claim.delivery_id)
        subscription = WebhookSubscription.objects.select_for_update().get(
            pk=delivery.subscription_id
        )
        if result.ok:
            subscription.failures_in_a_row = 0
            subscription.paused_until = None
        else:
            subscription.failures_in_a_row += 1
            subscription.paused_until = now + timedelta(
                seconds=retry_delay_jittered(subscription.failures_in_a_row)
            )
        subscription.save(update_fields=["failures_in_a_row", "paused_until"])
        delivery.leased_until = None
        delivery.last_status_code = result.status_code
        delay = 0.0
        if result.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
        else:
            delivery.last_error = result.error[:500]
            delay = retry_delay_jittered(delivery.attempts)
            # Given up when even the full step would end past the retry window.
            if (
                now + timedelta(seconds=retry_delay_seconds(delivery.attempts))
                > delivery.give_up_at
            ):
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                _hold_pair(delivery, delivery.next_attempt_at)
        delivery.save(
            update_fields=[
                "leased_until",
                "last_status_code",
                "status",
                "delivered_at",
                "last_error",
                "next_attempt_at",
            ]
        )
        return delivery.status, delay


def webhook_deliver_pending(
    *, subscription_id: int, incident_id: int, max_deliveries: int = 100
) -> int:
    """Send the pair's pending deliveries in order (the task). Stops at the first failure and
    schedules a retry with backoff; a delivery that failed past its retry window is given up
    and the next one goes. Returns how many were delivered. Safe to run concurrently: the
    head is leased, and only the lease holder sends it."""
    from integrations.tasks import webhook_deliver

    delivered = 0
    for _round in range(max_deliveries):
        now = timezone.now()
        claim = _claim_head(subscription_id, incident_id, now)
        if not isinstance(claim, _Claim):
            return delivered  # nothing due now: the scheduled retry or the sweep comes back
        timestamp = str(int(now.timestamp()))
        result = webhook_http_post(
            url=claim.url,
            body=claim.body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-GridGov-Event-Id": claim.event_id,
                "X-GridGov-Timestamp": timestamp,
                "X-GridGov-Signature": security.SIGNATURE_PREFIX
                + security.sign(claim.secret, timestamp, claim.body),
            },
        )
        status, delay = _record_result(claim, result, timezone.now())
        if status == WebhookDelivery.Status.DELIVERED:
            delivered += 1
            continue
        if status == WebhookDelivery.Status.FAILED:
            logger.warning("webhook delivery %s given up: %s", claim.event_id, result.error)
            continue
        logger.info("webhook delivery %s failed, retry in %.0f s", claim.event_id, delay)
        webhook_deliver.apply_async((subscription_id, incident_id), countdown=delay)
        return delivered
    webhook_deliver.delay(subscription_id, incident_id)  # more than one batch: carry on
    return delivered


def webhooks_due(*, now: datetime | None = None, limit: int = 500) -> list[tuple[int, int]]:
    """(subscription, incident) pairs with a pending delivery that is due and not being sent:
    the sweep re-enqueues them (a retry whose broker message was lost is not lost)."""
    now = now or timezone.now()
    rows = (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__active=True,
        )
        .exclude(leased_until__gt=now)
        .values_list("subscription_id", "incident_id")
        .distinct()
        .order_by()[:limit]
    )
    return list(rows)


def webhook_delivery_replay(*, delivery_id: int, actor: User) -> WebhookDelivery:
    """An admin sends a delivery again (delivered or given up): it becomes pending with a new
    retry window, and goes out in order with its incident's other deliveries."""
    if not (actor.is_superuser or actor.is_portal_admin):
        raise PermissionDeniedError(_("Only administrators replay webhook deliveries."))
    from integrations.tasks import webhook_deliver

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFoundError(_("Delivery not found."))
        if delivery.status == WebhookDelivery.Status.PENDING and delivery.leased_until:
            raise ConflictError(_("This delivery is being sent right now."))
        now = timezone.now()
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now
        delivery.give_up_at = now + timedelta(hours=conf.webhook_retry_window_hours())
        delivery.leased_until = None
        delivery.delivered_at = None
        delivery.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "give_up_at",
                "leased_until",
                "delivered_at",
            ]
        )
        subscription_id, incident_id = delivery.subscription_id, delivery.incident_id
        enqueue_on_commit(webhook_deliver, subscription_id, incident_id)
        return delivery
