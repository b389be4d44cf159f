"""Test data for screening: the small city (incidents.tests.factories.build_city), a police
officer paired with cell A1-1, a mediator and a village mediation room in community A1."""

from types import SimpleNamespace

import pytest

from mediation.models import MediationRoom, RoomMediator
from tests.builders import make_user


@pytest.fixture
def world(region_tree) -> SimpleNamespace:
    from incidents.tests.factories import build_city

    city = build_city(region_tree)
    police = make_user("police_a1", roles=["police_officer"], phone="13700000020")
    cell = region_tree["cell_a1_1"]
    cell.police_officer = police
    cell.save()
    mediator = make_user(
        "mediator_a", roles=["mediator"], region=region_tree["street_a"], phone="13700000021"
    )
    room = MediationRoom.objects.create(
        name="西桥社区人民调解委员会",
        room_type="reasoning_point",
        level="village",
        region=region_tree["a1"],
        capacity_per_day=4,
    )
    RoomMediator.objects.create(room=room, user=mediator)
    city.police = police
    city.mediator = mediator
    city.room = room
    return city


def parties(**extra) -> list[dict]:
    return [
        {"side": "applicant", "name": "张三丰", "phone": "13911112222", **extra},
        {"side": "respondent", "name": "李四光", "phone": "13933334444"},
    ]
