"""Access matrix of screening (issue 20): every page and API of /screening/ and
/api/v1/screening/ × every role, with one dispute in street A (cell A1-1, whose paired police
officer is "police") and one in street B.

Who sees a dispute: the handlers and supervisors of its region (by code prefix), the grid
worker of its cell, the cell's paired police officer, admins. Residents, department handlers
and petition officers never open screening (404). Parties are masked everywhere.

"police" is the registry's role too (tests/matrix/registry.py defines the same user: the module
that builds first makes it, the other reuses it).
"""

from __future__ import annotations

from typing import Any

ROLES = ("police",)
STAFF_ROLES: tuple[str, ...] = ()  # police have no region scope of the older apps' kind

SCREEN = {
    "worker_a",
    "worker_b",
    "dispatcher_a",
    "dispatcher_b",
    "mediator",
    "supervisor",
    "admin",
    "police",
}
HANDLERS = {"worker_a", "worker_b", "dispatcher_a", "dispatcher_b", "mediator", "admin"}
SUPERVISING = {"dispatcher_a", "dispatcher_b", "supervisor", "admin"}
SEES_A = {"worker_a", "dispatcher_a", "mediator", "supervisor", "admin", "police"}
SEES_B = {"worker_b", "dispatcher_b", "admin"}
TARGETS = ("dsp_a", "dsp_b")
ACTIONS = (
    "mediate-on-spot",
    "assess",
    "raise-level",
    "route",
    "follow-up",
    "close",
    "visit",
    "link-escalation",
)
ANY_WRITE = (200, 201, 302, 400, 403, 409)


def _action_body(w, target) -> dict:
    return {
        "note": "matrix",
        "reason": "matrix",
        "level": "red",
        "target": "police",
        "outcome": "resolved",
        "factors": ["group"],
        "incident": w.obj["inc_a"].pk,
        # not the caller's:
        "state": "closed",
        "region_code": "350602002001",
        "registered_by": w.users["resident2"].pk,
    }


def _create_body(w, target) -> dict:
    return {
        "kind": "neighbour",
        "grid_cell": w.tree["cell_a1_1"].pk,
        "place": "matrix place",
        "story": "matrix story",
        "factors": [],
        "parties": [{"side": "applicant", "name": "矩阵"}],
    }


def _page_create_body(w, target) -> dict:
    return {
        "kind": "neighbour",
        "source": "screening",
        "grid_cell": str(w.tree["cell_a1_1"].pk),
        "place": "matrix place",
        "story": "matrix story",
        "parties-TOTAL_FORMS": "1",
        "parties-INITIAL_FORMS": "0",
        "parties-0-side": "applicant",
        "parties-0-name": "矩阵",
    }


def _report_body(w, target) -> dict:
    return {
        "region": w.tree["cell_a1_1"].community.code,
        "month": "2026-01-01",
        "zero_report": True,
    }


def _page_report_body(w, target) -> dict:
    return {
        "region": str(w.tree["cell_a1_1"].community.pk),
        "month": "2026-01",
        "zero_report": "on",
    }


