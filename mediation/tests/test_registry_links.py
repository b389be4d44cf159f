"""The provider mediation registers with registry.links: a person's mediation cases (matched by
a party's phone, or an explicit PersonLink), only those the viewer may see."""

import pytest

from mediation.registry_links import person_cases
from mediation.tests.builders import walk_in
from registry.links import linked_matters
from registry.models import Person, PersonLink

pytestmark = pytest.mark.django_db


def _person(world, phone: str) -> Person:
    cell = world.regions["cell_a1_1"]
    person = Person(cell=cell, region_code=cell.community.code, name="张三")
    person.phone = phone
    person.save()
    return person


def test_cases_by_phone_and_explicit_link_scoped_to_viewer(world):
    case = walk_in(world)  # applicant's phone 13700000001, street A
    person = _person(world, "13700000001")
    assert [m.label for m in person_cases(world.mediator, person)] == [case.case_number]
    assert person_cases(world.mediator2, person) == []  # street B's mediator
    other = _person(world, "13700000099")
    assert person_cases(world.mediator, other) == []
    PersonLink.objects.create(person=other, target="mediation_case", target_id=case.pk)
    assert [m.label for m in person_cases(world.mediator, other)] == [case.case_number]
    assert "mediation" in linked_matters(world.mediator, other)
