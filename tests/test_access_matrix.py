"""The access matrix (issue 9, "Access control"): every URL of the project × every role × an
object inside and one outside the role's scope → the status expected, with three checks on
each answer:

1. the status is the one in the table below (ROUTES; a route the URL resolver knows and the
   table does not is an error: a new endpoint must be added here with its expectations);
2. no answer carries a marker (tracking number, case number, a unique text) of an object the
   role may not see: lists, exports, dashboards, map layers, search pages alike;
3. a write by a role that does not own the object leaves it unchanged in the database, and no
   write changes a field its caller does not own (state, assignee, rating, reporter, region)
   even when the request names that field.

The data are built once per module (inside a transaction rolled back at the end); every
request runs in its own savepoint, rolled back after it, so a successful write never changes
what the next check sees. With GRIDGOV_RELIABILITY_DIR set, the run writes
access_matrix.json there ({"checks", "leaks", "roles", "routes"}) for `make chaos`.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests.matrix import EXTRA_ADMIN_STAFF, EXTRA_ROLES, EXTRA_STAFF, MODULES

pytestmark = pytest.mark.django_db

ROLES = [
    "resident1",
    "resident2",
    "worker_a",
    "worker_b",
    "dispatcher_a",
    "dispatcher_b",
    "handler",
    "mediator",
    "officer",
    "supervisor",
    "admin",
    *EXTRA_ROLES,
    "anonymous",
]
SIGNED = set(ROLES) - {"anonymous"}
STAFF = SIGNED - {"resident1", "resident2"} - (set(EXTRA_ROLES) - EXTRA_STAFF)
QUEUE = {"dispatcher_a", "dispatcher_b", "supervisor", "admin"}
KPI = QUEUE
WORKERS = {"worker_a", "worker_b"}
PETITION_STAFF = {"officer", "supervisor", "admin"}
NOBODY: set[str] = set()

# --- who sees what: the design (DESIGN.md §2, accounts.selectors), written out by hand ---------
# Street A (350602001000): community A1 with cells A1-1 and A1-2. Street B: community B1.
# resident1 reported/applied/filed everything "a"; resident2 everything "b". The mediator serves
# the rooms of street A; the petition officer and the supervisor are scoped to street A; the
# handler (城管执法, district) sees only what is sent to their department (nothing here).
SEES: dict[str, set[str]] = {
    "inc_a": {
        "resident1",
        "worker_a",
        "dispatcher_a",
        "mediator",
        "officer",
        "supervisor",
        "admin",
    },
    "inc_b": {"resident2", "worker_b", "dispatcher_b", "admin"},
    # internal-only category (a crime lead) by hotline in cell B1-1: never public (Open311).
    "inc_internal": {"worker_b", "dispatcher_b", "admin"},
    "case_a": {"resident1", "mediator", "supervisor", "admin"},
    "case_b": {"resident2", "admin"},
    "pet_a": {"resident1", "officer", "supervisor", "admin"},
    "pet_b": {"resident2", "admin"},
    "patrol_a": {"worker_a", "dispatcher_a", "supervisor", "admin"},
    "patrol_b": {"worker_b", "dispatcher_b", "admin"},
    "note_r1": {"resident1"},
    "note_r2": {"resident2"},
    "export_sup": {"supervisor"},
    "export_b": {"dispatcher_b"},
    # Map layers: residents see every cell's outline (public); staff their region's cells.
    "cell_b": {"resident1", "resident2", "worker_b", "dispatcher_b", "handler", "admin"},
    # (a cell's outline carries its community's name: public with the outline)
    "community_b": {"resident1", "resident2", "worker_b", "dispatcher_b", "handler", "admin"},
    "room_a": SIGNED,
}
# Who may legitimately change each object by some route (their writes are not required to
# leave it unchanged; every other role's must).
WRITERS: dict[str, set[str]] = {
    "inc_a": {"worker_a", "dispatcher_a", "supervisor", "admin"},
    "inc_b": {"worker_b", "dispatcher_b", "admin"},
    "inc_internal": {"worker_b", "dispatcher_b", "admin"},
    "case_a": {"mediator", "admin"},
    "case_b": {"admin"},
    "pet_a": {"officer", "supervisor", "admin"},
    "pet_b": {"admin"},
    "patrol_a": {"worker_a"},
    "patrol_b": {"worker_b"},
    "room_a": {"admin"},
    "note_r1": {"resident1"},
    "note_r2": {"resident2"},
    "export_sup": NOBODY,
    "export_b": NOBODY,
}
# Rows a role must never find in a list: the families checked on every answer, and the map
# families checked on the map/KPI routes (marked geo=True).
ROW_FAMILIES = (
    "inc_a",
    "inc_b",
    "inc_internal",
    "case_a",
    "case_b",
    "pet_a",
    "pet_b",
    "patrol_a",
    "patrol_b",
    "note_r1",
    "note_r2",
)
GEO_FAMILIES = ("cell_b", "community_b")

ROOMS_CSV = (
    "name,type,level,region_code,categories,address,lat,lng\n"
    "矩阵导入调解室,reasoning_point,village,350602001001,,,,\n"
).encode()
APPLICANT = {"case_a": {"resident1"}, "case_b": {"resident2"}}
STATS = {"checks": 0, "leaks": 0, "routes": 0}


# --- expectations --------------------------------------------------------------------------------

Expect = Callable[[str, str | None], Any]  # (role, target key) -> status, tuple of statuses, None


def login_page(ok: set[str], *, ok_status: Any = 200, refused: Any = 403) -> Expect:
    """A page behind login_required: anonymous → the login page; `ok` roles → ok_status."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return "login"
        return ok_status if role in ok else refused

    return expect


