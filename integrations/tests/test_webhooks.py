"""Outbound status webhooks: one signed POST per status change, in order per incident, retried
with exponential backoff until the partner recovers (delivered once), given up after a day,
replayable by admins; a partner that is down never slows the loop.

The partner is a tiny threading http.server on 127.0.0.1 (conftest.partner_server)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from incidents.models import Incident, IncidentEvent, IncidentState
from integrations import tasks
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.services import (
    retry_delay_seconds,
    webhook_deliveries_for_event,
    webhook_delivery_replay,
)
from integrations.tests.conftest import IN_A1_1, IN_B1_1, make_partner_kit

pytestmark = pytest.mark.django_db
URL = "/api/v1/intake/hotline"


def hotline(kit, signed_post, capture, *, ticket_id="ZZ-1", at=IN_A1_1):
    with capture(execute=True):
        response = signed_post(
            kit,
            URL,
            {
                "ticket_id": ticket_id,
                "category_code": "0102",
                "description": "垃圾",
                "lat": at[0],
                "lng": at[1],
                "caller_phone": "13912345678",
            },
        )
    assert response.status_code == 201, response.content
    return Incident.objects.get(tracking_number=response.json()["tracking_number"])


def subscribe(kit, url, **fields) -> WebhookSubscription:
    return WebhookSubscription.objects.create(partner=kit.partner, url=url, **fields)


def redrive_later(capture, seconds: float) -> None:
    """Let time pass (past the backoff) and run the sweep, as beat would."""
    with time_machine.travel(timezone.now() + timedelta(seconds=seconds)), capture(execute=True):
        tasks.webhooks_redrive()


def test_a_failing_partner_recovers_and_gets_each_change_once_in_order(
    kit, signed_post, partner_server, django_capture_on_commit_callbacks
):
    partner_server.fail_first = 3
    subscribe(kit, partner_server.url)
    incident = hotline(kit, signed_post, django_capture_on_commit_callbacks)
    # reported, then located (verifying): two changes, both pending behind the failing first
    deliveries = list(WebhookDelivery.objects.order_by("event_id"))
    assert [d.event.to_state for d in deliveries] == ["reported", "verifying"]
    first = deliveries[0]
    first.refresh_from_db()
    assert first.status == WebhookDelivery.Status.PENDING
    assert first.attempts == 1
    assert first.last_status_code == 500 and first.last_error.startswith("HTTP 500")
    assert deliveries[1].attempts == 0  # waits for the first: order per incident
    assert len(partner_server.received) == 1

    # the backoff doubles: 30 s, 60 s, 120 s ...
    assert [retry_delay_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    redrive_later(django_capture_on_commit_callbacks, 31)
    redrive_later(django_capture_on_commit_callbacks, 31 + 61)
    assert len(partner_server.received) == 3
    redrive_later(django_capture_on_commit_callbacks, 31 + 61 + 121)

    assert [r.status for r in partner_server.received] == [500, 500, 500, 200, 200]
    delivered = [r.json for r in partner_server.delivered]
    assert [d["change"]["to_state"] for d in delivered] == ["reported", "verifying"]
    assert [d["sequence"] for d in delivered] == sorted(d["sequence"] for d in delivered)
    event_ids = [d["event_id"] for d in delivered]
    assert len(set(event_ids)) == 2  # each change delivered once
    assert {r.json["event_id"] for r in partner_server.received[:4]} == {event_ids[0]}
    for row in WebhookDelivery.objects.all():
        assert row.status == WebhookDelivery.Status.DELIVERED
        assert row.delivered_at is not None and row.last_error == ""
    assert WebhookDelivery.objects.get(uuid=event_ids[0]).attempts == 4
    assert WebhookDelivery.objects.get(uuid=event_ids[1]).attempts == 1
    payload = delivered[0]
    assert payload["incident"]["tracking_number"] == incident.tracking_number
    assert payload["ticket"] == {"ticket_id": "ZZ-1", "police_reference": None}
    assert payload["change"]["status"] == "open"
    assert "13912345678" not in json.dumps(delivered)


def test_each_post_is_signed_with_the_partners_secret(
    kit, signed_post, partner_server, django_capture_on_commit_callbacks
):
    subscribe(kit, partner_server.url)
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    request = partner_server.delivered[0]
    timestamp = request.headers["x-gridgov-timestamp"]
    expected = hmac.new(
        kit.secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-gridgov-signature"] == f"sha256={expected}"
    assert request.headers["x-gridgov-event-id"] == request.json["event_id"]
    assert request.headers["content-type"].startswith("application/json")
    assert request.path == "/hooks/gridgov"


def test_later_changes_follow_in_order(
    kit, signed_post, partner_server, city, django_capture_on_commit_callbacks
):
    from incidents.services import incident_verify

    subscribe(kit, partner_server.url)
    incident = hotline(kit, signed_post, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        incident_verify(incident_id=incident.pk, actor=incident.verifier)
    states = [r.json["change"]["to_state"] for r in partner_server.delivered]
    assert states == ["reported", "verifying", "verified", "dispatched"]
    sequences = [r.json["sequence"] for r in partner_server.delivered]
    assert sequences == sorted(sequences)


def test_a_delivery_is_given_up_after_a_day_and_the_next_one_goes(
    kit, signed_post, partner_server, django_capture_on_commit_callbacks
):
    partner_server.fail_first = 10**6
    subscribe(kit, partner_server.url)
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    elapsed = 0
    for _ in range(60):
        first = WebhookDelivery.objects.order_by("event_id").first()
        if first.status == WebhookDelivery.Status.FAILED:
            break
        elapsed += 3601
        redrive_later(django_capture_on_commit_callbacks, elapsed)
    first, second = WebhookDelivery.objects.order_by("event_id")
    assert first.status == WebhookDelivery.Status.FAILED
    assert 20 <= first.attempts <= 40
    assert first.last_attempt_at - first.created_at <= timedelta(hours=24)
    assert second.attempts == 0
    redrive_later(django_capture_on_commit_callbacks, elapsed + 3601)
    second.refresh_from_db()
    assert second.attempts == 1  # goes out once the first is given up


def test_admin_replay_sends_a_delivered_change_again(
    kit, signed_post, partner_server, city, django_capture_on_commit_callbacks
):
    subscribe(kit, partner_server.url)
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first.status == WebhookDelivery.Status.DELIVERED
    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_replay(delivery_id=first.pk, actor=city.admin)
    first.refresh_from_db()
    assert first.status == WebhookDelivery.Status.DELIVERED and first.attempts == 2
    assert [r.json["event_id"] for r in partner_server.delivered].count(str(first.uuid)) == 2

    from core.exceptions import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        webhook_delivery_replay(delivery_id=first.pk, actor=city.worker)


def test_region_subscription_follows_every_incident_of_the_region(
    kit, signed_post, partner_server, city, django_capture_on_commit_callbacks
):
    watcher = make_partner_kit("watcher", region=city.city)
    subscribe(watcher, partner_server.url, scope="region", region=city.street_a)
    hotline(kit, signed_post, django_capture_on_commit_callbacks, ticket_id="A")
    hotline(kit, signed_post, django_capture_on_commit_callbacks, ticket_id="B", at=IN_B1_1)
    delivered = partner_server.delivered
    # street A's incident only (its region is known from the report on)
    assert [r.json["change"]["to_state"] for r in delivered] == ["reported", "verifying"]
    assert delivered[0].json["incident"]["region_code"] == "350602001001"
    assert delivered[0].json["ticket"] is None  # not this partner's ticket


def test_no_subscription_no_delivery_and_side_moves_are_not_sent(
    kit, signed_post, partner_server, city, django_capture_on_commit_callbacks
):
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    assert WebhookDelivery.objects.count() == 0
    subscribe(kit, partner_server.url)
    incident = Incident.objects.get()
    side = IncidentEvent.objects.create(
        incident=incident, action="deadline_warning", from_state="verifying", to_state="verifying"
    )
    assert WebhookDelivery.objects.count() == 0
    assert webhook_deliveries_for_event(event=side) == 1  # the function itself does not filter
    assert WebhookDelivery.objects.count() == 1


def test_a_partner_that_is_down_never_slows_the_loop(
    kit, signed_post, city, django_capture_on_commit_callbacks, settings
):
    import socket

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True  # the dead port is on 127.0.0.1 (test only)

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    subscription = subscribe(kit, dead_url)
    incident = hotline(kit, signed_post, django_capture_on_commit_callbacks, ticket_id="A")
    assert incident.state == IncidentState.VERIFYING  # the loop went on
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first.status == WebhookDelivery.Status.PENDING and first.attempts == 1
    assert "Connection refused" in first.last_error or "URLError" in first.last_error
    subscription.refresh_from_db()
    assert subscription.failures_in_a_row == 1 and subscription.paused_until is not None
    # another incident of the same partner: no request while the partner is paused
    other = hotline(kit, signed_post, django_capture_on_commit_callbacks, ticket_id="B")
    waiting = WebhookDelivery.objects.filter(incident=other).order_by("event_id").first()
    assert waiting.attempts == 0
    assert waiting.next_attempt_at >= subscription.paused_until


def test_the_sweep_skips_what_is_not_due(
    kit, signed_post, partner_server, django_capture_on_commit_callbacks
):
    partner_server.fail_first = 1
    subscribe(kit, partner_server.url)
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.webhooks_redrive() == 0  # the retry is 30 s away
    assert len(partner_server.received) == 1


def _bulk_change(incident, to_state: str) -> IncidentEvent:
    """A state change written the way the engine's sweep does (bulk: no post_save signal)."""
    previous = incident.state
    Incident.objects.filter(pk=incident.pk).update(state=to_state)
    incident.state = to_state
    IncidentEvent.objects.bulk_create(
        [
            IncidentEvent(
                incident=incident, action="escalate", from_state=previous, to_state=to_state
            )
        ]
    )
    return IncidentEvent.objects.get(incident=incident, action="escalate", to_state=to_state)


