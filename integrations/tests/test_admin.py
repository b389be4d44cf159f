"""Admin: secrets and keys shown once (never in lists or forms), revoke, rotate, deliveries
visible with a replay button."""

from __future__ import annotations

import re

import pytest

from integrations import security
from integrations.models import ApiKey, Partner, WebhookDelivery, WebhookSubscription
from integrations.tests.conftest import IN_A1_1, make_partner_kit
from tests.builders import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, city):
    user = make_user("root", roles=["admin"], is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def shown(response) -> str:
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    match = re.search(rb'<code id="shown-once"[^>]*>([^<]+)</code>', response.content)
    assert match, response.content[:2000]
    return match.group(1).decode()


def test_adding_a_partner_shows_its_secret_once(admin_client, city):
    response = admin_client.post(
        "/admin/integrations/partner/add/",
        {
            "name": "漳州12345",
            "code": "zz12345",
            "kind": "hotline_12345",
            "region": city.city.pk,
            "default_time_limit": "5wd",
            "contact": "",
            "active": "on",
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
            "subscriptions-TOTAL_FORMS": "0",
            "subscriptions-INITIAL_FORMS": "0",
        },
    )
    secret = shown(response)
    partner = Partner.objects.get(code="zz12345")
    assert partner.hmac_secret == secret
    for url in (
        "/admin/integrations/partner/",
        f"/admin/integrations/partner/{partner.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()


def test_rotating_the_secret_shows_the_new_one_once(admin_client, city):
    kit = make_partner_kit()
    response = admin_client.post(
        "/admin/integrations/partner/",
        {"action": "rotate_secret", "_selected_action": [kit.partner.pk]},
    )
    new = shown(response)
    kit.partner.refresh_from_db()
    assert kit.partner.hmac_secret == new != kit.secret


def test_adding_a_key_shows_it_once_and_stores_only_its_hash(admin_client, city):
    kit = make_partner_kit()
    response = admin_client.post(
        "/admin/integrations/apikey/add/",
        {
            "partner": kit.partner.pk,
            "name": "hotline",
            "scopes": ["hotline", "webhooks"],
            "rate_limit": "60",
            "rate_window_seconds": "60",
        },
    )
    raw = shown(response)
    key = ApiKey.objects.get(name="hotline")
    assert security.api_key_lookup(raw) == key
    assert key.scopes == ["hotline", "webhooks"]
    assert key.created_by.username == "root"
    listing = admin_client.get("/admin/integrations/apikey/").content.decode()
    assert raw not in listing and f"gg_{key.prefix}_…" in listing
    assert (
        raw not in admin_client.get(f"/admin/integrations/apikey/{key.pk}/change/").content.decode()
    )


def test_revoke_action(admin_client, city):
    kit = make_partner_kit()
    response = admin_client.post(
        "/admin/integrations/apikey/", {"action": "revoke", "_selected_action": [kit.key.pk]}
    )
    assert response.status_code == 302
    kit.key.refresh_from_db()
    assert kit.key.revoked_at is not None
    assert security.api_key_lookup(kit.raw_key) is None


def test_deliveries_are_visible_with_a_replay_button(
    admin_client, city, signed_post, django_capture_on_commit_callbacks
):
    kit = make_partner_kit(region=city.city)
    WebhookSubscription.objects.create(partner=kit.partner, url="http://127.0.0.1:9/nowhere")
    with django_capture_on_commit_callbacks(execute=True):
        signed_post(
            kit,
            "/api/v1/intake/hotline",
            {
                "ticket_id": "T1",
                "category_code": "0102",
                "description": "垃圾",
                "lat": IN_A1_1[0],
                "lng": IN_A1_1[1],
            },
        )
    delivery = WebhookDelivery.objects.order_by("event_id").first()
    assert delivery.attempts == 1 and delivery.last_error
    listing = admin_client.get("/admin/integrations/webhookdelivery/")
    assert listing.status_code == 200
    assert str(delivery.uuid) in listing.content.decode()
    page = admin_client.get(f"/admin/integrations/webhookdelivery/{delivery.pk}/change/")
    assert page.status_code == 200
    assert 'id="replay-delivery"' in page.content.decode()

    WebhookDelivery.objects.filter(pk=delivery.pk).update(status="failed")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(f"/admin/integrations/webhookdelivery/{delivery.pk}/replay/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert len(callbacks) == 1  # the sending task, on commit

    tickets = admin_client.get("/admin/integrations/incomingticket/")
    assert tickets.status_code == 200 and "T1" in tickets.content.decode()


def test_service_attribute_admin_pages(admin_client, categories):
    assert admin_client.get("/admin/integrations/serviceattribute/add/").status_code == 200
    assert admin_client.get("/admin/integrations/webhooksubscription/").status_code == 200
