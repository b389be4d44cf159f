"""Model rules: one ticket per partner ticket id; attribute definitions; subscriptions."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from integrations.models import IncomingTicket, Partner, ServiceAttribute, WebhookSubscription
from integrations.tests.conftest import make_partner_kit

pytestmark = pytest.mark.django_db


def test_a_partner_ticket_id_is_unique_per_partner(city):
    kit = make_partner_kit()
    other = make_partner_kit("other")
    IncomingTicket.objects.create(
        partner=kit.partner, channel="hotline_12345", external_id="T1", token="a"
    )
    IncomingTicket.objects.create(
        partner=other.partner, channel="hotline_12345", external_id="T1", token="b"
    )
    # Open311 posts carry no ticket id: any number of them
    IncomingTicket.objects.create(partner=kit.partner, channel="open311", token="c")
    IncomingTicket.objects.create(partner=kit.partner, channel="open311", token="d")
    with pytest.raises(IntegrityError), transaction.atomic():
        IncomingTicket.objects.create(
            partner=kit.partner, channel="hotline_12345", external_id="T1", token="e"
        )


def test_partner_time_limit_is_checked():
    partner = Partner(name="x", code="x", kind="other", hmac_secret="s", default_time_limit="soon")
    with pytest.raises(ValidationError) as error:
        partner.full_clean()
    assert "default_time_limit" in error.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"code": "bad code"}, "code"),
        ({"datatype": "singlevaluelist", "values": []}, "values"),
        ({"datatype": "string", "values": [{"key": "a", "name": "A"}]}, "values"),
        ({"datatype": "singlevaluelist", "values": [{"name": "A"}]}, "values"),
        ({"order": 0}, "order"),
    ],
)
def test_service_attribute_rules(categories, fields, field):
    values = {
        "category": categories["0102"],
        "code": "amount",
        "description": "垃圾量",
        "datatype": "string",
        "order": 1,
        **fields,
    }
    with pytest.raises(ValidationError) as error:
        ServiceAttribute(**values).full_clean()
    assert field in error.value.message_dict


def test_a_region_subscription_needs_its_region(city):
    kit = make_partner_kit()
    with pytest.raises(ValidationError):
        WebhookSubscription(
            partner=kit.partner, url="https://x.example/h", scope="region"
        ).full_clean()
    with pytest.raises(ValidationError):
        WebhookSubscription(
            partner=kit.partner, url="https://x.example/h", scope="own", region=city.street_a
        ).full_clean()
    WebhookSubscription(
        partner=kit.partner, url="https://x.example/h", scope="region", region=city.street_a
    ).full_clean()
