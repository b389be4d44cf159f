"""A small city with registry data: cells, workers, a community's designated staff, a paired
police officer, a department handler, a building, a home, a person, a key person."""

from types import SimpleNamespace

import pytest

from registry.models import Building, DesignatedStaff, Home, KeyPersonKind, Person
from registry.services import basic_save, key_person_create
from tests.builders import make_grid_worker, make_region_tree, make_user

ID_A = "11010519491231002X"
ID_B = "110105194912310029"  # not valid (checksum)
PHONE_A = "13912345678"


def valid_id(prefix17: str) -> str:
    from registry.personal_data import ID_CHECK_CHARS, ID_WEIGHTS

    total = sum(int(d) * w for d, w in zip(prefix17, ID_WEIGHTS, strict=True))
    return prefix17 + ID_CHECK_CHARS[total % 11]


@pytest.fixture
def world(db):
    t = make_region_tree()
    worker = make_grid_worker("rw_a1", cells=[t["cell_a1_1"]], phone="13700000101")
    worker2 = make_grid_worker("rw_a1_2", cells=[t["cell_a1_2"]], phone="13700000102")
    worker_b = make_grid_worker("rw_b", cells=[t["cell_b1_1"]], phone="13700000103")
    staff = make_user("rstaff_a1", roles=["dispatcher"], region=t["a1"], phone="13700000104")
    DesignatedStaff.objects.create(community=t["a1"], user=staff)
    street = make_user("rdisp_a", roles=["dispatcher"], region=t["street_a"], phone="13700000105")
    supervisor = make_user("rsup", roles=["supervisor"], region=t["district"], phone="13700000106")
    police = make_user("rpolice", roles=["police_officer"], region=t["a1"], phone="13700000107")
    t["cell_a1_1"].police_officer = police
    t["cell_a1_1"].save()
    health = make_user(
        "rhealth", roles=["department_handler"], region=t["district"], department="卫生健康"
    )
    other_dept = make_user(
        "rcg", roles=["department_handler"], region=t["district"], department="城管执法"
    )
    resident = make_user("rresident", roles=["resident"], phone="13700000108")
    admin = make_user("radmin", roles=["admin"])
    cell = t["cell_a1_1"]
    building = basic_save(
        actor=worker,
        instance=Building(),
        data={"name": "1号楼", "address": "新华西路1号", "lat": 24.505, "lng": 117.605},
        cell=cell,
    )
    home = basic_save(
        actor=worker,
        instance=Home(),
        data={"building": building, "number": "101", "occupancy": "rented", "tenant_count": 2},
        cell=cell,
    )
    person = basic_save(
        actor=worker,
        instance=Person(),
        data={"name": "张三", "id_number": ID_A, "phone": PHONE_A, "home": home},
        cell=cell,
    )
    mental = KeyPersonKind.objects.get(code="severe_mental")
    elderly = KeyPersonKind.objects.get(code="elderly_alone")
    kp = key_person_create(
        actor=worker, person=person, kind=mental, risk_level=1, responsible_worker=worker
    )
    return SimpleNamespace(
        **t,
        worker=worker,
        worker2=worker2,
        worker_b=worker_b,
        staff=staff,
        street=street,
        supervisor=supervisor,
        police=police,
        health=health,
        other_dept=other_dept,
        resident=resident,
        admin=admin,
        cell=cell,
        building=building,
        home=home,
        person=person,
        mental=mental,
        elderly=elderly,
        kp=kp,
    )