def test_changes_written_without_a_signal_are_caught_up_in_order(
    kit, signed_post, partner_server, city, django_capture_on_commit_callbacks
):
    subscribe(kit, partner_server.url)
    incident = hotline(kit, signed_post, django_capture_on_commit_callbacks)
    assert len(partner_server.delivered) == 2  # reported, verifying
    bulk = _bulk_change(incident, IncidentState.VERIFIED)
    assert not WebhookDelivery.objects.filter(event=bulk).exists()
    with django_capture_on_commit_callbacks(execute=True):
        result = tasks.sweep()
    assert result["deliveries_added"] == 1
    assert [r.json["change"]["to_state"] for r in partner_server.delivered][-1] == "verified"

    # a bulk change followed at once by a signalled one: both go, the bulk one first
    _bulk_change(incident, IncidentState.DISPATCHED)
    with django_capture_on_commit_callbacks(execute=True):
        IncidentEvent.objects.create(
            incident=incident, action="accept", from_state="dispatched", to_state="accepted"
        )
    states = [r.json["change"]["to_state"] for r in partner_server.delivered]
    assert states == ["reported", "verifying", "verified", "dispatched", "accepted"]


def test_the_sweep_restores_a_partners_deadline(kit, signed_post, city):
    signed_post(
        kit,
        URL,
        {
            "ticket_id": "T",
            "category_code": "0101",
            "description": "违建",
            "lat": IN_A1_1[0],
            "lng": IN_A1_1[1],
            "time_limit": "2wd",
        },
    )
    incident = Incident.objects.get()
    Incident.objects.filter(pk=incident.pk).update(
        state=IncidentState.DISPATCHED, resolve_due_at=timezone.now() + timedelta(days=30)
    )
    assert tasks.sweep()["deadlines"] == 1
    incident.refresh_from_db()
    assert incident.resolve_due_at == incident.incoming_ticket.due_at
    assert tasks.sweep()["deadlines"] == 0


