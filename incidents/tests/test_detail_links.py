"""The incident page links the mediation case, the referral page and linked petitions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from incidents.tests.factories import make_incident

pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"


def page(user, incident) -> str:
    client = Client()
    client.force_login(user, backend=BACKEND)
    response = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert response.status_code == 200
    return response.content.decode()


def dispute_code(city) -> str:
    return next(code for code, c in city.categories.items() if c.is_dispute and c.parent_id)


def test_refer_link_for_a_dispute_the_viewer_may_refer(city):
    incident = make_incident(city, state="dispatched", category=dispute_code(city))
    refer = reverse("mediation:refer", args=[incident.pk])
    assert refer in page(city.dispatcher, incident)
    assert refer not in page(city.resident, incident)  # the reporter does not refer
    not_dispute = make_incident(city, state="dispatched", category="0102")
    assert reverse("mediation:refer", args=[not_dispute.pk]) not in page(
        city.dispatcher, not_dispute
    )


def test_the_mediation_case_is_shown_and_linked(city):
    from mediation.models import MediationCase, MediationRoom

    incident = make_incident(city, state="mediating", category=dispute_code(city))
    room = MediationRoom.objects.create(
        name="西桥社区评理说事点",
        room_type="reasoning_point",
        level="village",
        region=city.cell_a1_1.community,
        capacity_per_day=4,
    )
    case = MediationCase.objects.create(
        case_number="TJ2026000001",
        room=room,
        facts="邻里纠纷",
        source="incident",
        region_code=incident.region_code,
        incident=incident,
    )
    html = page(city.admin, incident)
    assert 'id="mediation-case"' in html and case.case_number in html
    assert reverse("mediation:case_detail", args=[case.pk]) in html
    # a viewer who sees the incident but not the case gets no link to it
    assert reverse("mediation:case_detail", args=[case.pk]) not in page(city.resident, incident)


def test_linked_petitions_are_listed_for_viewers_who_see_them(city):
    from petitions.models import Petition
    from petitions.tests.factories import file_letter
    from tests.builders import make_user

    officer = make_user("officer_d", roles=["petition_officer"], region=city.district)
    incident = make_incident(city, state="dispatched")
    petition = file_letter(officer, region=city.cell_a1_1.community)
    Petition.objects.filter(pk=petition.pk).update(incident=incident)
    link = reverse("petitions:detail", args=[petition.pk])
    html = page(officer, incident)
    assert 'id="linked-petitions"' in html and link in html
    assert link not in page(city.resident, incident)
