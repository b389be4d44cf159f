"""Security review L1, the partner side: a partner's ticket ids are scoped to the partner. The
intake files through the engine as the partner (actor None) with the external id
"<partner code>:<ticket id>", never cut short."""

from __future__ import annotations

import pytest

from incidents.models import Incident
from integrations.models import IncomingTicket
from integrations.services import engine_external_id
from integrations.tests.conftest import make_partner_kit
from integrations.tests.test_apis import URL, ticket

pytestmark = pytest.mark.django_db


def test_two_partners_sending_the_same_ticket_id_get_two_incidents(city, signed_post):
    first = make_partner_kit("zz12345", region=city.city)
    second = make_partner_kit("xm12345", region=city.city)
    one = signed_post(first, URL, ticket(ticket_id="T-1"))
    two = signed_post(second, URL, ticket(ticket_id="T-1"))
    assert one.status_code == two.status_code == 201
    assert one.json()["tracking_number"] != two.json()["tracking_number"]
    assert set(Incident.objects.values_list("external_id", flat=True)) == {
        "zz12345:T-1",
        "xm12345:T-1",
    }
    assert IncomingTicket.objects.count() == 2


def test_long_ticket_ids_are_never_cut_into_one_another(city, signed_post):
    """A 24-character partner code and two 40-character ticket ids that differ in their last
    character: "<code>:<id>" is 65 characters, and the engine keeps 64 of them."""
    kit = make_partner_kit("p" * 24, region=city.city)
    first_id, second_id = "A" * 39 + "1", "A" * 39 + "2"
    one = signed_post(kit, URL, ticket(ticket_id=first_id))
    two = signed_post(kit, URL, ticket(ticket_id=second_id))
    assert one.status_code == two.status_code == 201, (one.content, two.content)
    assert one.json()["tracking_number"] != two.json()["tracking_number"]
    assert Incident.objects.count() == 2
    ids = {engine_external_id(kit.partner, first_id), engine_external_id(kit.partner, second_id)}
    assert len(ids) == 2 and all(len(i) <= 64 and i.startswith("p" * 24 + ":") for i in ids)
    again = signed_post(kit, URL, ticket(ticket_id=second_id))  # still idempotent
    assert again.status_code == 200
    assert again.json()["tracking_number"] == two.json()["tracking_number"]
