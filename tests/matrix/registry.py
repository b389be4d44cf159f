"""The access matrix of registry (issue 19): the grid's basic data and key persons.

World: person A (with building, home) in cell A1-1 and person B in cell B1-1; key person A
(严重精神障碍患者, responsible worker_a; dispatcher_a is community A1's designated staff; the
police officer "police" is paired with cell A1-1 and police are granted that kind) and key
person B (responsible worker_b). Basic data: a grid worker sees their cells, a street its area,
the paired police officer the cell; key persons only the responsible worker, the designated
staff and the granted roles in their area (not the supervisor, not the admin): 404 otherwise.
"""

from __future__ import annotations

from typing import Any

ROLES = ("police",)
# Not staff in accounts.selectors' sense (no region-wide scope outside registry): like a
# resident for the other apps, so the public cell outlines of the grid map are theirs too.
STAFF_ROLES: tuple[str, ...] = ()

A_AREA = {"worker_a", "dispatcher_a", "supervisor", "admin", "police"}
B_AREA = {"worker_b", "dispatcher_b", "admin"}
A_WRITERS = {"worker_a", "dispatcher_a", "admin"}
B_WRITERS = {"worker_b", "dispatcher_b", "admin"}
KP_A = {"worker_a", "dispatcher_a", "police"}
KP_B = {"worker_b"}
AREA_ROLES = A_AREA | B_AREA
WRITER_ROLES = A_WRITERS | B_WRITERS
# Who reaches the key-person list (an empty list for the petition officer: granted 重点信访人员).
KP_LIST = KP_A | KP_B | {"officer"}
COUNTS = {"dispatcher_a", "dispatcher_b", "supervisor", "admin"}
PHONE_A = "13955550001"
ID_A = "350602198001010051"


def _page(ok: set[str], ok_status: Any = 200):
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return "login"
        return ok_status if role in ok else 404

    return expect


