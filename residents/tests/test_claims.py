"""认领 of mediation applications and petitions made with the resident's phone (each through
its app's own service), on the mediation tests' world."""

from __future__ import annotations

import pytest
from django.utils import timezone

from mediation.models import CaseParty, MediationCase
from mediation.tests.builders import parties, walk_in
from mediation.tests.conftest import cats, city, world  # noqa: F401 - fixtures
from petitions.models import Petition
from petitions.tests import factories as petition_factories
from residents import rights
from tests.builders import make_user

pytestmark = pytest.mark.django_db
PHONE = "13955550000"


def test_claim_mediation_applications_and_petitions(world):  # noqa: F811 - the fixture
    resident = make_user("claimer", roles=["resident"], phone=PHONE)
    case = walk_in(world, parties=parties(phone=PHONE))
    other = walk_in(world)
    officer = petition_factories.officer("pet_officer", region=world.regions["street_a"])
    petition = petition_factories.file_letter(
        officer,
        region=world.regions["a1"],
        people=[petition_factories.person(phone=PHONE)],
    )
    assert petition.owner_id is None or petition.owner_id == resident.pk
    resident.phone_verified_at = timezone.now()
    resident.save()
    counts = rights.resident_claim(user=resident)
    assert counts["mediation"] == 1
    assert MediationCase.objects.get(pk=case.pk).applicant_user == resident
    assert MediationCase.objects.get(pk=other.pk).applicant_user is None
    assert CaseParty.objects.get(case=case, role=CaseParty.Role.APPLICANT).user == resident
    assert Petition.objects.get(pk=petition.pk).owner == resident
    from residents.sections import sections_for

    shown = {section.key: items for section, items in sections_for(resident)}
    assert [item.title.split(" · ")[0] for item in shown["mediation"]] == [case.case_number]
    assert "张三" not in str(shown["mediation"])  # the facts (and names in them) stay out
    assert [item.url for item in shown["petitions"]] == [f"/petitions/{petition.pk}/"]
