"""Test data for the mediation app: a small city with a town, dispute categories, rooms at
every level, mediators and the other people who meet a case."""

from dataclasses import dataclass

import pytest

from grids.models import GridCell, Region
from incidents.models import Category
from mediation.models import MediationRoom, RoomMediator
from tests.builders import make_user, rectangle


@pytest.fixture
def city(region_tree):
    """make_region_tree plus a town (镇) with one village and its grid cell."""
    town = Region.objects.create(
        code="350602101000", name="石亭镇", level="street", parent=region_tree["district"]
    )
    village = Region.objects.create(
        code="350602101201",
        name="石亭村",
        level="community",
        parent=town,
        boundary=rectangle(24.520, 117.600, 24.530, 117.620),
    )
    cell = GridCell.objects.create(
        code="350602101201001",
        name="石亭村1网格",
        community=village,
        geometry=rectangle(24.520, 117.600, 24.530, 117.620),
    )
    return {**region_tree, "town": town, "village": village, "cell_village": cell}


@pytest.fixture
def cats(db):
    disputes = Category.objects.create(code="10", name="矛盾纠纷", name_en="Disputes")
    common = {"parent": disputes, "is_dispute": True, "verify_within": "1d"}
    return {
        "neighbour": Category.objects.create(
            code="1001",
            name="邻里纠纷",
            name_en="Neighbour dispute",
            handled_at="grid",
            dispatch_within="1h",
            resolve_within="3d",
            **common,
        ),
        "family": Category.objects.create(
            code="1002",
            name="婚姻家庭纠纷",
            handled_at="community",
            dispatch_within="1h",
            resolve_within="7d",
            **common,
        ),
        "medical": Category.objects.create(
            code="1006",
            name="医疗纠纷",
            handled_at="department",
            department="卫健",
            dispatch_within="1h",
            resolve_within="30d",
            **common,
        ),
        "litter": Category.objects.create(
            code="0102",
            name="暴露垃圾",
            parent=Category.objects.create(code="01", name="市容环境"),
            handled_at="grid",
            verify_within="1h",
            dispatch_within="30m",
            resolve_within="1wd",
        ),
    }


@dataclass
class World:
    regions: dict
    cats: dict
    admin: object
    mediator: object
    mediator2: object
    supervisor: object
    supervisor_b: object
    resident: object
    handler: object
    dispatcher: object
    rooms: dict


def _room(name, room_type, level, region, categories=(), capacity=4, **extra) -> MediationRoom:
    room = MediationRoom.objects.create(
        name=name,
        room_type=room_type,
        level=level,
        region=region,
        capacity_per_day=capacity,
        **extra,
    )
    room.categories.set(categories)
    return room


@pytest.fixture
def world(city, cats) -> World:
    general = [cats["neighbour"], cats["family"]]
    rooms = {
        "village_a1": _room(
            "西桥社区评理说事点", "reasoning_point", "village", city["a1"], general
        ),
        "township_a": _room(
            "西桥街道两代表一委员调解室",
            "two_reps_one_member",
            "township",
            city["street_a"],
            general,
        ),
        "county_family": _room(
            "芗城区家事纠纷调解室", "family", "county", city["district"], [cats["family"]]
        ),
        "city_medical": _room(
            "漳州市医患纠纷人民调解委员会", "medical", "city", city["city"], [cats["medical"]]
        ),
        "village_town": _room("石亭村乡贤调解室", "xiangxian", "village", city["village"], general),
        "township_b": _room(
            "东铺头派出所警调对接工作室",
            "police",
            "township",
            city["street_b"],
            [cats["neighbour"]],
        ),
    }
    admin = make_user("admin1", roles=["admin"], region=city["city"], phone="13900000000")
    mediator = make_user("med1", roles=["mediator"], region=city["street_a"], phone="13900000001")
    mediator2 = make_user("med2", roles=["mediator"], region=city["street_b"], phone="13900000002")
    for key in ("village_a1", "township_a"):
        RoomMediator.objects.create(room=rooms[key], user=mediator, title="调解员")
    RoomMediator.objects.create(room=rooms["township_b"], user=mediator2, title="调解员")
    RoomMediator.objects.create(room=rooms["village_town"], user=mediator2, title="乡贤")
    return World(
        regions=city,
        cats=cats,
        admin=admin,
        mediator=mediator,
        mediator2=mediator2,
        supervisor=make_user("sup", roles=["supervisor"], region=city["city"]),
        supervisor_b=make_user("sup_b", roles=["supervisor"], region=city["street_b"]),
        resident=make_user("res", roles=["resident"], phone="13900000009"),
        handler=make_user(
            "handler1",
            roles=["department_handler"],
            region=city["district"],
            department="城管执法",
            phone="13900000007",
        ),
        dispatcher=make_user(
            "disp", roles=["dispatcher"], region=city["street_a"], phone="13900000003"
        ),
        rooms=rooms,
    )