def _object(m, *, ok_status: Any = 200, only: set[str] | None = None, anonymous: Any = "login"):
    """Seen → ok_status (only those in `only`, when given; the others who see it 404 too)."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        if role not in m.SEES[target]:
            return 404
        if only is not None and role not in only:
            return 404
        return ok_status

    return expect


def _by_target(sets: dict[str, set[str]], ok_status: Any, *, anonymous: Any = "login"):
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        return ok_status if role in sets[target] else 404

    return expect


def routes(m) -> dict[str, Any]:
    cells = ("reg_cell_a", "reg_cell_b")
    people = ("reg_person_a", "reg_person_b")
    kps = ("kp_a", "kp_b")
    writers = {"reg_person_a": A_WRITERS, "reg_person_b": B_WRITERS}
    return {
        "registry:home": m.Route(get=_page(AREA_ROLES | KP_LIST)),
        "registry:search": m.Route(
            get=_page(AREA_ROLES),
            post=_page(AREA_ROLES),
            body=lambda w, t: {"q": "矩阵"},
        ),
        "registry:cell": m.Route(
            get=_object(m),
            targets=cells,
            kwargs=lambda w, t: {"cell_id": w.obj[t].pk},
            shows={("worker_a", "reg_cell_a"): ("reg_person_a",)},
        ),
        "registry:record_create": m.Route(
            get=_page(WRITER_ROLES),
            post=_page(WRITER_ROLES, ok_status=(200, 302)),
            kwargs=lambda w, t: {"kind": "building"},
            body=lambda w, t: {
                "cell": w.obj["reg_cell_a"].pk,
                "name": "矩阵新楼",
                "address": "矩阵路99号",
                "floors": 3,
                "use": "residential",
            },
        ),
        "registry:record_detail": m.Route(
            get=_object(m),
            post=_object(m),
            body=lambda w, t: {"reveal": "1"},
            targets=people,
            kwargs=lambda w, t: {"kind": "person", "pk": w.obj[t].pk},
            shows={("worker_a", "reg_person_a"): ("reg_person_a",)},
        ),
        "registry:record_edit": m.Route(
            get=_by_target(writers, 200),
            post=_by_target(writers, (200, 302)),
            targets=people,
            kwargs=lambda w, t: {"kind": "person", "pk": w.obj[t].pk},
            body=lambda w, t: {
                "cell": w.obj[t].cell_id,
                "name": w.obj[t].name,
                "kind": "registered",
                "notes": "matrix",
            },
        ),
        "registry:record_deactivate": m.Route(
            get=m.signed(405),
            post=_object(m, ok_status=302),
            targets=people,
            kwargs=lambda w, t: {"kind": "person", "pk": w.obj[t].pk},
        ),
        "registry:key_persons": m.Route(
            get=_page(KP_LIST),
            shows={("worker_a", None): ("reg_person_a",), ("police", None): ("reg_person_a",)},
        ),
        "registry:key_person_create": m.Route(
            get=_by_target(writers, 200),
            post=_by_target(writers, (200, 302)),
            targets=people,
            kwargs=lambda w, t: {"person_id": w.obj[t].pk},
            body=lambda w, t: {"kind": w.obj["kind_elderly"].pk, "risk_level": 0},
        ),
        "registry:key_person_detail": m.Route(
            get=_object(m),
            post=_object(m),
            body=lambda w, t: {"reveal": "1"},
            targets=kps,
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
            shows={("worker_a", "kp_a"): ("kp_a",), ("police", "kp_a"): ("kp_a",)},
        ),
        "registry:visit_create": m.Route(
            get=_object(m),
            post=_object(m, ok_status=302),
            targets=kps,
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
            body=lambda w, t: {"method": "in_person", "observations": "matrix", "risk_after": 1},
        ),
        "registry:key_person_close": m.Route(
            get=m.signed(405),
            post=_object(m, ok_status=302),
            targets=kps,
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
            body=lambda w, t: {"reason": "matrix"},
        ),
        "registry:import": m.Route(
            get=_page(WRITER_ROLES),
            post=_page(WRITER_ROLES),
            body=lambda w, t: {"kind": "building"},
        ),
        "registry:import_confirm": m.Route(
            get=m.signed(405),
            post=_object(m, ok_status=302),
            targets=("upload_a",),
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
        ),
        "registry:import_template": m.Route(
            get=m.signed(200), kwargs=lambda w, t: {"kind": "person"}
        ),
        "registry:export": m.Route(
            get=_object(m),
            targets=cells,
            query=lambda w, t: {"cell": w.obj[t].pk},
            shows={("worker_a", "reg_cell_a"): ("reg_person_a", "pii_a")},
        ),
        "registry:stats": m.Route(get=_page(COUNTS), geo=True),
        "registry:layers": m.Route(
            get=m.signed(200), shows={("worker_a", None): ("reg_building_a",)}
        ),
        "registry-suggest": m.Route(
            get=m.api(m.SIGNED),
            query=lambda w, t: {"lat": 24.505, "lng": 117.605},
            shows={("worker_a", None): ("reg_building_a",)},
        ),
        "registry-layers": m.Route(get=m.api(m.SIGNED)),
        "registry-visit-create": m.Route(
            post=m.object_api(ok_status=201),
            targets=kps,
            kwargs=lambda w, t: {"pk": w.obj[t].pk},
            body=lambda w, t: {"observations": "matrix", "risk_after": 1},
        ),
    }


def build(m, w) -> None:
    from grids.models import GridCell
    from registry.defaults import ensure_defaults
    from registry.models import (
        Building,
        DesignatedStaff,
        Home,
        KeyPersonKind,
        Person,
    )
    from registry.services import basic_save, key_person_create, visit_log
    from tests.builders import make_user

    ensure_defaults()
    cell_a = GridCell.objects.get(code="350602001001001")
    cell_b = GridCell.objects.get(code="350602002001001")
    police = make_user("matrix_police", roles=["police_officer"], region=cell_a.community)
    cell_a.police_officer = police
    cell_a.save()
    w.users["police"] = police
    for public in ("cell_b", "community_b"):  # the map's outlines are public to non-staff
        m.SEES[public] = set(m.SEES[public]) | {"police"}
    worker_a, worker_b = w.users["worker_a"], w.users["worker_b"]
    DesignatedStaff.objects.create(community=cell_a.community, user=w.users["dispatcher_a"])
    building_a = basic_save(
        actor=worker_a,
        instance=Building(),
        data={"name": "矩阵A楼", "address": "矩阵路1号", "lat": 24.505, "lng": 117.605},
        cell=cell_a,
    )
    basic_save(
        actor=worker_b,
        instance=Building(),
        data={"name": "矩阵B楼", "address": "矩阵路2号", "lat": 24.505, "lng": 117.645},
        cell=cell_b,
    )
    home_a = basic_save(
        actor=worker_a, instance=Home(), data={"building": building_a, "number": "101"}, cell=cell_a
    )
    person_a = basic_save(
        actor=worker_a,
        instance=Person(),
        data={"name": "矩阵甲某", "id_number": ID_A, "phone": PHONE_A, "home": home_a},
        cell=cell_a,
    )
    person_b = basic_save(
        actor=worker_b,
        instance=Person(),
        data={"name": "矩阵乙某", "phone": "13955550002"},
        cell=cell_b,
    )
    mental = KeyPersonKind.objects.get(code="severe_mental")
    kp_a = key_person_create(
        actor=worker_a,
        person=person_a,
        kind=mental,
        risk_level=1,
        responsible_worker=worker_a,
        notes="矩阵重点A备注",
    )
    kp_b = key_person_create(
        actor=worker_b,
        person=person_b,
        kind=mental,
        risk_level=1,
        responsible_worker=worker_b,
        notes="矩阵重点B备注",
    )
    visit_log(actor=worker_a, key_person=kp_a, observations="矩阵走访A所见", risk_after=1)
    visit_log(actor=worker_b, key_person=kp_b, observations="矩阵走访B所见", risk_after=1)
    from registry import imports

    upload_a = imports.upload_keep(
        user=worker_a,
        kind="building",
        cell=cell_a,
        content=imports.template_xlsx("building"),
        file_name="matrix.xlsx",
        row_count=1,
    )
    w.obj.update(
        reg_cell_a=cell_a,
        reg_cell_b=cell_b,
        reg_person_a=person_a,
        reg_person_b=person_b,
        kp_a=kp_a,
        kp_b=kp_b,
        upload_a=upload_a,
        kind_elderly=KeyPersonKind.objects.get(code="elderly_alone"),
    )
    m.SEES.update(
        reg_cell_a=A_AREA,
        reg_cell_b=B_AREA,
        reg_person_a=A_AREA,
        reg_person_b=B_AREA,
        reg_building_a=A_AREA,
        reg_building_b=B_AREA,
        kp_a=KP_A,
        kp_b=KP_B,
        # The full phone and ID number: writers on the edit form, unmasking roles in exports.
        pii_a={"worker_a", "dispatcher_a", "admin", "police"},
        upload_a={"worker_a"},
    )
    m.WRITERS.update(
        reg_person_a=A_WRITERS,
        reg_person_b=B_WRITERS,
        kp_a=KP_A,
        kp_b=KP_B,
        upload_a={"worker_a"},
    )
    w.markers.update(
        reg_person_a=["矩阵甲某"],
        reg_person_b=["矩阵乙某"],
        reg_building_a=["矩阵A楼"],
        reg_building_b=["矩阵B楼"],
        kp_a=["矩阵重点A备注", "矩阵走访A所见"],
        kp_b=["矩阵重点B备注", "矩阵走访B所见"],
        pii_a=[PHONE_A, ID_A],
    )
    m.EXTRA_FAMILIES.extend(
        [
            "reg_person_a",
            "reg_person_b",
            "reg_building_a",
            "reg_building_b",
            "kp_a",
            "kp_b",
            "pii_a",
        ]
    )


def snapshot(w) -> dict:
    from registry.models import ImportUpload, KeyPerson, Person

    return {
        "people": {
            row["pk"]: row
            for row in Person.objects.filter(
                pk__in=[w.obj["reg_person_a"].pk, w.obj["reg_person_b"].pk]
            ).values("pk", "name", "notes", "active", "cell_id", "updated_at")
        },
        "kps": {
            row["pk"]: row
            for row in KeyPerson.objects.filter(pk__in=[w.obj["kp_a"].pk, w.obj["kp_b"].pk]).values(
                "pk", "risk_level", "status", "last_visit_at", "next_visit_due"
            )
        },
        "upload": list(ImportUpload.objects.filter(pk=w.obj["upload_a"].pk).values("applied_at")),
    }


def changed(w, before, after) -> set[str]:
    keys = set()
    for name in ("reg_person_a", "reg_person_b"):
        pk = w.obj[name].pk
        if before["people"].get(pk) != after["people"].get(pk):
            keys.add(name)
    for name in ("kp_a", "kp_b"):
        pk = w.obj[name].pk
        if before["kps"].get(pk) != after["kps"].get(pk):
            keys.add(name)
    if before["upload"] != after["upload"]:
        keys.add("upload_a")
    return keys
