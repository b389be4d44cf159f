"""The volunteers app (issue 18) in the access matrix: an approved volunteer of community A1 (the
role "volunteer"), applications, patrol tasks, the volunteer's claim, teams, 2+N cells, service
records and a certificate in street A and street B.

Organisers are the streets' dispatchers (and the admin); supervisors read tasks, teams and the
coverage of their street; grid workers their community's tasks, teams and 2+N pages; other staff
(handler, mediator, petition officer) and residents see nothing of it but their own home."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

ROLES = ("volunteer",)
ORGANISERS = {"dispatcher_a", "dispatcher_b", "admin"}
SUPERVISION = {"dispatcher_a", "dispatcher_b", "supervisor", "admin"}
AREA = {"worker_a", "worker_b", "dispatcher_a", "dispatcher_b", "supervisor", "admin"}
FAMILIES = (
    "vtask_a",
    "vtask_b",
    "vapp_a",
    "vapp_b",
    "vrecord_a",
    "vrecord_b",
    "vteam_a",
    "vteam_b",
)


def _expect(rule):
    """rule(role, target) for signed-in roles; anonymous → the login page."""

    def expect(role, target):
        return "login" if role == "anonymous" else rule(role, target)

    return expect


def _api(rule):
    def expect(role, target):
        return 403 if role == "anonymous" else rule(role, target)

    return expect


def routes(m) -> dict:
    def writer(ok, refused=404):
        return lambda role, target: ok if role in m.WRITERS[target] else refused

    def sees(ok, refused=404):
        return lambda role, target: ok if role in m.SEES[target] else refused

    def of(roles, ok=200, refused=404):
        return lambda role, target: ok if role in roles else refused

    pk = m.pk_of
    claim_pages = {
        f"volunteers:claim_{name}": m.Route(
            post=_expect(lambda r, t: 302 if r == "volunteer" else 404),
            targets=("vclaim_a",),
            kwargs=pk("claim_id"),
            body=lambda w, t: {"note": "matrix", "state": "completed"},
        )
        for name in ("check_in", "checkpoint", "check_out", "withdraw", "hazard")
    }
    claim_apis = {
        f"api-volunteer-claim-{name}": m.Route(
            post=_api(lambda r, t: (200, 400, 409) if r == "volunteer" else 404),
            targets=("vclaim_a",),
            kwargs=pk("claim_id"),
            body=lambda w, t: {"lat": 24.505, "lng": 117.605, "points": [], "state": "completed"},
        )
        for name in ("withdraw", "check-in", "checkpoint", "track", "check-out", "hazard")
    }
    task_body = lambda w, t: {  # noqa: E731
        "title": "矩阵巡防",
        "level": "community",
        "region": w.tree["a1"].pk,
        "cells": w.tree["cell_a1_1"].code,
        "starts_at": (w.now + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (w.now + timedelta(days=2, hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "places": 3,
        "required_checkins": 2,
    }
    return {
        "volunteers:home": m.Route(
            get=_expect(lambda r, t: 200),
            shows={("volunteer", None): ("vtask_a", "vrecord_a")},
        ),
        "volunteers:apply": m.Route(
            get=_expect(lambda r, t: 200),
            post=_expect(lambda r, t: (200, 302)),
            body=lambda w, t: {"community": w.tree["a1"].pk, "real_name": "矩阵"},
        ),
        "volunteers:applications": m.Route(
            get=_expect(of(ORGANISERS)),
            shows={("dispatcher_a", None): ("vapp_a",), ("dispatcher_b", None): ("vapp_b",)},
        ),
        "volunteers:application_decide": m.Route(
            post=_expect(writer(302)),
            targets=("vapp_a", "vapp_b"),
            kwargs=pk("volunteer_id"),
            body=lambda w, t: {"decision": "approve", "state": "approved"},
        ),
        "volunteers:tasks": m.Route(
            get=_expect(of(SUPERVISION | {"volunteer"})),
            shows={("volunteer", None): ("vtask_a",), ("dispatcher_b", None): ("vtask_b",)},
        ),
        "volunteers:task_new": m.Route(
            get=_expect(of(ORGANISERS)),
            post=_expect(lambda r, t: (200, 302) if r in ORGANISERS else 404),
            body=task_body,
        ),
        "volunteers:task": m.Route(
            get=_expect(sees(200)), targets=("vtask_a", "vtask_b"), kwargs=pk("task_id")
        ),
        "volunteers:task_claim": m.Route(
            post=_expect(
                lambda r, t: (302 if t == "vtask_a" else 404) if r == "volunteer" else 302
            ),
            targets=("vtask_a", "vtask_b"),
            kwargs=pk("task_id"),
        ),
        "volunteers:task_cancel": m.Route(
            post=_expect(lambda r, t: 302 if r in m.WRITERS[t] - {"volunteer"} else 404),
            targets=("vtask_a", "vtask_b"),
            kwargs=pk("task_id"),
            body=lambda w, t: {"reason": "matrix"},
        ),
        "volunteers:claim": m.Route(
            get=_expect(sees(200)), targets=("vclaim_a",), kwargs=pk("claim_id")
        ),
        **claim_pages,
        "volunteers:teams": m.Route(
            get=_expect(of(AREA | {"volunteer"})),
            post=_expect(of(ORGANISERS, ok=302)),
            body=lambda w, t: {"name": "矩阵队", "kind": w.team_kind.pk, "region": w.tree["a1"].pk},
            shows={("dispatcher_a", None): ("vteam_a",), ("worker_b", None): ("vteam_b",)},
        ),
        "volunteers:team": m.Route(
            get=_expect(sees(200)),
            post=_expect(writer(302)),
            targets=("vteam_a", "vteam_b"),
            kwargs=pk("team_id"),
            body=lambda w, t: {"on_duty": "0"},
        ),
        "volunteers:cell": m.Route(
            get=_expect(sees(200)),
            post=_expect(writer(302)),
            targets=("vcell_a", "vcell_b"),
            kwargs=lambda w, t: {"code": w.obj[t].code},
            body=lambda w, t: {"police_officer": ""},
        ),
        "volunteers:posts": m.Route(
            get=_expect(of(AREA)),
            post=_expect(of(ORGANISERS, ok=302)),
            body=lambda w, t: {"name": "矩阵岗", "kind": "watch"},
        ),
        "volunteers:records": m.Route(
            get=_expect(of(ORGANISERS | {"volunteer"})),
            shows={("dispatcher_a", None): ("vrecord_a",), ("volunteer", None): ("vrecord_a",)},
        ),
        "volunteers:record_confirm": m.Route(
            post=_expect(writer(302)), targets=("vrecord_a", "vrecord_b"), kwargs=pk("record_id")
        ),
        "volunteers:record_correct": m.Route(
            post=_expect(writer(302)),
            targets=("vrecord_a", "vrecord_b"),
            kwargs=pk("record_id"),
            body=lambda w, t: {"hours": "1", "reason": "matrix"},
        ),
        "volunteers:certificate_issue": m.Route(post=_expect(lambda r, t: 302)),
        "volunteers:certificate": m.Route(
            get=_expect(sees(200)), targets=("vcert_a",), kwargs=pk("certificate_id")
        ),
        "volunteers:points": m.Route(get=_expect(of(ORGANISERS | {"volunteer"}))),
        "volunteers:points_redeem": m.Route(
            post=_expect(writer(302)),
            targets=("vapp_a", "vapp_b"),
            kwargs=pk("volunteer_id"),
            body=lambda w, t: {"points": "1", "reason": "matrix"},
        ),
        "volunteers:supervision": m.Route(get=_expect(of(SUPERVISION))),
        # --- API ---
        "api-volunteer-apply": m.Route(
            # resident1/2 are verified residents (deliberation's and services' builds): they
            # may apply; the volunteer has applied already.
            post=_api(
                lambda r, t: (
                    409 if r == "volunteer" else 201 if r in ("resident1", "resident2") else 403
                )
            ),
            body=lambda w, t: {"community": w.tree["a1"].code, "real_name": "矩阵"},
        ),
        "api-volunteer-me": m.Route(get=_api(of({"volunteer"}))),
        "api-volunteer-applications": m.Route(
            get=_api(of(ORGANISERS, refused=403)),
            shows={("dispatcher_a", None): ("vapp_a",)},
        ),
        "api-volunteer-approve": m.Route(
            post=_api(writer(200)), targets=("vapp_a", "vapp_b"), kwargs=pk("volunteer_id")
        ),
        "api-volunteer-decline": m.Route(
            post=_api(writer(200)),
            targets=("vapp_a", "vapp_b"),
            kwargs=pk("volunteer_id"),
            body=lambda w, t: {"reason": "matrix"},
        ),
        "api-volunteer-tasks": m.Route(
            get=_api(lambda r, t: 200),
            post=_api(lambda r, t: (201, 400) if r in ORGANISERS else 403),
            body=lambda w, t: {
                **task_body(w, t),
                "region": w.tree["a1"].code,
                "cells": [w.tree["cell_a1_1"].code],
                "starts_at": (w.now + timedelta(days=2)).isoformat(),
                "ends_at": (w.now + timedelta(days=2, hours=2)).isoformat(),
            },
            shows={("volunteer", None): ("vtask_a",), ("dispatcher_b", None): ("vtask_b",)},
        ),
        "api-volunteer-task": m.Route(
            get=_api(sees(200)), targets=("vtask_a", "vtask_b"), kwargs=pk("task_id")
        ),
        "api-volunteer-task-claim": m.Route(
            post=_api(lambda r, t: (409 if t == "vtask_a" else 404) if r == "volunteer" else 403),
            targets=("vtask_a", "vtask_b"),
            kwargs=pk("task_id"),
        ),
        "api-volunteer-claims": m.Route(get=_api(lambda r, t: 200)),
        **claim_apis,
        "api-volunteer-records": m.Route(
            get=_api(lambda r, t: 200),
            shows={("dispatcher_a", None): ("vrecord_a",), ("volunteer", None): ("vrecord_a",)},
        ),
        "api-volunteer-record-confirm": m.Route(
            post=_api(writer((200, 409))),
            targets=("vrecord_a", "vrecord_b"),
            kwargs=pk("record_id"),
        ),
        "api-volunteer-points": m.Route(get=_api(of({"volunteer"}))),
        "api-volunteer-coverage": m.Route(get=_api(of(SUPERVISION, refused=403))),
    }


def build(m, w) -> None:
    from django.utils import timezone

    from grids.models import GridWorker
    from tests.builders import make_user
    from volunteers.models import (
        Certificate,
        Claim,
        PatrolTask,
        ServiceRecord,
        Team,
        TeamKind,
        TeamMember,
        Volunteer,
    )

    now = timezone.now()
    w.now = now
    tree = w.tree
    user = make_user(
        "matrix_volunteer",
        roles=["resident", "volunteer"],
        phone="13600000091",
        phone_verified_at=now,
        home_region=tree["a1"],
    )
    w.users["volunteer"] = user
    volunteer = Volunteer.objects.create(
        user=user,
        community=tree["a1"],
        region_code=tree["a1"].code,
        real_name="矩阵志愿者",
        state="approved",
        number="ZYMATRIX1",
    )
    user_b = make_user("matrix_volunteer_b", phone="13600000092")
    volunteer_b = Volunteer.objects.create(
        user=user_b,
        community=tree["b1"],
        region_code=tree["b1"].code,
        real_name="矩阵志愿者乙",
        state="approved",
        number="ZYMATRIX2",
    )
    applications = {}
    for key, community, phone in (("vapp_a", "a1", "13600000093"), ("vapp_b", "b1", "13600000094")):
        applicant = make_user(f"matrix_{key}", phone=phone)
        applications[key] = Volunteer.objects.create(
            user=applicant,
            community=tree[community],
            region_code=tree[community].code,
            real_name=f"MX{key.upper()} 申请人",
        )
    tasks = {}
    for key, community, cell, poster in (
        ("vtask_a", "a1", "cell_a1_1", "dispatcher_a"),
        ("vtask_b", "b1", "cell_b1_1", "dispatcher_b"),
    ):
        task = PatrolTask.objects.create(
            title=f"MX{key.upper()} 巡防",
            level="community",
            region=tree[community],
            region_code=tree[community].code,
            region_prefix=tree[community].prefix,
            starts_at=now + timedelta(days=1),
            ends_at=now + timedelta(days=1, hours=2),
            withdraw_until=now + timedelta(hours=20),
            places=5,
            posted_by=w.users[poster],
            organiser_name=tree[community].name,
        )
        task.cells.set([tree[cell]])
        tasks[key] = task
    claim = Claim.objects.create(task=tasks["vtask_a"], volunteer=volunteer, claimed_at=now)
    PatrolTask.objects.filter(pk=tasks["vtask_a"].pk).update(taken=1)
    records = {}
    for key, who in (("vrecord_a", volunteer), ("vrecord_b", volunteer_b)):
        records[key] = ServiceRecord.objects.create(
            volunteer=who,
            region_code=who.region_code,
            content=f"MX{key.upper()} 服务",
            task_kind="patrol",
            started_at=now - timedelta(days=1, hours=2),
            ended_at=now - timedelta(days=1),
            hours=Decimal("2"),
            organiser_name=who.community.name,
        )
    kind = TeamKind.objects.order_by("sort_order").first()
    w.team_kind = kind
    teams = {}
    for key, community, cell in (("vteam_a", "a1", "cell_a1_1"), ("vteam_b", "b1", "cell_b1_1")):
        team = Team.objects.create(
            name=f"MX{key.upper()} 巡防队",
            kind=kind,
            region=tree[community],
            region_code=tree[community].code,
        )
        team.cells.set([tree[cell]])
        teams[key] = team
    TeamMember.objects.create(team=teams["vteam_a"], user=user, kind="volunteer")
    certificate = Certificate.objects.create(
        number="ZYZMMATRIX1",
        volunteer=volunteer,
        organiser_name=tree["a1"].name,
        total_hours=Decimal("2"),
        lines=[],
    )
    w.obj.update(
        {
            **applications,
            **tasks,
            **records,
            **teams,
            "vclaim_a": claim,
            "vcert_a": certificate,
            "vcell_a": tree["cell_a1_1"],
            "vcell_b": tree["cell_b1_1"],
        }
    )
    w.markers.update(
        {
            "vtask_a": ["MXVTASK_A"],
            "vtask_b": ["MXVTASK_B"],
            "vapp_a": ["MXVAPP_A"],
            "vapp_b": ["MXVAPP_B"],
            "vrecord_a": ["MXVRECORD_A"],
            "vrecord_b": ["MXVRECORD_B"],
            "vteam_a": ["MXVTEAM_A"],
            "vteam_b": ["MXVTEAM_B"],
        }
    )
    a_staff = {"worker_a", "dispatcher_a", "supervisor", "admin"}
    b_staff = {"worker_b", "dispatcher_b", "admin"}
    m.SEES.update(
        {
            "vtask_a": a_staff | {"volunteer"},
            "vtask_b": b_staff,
            "vclaim_a": {"volunteer"},
            "vapp_a": {"dispatcher_a", "admin"},
            "vapp_b": {"dispatcher_b", "admin"},
            "vrecord_a": {"dispatcher_a", "admin", "volunteer"},
            "vrecord_b": {"dispatcher_b", "admin"},
            "vteam_a": a_staff | {"volunteer"},
            "vteam_b": b_staff,
            "vcert_a": {"dispatcher_a", "admin", "volunteer"},
            "vcell_a": a_staff,
            "vcell_b": b_staff,
        }
    )
    m.WRITERS.update(
        {
            "vtask_a": {"dispatcher_a", "admin", "volunteer"},
            "vtask_b": {"dispatcher_b", "admin"},
            "vclaim_a": {"volunteer"},
            "vapp_a": {"dispatcher_a", "admin"},
            "vapp_b": {"dispatcher_b", "admin"},
            "vrecord_a": {"dispatcher_a", "admin"},
            "vrecord_b": {"dispatcher_b", "admin"},
            "vteam_a": {"dispatcher_a", "admin"},
            "vteam_b": {"dispatcher_b", "admin"},
            "vcell_a": {"dispatcher_a", "admin"},
            "vcell_b": {"dispatcher_b", "admin"},
        }
    )
    m.EXTRA_FAMILIES.extend(FAMILIES)
    # The volunteer is a resident too: every cell's outline is public to residents.
    m.SEES["cell_b"].add("volunteer")
    m.SEES["community_b"].add("volunteer")
    GridWorker.objects.filter(user=w.users["worker_a"]).update(on_duty=True)


def snapshot(w):
    from grids.models import GridCell, GridWorker
    from volunteers.models import Claim, PatrolTask, PointEntry, ServiceRecord, Team, Volunteer

    return {
        "tasks": {t.pk: (t.state, t.taken, t.title) for t in PatrolTask.objects.all()},
        "claims": {c.pk: (c.state, c.checkins) for c in Claim.objects.all()},
        "volunteers": {v.pk: (v.state, v.decline_reason) for v in Volunteer.objects.all()},
        "records": {
            r.pk: (r.confirmed_at, r.hours, hasattr(r, "corrected_by"))
            for r in ServiceRecord.objects.all()
        },
        "points": {p.volunteer_id: p.pk for p in PointEntry.objects.all()},
        "teams": {
            t.pk: (t.name, t.on_duty, sorted(t.memberships.values_list("user_id", flat=True)))
            for t in Team.objects.all()
        },
        "cells": {
            c.pk: (
                c.police_officer_id,
                sorted(GridWorker.objects.filter(cells=c).values_list("on_duty", flat=True)),
            )
            for c in GridCell.objects.filter(pk__in=[w.obj["vcell_a"].pk, w.obj["vcell_b"].pk])
        },
    }


def changed(w, before, after) -> set[str]:
    keys: set[str] = set()
    pairs = {
        "tasks": ("vtask_a", "vtask_b"),
        "claims": ("vclaim_a",),
        "volunteers": ("vapp_a", "vapp_b"),
        "records": ("vrecord_a", "vrecord_b"),
        "teams": ("vteam_a", "vteam_b"),
        "cells": ("vcell_a", "vcell_b"),
    }
    for kind, names in pairs.items():
        for name in names:
            pk = w.obj[name].pk
            if before[kind].get(pk) != after[kind].get(pk):
                keys.add(name)
    for name in ("vapp_a", "vapp_b"):
        pk = w.obj[name].pk
        if before["points"].get(pk) != after["points"].get(pk):
            keys.add(name)
    return keys