def object_page(
    *,
    ok_status: Any = 200,
    refused: Any = 404,
    only: set[str] | None = None,
    anonymous: Any = "login",
):
    """A page about one object: those who see it → ok_status (if in `only`, when given; else
    403), everybody else 404; anonymous → the login page."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        if role not in SEES[target]:
            return refused
        if only is not None and role not in only:
            return 403
        return ok_status

    return expect


def api(ok: set[str], *, ok_status: Any = 200, refused: Any = 403, anonymous: Any = 403):
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        return ok_status if role in ok else refused

    return expect


def object_api(
    *,
    ok_status: Any = 200,
    hidden: Any = 404,
    only: set[str] | None = None,
    refused: Any = 403,
    anonymous: Any = 403,
) -> Expect:
    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        if role not in SEES[target]:
            return hidden
        if only is not None and role not in only:
            return refused
        return ok_status

    return expect


def everyone(status: Any) -> Expect:
    return lambda role, target: status


def signed(status: Any, *, anonymous: Any = "login") -> Expect:
    return lambda role, target: anonymous if role == "anonymous" else status


def write_refused(
    *, visible_status: Any, hidden: Any = 404, anonymous: Any = "login", writer_status: Any = None
) -> Expect:
    """A write about one object: hidden from the role → 404; visible → `visible_status`
    (the refusal, or for writers whatever the move gives: writer_status)."""

    def expect(role: str, target: str | None) -> Any:
        if role == "anonymous":
            return anonymous
        if role not in SEES[target]:
            return hidden
        if role in WRITERS.get(target, NOBODY) and writer_status is not None:
            return writer_status
        return visible_status

    return expect


ANY_OK = (200, 201, 204, 302, 400, 403, 404, 409)  # a legitimate writer: anything but a 5xx

# Who may refer the street-A dispute to mediation: the staff working it or its region.
REFERRERS = {"worker_a", "dispatcher_a", "mediator", "officer", "supervisor", "admin"}


def refer_page(role: str, target: str | None) -> Any:
    """The referral page: 404 for an incident the role does not see, 403 for one it sees but
    may not refer (not a dispute, or not the role's to refer), 200 for the referrers."""
    if role == "anonymous":
        return "login"
    if role not in SEES[target]:
        return 404
    return 200 if target == "inc_dispute_a" and role in REFERRERS else 403


@dataclass
class Route:
    get: Expect | None = None
    post: Expect | None = None
    put: Expect | None = None
    patch: Expect | None = None
    delete: Expect | None = None
    targets: tuple[str, ...] = ()  # object keys substituted into the URL (in and out of scope)
    kwargs: Callable[[Any, str], dict] | None = None
    query: Callable[[Any, str | None], dict] | None = None  # GET parameters
    body: Callable[[Any, str | None], dict] | None = None  # POST/PUT/PATCH payload
    multipart: bool = False
    geo: bool = False  # check the map families too
    public_incidents: bool = False  # Open311: only internal-only incidents are private
    created: Callable[[Any, str, Any], list[str]] | None = None  # checks on a created object
    optional: bool = False  # present only in some settings (DEBUG media, bench)
    writers: dict[str, set[str]] = field(default_factory=dict)  # extra owners on this route
    located: bool = False  # put the report in the caller's cell (grid workers report there)
    roles: tuple[str, ...] = tuple(ROLES)
    # (role, target) -> families whose markers MUST be in the answer: proof that the list the
    # leak check reads is the real one (an empty list leaks nothing).
    shows: dict[tuple[str, str | None], tuple[str, ...]] = field(default_factory=dict)
    note: str = ""


def pk_of(key: str) -> Callable[[Any, str], dict]:
    return lambda w, target: {key: w.obj[target].pk}


# Every incident move (pages and API) gets one payload with the fields every form may need,
# plus fields no caller owns: they must be ignored.
def move_body(w, target) -> dict:
    return {
        "note": "matrix",
        "reason": "matrix",
        "result": "matrix",
        "rating": 3,
        "comment": "matrix",
        "until": (timezone.now() + timedelta(days=3)).isoformat(),
        "verifier": w.users["worker_a"].pk,
        "assignee": w.users["worker_a"].pk,
        # not the caller's to set:
        "state": "closed",
        "reporter": w.users["resident2"].pk,
        "region_code": "350602002001",
    }


def page_move_body(action: str) -> Callable[[Any, str], dict]:
    def body(w, target) -> dict:
        return {f"{action}-{k}": v for k, v in move_body(w, target).items()}

    return body


def case_body(w, target) -> dict:
    return {
        "reason": "matrix",
        "note": "matrix",
        "mediator": w.users["mediator"].pk,
        "starts_at": (timezone.now() + timedelta(days=2)).isoformat(),
        "place": "room",
        "form": "oral",
        "facts": "matrix",
        "disputed_matters": "matrix",
        "terms": "matrix",
        "performance_method": "matrix",
        "days": 5,
        "parties_consent": True,
        "court": "matrix",
        "performance": "fully",
        "result": "matrix",
        "minutes": "matrix",
        # not the caller's:
        "state": "closed",
        "applicant_user": w.users["resident2"].pk,
        "room": w.rooms["b"].pk,
    }


def petition_body(w, target) -> dict:
    return {
        "note": "matrix",
        "reason": "matrix",
        "handling_unit": "matrix",
        "satisfaction": "satisfied",
        "days": 10,
        "approve": True,
        "state": "closed",
        "owner": w.users["resident2"].pk,
        "region": "350602002001",
        "suggestion": 1,
        "kind": "reply",
        "manner": "post",
        "delivered_on": "2026-01-01",
    }


INCIDENT_MOVES = [
    "assign_verifier",
    "verify",
    "fix_on_spot",
    "mark_invalid",
    "dispatch",
    "claim",
    "accept",
    "return",
    "reassign",
    "escalate",
    "request_extension",
    "approve_extension",
    "reject_extension",
    "park",
    "unpark",
    "resolve",
    "check",
    "rework",
    "send_feedback",
    "rate",
    "reopen",
    "close",
]
API_MOVES = [
    "assign-verifier",
    "verify",
    "invalid",
    "dispatch",
    "claim",
    "accept",
    "return",
    "reassign",
    "escalate",
    "request-extension",
    "approve-extension",
    "reject-extension",
    "park",
    "unpark",
    "resolve",
    "check",
    "rework",
    "send-feedback",
    "rate",
    "reopen",
    "close",
    "fix-on-spot",
]
MEDIATION_CASE_APIS = [
    "accept",
    "decline",
    "assign",
    "schedule",
    "agreement",
    "sign",
    "seal",
    "extend",
    "withdraw",
    "fail",
    "confirmation",
    "follow-up",
    "close",
]
PETITION_ACTIONS = [
    "accept",
    "transfer",
    "decline",
    "object",
    "start",
    "extension-request",
    "extension-decide",
    "reply",
    "rate",
    "review-request",
    "review",
    "reexam-request",
    "hearing",
    "reexamine",
    "close",
    "refer-mediation",
    "to-incident",
    "undo-merge",
    "merge-confirm",
    "merge-dismiss",
    "delivery",
]

INCIDENTS = ("inc_a", "inc_b")
CASES = ("case_a", "case_b")
PETITIONS = ("pet_a", "pet_b")
PATROLS = ("patrol_a", "patrol_b")


def _incident_created(w, role, response) -> list[str]:
    """POST /api/v1/incidents names state, assignee, rating, reporter and region: ignored."""
    from incidents.models import Incident

    if response.status_code != 201:
        return []
    incident = Incident.objects.get(pk=response.json()["id"])
    problems = []
    if incident.reporter_id != w.users[role].pk:
        problems.append(f"reporter set to {incident.reporter_id}")
    if incident.state == "closed" or incident.rating is not None:
        problems.append(f"state/rating taken from the request: {incident.state}/{incident.rating}")
    if incident.assignee_id not in (None, w.users[role].pk):  # 随手办: the worker themselves
        problems.append("assignee taken from the request")
    return problems


def _case_created(w, role, response) -> list[str]:
    from mediation.models import MediationCase

    if response.status_code != 201:
        return []
    case = MediationCase.objects.get(pk=response.json()["id"])
    problems = []
    if case.state != "applied":
        problems.append(f"state {case.state}")
    if case.applicant_user_id not in (None, w.users[role].pk):
        problems.append("applicant taken from the request")
    return problems


def _petition_created(w, role, response) -> list[str]:
    from petitions.models import Petition

    if response.status_code != 201:
        return []
    petition = Petition.objects.get(pk=response.json()["id"])
    problems = []
    if petition.state == "closed" or petition.satisfaction:
        problems.append(f"state/satisfaction from the request: {petition.state}")
    if role.startswith("resident") and petition.owner_id != w.users[role].pk:
        problems.append("owner taken from the request")
    return problems


def incident_create_body(w, target) -> dict:
    return {
        "category": w.category.code,
        "description": "matrix report",
        "lat": 24.505,
        "lng": 117.605,
        "state": "closed",
        "assignee": w.users["worker_b"].pk,
        "rating": 5,
        "reporter": w.users["resident2"].pk,
        "region_code": "350602002001",
    }


def case_create_body(w, target) -> dict:
    return {
        "source": "online",
        "room": w.rooms["a"].pk,
        "category": w.dispute.code,
        "facts": "matrix dispute",
        "parties": [
            {"role": "applicant", "name": "张三", "phone": "13800000001"},
            {"role": "respondent", "name": "李四"},
        ],
        "state": "closed",
        "applicant_user": w.users["resident2"].pk,
        "mediator": w.users["mediator"].pk,
    }


def petition_create_body(w, target) -> dict:
    return {
        "channel": "web",
        "kind": "request",
        "matter": "matrix matter",
        "request": "matrix",
        "facts_and_reasons": "matrix",
        "category": "07",
        "region": "350602001001",
        "petitioners": [{"name": "张三", "id_number": "350602199001011235"}],
        "state": "closed",
        "owner": w.users["resident2"].pk,
        "satisfaction": "satisfied",
    }


ROUTES: dict[str, Route] = {
    # --- site -------------------------------------------------------------------------------
    # Anonymous: the residents' public home (issue 17); signed in: their own home.
    # The public home for anonymous visitors; volunteers land on their own home (302).
    "home": Route(get=lambda role, t: 302 if role == "volunteer" else 200),
    "healthz": Route(get=everyone((200, 503))),
    "set_language": Route(
        get=everyone((204, 302)), post=everyone(302), body=lambda w, t: {"language": "zh-hans"}
    ),
    # --- accounts ---------------------------------------------------------------------------
    "accounts:login": Route(get=signed(302, anonymous=200)),
    "accounts:logout": Route(get=everyone(405)),
    "accounts:profile": Route(get=login_page(SIGNED)),
    "accounts:password_change": Route(get=login_page(SIGNED)),
    "accounts:inbox": Route(get=login_page(SIGNED), shows={("resident1", None): ("note_r1",)}),
    "accounts:inbox_mark_read": Route(get=signed(405), post=signed(302), targets=("note_r1",)),
    "api-me": Route(
        get=api(SIGNED),
        patch=api(NOBODY, refused=405),
        put=api(NOBODY, refused=405),
        body=lambda w, t: {"roles": ["admin"], "scope_region": "350600000000"},
    ),
    # --- grids ------------------------------------------------------------------------------
    "grids:map": Route(get=login_page(SIGNED), geo=True),
    "grids:regions": Route(get=login_page(SIGNED), geo=True),
    "grids_api_regions": Route(get=api(SIGNED), geo=True),
    "grids_api_grid_cells": Route(
        get=api(SIGNED), geo=True, shows={("dispatcher_b", None): ("cell_b",)}
    ),
    "grids_api_grid_workers": Route(get=api(SIGNED), geo=True),
    "grids_api_locate": Route(get=api(SIGNED), query=lambda w, t: {"lat": 24.505, "lng": 117.645}),
    # --- incidents: pages -------------------------------------------------------------------
    "incidents:index": Route(get=login_page(SIGNED, ok_status=302)),
    "incidents:report": Route(get=everyone(200)),
    "incidents:report_anonymous": Route(get=everyone(200)),
    "incidents:report_done": Route(get=everyone(302)),
    # Two URLs share this name: the 随手办 page and the move on an incident.
    "incidents:fix_on_spot incidents/fix-on-spot/": Route(get=login_page(WORKERS)),
    "incidents:track": Route(get=everyone(200)),
    "incidents:track_resend": Route(
        get=everyone(200),
        post=everyone((302, 429)),
        body=lambda w, t: {"no": w.obj["inc_a"].tracking_number, "phone": "13900000000"},
    ),
    "incidents:track_rate": Route(
        get=everyone(405),
        post=everyone(302),
        body=lambda w, t: {"no": w.obj["inc_a"].tracking_number, "rate-rating": 1},
        targets=("inc_a",),
    ),
    "incidents:my_tasks": Route(
        get=login_page(WORKERS | {"dispatcher_a", "dispatcher_b", "handler", "admin"})
    ),
    "incidents:my_reports": Route(get=login_page(SIGNED)),
    "incidents:queue": Route(
        get=login_page(QUEUE),
        shows={("dispatcher_a", None): ("inc_a",), ("dispatcher_b", None): ("inc_b",)},
    ),
    "incidents:queue_rows": Route(get=login_page(QUEUE)),
    "incidents:queue_workload": Route(get=login_page(QUEUE)),
    "incidents:queue_assign": Route(
        get=signed(405),
        post=login_page(QUEUE, ok_status=302),
        targets=INCIDENTS,
        body=lambda w, t: {"incident": [w.obj[t].pk], "assignee": w.users["worker_a"].pk},
    ),
    "incidents:overdue": Route(get=login_page(QUEUE)),
    "incidents:workload": Route(get=login_page(QUEUE)),
    "incidents:patrols": Route(
        shows={("dispatcher_a", None): ("patrol_a",)},
        get=login_page(WORKERS | {"dispatcher_a", "dispatcher_b", "supervisor", "admin"}),
    ),
    "incidents:patrol_start": Route(
        get=signed(405), post=signed(302), body=lambda w, t: {"notes": "matrix"}
    ),
    "incidents:patrol_detail": Route(get=object_page(), targets=PATROLS, kwargs=pk_of("pk")),
    "incidents:patrol_points": Route(
        get=signed(405),
        post=write_refused(visible_status=302),
        targets=PATROLS,
        kwargs=pk_of("pk"),
        body=lambda w, t: {"lat": 24.505, "lng": 117.605},
    ),
    "incidents:patrol_end": Route(
        get=signed(405),
        post=write_refused(visible_status=302),
        targets=PATROLS,
        kwargs=pk_of("pk"),
        body=lambda w, t: {"notes": "matrix"},
    ),
    # Photos: anonymous trackers get a photo only for a number their session proved: 404 here.
    "incidents:photo": Route(
        get=object_page(anonymous=404), targets=("photo_a", "photo_b"), kwargs=pk_of("pk")
    ),
    "incidents:photo_thumb": Route(
        get=object_page(anonymous=404), targets=("photo_a", "photo_b"), kwargs=pk_of("pk")
    ),
    "incidents:detail": Route(get=object_page(), targets=INCIDENTS, kwargs=pk_of("pk")),
    **{
        (
            f"incidents:{action}"
            if action != "fix_on_spot"
            else "incidents:fix_on_spot incidents/<int:pk>/fix-on-spot/"
        ): Route(
            get=signed(405),
            post=write_refused(visible_status=(302, 400, 403), writer_status=ANY_OK),
            targets=INCIDENTS,
            kwargs=pk_of("pk"),
            body=page_move_body(action),
        )
        for action in INCIDENT_MOVES
    },
    # --- incidents: API ---------------------------------------------------------------------
    "api-categories": Route(get=everyone(200)),
    "api-incidents": Route(
        shows={("resident1", None): ("inc_a",), ("dispatcher_b", None): ("inc_b", "inc_internal")},
        get=api(SIGNED),
        post=api(SIGNED, ok_status=201),
        body=incident_create_body,
        created=_incident_created,
        patch=api(NOBODY, refused=405),
    ),
    "api-incident-track": Route(
        get=everyone(405),
        post=everyone(404),
        body=lambda w, t: {"no": w.obj["inc_a"].tracking_number, "code": "WRONG234"},
    ),
    "api-incident-track-rate": Route(
        post=everyone(404),
        body=lambda w, t: {
            "no": w.obj["inc_a"].tracking_number,
            "code": "WRONG234",
            "rating": 5,
        },
    ),
    # The same answer for everybody; the matrix's roles share one client address, which reaches
    # the per-client limit of "resend my code" (10 an hour) before the last role.
    "api-incident-track-resend": Route(
        get=everyone(405),
        post=everyone((202, 429)),
        body=lambda w, t: {"no": w.obj["inc_a"].tracking_number, "phone": "13900000000"},
    ),
    "api-incident-my-tasks": Route(get=api(SIGNED)),
    "api-incident-queue": Route(get=api(QUEUE)),
    "api-incident-overdue": Route(get=api(QUEUE)),
    "api-incident-workload": Route(
        get=lambda role, t: {
            "dispatcher_a": 200,
            "supervisor": 200,
            "admin": 200,
            "dispatcher_b": 404,
        }.get(role, 403),
        query=lambda w, t: {"region": "350602001000"},
    ),
    "api-incident-fix-on-spot api/v1/incidents/fix-on-spot": Route(
        post=api(WORKERS, ok_status=201),
        multipart=True,
        located=True,
        body=lambda w, t: {**incident_create_body(w, t), "result": "fixed"},
        created=_incident_created,
    ),
    "api-incident-detail": Route(
        get=object_api(),
        put=object_api(hidden=(404, 405), ok_status=405, refused=405),
        patch=object_api(hidden=(404, 405), ok_status=405),
        delete=object_api(hidden=(404, 405), ok_status=405),
        targets=INCIDENTS,
        kwargs=pk_of("pk"),
        body=move_body,
    ),
    **{
        f"api-incident-{segment}": Route(
            post=write_refused(visible_status=(400, 403, 409), anonymous=403, writer_status=ANY_OK),
            targets=INCIDENTS,
            kwargs=pk_of("pk"),
            body=move_body,
            multipart=True,
        )
        for segment in API_MOVES
        if segment != "fix-on-spot"
    },
    # 随手办 checks the role first: 403 for anybody but a grid worker, whatever the incident.
    # Two URLs share this name: the key names the pattern (see resolver_routes).
    "api-incident-fix-on-spot api/v1/incidents/<int:pk>/fix-on-spot": Route(
        post=lambda role, t: (
            403 if role not in WORKERS else ((400, 403, 409) if role in SEES[t] else 404)
        ),
        targets=INCIDENTS,
        kwargs=pk_of("pk"),
        body=move_body,
        multipart=True,
    ),
    "api-patrols": Route(
        get=api(SIGNED),
        post=api(WORKERS, ok_status=201, refused=(403,)),
        body=lambda w, t: {"notes": "matrix"},
    ),
    "api-patrol-detail": Route(get=object_api(), targets=PATROLS, kwargs=pk_of("pk")),
    "api-patrol-points": Route(
        post=write_refused(visible_status=(403, 409), anonymous=403, writer_status=ANY_OK),
        targets=PATROLS,
        kwargs=pk_of("pk"),
        body=lambda w, t: {"points": [[24.505, 117.605, None]]},
    ),
    "api-patrol-end": Route(
        post=write_refused(visible_status=(403, 409), anonymous=403, writer_status=ANY_OK),
        targets=PATROLS,
        kwargs=pk_of("pk"),
        body=lambda w, t: {"notes": "matrix"},
    ),
    # --- mediation: pages -------------------------------------------------------------------
    "mediation:home": Route(get=login_page(SIGNED, ok_status=302)),
    "mediation:rooms": Route(get=login_page({"admin"})),
    "mediation:room_create": Route(get=login_page({"admin"})),
    "mediation:room_import": Route(get=login_page({"admin"})),
    "mediation:room_map": Route(get=login_page(SIGNED)),
    "mediation:room_edit": Route(
        get=login_page({"admin"}), targets=("room_a",), kwargs=pk_of("pk")
    ),
    "mediation:room_toggle": Route(
        get=signed(405),
        post=login_page({"admin"}, ok_status=302),
        targets=("room_a",),
        kwargs=pk_of("pk"),
    ),
    "mediation:room_move": Route(
        get=signed(405),
        post=login_page({"admin"}, ok_status=302),
        targets=("room_a",),
        kwargs=pk_of("pk"),
        body=lambda w, t: {"direction": "down"},
    ),
    "mediation:room_mediator_add": Route(
        get=signed(405),
        post=login_page({"admin"}, ok_status=302),
        targets=("room_a",),
        kwargs=pk_of("pk"),
        body=lambda w, t: {"user": w.users["dispatcher_a"].pk},
    ),
    "mediation:room_mediator_remove": Route(
        get=signed(405),
        post=login_page({"admin"}, ok_status=302),
        targets=("room_a",),
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "user_id": w.users["mediator"].pk},
    ),
    "mediation:case_list": Route(
        get=login_page(SIGNED),
        shows={("mediator", None): ("case_a",), ("resident2", None): ("case_b",)},
    ),
    "mediation:case_create": Route(get=login_page({"mediator", "admin"})),
    "mediation:case_detail": Route(get=object_page(), targets=CASES, kwargs=pk_of("pk")),
    "mediation:agreement_print": Route(get=object_page(), targets=CASES, kwargs=pk_of("pk")),
    "mediation:case_action": Route(
        get=signed(405),
        post=write_refused(visible_status=(302, 400)),
        targets=CASES,
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "action": "decline"},
        body=case_body,
    ),
    "mediation:session_action": Route(
        get=signed(405),
        post=write_refused(visible_status=302),
        targets=("session_a", "session_b"),
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "action": "cancel"},
        body=case_body,
    ),
    "mediation:my_cases": Route(get=login_page(SIGNED)),
    "mediation:apply": Route(get=login_page(SIGNED)),
    # Only who may refer the incident (incidents.page_selectors.can_refer_to_mediation) gets
    # the page: a dispute in street A for its staff; inc_b is no dispute: 403 to who sees it.
    "mediation:refer": Route(
        get=refer_page, targets=("inc_dispute_a", "inc_b"), kwargs=pk_of("incident_id")
    ),
    "mediation:calendar": Route(get=login_page(SIGNED)),
    "mediation:stats": Route(get=login_page({"mediator", "supervisor", "admin"})),
    # --- mediation: API ---------------------------------------------------------------------
    "mediation-rooms": Route(
        get=api(SIGNED),
        post=api({"admin"}, ok_status=201),
        body=lambda w, t: {
            "name": "matrix room",
            "room_type": "reasoning_point",
            "level": "village",
            "region_code": "350602001001",
        },
    ),
    "mediation-room-reorder": Route(
        post=api({"admin"}), body=lambda w, t: {"room_ids": [w.rooms["b"].pk, w.rooms["a"].pk]}
    ),
    "mediation-room-import": Route(
        post=api({"admin"}, refused=(400, 403)),
        multipart=True,
        body=lambda w, t: {
            "file": SimpleUploadedFile("rooms.csv", ROOMS_CSV, content_type="text/csv")
        },
    ),
    "mediation-room": Route(
        get=api(SIGNED),
        put=api({"admin"}, ok_status=(200, 400)),
        patch=api({"admin"}),
        targets=("room_a",),
        kwargs=pk_of("pk"),
        body=lambda w, t: {"name": "renamed by matrix"},
    ),
    "mediation-room-active": Route(
        post=api({"admin"}),
        targets=("room_a",),
        kwargs=pk_of("pk"),
        body=lambda w, t: {"active": False},
    ),
    "mediation-room-mediators": Route(
        post=api({"admin"}, ok_status=(200, 400)),
        targets=("room_a",),
        kwargs=pk_of("pk"),
        body=lambda w, t: {"user_id": w.users["dispatcher_a"].pk},
    ),
    "mediation-room-mediator": Route(
        delete=api({"admin"}, ok_status=204),
        targets=("room_a",),
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "user_id": w.users["mediator"].pk},
    ),
    "mediation-cases": Route(
        get=api(SIGNED),
        post=api(SIGNED, ok_status=201, refused=(400, 403)),
        body=case_create_body,
        created=_case_created,
    ),
    "mediation-case": Route(get=object_api(), targets=CASES, kwargs=pk_of("pk")),
    **{
        f"mediation-{name}": Route(
            post=write_refused(visible_status=(400, 403, 409), anonymous=403, writer_status=ANY_OK),
            targets=CASES,
            kwargs=pk_of("pk"),
            body=case_body,
        )
        for name in MEDIATION_CASE_APIS
        if name != "withdraw"
    },
    # The applicant may withdraw their own application (Art. 17): theirs to change.
    "mediation-withdraw": Route(
        post=lambda role, t: (
            403
            if role == "anonymous"
            else (
                404
                if role not in SEES[t]
                else ANY_OK
                if role in APPLICANT[t] | WRITERS[t]
                else (400, 403, 409)
            )
        ),
        targets=CASES,
        kwargs=pk_of("pk"),
        body=case_body,
        writers={
            "case_a": {"resident1"},
            "session_a": {"resident1"},
            "case_b": {"resident2"},
            "session_b": {"resident2"},
        },
    ),
    "mediation-sessions": Route(get=api(SIGNED)),
    **{
        f"mediation-session-{name}": Route(
            post=write_refused(visible_status=(400, 403, 409), anonymous=403, writer_status=ANY_OK),
            targets=("session_a", "session_b"),
            kwargs=pk_of("pk"),
            body=case_body,
        )
        for name in ("start", "cancel", "minutes")
    },
    "mediation-referral-proposals": Route(
        get=object_api(), targets=INCIDENTS, query=lambda w, t: {"incident": w.obj[t].pk}
    ),
    "mediation-referrals": Route(
        post=write_refused(visible_status=(400, 403, 409), anonymous=403, writer_status=ANY_OK),
        targets=INCIDENTS,
        body=lambda w, t: {
            "incident": w.obj[t].pk,
            "room": w.rooms["a"].pk,
            "parties": [
                {"role": "applicant", "name": "张三"},
                {"role": "respondent", "name": "李四"},
            ],
        },
    ),
    "mediation-stats": Route(get=api({"mediator", "supervisor", "admin"})),
    # --- petitions: pages -------------------------------------------------------------------
    "petitions:home": Route(get=login_page(SIGNED, ok_status=302)),
    "petitions:file": Route(get=login_page(SIGNED)),
    "petitions:mine": Route(get=login_page(SIGNED)),
    "petitions:track": Route(get=everyone(200)),
    "petitions:intake": Route(get=login_page({"officer", "admin"}, refused=404)),
    "petitions:list": Route(
        get=login_page(PETITION_STAFF, refused=404), shows={("officer", None): ("pet_a",)}
    ),
    "petitions:overdue": Route(get=login_page(PETITION_STAFF, refused=404)),
    "petitions:analysis": Route(get=login_page(PETITION_STAFF, refused=404)),
    "petitions:export": Route(
        get=login_page(PETITION_STAFF, refused=404), shows={("officer", None): ("pet_a",)}
    ),
    "petitions:detail": Route(get=object_page(), targets=PETITIONS, kwargs=pk_of("pk")),
    "petitions:action": Route(
        get=signed(405),
        post=write_refused(visible_status=302),
        targets=PETITIONS,
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "action": "accept"},
        body=lambda w, t: {"accept-note": "matrix", "accept-handling_unit": "matrix"},
    ),
    "petitions:opinion_print": Route(
        get=object_page(),
        targets=PETITIONS,
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "kind": "reply"},
    ),
    "petitions:attachment": Route(
        get=object_page(),
        targets=PETITIONS,
        kwargs=lambda w, t: {"pk": w.obj[t].pk, "attachment_id": w.attachments[t].pk},
    ),
    # --- petitions: API ---------------------------------------------------------------------
    "api-petitions": Route(
        shows={("resident2", None): ("pet_b",)},
        get=api(SIGNED),
        post=api(SIGNED, ok_status=201, refused=(400, 403)),
        body=petition_create_body,
        created=_petition_created,
    ),
    "api-petitions-analysis": Route(get=api(PETITION_STAFF, refused=404)),
    "api-petition-detail": Route(get=object_api(), targets=PETITIONS, kwargs=pk_of("petition_id")),
    **{
        f"api-petition-{action}": Route(
            post=write_refused(visible_status=(400, 403, 409), anonymous=403, writer_status=ANY_OK),
            targets=PETITIONS,
            kwargs=pk_of("petition_id"),
            body=petition_body,
        )
        for action in PETITION_ACTIONS
    },
    # --- supervision --------------------------------------------------------------------------
    "governance:dashboard": Route(  # its overdue board lists inc_a
        get=login_page(KPI), geo=True, shows={("dispatcher_a", None): ("inc_a",)}
    ),
    "governance:grid_life": Route(get=login_page(KPI)),  # the December apps' cards: counts
    "governance:street_dashboard": Route(get=login_page(KPI), geo=True),
    "governance:big_screen": Route(get=login_page(KPI), geo=True),
    "governance:incident_ledger": Route(get=login_page(KPI)),
    "governance:export_create": Route(
        get=signed(405),
        # Ledgers and KPI tables: KPI roles. Mediation and petition ledgers: anybody with a
        # region, scoped by their own app (residents and other non-staff have none: 403).
        # Markers checked in the file.
        post=lambda role, t: (
            "login"
            if role == "anonymous"
            else (
                (200 if role in KPI else 403)
                if t in ("export_incidents", "export_kpis")
                else (403 if role not in STAFF else 200)  # no region: residents, non-staff
            )
        ),
        targets=("export_incidents", "export_kpis", "export_mediation", "export_petitions"),
        shows={
            ("dispatcher_a", "export_incidents"): ("inc_a",),
            ("supervisor", "export_mediation"): ("case_a",),
            ("officer", "export_petitions"): ("pet_a",),
        },
        body=lambda w, t: {"kind": t.removeprefix("export_"), "fmt": "csv", "query": ""},
    ),
    "governance:export_detail": Route(
        get=object_page(), targets=("export_sup", "export_b"), kwargs=pk_of("pk")
    ),
    "governance:export_download": Route(
        get=object_page(), targets=("export_sup", "export_b"), kwargs=pk_of("pk")
    ),
    "governance:case_file": Route(get=object_page(), targets=INCIDENTS, kwargs=pk_of("pk")),
    "governance-api-kpis": Route(get=api(KPI), query=lambda w, t: {"group_by": "grid"}, geo=True),
    "governance-api-kpi-definitions": Route(get=api(KPI)),
    "governance-api-kpi-trend": Route(get=api(KPI), geo=True),
    "governance-api-kpi-heatmap": Route(
        get=api(KPI), geo=True, shows={("dispatcher_b", None): ("cell_b",)}
    ),
    "governance-api-exports": Route(
        post=api(KPI, ok_status=202), body=lambda w, t: {"kind": "incidents", "fmt": "csv"}
    ),
    "governance-api-export": Route(
        get=object_api(), targets=("export_sup", "export_b"), kwargs=pk_of("pk")
    ),
    # --- partner API (signed calls only: a browser session is not a key) ----------------------
    "api-intake-hotline": Route(post=everyone((401, 403)), body=lambda w, t: {}),
    "api-intake-hotline-ticket": Route(
        get=everyone((401, 403)), kwargs=lambda w, t: {"ticket_id": "T1"}, targets=("none",)
    ),
    "api-webhook-subscriptions": Route(
        get=everyone((401, 403)),
        post=everyone((401, 403)),
        body=lambda w, t: {"url": "https://example.org/hook"},
    ),
    "api-webhook-subscription": Route(
        delete=everyone((401, 403)), targets=("none",), kwargs=lambda w, t: {"pk": 1}
    ),
    # --- API documents ------------------------------------------------------------------------
    # The schema is one document for everybody (no data in it; ~2 s to build): two roles.
    "schema": Route(get=everyone(200), roles=("anonymous", "resident1")),
    "swagger-ui": Route(get=everyone(200)),
    "redoc": Route(get=everyone(200)),
    # --- Open311 (public by the spec: the published categories, never internal-only ones) ----
    "open311:root": Route(get=everyone(302)),
    "open311:discovery": Route(
        get=everyone(200), kwargs=lambda w, t: {"fmt": "json"}, targets=("none",)
    ),
    "open311:services": Route(
        get=everyone(200),
        kwargs=lambda w, t: {"fmt": "json"},
        targets=("none",),
        public_incidents=True,
    ),
    "open311:service": Route(
        get=everyone(200),
        targets=("none",),
        kwargs=lambda w, t: {"fmt": "json", "service_code": w.category.code},
    ),
    "open311:requests": Route(
        shows={("anonymous", "none"): ("inc_a", "inc_b")},
        get=everyone(200),
        post=everyone(403),
        targets=("none",),
        kwargs=lambda w, t: {"fmt": "json"},
        public_incidents=True,
        body=lambda w, t: {"service_code": w.category.code},
    ),
    "open311:request": Route(
        get=lambda role, t: 404 if t == "inc_internal" else 200,
        targets=("inc_a", "inc_internal"),
        public_incidents=True,
        # Open311 knows a request by its public id only (security review M3).
        kwargs=lambda w, t: {"fmt": "json", "service_request_id": w.obj[t].public_id},
    ),
    "open311:token": Route(
        get=everyone(404),
        targets=("none",),
        kwargs=lambda w, t: {"fmt": "json", "token": "no-such-token"},
    ),
    # --- only in some settings -----------------------------------------------------------------
    "media": Route(
        optional=True,
        note="DEBUG only: django.conf.urls.static; photos are "
        "served by incidents:photo, never as public files in production",
    ),
}
# The Django admin: checked as one family (see test_admin_family).
# The apps added after issue 16 keep their routes in tests/matrix/<app>.py.
for _module in MODULES:
    if hasattr(_module, "routes"):
        ROUTES.update(_module.routes(__import__(__name__, fromlist=["ROUTES"])))
