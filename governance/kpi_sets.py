"""The KPI sets as pure data: which date anchors each simple set, the condition it adds, and
how the composite sets add up. Read by the KPIs (governance.kpis) and by the daily counts
(governance.aggregates), which import nothing else of each other."""

from __future__ import annotations

from typing import Any

from incidents.models import HandlingLevel

LIVE_SETS = {"overdue_now"}


# The date each simple set is counted by (IncidentFact fields).
ANCHORS = {
    "reported": "reported_at",
    "dispatched": "first_dispatched_at",
    "closed": "closed_at",
}
# Simple sets: one anchor date in the period plus a condition. They add up per day, so
# governance.aggregates also keeps them per day and community (IncidentDailyCount).
ANCHORED_SETS: dict[str, tuple[str, dict[str, Any]]] = {
    "reported": ("reported", {}),
    "escalated": ("reported", {"escalated": True}),
    "dispatched": ("dispatched", {}),
    "dispatched_on_time": ("dispatched", {"dispatched_on_time": True}),
    "extended": ("dispatched", {"extended": True}),
    "closed": ("closed", {}),
    "closed_on_time": ("closed", {"closed_on_time": True}),
    "urgent_closed": ("closed", {"urgent": True}),
    "urgent_closed_on_time": ("closed", {"urgent": True, "closed_on_time": True}),
    "reworked": ("closed", {"reworked": True}),
    "closed_in_grid": ("closed", {"handling_level": HandlingLevel.GRID}),
    "handled": ("closed", {"handling_seconds__isnull": False}),
    "rated": ("closed", {"rating__isnull": False}),
    "satisfied": ("closed", {"rating__gte": 4}),
}
# Open work whose resolve deadline fell in the period (up to now): never kept per day (it moves
# with every state change), always counted on the facts.
OPEN_DUE_PIECES: dict[str, dict[str, Any]] = {
    "open_due": {},
    "open_due_parked": {"parked": True},
    "open_due_urgent": {"urgent": True},
}
# Composite sets as sums of disjoint pieces (a closed incident is never open).
COMPOSITE_SETS: dict[str, list[tuple[int, str]]] = {
    "due_to_close": [(1, "closed"), (1, "open_due")],
    "deferred": [(1, "open_due_parked")],
    "due_net": [(1, "closed"), (1, "open_due"), (-1, "open_due_parked")],
    "urgent_due": [(1, "urgent_closed"), (1, "open_due_urgent")],
}
