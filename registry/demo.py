"""Demo data of registry (issue 19), for `manage.py load_demo_city` after the grids data.

In the first cell of the demo grid worker `gridworker` (西桥社区): two buildings, three homes
(one rented), four people, a key place, a shop, and one key person (严重精神障碍患者, risk 1)
with a visit. Demo logins: `communitystaff` (西桥社区's designated staff for key persons,
dispatcher role) and `police` (community police officer paired with the cell), password as
the other demo users. Idempotent: records are matched by address / ID number.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, RoleCode, User
from grids.models import Region
from registry.defaults import ensure_defaults
from registry.models import (
    Building,
    DesignatedStaff,
    Home,
    KeyPerson,
    KeyPersonKind,
    Organisation,
    Person,
    PersonTag,
    Place,
)
from registry.personal_data import lookup_key
from registry.services import basic_save, key_person_create, visit_log

DEMO_PASSWORD = "Demo-2026!"  # noqa: S105 - published demo logins, as grids.demo  # nosec B105
COMMUNITY = "350602001001"


def _user(username: str, display: str, role: str, region: Region, phone: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        phone_free = not User.objects.filter(phone=phone).exists()
        user = User(
            username=username,
            display_name=display,
            scope_region=region,
            phone=phone if phone_free else None,
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
    Role.objects.get_or_create(code=role)
    user.roles.add(Role.objects.get(code=role))
    return user


def load_demo() -> None:
    ensure_defaults()
    worker = User.objects.filter(username="gridworker").select_related("grid_worker").first()
    community = Region.objects.filter(code=COMMUNITY).first()
    if worker is None or community is None or not hasattr(worker, "grid_worker"):
        return
    cell = worker.grid_worker.cells.order_by("code").first()
    if cell is None:
        return
    with transaction.atomic():
        staff = _user("communitystaff", "许美玲", RoleCode.DISPATCHER, community, "13800000190")
        DesignatedStaff.objects.get_or_create(community=community, user=staff, kind=None)
        police = _user("police", "王警官", RoleCode.POLICE_OFFICER, community, "13800000191")
        if cell.police_officer_id is None:
            cell.police_officer = police
            cell.save(update_fields=["police_officer"])
        lat, lng = _centre(cell.geometry)
        buildings = []
        for n, (name, floors) in enumerate([("新华西路8号1号楼", 6), ("新华西路8号2号楼", 11)]):
            building = Building.objects.filter(cell=cell, address=name).first() or basic_save(
                actor=worker,
                instance=Building(),
                data={
                    "name": name[-3:],
                    "address": name,
                    "floors": floors,
                    "lat": lat + n * 0.0004,
                    "lng": lng + n * 0.0004,
                },
                cell=cell,
            )
            buildings.append(building)
        homes = {}
        for building, number, occupancy, tenants in [
            (buildings[0], "101", "owner", 0),
            (buildings[0], "102", "rented", 3),
            (buildings[1], "1101", "owner", 0),
        ]:
            homes[number] = Home.objects.filter(building=building, number=number).first() or (
                basic_save(
                    actor=worker,
                    instance=Home(),
                    data={
                        "building": building,
                        "number": number,
                        "occupancy": occupancy,
                        "tenant_count": tenants,
                    },
                    cell=cell,
                )
            )
        people = {}
        for name, number, phone, home, kind, tags in [
            ("陈阿婆", "35060219420315002X", "13900000201", "101", "registered", ["elderly_alone"]),
            ("林国栋", "350602197805120032", "13900000202", "1101", "registered", ["veteran"]),
            ("刘小军", "350602199409210019", "13900000203", "102", "floating", []),
            ("黄志强", "35060219851103001X", "13900000204", "1101", "registered", []),
        ]:
            found = Person.objects.filter(id_key=lookup_key("id", number)).first()
            people[name] = found or basic_save(
                actor=worker,
                instance=Person(),
                data={
                    "name": name,
                    "id_number": number,
                    "phone": phone,
                    "home": homes[home],
                    "kind": kind,
                    "arrival_date": timezone.localdate() if kind == "floating" else None,
                },
                cell=cell,
                tags=list(PersonTag.objects.filter(code__in=tags)),
            )
        if not Place.objects.filter(cell=cell, name="星空网吧").exists():
            basic_save(
                actor=worker,
                instance=Place(),
                data={
                    "name": "星空网吧",
                    "kind": "internet_cafe",
                    "is_key": True,
                    "address": "新华西路10号",
                    "lat": lat - 0.0005,
                    "lng": lng,
                    "safety_notes": "消防通道需保持畅通",
                },
                cell=cell,
            )
        if not Organisation.objects.filter(cell=cell, name="惠民超市").exists():
            basic_save(
                actor=worker,
                instance=Organisation(),
                data={"name": "惠民超市", "kind": "shop", "address": "新华西路8号底商"},
                cell=cell,
            )
        mental = KeyPersonKind.objects.get(code="severe_mental")
        subject = people["黄志强"]
        if not KeyPerson.objects.filter(person=subject, kind=mental).exists():
            kp = key_person_create(
                actor=worker, person=subject, kind=mental, risk_level=1, responsible_worker=worker
            )
            visit_log(
                actor=worker,
                key_person=kp,
                observations="情绪平稳，按时服药，家属配合。",
                risk_after=1,
                lat=lat,
                lng=lng,
            )


def _centre(geometry: dict) -> tuple[float, float]:
    ring = (geometry or {}).get("coordinates", [[[117.605, 24.505]]])[0]
    lngs = [point[0] for point in ring]
    lats = [point[1] for point in ring]
    return round((min(lats) + max(lats)) / 2, 6), round((min(lngs) + max(lngs)) / 2, 6)