# Marker families of the new apps (their build() appends): read by the leak check.
EXTRA_FAMILIES: list[str] = []

ADMIN_NAMESPACE = "admin"


# --- the URL resolver -------------------------------------------------------------------------


def resolver_routes() -> list[tuple[str, str]]:
    """(name, pattern) of every URL the project serves."""
    rows: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = namespace
                if pattern.namespace:
                    ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern):
                name = pattern.name
                if name is None:
                    # Unnamed: the admin's object redirect, the DEBUG media route.
                    name = "media" if "media" in str(pattern.pattern) else f"{namespace}:<unnamed>"
                elif namespace:
                    name = f"{namespace}:{name}"
                rows.append((name, prefix + str(pattern.pattern)))

    walk(get_resolver().url_patterns, "", None)
    # A name used by two URLs (reverse() tells them apart by their arguments): key both by
    # name and pattern.
    counts: dict[str, int] = {}
    for name, _ in rows:
        counts[name] = counts.get(name, 0) + 1
    return [
        (
            f"{name} {pattern}" if counts[name] > 1 and not name.startswith("admin:") else name,
            pattern,
        )
        for name, pattern in rows
    ]


def test_every_route_has_an_entry_in_the_matrix():
    """A new URL without expectations here fails; so does an entry for a URL that is gone."""
    served = {name for name, _ in resolver_routes()}
    admin = {name for name in served if name.split(":")[0] == ADMIN_NAMESPACE}
    missing = sorted(served - admin - set(ROUTES))
    assert not missing, f"routes without an entry in tests/test_access_matrix.py: {missing}"
    stale = sorted(n for n, spec in ROUTES.items() if n not in served and not spec.optional)
    assert not stale, f"entries for routes that no longer exist: {stale}"
    assert admin, "the admin site is mounted"
    STATS["routes"] = len(served)


