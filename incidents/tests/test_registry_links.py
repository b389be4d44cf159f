"""The key person's page (registry) lists the person's incidents through the provider
incidents registers (incidents.registry_links): matched by the reporter's phone or an explicit
PersonLink, and only those the viewer may see."""

import pytest
from django.urls import reverse

from incidents.tests.factories import build_city, make_incident
from registry.models import KeyPersonKind, Person, PersonLink
from registry.services import basic_save, key_person_create

pytestmark = pytest.mark.django_db


def test_key_person_page_lists_linked_incidents(client):
    city = build_city()
    person = basic_save(
        actor=city.worker,
        instance=Person(),
        data={"name": "张三", "phone": "13912340000"},
        cell=city.cell_a1_1,
    )
    kp = key_person_create(
        actor=city.worker,
        person=person,
        kind=KeyPersonKind.objects.get(code="severe_mental"),
        risk_level=0,
        responsible_worker=city.worker,
    )
    by_phone = make_incident(city, reporter_phone="13912340000")
    linked = make_incident(city, cell="cell_b1_1")
    unrelated = make_incident(city)
    PersonLink.objects.create(person=person, target="incident", target_id=linked.pk)
    client.force_login(city.worker)
    page = client.get(reverse("registry:key_person_detail", args=[kp.pk])).content.decode()
    assert by_phone.tracking_number in page
    assert unrelated.tracking_number not in page
    # Linked explicitly, but in a cell the worker does not see: not shown.
    assert linked.tracking_number not in page