def routes(m) -> dict[str, Any]:
    pk = m.pk_of("pk")
    dispute_id = m.pk_of("dispute_id")
    table = {
        "screening:list": m.Route(
            get=m.login_page(SCREEN, refused=404),
            shows={("worker_a", None): ("dsp_a",), ("police", None): ("dsp_a",)},
        ),
        "screening:new": m.Route(
            get=m.login_page(HANDLERS, refused=404),
            post=m.login_page(HANDLERS, ok_status=(200, 302), refused=404),
            body=_page_create_body,
        ),
        "screening:board": m.Route(
            get=m.login_page(SCREEN, refused=404),
            shows={("dispatcher_b", None): ("dsp_b",)},
        ),
        "screening:reports": m.Route(
            get=m.login_page(SCREEN, refused=404),
            post=m.login_page(SCREEN, ok_status=(200, 302), refused=404),
            body=_page_report_body,
        ),
        "screening:kpis": m.Route(get=m.login_page(SUPERVISING, refused=404)),
        "screening:ledger": m.Route(get=m.login_page(SUPERVISING, refused=404)),
        "screening:detail": m.Route(
            get=m.object_page(),
            targets=TARGETS,
            kwargs=pk,
            shows={("police", "dsp_a"): ("dsp_a",)},
        ),
        "screening:action": m.Route(
            get=m.signed(405),
            post=m.write_refused(visible_status=302),
            targets=TARGETS,
            kwargs=lambda w, t: {"pk": w.obj[t].pk, "action": "mediate_on_spot"},
            body=lambda w, t: {"mediate_on_spot-note": "matrix", "mediate_on_spot-state": "closed"},
        ),
        "api-screening-disputes": m.Route(
            get=m.api(SCREEN, refused=404),
            post=m.api(SCREEN, ok_status=(201, 400, 403), refused=404),
            body=_create_body,
            shows={("worker_b", None): ("dsp_b",)},
        ),
        "api-screening-dispute-detail": m.Route(
            get=m.object_api(), targets=TARGETS, kwargs=dispute_id
        ),
        "api-screening-board": m.Route(
            get=m.api(SCREEN, refused=404), shows={("worker_a", None): ("dsp_a",)}
        ),
        "api-screening-checklist": m.Route(get=m.api(SCREEN, refused=404)),
        "api-screening-reports": m.Route(
            get=m.api(SCREEN, refused=404),
            post=m.api(SCREEN, ok_status=(201, 400, 403, 409), refused=404),
            body=_report_body,
        ),
        "api-screening-kpis": m.Route(get=m.api(SUPERVISING, refused=404)),
    }
    for action in ACTIONS:
        table[f"api-screening-dispute-{action}"] = m.Route(
            post=m.object_api(ok_status=ANY_WRITE),
            targets=TARGETS,
            kwargs=dispute_id,
            body=_action_body,
        )
    return table


def build(m, w) -> None:
    from screening import services
    from tests.builders import make_user

    cell_a = w.tree["cell_a1_1"]
    if "police" not in w.users:
        police = make_user("matrix_police", roles=["police_officer"], region=cell_a.community)
        cell_a.police_officer = police
        cell_a.save()
        w.users["police"] = police
    disputes = {
        "dsp_a": services.dispute_register(
            actor=w.users["worker_a"],
            kind_code="neighbour",
            place="MXDSPA place",
            story="MXDSPA story",
            factor_codes=["group"],
            grid_cell_id=cell_a.pk,
            parties=[{"side": "applicant", "name": "甲矩阵", "phone": "13911110001"}],
        ),
        "dsp_b": services.dispute_register(
            actor=w.users["worker_b"],
            kind_code="neighbour",
            place="MXDSPB place",
            story="MXDSPB story",
            factor_codes=["group"],
            grid_cell_id=w.tree["cell_b1_1"].pk,
            parties=[{"side": "applicant", "name": "乙矩阵", "phone": "13911110002"}],
        ),
    }
    for key, dispute in disputes.items():
        w.obj[key] = dispute
        w.markers[key] = [dispute.number, f"MX{key.upper().replace('_', '')}"]
    m.SEES["dsp_a"] = set(SEES_A)
    m.SEES["dsp_b"] = set(SEES_B)
    m.WRITERS["dsp_a"] = {"worker_a", "dispatcher_a", "mediator", "supervisor", "admin", "police"}
    m.WRITERS["dsp_b"] = {"worker_b", "dispatcher_b", "admin"}
    m.EXTRA_FAMILIES.extend(["dsp_a", "dsp_b"])


def snapshot(w) -> Any:
    from django.db.models import Count

    from screening.models import Dispute

    return {
        row["pk"]: row
        for row in Dispute.objects.filter(pk__in=[w.obj[k].pk for k in TARGETS])
        .annotate(event_count=Count("events"))
        .values(
            "pk",
            "state",
            "level",
            "region_code",
            "registered_by_id",
            "follow_ups",
            "escalated_incident_id",
            "event_count",
        )
    }


def changed(w, before: Any, after: Any) -> set[str]:
    return {key for key in TARGETS if before.get(w.obj[key].pk) != after.get(w.obj[key].pk)}