# --- the data -----------------------------------------------------------------------------------


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


def _build(media_root) -> SimpleNamespace:
    from accounts.models import Role
    from core.models import Notification
    from governance.models import ExportJob
    from incidents.loaders import load_categories
    from incidents.models import Category, IncidentPhoto, PatrolLog
    from incidents.tests.factories import build_city, make_incident
    from mediation import services as mediation_services
    from mediation.models import MediationAgreement, MediationRoom, RoomMediator
    from petitions.models import PetitionAttachment, PetitionOpinion
    from petitions.tests import factories as pf
    from tests.builders import make_region_tree, make_user

    tree = make_region_tree()
    load_categories()
    categories = {c.code: c for c in Category.objects.all()}
    city = build_city(tree, categories)
    Role.objects.get_or_create(code="admin")
    city.supervisor.scope_region = tree["street_a"]
    city.supervisor.save()
    city.admin.is_staff = city.admin.is_superuser = True
    city.admin.save()
    mediator = make_user(
        "matrix_mediator", roles=["mediator"], region=tree["street_a"], phone="13700000010"
    )
    mediator_b = make_user(
        "matrix_mediator_b", roles=["mediator"], region=tree["street_b"], phone="13700000011"
    )
    officer = pf.officer("matrix_officer", region=tree["street_a"], phone="13700000012")
    users = {
        "resident1": city.resident,
        "resident2": city.resident2,
        "worker_a": city.worker,
        "worker_b": city.worker_b,
        "dispatcher_a": city.dispatcher,
        "dispatcher_b": city.dispatcher_b,
        "handler": city.handler,
        "mediator": mediator,
        "officer": officer,
        "supervisor": city.supervisor,
        "admin": city.admin,
    }
    category = categories["0102"]
    internal = Category.objects.filter(internal_only=True, parent__isnull=False).first()
    assert internal is not None, "the category list has an internal-only subclass"
    past = timezone.now() - timedelta(hours=5)
    inc_a = make_incident(
        city,
        state="dispatched",
        cell="cell_a1_1",
        reporter=city.resident,
        description="MXINCA matter",
        due_at=past,
    )
    inc_b = make_incident(
        city,
        state="dispatched",
        cell="cell_b1_1",
        reporter=city.resident2,
        assignee=city.worker_b,
        verifier=city.worker_b,
        lat=24.505,
        lng=117.645,
        description="MXINCB matter",
        due_at=past,
    )
    inc_internal = make_incident(
        city,
        state="verifying",
        cell="cell_b1_1",
        reporter=None,
        category=internal.code,
        channel="hotline_12345",
        reporter_phone="13900000077",
        description="MXINTERNAL lead",
        verifier=city.worker_b,
    )

    # A dispute in street A (for the referral page only; seen like inc_a).
    inc_dispute_a = make_incident(
        city,
        state="dispatched",
        cell="cell_a1_1",
        reporter=city.resident,
        category="1001",
        description="MXDISPUTEA matter",
    )

    photos = {}
    for key, incident in (("photo_a", inc_a), ("photo_b", inc_b)):
        photo = IncidentPhoto(incident=incident)
        photo.image.save(f"{key}.jpg", ContentFile(_jpeg()), save=False)
        photo.thumbnail.save(f"{key}-t.jpg", ContentFile(_jpeg()), save=False)
        photo.save()
        photos[key] = photo

    patrols = {
        "patrol_a": PatrolLog.objects.create(
            worker=city.worker,
            region_code="350602001001",
            started_at=past,
            ended_at=timezone.now(),
            notes="MXPATROLA",
        ),
        "patrol_b": PatrolLog.objects.create(
            worker=city.worker_b,
            region_code="350602002001",
            started_at=past,
            ended_at=timezone.now(),
            notes="MXPATROLB",
        ),
    }

    rooms = {
        "a": MediationRoom.objects.create(
            name="矩阵西桥评理点", room_type="reasoning_point", level="village", region=tree["a1"]
        ),
        "b": MediationRoom.objects.create(
            name="矩阵东铺头调解室", room_type="police", level="township", region=tree["street_b"]
        ),
    }
    RoomMediator.objects.create(room=rooms["a"], user=mediator, title="调解员")
    RoomMediator.objects.create(room=rooms["b"], user=mediator_b, title="调解员")
    dispute = categories.get("1001") or category
    cases = {}
    for key, who, room in (("case_a", city.resident, "a"), ("case_b", city.resident2, "b")):
        cases[key] = mediation_services.case_apply_online(
            actor=who,
            room_id=rooms[room].pk,
            category_code=dispute.code,
            facts=f"MX{key.upper()} dispute",
            requests="matrix",
            parties=[
                {"role": "applicant", "name": "张三", "phone": who.phone},
                {"role": "respondent", "name": "李四"},
            ],
        )
        MediationAgreement.objects.create(
            case=cases[key],
            form="oral",
            parties_details="张三 李四",
            facts="matrix",
            disputed_matters="matrix",
            terms="matrix",
            performance_method="matrix",
            recorded_by=mediator,
        )
    case_sessions = {}
    for key, case, staff in (
        ("session_a", cases["case_a"], mediator),
        ("session_b", cases["case_b"], mediator_b),
    ):
        mediation_services.case_accept(actor=staff, case_id=case.pk)
        case_sessions[key] = mediation_services.session_schedule(
            actor=staff,
            case_id=case.pk,
            starts_at=timezone.now() + timedelta(days=1),
            place="调解室",
        )
    for key in cases:
        cases[key].refresh_from_db()

    pet_a = pf.file_web(city.resident, region=tree["a1"], matter="MXPETA matter")
    pet_b = pf.file_web(
        city.resident2, region=tree["b1"], matter="MXPETB matter", id_number=pf.ID_B
    )
    attachments = {}
    for key, petition in (("pet_a", pet_a), ("pet_b", pet_b)):
        attachment = PetitionAttachment(
            petition=petition, name=f"{key}.txt", uploaded_by=petition.owner
        )
        attachment.file.save(f"{key}.txt", ContentFile(b"matrix"), save=False)
        attachment.save()
        attachments[key] = attachment
        PetitionOpinion.objects.create(
            petition=petition,
            kind="reply",
            unit="matrix",
            request="matrix",
            facts_and_reasons="matrix",
            decision="matrix",
            legal_basis="matrix",
            outcome="support",
            issued_by=officer,
            issued_at=timezone.now(),
        )

    notes = {
        "note_r1": Notification.objects.create(user=city.resident, title="MXNOTER1 news"),
        "note_r2": Notification.objects.create(user=city.resident2, title="MXNOTER2 news"),
    }
    exports = {}
    for key, owner in (("export_sup", city.supervisor), ("export_b", city.dispatcher_b)):
        job = ExportJob(
            user=owner,
            kind="incidents",
            fmt="csv",
            params={},
            status="done",
            progress=100,
            finished_at=timezone.now(),
        )
        job.file.save(f"{key}-ledger.csv", ContentFile(b"matrix"), save=False)
        job.save()
        exports[key] = job

    obj = {
        "inc_a": inc_a,
        "inc_b": inc_b,
        "inc_internal": inc_internal,
        "inc_dispute_a": inc_dispute_a,
        **photos,
        **patrols,
        **cases,
        **case_sessions,
        "pet_a": pet_a,
        "pet_b": pet_b,
        **notes,
        **exports,
        "room_a": rooms["a"],
    }
    markers = {
        "inc_a": [inc_a.tracking_number, "MXINCA"],
        "inc_b": [inc_b.tracking_number, "MXINCB"],
        "inc_internal": [inc_internal.tracking_number, inc_internal.public_id, "MXINTERNAL"],
        "case_a": [cases["case_a"].case_number, "MXCASE_A"],
        "case_b": [cases["case_b"].case_number, "MXCASE_B"],
        "pet_a": [pet_a.tracking_number, "MXPETA"],
        "pet_b": [pet_b.tracking_number, "MXPETB"],
        "patrol_a": ["MXPATROLA", f"/incidents/patrols/{patrols['patrol_a'].pk}/"],
        "patrol_b": ["MXPATROLB", f"/incidents/patrols/{patrols['patrol_b'].pk}/"],
        "note_r1": ["MXNOTER1"],
        "note_r2": ["MXNOTER2"],
        "cell_b": [tree["cell_b1_1"].code, tree["cell_b1_1"].name],
        "community_b": [tree["b1"].name],
    }
    # Photos and sessions follow their incident's / case's visibility.
    SEES["photo_a"], SEES["photo_b"] = SEES["inc_a"], SEES["inc_b"]
    SEES["inc_dispute_a"] = SEES["inc_a"]
    SEES["session_a"], SEES["session_b"] = SEES["case_a"], SEES["case_b"]
    WRITERS["session_a"], WRITERS["session_b"] = WRITERS["case_a"], WRITERS["case_b"]
    SEES["none"] = set(ROLES)
    for kind in ("incidents", "kpis", "mediation", "petitions"):
        SEES[f"export_{kind}"] = set(ROLES)
    return SimpleNamespace(
        users=users,
        obj=obj,
        markers=markers,
        rooms=rooms,
        dispute=dispute,
        attachments=attachments,
        category=category,
        tree=tree,
    )


