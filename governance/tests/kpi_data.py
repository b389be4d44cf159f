"""A hand-made data set for the KPI tests, with known answers (docs/supervision.md explains
the formulas). Incidents are written directly (state, dates, counters and the timeline events
the facts read), so every edge case is exact: deferred, urgent, rework, extension, escalation by
the deadline sweep, 随手办, invalid reports, an empty region.

Period: March 2026; "now": 2026-04-10 12:00 (Asia/Shanghai).
"""

from __future__ import annotations

import itertools
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from incidents.models import Action, Category, Incident, IncidentEvent
from tests.builders import make_grid_worker, make_user

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=TZ)
PERIOD = {"start": "2026-03-01", "end": "2026-03-31"}
_numbers = itertools.count(1)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def make_categories() -> SimpleNamespace:
    large = Category.objects.create(code="91", name="测试大类", name_en="Test class")
    ordinary = Category.objects.create(
        code="9101", parent=large, name="测试小类", handled_at="grid", resolve_within="2wd"
    )
    urgent = Category.objects.create(
        code="9102", parent=large, name="紧急小类", handled_at="street", urgent=True
    )
    other_large = Category.objects.create(code="92", name="其他大类")
    other = Category.objects.create(code="9201", parent=other_large, name="其他小类")
    return SimpleNamespace(
        large=large, ordinary=ordinary, urgent=urgent, other_large=other_large, other=other
    )


def make_incident(
    *,
    category: Category,
    cell,
    reported: datetime,
    state: str,
    urgent: bool | None = None,
    level: str = "",
    handling_region=None,
    department: str = "",
    assignee=None,
    reporter_phone: str = "13900000000",
    dispatch_due: datetime | None = None,
    dispatched: datetime | None = None,
    resolve_due: datetime | None = None,
    resolved: datetime | None = None,
    closed: datetime | None = None,
    due: datetime | None = None,
    rework: int = 0,
    extension: int = 0,
    escalation: int = 0,
    parked: bool = False,
    rating: int | None = None,
    events: list[tuple] = (),
    description: str = "测试事件",
) -> Incident:
    """`events`: (action, at, from_state, actor, data). The report event is added."""
    number = next(_numbers)
    incident = Incident.objects.create(
        tracking_number=f"GT{number:08d}",
        category=category,
        description=description,
        address=f"测试路{number}号",
        grid_cell=cell,
        region=cell.community if cell else None,
        region_code=cell.community.code if cell else "",
        reporter_name="张三",
        reporter_phone=reporter_phone,
        channel="resident_web",
        state=state,
        urgent=category.urgent if urgent is None else urgent,
        handling_level=level,
        handling_region=handling_region,
        handling_department=department,
        assignee=assignee,
        dispatch_due_at=dispatch_due,
        dispatched_at=dispatched,
        resolve_due_at=resolve_due,
        resolved_at=resolved,
        closed_at=closed,
        due_at=due,
        rework_count=rework,
        extension_count=extension,
        escalation_level=escalation,
        parked=parked,
        rating=rating,
    )
    Incident.objects.filter(pk=incident.pk).update(created_at=reported, updated_at=reported)
    rows = [(Action.REPORT, reported, "", None, {}), *events]
    for action, moment, from_state, actor, data in rows:
        event = IncidentEvent.objects.create(
            incident=incident,
            action=action,
            from_state=from_state,
            to_state=state,
            actor=actor,
            data=data or {},
        )
        IncidentEvent.objects.filter(pk=event.pk).update(created_at=moment)
    incident.refresh_from_db()
    return incident


def dispatch_event(moment: datetime, actor=None) -> tuple:
    return (Action.DISPATCH, moment, "verified", actor, {})


