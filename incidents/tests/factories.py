"""Incidents in a given state, built directly (for tests of single moves)."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from django.utils import timezone

from incidents.models import Incident, IncidentState
from incidents.services import tracking_number_new

S = IncidentState
# Every factory incident's tracking access code (查询码) unless a test gives its own.
ACCESS_CODE = "K7M3Q9XP"


def make_incident(
    city,
    *,
    state: str = S.REPORTED,
    category: str = "0102",
    cell: str = "cell_a1_1",
    access_code: str = ACCESS_CODE,
    **fields,
) -> Incident:
    """An incident in `cell` of the test city, in `state`, with plausible handling fields and
    the access code `access_code` (hashed; also in `incident.access_code`)."""
    from incidents.tracking import access_code_hash

    grid_cell = getattr(city, cell)
    now = timezone.now()
    values = {
        "tracking_number": tracking_number_new(),
        "category": city.categories[category],
        "description": "test matter",
        "lat": 24.505,
        "lng": 117.605,
        "channel": "resident_web",
        "reporter": city.resident,
        "reporter_name": "resident",
        "state": state,
        "grid_cell": grid_cell,
        "region": grid_cell.community,
        "region_code": grid_cell.community.code,
        "handling_level": "grid",
        "handling_region": grid_cell.community,
        "due_at": now + timedelta(hours=2),
        "access_code_hash": access_code_hash(access_code),
    }
    if state != S.REPORTED:
        values["verifier"] = city.worker
    if state in (S.DISPATCHED, S.ACCEPTED, S.RESOLVED, S.CHECKED, S.FEEDBACK_SENT, S.RATED):
        values["assignee"] = city.worker
        values["dispatched_at"] = now
        values["resolve_due_at"] = now + timedelta(days=1)
    if state in (S.FEEDBACK_SENT, S.RATED, S.CLOSED, S.CHECKED, S.RESOLVED):
        values["result"] = "done"
    if state == S.RATED:
        values["rating"] = 4
    values.update(fields)
    incident = Incident.objects.create(**values)
    incident.access_code = access_code
    return incident


def build_city(region_tree: dict | None = None, categories: dict | None = None) -> SimpleNamespace:
    """tests.builders's small city, the categories, and the staff the loop needs: a grid worker
    per cell (A1-1, A1-2, B1-1), a dispatcher per street, a 城管执法 handler for the district, a
    city supervisor, two residents and an admin."""
    from incidents.loaders import load_categories
    from incidents.models import Category
    from tests.builders import make_grid_worker, make_region_tree, make_user

    t = region_tree or make_region_tree()
    if categories is None:
        load_categories()
        categories = {c.code: c for c in Category.objects.all()}
    return SimpleNamespace(
        **t,
        categories=categories,
        worker=make_grid_worker("worker_a1", cells=[t["cell_a1_1"]], phone="13700000001"),
        worker2=make_grid_worker("worker_a1_2", cells=[t["cell_a1_2"]], phone="13700000002"),
        worker_b=make_grid_worker("worker_b", cells=[t["cell_b1_1"]], phone="13700000003"),
        dispatcher=make_user(
            "dispatcher_a", roles=["dispatcher"], region=t["street_a"], phone="13700000004"
        ),
        dispatcher_b=make_user(
            "dispatcher_b", roles=["dispatcher"], region=t["street_b"], phone="13700000005"
        ),
        handler=make_user(
            "handler_cg",
            roles=["department_handler"],
            region=t["district"],
            department="城管执法",
            phone="13700000006",
        ),
        supervisor=make_user(
            "supervisor", roles=["supervisor"], region=t["city"], phone="13700000007"
        ),
        resident=make_user("resident", roles=["resident"], phone="13800000001"),
        resident2=make_user("resident2", roles=["resident"], phone="13800000002"),
        admin=make_user("admin", roles=["admin"], phone="13700000009"),
    )