@pytest.fixture(scope="module")
def media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def _matrix_settings(settings, media_root):
    settings.MEDIA_ROOT = media_root
    # A private cache: rate limits (tracking, anonymous reports) start afresh for each route.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "access-matrix",
        }
    }
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media_root):
    from django.conf import settings

    previous = settings.MEDIA_ROOT
    settings.MEDIA_ROOT = media_root
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            w = _build(media_root)
            matrix = __import__(__name__, fromlist=["ROUTES"])
            for module in MODULES:
                if hasattr(module, "build"):
                    module.build(matrix, w)
            w.clients = {}
            for role in ROLES:
                client = Client()
                if role != "anonymous":
                    client.force_login(w.users[role])
                w.clients[role] = client
            w.baseline = snapshot(w, None)
            yield w
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            settings.MEDIA_ROOT = previous
    _write_figures()


# --- one request, checked -------------------------------------------------------------------------


def snapshot(w, target: str | None) -> Any:
    """The fields of the target (and of every marker object) a foreign write must not change."""
    from django.db.models import Count

    from core.models import Notification
    from incidents.models import Incident
    from mediation.models import MediationCase, MediationRoom, MediationSession
    from petitions.models import Petition

    keys = ("inc_a", "inc_b", "inc_internal")
    rows = {
        row["pk"]: row
        for row in Incident.objects.filter(pk__in=[w.obj[k].pk for k in keys])
        .annotate(event_count=Count("events"))
        .values(
            "pk",
            "state",
            "assignee_id",
            "verifier_id",
            "rating",
            "reporter_id",
            "region_code",
            "grid_cell_id",
            "handling_department",
            "handling_region_id",
            "parked",
            "claimable",
            "event_count",
        )
    }
    state = {
        "incidents": [(rows.get(w.obj[k].pk), None) for k in keys],
        "cases": list(
            MediationCase.objects.order_by("pk").values(
                "pk", "state", "mediator_id", "room_id", "applicant_user_id", "region_code"
            )
        ),
        "sessions": list(MediationSession.objects.order_by("pk").values("pk", "state", "minutes")),
        "petitions": list(
            Petition.objects.order_by("pk").values(
                "pk", "state", "owner_id", "region_code", "handling_region_code", "satisfaction"
            )
        ),
        "room": list(
            MediationRoom.objects.order_by("pk").values(
                "pk", "name", "active", "sort_order", "region_code"
            )
        ),
        "room_mediators": sorted(
            w.obj["room_a"].memberships.filter(active=True).values_list("user_id", flat=True)
        ),
        "notes": list(
            Notification.objects.filter(pk__in=[w.obj["note_r1"].pk, w.obj["note_r2"].pk]).values(
                "pk", "read_at"
            )
        ),
        "patrols": [
            (p.pk, p.ended_at, len(p.track), p.notes)
            for p in type(w.obj["patrol_a"])
            .objects.filter(pk__in=[w.obj["patrol_a"].pk, w.obj["patrol_b"].pk])
            .order_by("pk")
        ],
        "extensions": {
            module.__name__: module.snapshot(w) for module in MODULES if hasattr(module, "snapshot")
        },
    }
    return state