def test_a_failing_hook_never_breaks_the_engines_move(
    kit, signed_post, partner_server, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import DatabaseError

    from integrations.services import webhooks

    def broken(**kwargs):
        raise DatabaseError("disk full")

    subscribe(kit, partner_server.url)
    monkeypatch.setattr(webhooks, "webhook_deliveries_for_event", broken)
    incident = hotline(kit, signed_post, django_capture_on_commit_callbacks)
    assert incident.state == IncidentState.VERIFYING  # the loop went on
    assert partner_server.received == []


def test_the_subscription_flag_is_kept_per_process_for_seconds_and_cleared_by_a_change(
    kit, partner_server, monkeypatch
):
    """webhooks_active: one shared-cache read per WEBHOOKS_ACTIVE_LOCAL_SECONDS in a process;
    a subscription saved here clears it at once; one made behind the signals' back (another
    process) is seen once the local copy has expired."""
    from django.core.cache import cache

    from core import process_cache
    from integrations import services

    assert services.webhooks_active() is False
    # another process subscribes: the shared flag is dropped, this process's copy is not yet
    sneaky = WebhookSubscription(partner=kit.partner, url=partner_server.url)
    WebhookSubscription.objects.bulk_create([sneaky])  # no post_save signal
    cache.delete(services._webhooks_active_key())
    assert services.webhooks_active() is False  # the local copy, for a moment
    real = process_cache.time.monotonic
    with monkeypatch.context() as patch:
        later = services.WEBHOOKS_ACTIVE_LOCAL_SECONDS + 1
        patch.setattr(process_cache.time, "monotonic", lambda: real() + later)
        assert services.webhooks_active() is True
    # a change made in this process is seen at once
    WebhookSubscription.objects.all().delete()
    assert services.webhooks_active() is False
    subscribe(kit, partner_server.url)
    assert services.webhooks_active() is True
