"""The partner REST API: POST /api/v1/intake/hotline (12345 / 110), the ticket state, webhook
subscriptions; HMAC failures and replays refused; rate limits; the OpenAPI schema."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.calendar import add_limit
from incidents.models import Channel, Incident, IncidentEvent, IncidentState
from integrations.models import IncomingTicket, WebhookSubscription
from integrations.security import sign
from integrations.tests.conftest import IN_A1_1, IN_B1_1, OUTSIDE, make_partner_kit

pytestmark = pytest.mark.django_db
URL = "/api/v1/intake/hotline"


def ticket(**fields) -> dict:
    return {
        "ticket_id": "ZZ20260312-0001",
        "category_code": "0102",
        "description": "市民来电：胜利路口垃圾堆积",
        "lat": IN_A1_1[0],
        "lng": IN_A1_1[1],
        "caller_name": "王女士",
        "caller_phone": "13912345678",
        **fields,
    }


def nothing_written():
    assert Incident.objects.count() == 0
    assert IncomingTicket.objects.count() == 0


# --- intake -----------------------------------------------------------------------------------


def test_a_12345_ticket_becomes_an_incident(kit, signed_post):
    before = timezone.now()
    response = signed_post(kit, URL, ticket())
    assert response.status_code == 201, response.content
    data = response.json()
    incident = Incident.objects.get()
    assert data["tracking_number"] == incident.tracking_number
    assert data["created"] is True
    assert data["ticket_id"] == "ZZ20260312-0001"
    assert data["source"] == "12345"
    assert data["status"] == "open" and data["state"] == IncidentState.REPORTED
    assert data["caller_phone"] == "139****5678"  # masked in every answer
    assert "13912345678" not in response.content.decode()
    assert data["track_url"].endswith(f"?no={incident.tracking_number}")
    assert incident.channel == Channel.HOTLINE_12345
    assert incident.reporter is None
    assert incident.reporter_phone == "13912345678"  # stored for the callback, shown masked
    assert incident.reporter_name == "王女士"
    assert incident.external_id == f"{kit.partner.code}:ZZ20260312-0001"
    stored = IncomingTicket.objects.get()
    assert stored.incident == incident and stored.api_key == kit.key
    # 12345 practice: 5 working days from receipt unless the ticket says otherwise
    assert stored.time_limit == "5wd"
    assert add_limit(before, "5wd") <= stored.due_at <= add_limit(timezone.now(), "5wd")


def test_the_same_ticket_twice_files_one_incident(kit, signed_post):
    first = signed_post(kit, URL, ticket())
    second = signed_post(kit, URL, ticket(description="重复推送"))
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["created"] is False
    assert first.json()["tracking_number"] == second.json()["tracking_number"]
    assert Incident.objects.count() == 1 and IncomingTicket.objects.count() == 1
    assert Incident.objects.get().description == "市民来电：胜利路口垃圾堆积"


def test_another_partner_may_reuse_the_ticket_number(kit, signed_post, city):
    other = make_partner_kit("xm12345")
    assert signed_post(kit, URL, ticket()).status_code == 201
    assert signed_post(other, URL, ticket()).status_code == 201
    assert Incident.objects.count() == 2


def test_urgent_flag_and_the_partners_time_limit(kit, signed_post):
    response = signed_post(kit, URL, ticket(urgent=True, time_limit="2wd"))
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert incident.urgent is True and response.json()["urgent"] is True
    stored = IncomingTicket.objects.get()
    assert stored.urgent is True and stored.time_limit == "2wd"
    assert stored.due_at == add_limit(stored.received_at, "2wd")


def test_explicit_due_at_and_received_at(kit, signed_post):
    received = timezone.now() - timedelta(hours=3)
    due = received + timedelta(days=2)
    response = signed_post(
        kit, URL, ticket(received_at=received.isoformat(), due_at=due.isoformat())
    )
    assert response.status_code == 201, response.content
    stored = IncomingTicket.objects.get()
    assert stored.received_at == received and stored.due_at == due


def test_a_110_diversion_carries_the_police_reference(kit, signed_post):
    missing = signed_post(kit, URL, ticket(source="110"))
    assert missing.status_code == 400
    assert "police_reference" in missing.json()["errors"]
    nothing_written()
    response = signed_post(kit, URL, ticket(source="110", police_reference="JJ3506022026031200042"))
    assert response.status_code == 201, response.content
    assert response.json()["source"] == "110"
    assert response.json()["police_reference"] == "JJ3506022026031200042"
    assert Incident.objects.get().channel == Channel.DIVERSION_110


def test_a_110_partner_defaults_to_110(city, signed_post):
    desk = make_partner_kit("zz110", kind="diversion_110")
    response = signed_post(desk, URL, ticket(police_reference="JJ1"))
    assert response.status_code == 201, response.content
    assert Incident.objects.get().channel == Channel.DIVERSION_110


def test_location_from_the_address(kit, signed_post):
    response = signed_post(kit, URL, ticket(lat=None, lng=None, address="东铺头社区 新华南路"))
    assert response.status_code == 201, response.content
    from grids.locator import locate

    incident = Incident.objects.get()
    assert locate(incident.lat, incident.lng).community_code == "350602002001"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"ticket_id": ""}, "ticket_id"),
        ({"ticket_id": "has space"}, "ticket_id"),
        ({"category_code": "9999"}, "category_code"),
        ({"description": ""}, "description"),
        ({"lat": OUTSIDE[0], "lng": OUTSIDE[1]}, "lat"),
        ({"lat": None, "lng": None, "address": ""}, "lat"),
        ({"lat": None, "lng": None, "address": "不存在的地方"}, "address_string"),
        ({"time_limit": "soon"}, "time_limit"),
        ({"due_at": "2020-01-01T00:00:00+08:00"}, "due_at"),
        ({"received_at": "2099-01-01T00:00:00+08:00"}, "received_at"),
        ({"caller_phone": "call me"}, "caller_phone"),
        ({"source": "119"}, "source"),
    ],
)
def test_bad_tickets_are_refused_and_write_nothing(kit, signed_post, fields, field):
    response = signed_post(kit, URL, ticket(**fields))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["detail"]
    assert field in body["errors"], body
    nothing_written()


def test_ticket_state_for_the_partner_only(kit, signed_post, client, city):
    signed_post(kit, URL, ticket())
    path = f"{URL}/ZZ20260312-0001"
    response = client.get(path, headers=kit.headers(b""))
    assert response.status_code == 200
    assert response.json()["tracking_number"] == Incident.objects.get().tracking_number
    assert "created" not in response.json()
    other = make_partner_kit("xm12345")
    assert client.get(path, headers=other.headers(b"")).status_code == 404


# --- authentication, signatures, scopes, rate limits ------------------------------------------


def test_missing_or_unknown_key_is_401(kit, client):
    body = json.dumps(ticket()).encode()
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("HMAC-SHA256")
    headers = {**kit.headers(body), "X-Api-Key": "gg_abcdef123456_" + "x" * 30}
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    nothing_written()


@pytest.mark.parametrize(
    "tamper",
    ["no_signature", "no_timestamp", "wrong_secret", "body_changed", "stale", "future", "bad_ts"],
)
def test_hmac_failures_are_refused(kit, client, tamper):
    body = json.dumps(ticket()).encode()
    headers = kit.headers(body)
    now = int(time.time())
    if tamper == "no_signature":
        del headers["X-Signature"]
    elif tamper == "no_timestamp":
        del headers["X-Timestamp"]
    elif tamper == "wrong_secret":
        headers["X-Signature"] = sign("not-the-secret", headers["X-Timestamp"], body)
    elif tamper == "body_changed":
        body = json.dumps(ticket(description="篡改")).encode()
    elif tamper == "stale":
        headers["X-Timestamp"] = str(now - 301)
        headers["X-Signature"] = sign(kit.secret, headers["X-Timestamp"], body)
    elif tamper == "future":
        headers["X-Timestamp"] = str(now + 301)
        headers["X-Signature"] = sign(kit.secret, headers["X-Timestamp"], body)
    elif tamper == "bad_ts":
        headers["X-Timestamp"] = "yesterday"
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401, response.content
    assert response.json()["detail"]
    nothing_written()


def test_a_replayed_request_is_refused(kit, client):
    body = json.dumps(ticket()).encode()
    headers = kit.headers(body)
    first = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert first.status_code == 201
    replay = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert replay.status_code == 401
    assert "replay" in replay.json()["detail"]
    # the partner's own retry is signed afresh, and answered with the same incident
    again = client.post(URL, data=body, content_type="application/json", headers=kit.headers(body))
    assert again.status_code == 200
    assert again.json()["tracking_number"] == first.json()["tracking_number"]


def test_a_replay_after_the_window_is_refused(kit, client):
    body = json.dumps(ticket()).encode()
    headers = kit.headers(body, timestamp=str(int(time.time())))
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 401
    assert "window" in response.json()["detail"]
    nothing_written()


def test_the_signature_may_carry_a_sha256_prefix(kit, client):
    body = json.dumps(ticket()).encode()
    headers = kit.headers(body)
    headers["X-Signature"] = "sha256=" + headers["X-Signature"]
    response = client.post(URL, data=body, content_type="application/json", headers=headers)
    assert response.status_code == 201


def test_a_revoked_key_or_inactive_partner_is_refused(kit, signed_post):
    from integrations.services import api_key_revoke

    kit.partner.active = False
    kit.partner.save()
    assert signed_post(kit, URL, ticket()).status_code == 401
    kit.partner.active = True
    kit.partner.save()
    api_key_revoke(key_id=kit.key.pk)
    assert signed_post(kit, URL, ticket()).status_code == 401
    nothing_written()


def test_the_key_needs_the_hotline_scope(city, signed_post):
    open311_only = make_partner_kit("app311", scopes=["open311-post"])
    response = signed_post(open311_only, URL, ticket())
    assert response.status_code == 403
    assert "hotline" in response.json()["detail"]
    nothing_written()


def test_rate_limit_answers_429_with_retry_after(city, signed_post):
    limited = make_partner_kit("slow", rate_limit=2)
    assert signed_post(limited, URL, ticket(ticket_id="T1")).status_code == 201
    assert signed_post(limited, URL, ticket(ticket_id="T2")).status_code == 201
    third = signed_post(limited, URL, ticket(ticket_id="T3"))
    assert third.status_code == 429
    assert 1 <= int(third["Retry-After"]) <= 60
    assert Incident.objects.count() == 2
    limited.key.refresh_from_db()
    assert limited.key.usage_count == 3
    # the next window lets the partner in again
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert signed_post(limited, URL, ticket(ticket_id="T3")).status_code == 201


# --- the partner's deadline honoured by the loop ----------------------------------------------


def test_the_partners_deadline_becomes_the_resolve_deadline(
    kit, signed_post, city, django_capture_on_commit_callbacks
):
    from incidents.services import incident_verify

    with django_capture_on_commit_callbacks(execute=True):
        signed_post(kit, URL, ticket(time_limit="3wd", category_code="0101"))
    incident = Incident.objects.get()
    assert incident.state == IncidentState.VERIFYING
    stored = IncomingTicket.objects.get()
    category_due = add_limit(timezone.now(), incident.category.resolve_within)  # 20wd
    assert stored.due_at < category_due
    with django_capture_on_commit_callbacks(execute=True):
        incident_verify(incident_id=incident.pk, actor=incident.verifier)
    incident.refresh_from_db()
    assert incident.state == IncidentState.DISPATCHED  # routed by the rules
    assert incident.resolve_due_at == stored.due_at
    assert incident.due_at == stored.due_at
    assert incident.warn_at is not None and incident.warn_at <= stored.due_at
    assert incident.escalate_at in (None, stored.due_at)  # None where the engine cannot escalate
    event = IncidentEvent.objects.get(incident=incident, action="partner_deadline")
    assert event.public is False and event.from_state == event.to_state


def test_deadline_apply_is_idempotent_and_yields_to_an_extension(kit, signed_post, city):
    from integrations.services import ticket_deadline_apply

    signed_post(kit, URL, ticket(category_code="0101"))
    incident = Incident.objects.get()
    assert ticket_deadline_apply(incident_id=incident.pk) is False  # not dispatched yet
    Incident.objects.filter(pk=incident.pk).update(
        state=IncidentState.DISPATCHED, resolve_due_at=timezone.now() + timedelta(days=30)
    )
    assert ticket_deadline_apply(incident_id=incident.pk) is True
    assert ticket_deadline_apply(incident_id=incident.pk) is False
    Incident.objects.filter(pk=incident.pk).update(
        resolve_due_at=timezone.now() + timedelta(days=40), extension_count=1
    )
    assert ticket_deadline_apply(incident_id=incident.pk) is False


# --- webhook subscriptions API ----------------------------------------------------------------

SUBS = "/api/v1/webhooks/subscriptions"


def test_partner_manages_its_subscriptions(kit, signed_post, client, settings, city):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    private = signed_post(kit, SUBS, {"url": "http://127.0.0.1:9/hook"})
    assert private.status_code == 400 and "url" in private.json()["errors"]

    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    own = signed_post(kit, SUBS, {"url": "http://127.0.0.1:9/hook"})
    assert own.status_code == 201, own.content
    region = signed_post(
        kit, SUBS, {"url": "http://127.0.0.1:9/r", "scope": "region", "region_code": "350602001000"}
    )
    assert region.status_code == 201, region.content
    assert region.json()["region_code"] == "350602001000"

    listed = client.get(SUBS, headers=kit.headers(b""))
    assert listed.status_code == 200
    assert {s["id"] for s in listed.json()} == {own.json()["id"], region.json()["id"]}

    other = make_partner_kit("xm12345", region=city.street_b)
    outside = signed_post(
        other,
        SUBS,
        {"url": "http://127.0.0.1:9/x", "scope": "region", "region_code": "350602001000"},
    )
    assert outside.status_code == 400 and "region_code" in outside.json()["errors"]
    path = f"{SUBS}/{own.json()['id']}"
    assert client.delete(path, headers=other.headers(b"")).status_code == 404
    assert client.delete(path, headers=kit.headers(b"")).status_code == 204
    assert WebhookSubscription.objects.filter(partner=kit.partner).count() == 1


def test_subscriptions_need_the_webhooks_scope(city, signed_post, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    hotline_only = make_partner_kit("only12345", scopes=["hotline"])
    response = signed_post(hotline_only, SUBS, {"url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 403
    assert not WebhookSubscription.objects.exists()


# --- schema -----------------------------------------------------------------------------------


def test_openapi_schema_documents_the_partner_api_not_open311():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = schema["paths"]
    assert "post" in paths["/api/v1/intake/hotline"]
    assert "/api/v1/intake/hotline/{ticket_id}" in paths
    assert "/api/v1/webhooks/subscriptions" in paths
    assert not any(p.startswith("/open311") for p in paths)
    assert schema["components"]["securitySchemes"]["partnerKeyHmac"]["name"] == "X-Api-Key"


def test_intake_in_another_cell_is_routed_there(
    kit, signed_post, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(kit, URL, ticket(lat=IN_B1_1[0], lng=IN_B1_1[1]))
    assert Incident.objects.get().region_code == "350602002001"