def changed_objects(w, before: dict, after: dict) -> set[str]:
    """Which objects (keys of SEES) differ between two snapshots."""
    keys: set[str] = set()
    for key, old, new in zip(
        ("inc_a", "inc_b", "inc_internal"), before["incidents"], after["incidents"], strict=True
    ):
        if old != new:
            keys.add(key)
    for kind, names in (("cases", CASES), ("petitions", PETITIONS)):
        old = {row["pk"]: row for row in before[kind]}
        new = {row["pk"]: row for row in after[kind]}
        for name in names:
            pk = w.obj[name].pk
            if old.get(pk) != new.get(pk):
                keys.add(name)
    old_s = {row["pk"]: row for row in before["sessions"]}
    new_s = {row["pk"]: row for row in after["sessions"]}
    for name in ("session_a", "session_b"):
        pk = w.obj[name].pk
        if old_s.get(pk) != new_s.get(pk):
            keys.add(name)
    if before["room"] != after["room"] or before["room_mediators"] != after["room_mediators"]:
        keys.add("room_a")
    old_n = {row["pk"]: row for row in before["notes"]}
    for row in after["notes"]:
        if old_n[row["pk"]] != row:
            keys.add("note_r1" if row["pk"] == w.obj["note_r1"].pk else "note_r2")
    for old, new in zip(before["patrols"], after["patrols"], strict=True):
        if old != new:
            keys.add("patrol_a" if old[0] == w.obj["patrol_a"].pk else "patrol_b")
    for module in MODULES:
        if hasattr(module, "changed"):
            name = module.__name__
            keys |= module.changed(w, before["extensions"][name], after["extensions"][name])
    return keys