def build_city(tree: dict) -> SimpleNamespace:
    """The data set on tests.builders.make_region_tree(). Expected answers: the tests."""
    t = tree
    c = make_categories()
    w1 = make_grid_worker("kpi_worker1", cells=[t["cell_a1_1"]], phone="13700000101")
    w2 = make_grid_worker("kpi_worker2", cells=[t["cell_a2_1"]], phone="13700000102")
    dispatcher = make_user(
        "kpi_dispatcher", roles=["dispatcher"], region=t["street_a"], phone="13700000103"
    )
    a1, a2, b1 = t["cell_a1_1"], t["cell_a2_1"], t["cell_b1_1"]
    a1_2 = t["cell_a1_2"]
    i = {}
    # I1: on-time dispatch, resolved in time, closed in grid, rated 5.
    i[1] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 2), state="closed", level="grid",
        handling_region=t["a1"], assignee=w1, dispatch_due=at(3, 2, 10, 30),
        dispatched=at(3, 2, 10, 20), resolve_due=at(3, 5), resolved=at(3, 4), closed=at(3, 6),
        rating=5, events=[dispatch_event(at(3, 2, 10, 20), dispatcher)],
    )  # fmt: skip
    # I2: late dispatch, reworked (the rework re-dispatched it on 3-07), resolved late, rated 3.
    i[2] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 3), state="closed", level="community",
        handling_region=t["a1"], assignee=w1, dispatch_due=at(3, 3, 10, 30),
        dispatched=at(3, 7), resolve_due=at(3, 6), resolved=at(3, 8), closed=at(3, 9),
        rework=1, rating=3,
        events=[
            dispatch_event(at(3, 3, 11, 0), dispatcher),
            (Action.REWORK, at(3, 7), "resolved", w1, {"rework": True}),
        ],
    )  # fmt: skip
    # I3: urgent, in community a2, closed on time, rated 4.
    i[3] = make_incident(
        category=c.urgent, cell=a2, reported=at(3, 10), state="closed", level="street",
        handling_region=t["street_a"], assignee=w2, dispatch_due=at(3, 10, 10, 10),
        dispatched=at(3, 10, 10, 5), resolve_due=at(3, 10, 14), resolved=at(3, 10, 12, 55),
        closed=at(3, 11), rating=4, events=[dispatch_event(at(3, 10, 10, 5))],
    )  # fmt: skip
    # I4: urgent, in a2, open past its resolve deadline (overdue, due to close).
    i[4] = make_incident(
        category=c.urgent, cell=a2, reported=at(3, 12), state="accepted", level="street",
        handling_region=t["street_a"], assignee=w2, dispatch_due=at(3, 12, 10, 10),
        dispatched=at(3, 12, 10, 5), resolve_due=at(3, 12, 14), due=at(3, 12, 14),
        events=[dispatch_event(at(3, 12, 10, 5))],
    )  # fmt: skip
    # I5: parked (deferred) after an approved extension; overdue (parked ones are listed).
    i[5] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 15), state="accepted", level="grid",
        handling_region=t["a1"], assignee=w1, dispatch_due=at(3, 15, 10, 30),
        dispatched=at(3, 15, 10, 10), resolve_due=at(3, 20), due=at(3, 20), extension=1,
        parked=True, events=[dispatch_event(at(3, 15, 10, 10))],
    )  # fmt: skip
    # I6: dispatched on time, due after the period: neither due nor overdue.
    i[6] = make_incident(
        category=c.other, cell=a1_2, reported=at(3, 20), state="dispatched", level="department",
        department="城管执法", dispatch_due=at(3, 20, 10, 30), dispatched=at(3, 20, 10, 10),
        resolve_due=at(4, 20), due=at(4, 20), events=[dispatch_event(at(3, 20, 10, 10))],
    )  # fmt: skip
    # I7: still verifying, escalated by the sweep, overdue.
    i[7] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 25), state="verifying", level="community",
        due=at(3, 25, 11), escalation=1,
        events=[(Action.ESCALATE, at(3, 25, 11, 30), "verifying", None, {})],
    )  # fmt: skip
    # I8: reported and dispatched in February, resolved late, closed in March in the grid.
    i[8] = make_incident(
        category=c.ordinary, cell=a1, reported=at(2, 20), state="closed", level="grid",
        handling_region=t["a1"], assignee=w1, dispatch_due=at(2, 20, 10, 30),
        dispatched=at(2, 20, 10, 20), resolve_due=at(2, 25), resolved=at(3, 2), closed=at(3, 3),
        events=[dispatch_event(at(2, 20, 10, 20))],
    )  # fmt: skip
    # I9: 随手办 (fixed on the spot): dispatched and resolved at once, closed the same day.
    i[9] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 28), state="closed", level="grid",
        handling_region=t["a1"], assignee=w1, dispatched=at(3, 28), resolved=at(3, 28),
        closed=at(3, 28, 12), events=[(Action.FIX_ON_SPOT, at(3, 28), "reported", w1, {})],
    )  # fmt: skip
    # I10: an invalid report (cancelled): reported, never closed as a case.
    i[10] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 5), state="invalid", closed=at(3, 5, 12),
    )  # fmt: skip
    # I11: escalated by the sweep while being handled; resolved by the new deadline: late.
    i[11] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 6), state="closed", level="street",
        handling_region=t["street_a"], dispatch_due=at(3, 6, 10, 30), dispatched=at(3, 8),
        resolve_due=at(3, 12), resolved=at(3, 11), closed=at(3, 12), escalation=1,
        events=[
            dispatch_event(at(3, 6, 10, 20)),
            (Action.ESCALATE, at(3, 8), "dispatched", None, {}),
        ],
    )  # fmt: skip
    # I12: street B, closed on time in the grid, rated 5.
    i[12] = make_incident(
        category=c.ordinary, cell=b1, reported=at(3, 4), state="closed", level="grid",
        handling_region=t["b1"], dispatch_due=at(3, 4, 10, 30), dispatched=at(3, 4, 10, 10),
        resolve_due=at(3, 6), resolved=at(3, 5), closed=at(3, 7), rating=5,
        events=[dispatch_event(at(3, 4, 10, 10))],
    )  # fmt: skip
    # I13: reported in April (outside the period), overdue now: "overdue now" ignores the period.
    i[13] = make_incident(
        category=c.ordinary, cell=a1, reported=at(4, 2), state="dispatched", level="grid",
        handling_region=t["a1"], dispatch_due=at(4, 2, 10, 30), dispatched=at(4, 2, 10, 10),
        resolve_due=at(4, 5), due=at(4, 5), events=[dispatch_event(at(4, 2, 10, 10))],
    )  # fmt: skip
    # I14: the sweep escalated it for a missed dispatch deadline; the dispatch that followed
    # met the new deadline but is late all the same.
    i[14] = make_incident(
        category=c.ordinary, cell=a1, reported=at(3, 26), state="dispatched", level="street",
        handling_region=t["street_a"], dispatch_due=at(3, 26, 11, 30),
        dispatched=at(3, 26, 11, 20), resolve_due=at(4, 20), due=at(4, 20), escalation=1,
        events=[
            (Action.ESCALATE, at(3, 26, 11), "verified", None, {}),
            dispatch_event(at(3, 26, 11, 20)),
        ],
    )  # fmt: skip
    return SimpleNamespace(tree=t, categories=c, incidents=i, w1=w1, w2=w2, dispatcher=dispatcher)