def _matches(status: int, response, expected: Any) -> bool:
    if expected == "login":
        return status == 302 and response["Location"].startswith("/accounts/login/")
    if isinstance(expected, tuple):
        return status in expected
    return status == expected


def _body_text(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    if response.get("Content-Type", "").startswith("application/vnd.openxmlformats"):
        import zipfile

        with zipfile.ZipFile(io.BytesIO(content)) as book:
            return "".join(book.read(name).decode("utf-8", "replace") for name in book.namelist())
    return content.decode("utf-8", "replace")


def _leaks(w, role: str, spec: Route, text: str) -> list[str]:
    families = list(ROW_FAMILIES) + EXTRA_FAMILIES + (list(GEO_FAMILIES) if spec.geo else [])
    if spec.public_incidents:
        families = [f for f in families if not f.startswith("inc_") or f == "inc_internal"]
    found = []
    for family in families:
        if role in SEES[family]:
            continue
        for marker in w.markers[family]:
            if marker and marker in text:
                found.append(f"{family}:{marker}")
    return found


def _send(client: Client, method: str, url: str, spec: Route, data: dict | None, api: bool):
    if method == "get":
        return client.get(url, data or {})
    if method in ("put", "patch", "delete"):
        return getattr(client, method)(url, json.dumps(data or {}), content_type="application/json")
    if spec.multipart:
        payload = dict(data or {})
        if "photos" not in payload and "file" not in payload:
            payload["photos"] = [SimpleUploadedFile("p.jpg", _jpeg(), content_type="image/jpeg")]
        return client.post(url, payload)
    if api:
        return client.post(url, json.dumps(data or {}), content_type="application/json")
    return client.post(url, data or {})


def check_route(w, name: str, spec: Route) -> list[str]:
    problems: list[str] = []
    is_api = not (":" in name or name in ("home", "healthz", "set_language"))
    for target in spec.targets or (None,):
        kwargs = spec.kwargs(w, target) if spec.kwargs else {}
        url = reverse(name.split(" ")[0], kwargs=kwargs)
        for method in ("get", "post", "put", "patch", "delete"):
            rule = getattr(spec, method)
            if rule is None:
                continue
            for role in spec.roles:
                expected = rule(role, target)
                if expected is None:
                    continue
                if method == "get" and expected == 405 and target != (spec.targets or (None,))[0]:
                    continue  # "method not allowed" does not depend on the object
                client = w.clients[role]
                data = None
                if method == "get" and spec.query:
                    data = spec.query(w, target)
                elif method != "get" and spec.body:
                    data = spec.body(w, target)
                    if spec.located:  # a report inside the caller's own cells when they have any
                        data = {
                            **data,
                            "lat": 24.505,
                            "lng": 117.645 if role == "worker_b" else 117.605,
                        }
                with transaction.atomic():
                    # Every request is rolled back: the state before each is the baseline.
                    before = w.baseline if method != "get" else None
                    response = _send(client, method, url, spec, data, is_api)
                    status = response.status_code
                    text = _body_text(response) if status == 200 else ""
                    after = snapshot(w, target) if method != "get" else None
                    created = (
                        spec.created(w, role, response) if spec.created and method == "post" else []
                    )
                    transaction.set_rollback(True)
                STATS["checks"] += 1
                where = f"{method.upper()} {url} as {role}"
                if not _matches(status, response, expected):
                    detail = ""
                    if status == 400:
                        detail = " " + response.content[:300].decode("utf-8", "replace")
                    problems.append(f"{where}: {status}, expected {expected}{detail}")
                for family in spec.shows.get((role, target), ()) if status == 200 else ():
                    if not any(marker in text for marker in w.markers[family]):
                        problems.append(f"{where}: {family} missing from the answer")
                leaks = _leaks(w, role, spec, text) if text else []
                if leaks:
                    STATS["leaks"] += 1
                    problems.append(f"{where}: LEAK of {leaks}")
                if before is not None:
                    for key in changed_objects(w, before, after):
                        owners = WRITERS.get(key, NOBODY) | spec.writers.get(key, NOBODY)
                        if role not in owners:
                            problems.append(f"{where}: changed {key} it does not own")
                    problems.extend(f"{where}: {p}" for p in _owned_fields(w, before, after))
                problems.extend(f"{where}: {p}" for p in created)
    return problems


def _owned_fields(w, before: dict, after: dict) -> list[str]:
    """Whatever the move: the reporter, the place and the rating of an incident never change by
    a request naming them (the generic payload names them all; only `rate` may set a rating),
    and nothing is closed by a request that merely says state=closed."""
    problems = []
    for key, (old, _), (new, _) in zip(
        ("inc_a", "inc_b", "inc_internal"), before["incidents"], after["incidents"], strict=True
    ):
        for name in ("reporter_id", "region_code", "grid_cell_id"):
            if old[name] != new[name]:
                problems.append(f"{key}.{name} changed {old[name]} → {new[name]}")
        if new["state"] == "closed" and old["state"] != "closed":
            problems.append(f"{key} closed")
    old_p = {row["pk"]: row for row in before["petitions"]}
    for row in after["petitions"]:
        previous = old_p.get(row["pk"])
        if previous and (
            previous["owner_id"] != row["owner_id"] or previous["region_code"] != row["region_code"]
        ):
            problems.append(f"petition {row['pk']} owner/region changed")
    old_c = {row["pk"]: row for row in before["cases"]}
    for row in after["cases"]:
        previous = old_c.get(row["pk"])
        if previous and (
            previous["applicant_user_id"] != row["applicant_user_id"]
            or previous["room_id"] != row["room_id"]
        ):
            problems.append(f"case {row['pk']} applicant/room changed")
    return problems


# --- the tests ----------------------------------------------------------------------------------


ACTIVE_ROUTES = sorted(n for n, spec in ROUTES.items() if not spec.optional)


@pytest.mark.parametrize("name", ACTIVE_ROUTES)
def test_route(world, name):
    problems = check_route(world, name, ROUTES[name])
    assert not problems, "\n".join(problems)


# An object out of scope must look exactly like one that does not exist (no existence oracle):
# (route, object, a role that may not see it, method).
ORACLE_CASES = [
    ("incidents:detail", "inc_a", "dispatcher_b", "get"),
    ("api-incident-detail", "inc_a", "dispatcher_b", "get"),
    ("api-incident-resolve", "inc_b", "worker_a", "post"),
    ("incidents:resolve", "inc_b", "worker_a", "post"),
    ("incidents:photo", "photo_b", "resident1", "get"),
    ("api-patrol-detail", "patrol_b", "dispatcher_a", "get"),
    ("mediation:case_detail", "case_b", "mediator", "get"),
    ("mediation-case", "case_b", "mediator", "get"),
    ("mediation-decline", "case_b", "mediator", "post"),
    ("petitions:detail", "pet_b", "officer", "get"),
    ("api-petition-detail", "pet_b", "officer", "get"),
    ("api-petition-accept", "pet_b", "officer", "post"),
    ("governance-api-export", "export_b", "supervisor", "get"),
    ("governance:export_download", "export_b", "supervisor", "get"),
]
MISSING_PK = 987654


@pytest.mark.parametrize(("name", "target", "role", "method"), ORACLE_CASES)
def test_hidden_and_missing_look_the_same(world, name, target, role, method):
    spec = ROUTES[name]
    kwargs = spec.kwargs(world, target)
    answers = []
    for value in (kwargs, {**kwargs, next(iter(kwargs)): MISSING_PK}):
        url = reverse(name, kwargs=value)
        data = spec.body(world, target) if method == "post" and spec.body else None
        with transaction.atomic():
            response = _send(world.clients[role], method, url, spec, data, ":" not in name)
            transaction.set_rollback(True)
        STATS["checks"] += 1
        answers.append((response.status_code, _body_text(response) if method else ""))
    (hidden_status, hidden_body), (missing_status, missing_body) = answers
    assert hidden_status == missing_status == 404
    if name.startswith(("api-", "mediation-", "governance-api")):
        assert json.loads(hidden_body) == json.loads(missing_body)


# Filters naming a region or cell outside the caller's scope: refused (404), or ignored with
# nothing of it shown (200 without its markers). dispatcher_a works street A; B is street B.
B_STREET, B_COMMUNITY, B_CELL = "350602002000", "350602002001", "350602002001001"
FOREIGN_PARAMETERS = [
    ("incidents:workload", {"region": B_STREET}, 404),
    ("api-incident-workload", {"region": B_STREET}, 404),
    ("governance:dashboard", {"region": B_STREET}, 404),
    ("governance:big_screen", {"region": B_COMMUNITY}, 404),
    ("governance:street_dashboard", {"region": B_STREET}, 404),
    ("governance:incident_ledger", {"community": B_COMMUNITY}, 404),
    ("governance-api-kpis", {"region": B_STREET}, 404),
    ("governance-api-kpis", {"grid_cell": B_CELL}, 404),
    ("governance-api-kpi-trend", {"region": B_COMMUNITY}, 404),
    ("governance-api-kpi-heatmap", {"region": B_STREET}, 404),
    ("grids:map", {"region": B_STREET}, 200),
    ("grids_api_grid_cells", {"community": B_COMMUNITY}, 200),
    ("grids_api_regions", {"code_prefix": B_STREET}, 200),
    ("api-incidents", {"community": B_COMMUNITY}, 200),
    ("api-incident-queue", {"community": B_COMMUNITY}, (200, 400)),
    ("incidents:queue", {"community": B_COMMUNITY}, 200),
    ("mediation-cases", {"region": B_STREET}, 200),
    ("api-petitions", {"q": "MXPETB"}, 200),
]


@pytest.mark.parametrize(("name", "params", "expected"), FOREIGN_PARAMETERS)
def test_foreign_region_parameters(world, name, params, expected):
    response = world.clients["dispatcher_a"].get(reverse(name), params)
    STATS["checks"] += 1
    allowed = expected if isinstance(expected, tuple) else (expected,)
    assert response.status_code in allowed
    if response.status_code == 200:
        text = _body_text(response)
        leaks = _leaks(world, "dispatcher_a", Route(geo=True), text)
        STATS["leaks"] += bool(leaks)
        assert not leaks


ADMIN_EVERY_ROLE = ("admin:index", "admin:accounts_user_changelist", "admin:login")
ADMIN_SAMPLE_ROLES = ("anonymous", "resident1", "dispatcher_a", "admin")


def test_admin_family(world):
    """Every admin URL (one Django view guards them all: AdminSite.admin_view): anonymous, a
    resident, a dispatcher and the administrator on every one; every role on the index, the
    user list and the login page. Without staff status → the admin's login page; the
    administrator (staff, superuser) → a page, never an error."""
    problems = []
    routes = [(n, p) for n, p in resolver_routes() if n.split(":")[0] == ADMIN_NAMESPACE]
    for name, pattern in routes:
        path = "/" + re.sub(r"<[^>]+>", "0", pattern).lstrip("^").rstrip("$")
        for role in ROLES if name in ADMIN_EVERY_ROLE else ADMIN_SAMPLE_ROLES:
            response = world.clients[role].get(path)
            STATS["checks"] += 1
            status = response.status_code
            if role == "admin" or role in EXTRA_ADMIN_STAFF:
                ok = status in (200, 302, 403, 404, 405)
            elif name == "admin:login":
                ok = status in (200, 302)
            elif name in ("admin:logout",):
                ok = status in (302, 405)
            else:
                ok = status == 302 and "/admin/login/" in response["Location"]
            if not ok:
                problems.append(f"GET {path} ({name}) as {role}: {status}")
    assert not problems, "\n".join(problems)


def _write_figures() -> None:
    folder = os.environ.get("GRIDGOV_RELIABILITY_DIR")
    if not folder:
        return
    os.makedirs(folder, exist_ok=True)
    data = {
        "checks": STATS["checks"],
        "leaks": STATS["leaks"],
        "roles": ROLES,
        "routes": STATS["routes"] or len(resolver_routes()),
    }
    with open(os.path.join(folder, "access_matrix.json"), "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
        handle.write("\n")
