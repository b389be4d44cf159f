"""Reads the incident pages need beyond incidents.selectors (reads only, scoped to the user).

The engine's selectors (incidents.selectors) stay the source of every list and of visibility;
this module adds the small lookups that only the pages use: people to pick in an assignment
form, the reporter's own list, the map outlines of the report form, the deadlines of one
incident and whether the mediation referral link applies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import RoleCode, User
from accounts.selectors import regions_visible, user_scope
from core.process_cache import ProcessCopy
from grids.models import GridCell, Region
from incidents import detail_links, policies
from incidents.caches import PICKERS_TOKEN
from incidents.caches import clear_pickers as clear_pickers  # re-exported (the old home)
from incidents.caches import pickers_changed as pickers_changed  # re-exported (the old home)
from incidents.models import ACTIONS, Action, Category, Incident, IncidentState
from incidents.selectors import is_staff_viewer

logger = logging.getLogger(__name__)
S = IncidentState
STAFF_TARGET_ROLES = (RoleCode.GRID_WORKER, RoleCode.DISPATCHER, RoleCode.DEPARTMENT_HANDLER)
MAX_CHOICES = 500
MAX_MAP_CELLS = 3000
# The deadline that runs in each state (the others are history).
CURRENT_DEADLINE: dict[str, str] = {
    S.VERIFYING: "verify_due_at",
    S.VERIFIED: "dispatch_due_at",
    S.REOPENED: "dispatch_due_at",
    S.DISPATCHED: "resolve_due_at",
    S.ACCEPTED: "resolve_due_at",
    S.RESOLVED: "check_due_at",
    S.FEEDBACK_SENT: "rate_due_at",
}
DEADLINE_FIELDS = [
    "verify_due_at",
    "dispatch_due_at",
    "resolve_due_at",
    "check_due_at",
    "rate_due_at",
]


def staff_choices(user: User) -> QuerySet[User]:
    """Active grid workers, dispatchers and department handlers `user` may send work to: staff
    scoped inside the user's region, and department handlers whose region covers it (a
    district's city-management handler works for every street of the district)."""
    scope = user_scope(user)
    qs = (
        User.objects.filter(is_active=True, roles__code__in=STAFF_TARGET_ROLES)
        .select_related("scope_region")
        .distinct()
        .order_by("scope_region__code", "display_name", "username")
    )
    if scope.everything:
        return qs[:MAX_CHOICES]
    if scope.prefix is None or user.scope_region_id is None:
        return qs.none()
    # The whole chain of parents in one query (a community has at most four levels above).
    own = Region.objects.select_related("parent__parent__parent__parent").get(
        pk=user.scope_region_id
    )
    above = [region.code for region in own.ancestors()]
    return qs.filter(
        Q(scope_region__code__startswith=scope.prefix)
        | Q(roles__code=RoleCode.DEPARTMENT_HANDLER, scope_region__code__in=above)
    )[:MAX_CHOICES]


def staff_label(person: User) -> str:
    """ "王五 · 城管执法 · 芗城区" — who the person is, for a select option."""
    parts = [str(person)]
    if person.department:
        parts.append(person.department)
    if person.scope_region_id and person.scope_region is not None:
        parts.append(person.scope_region.name)
    return " · ".join(parts)


def department_choices() -> list[str]:
    """The departments named by categories or by department handlers."""
    names = set(Category.objects.exclude(department="").values_list("department", flat=True))
    names |= set(
        User.objects.filter(is_active=True, roles__code=RoleCode.DEPARTMENT_HANDLER)
        .exclude(department="")
        .values_list("department", flat=True)
    )
    return sorted(names)


def report_categories(user: User | None) -> QuerySet[Category]:
    """The categories a report form offers: active subclasses; internal-only ones (crime leads,
    special groups) only to staff."""
    from incidents.selectors import categories_active, is_staff_viewer

    qs = categories_active().order_by("parent__code", "code")
    if not is_staff_viewer(user):
        qs = qs.filter(internal_only=False)
    return qs


def my_reports(user: User) -> QuerySet[Incident]:
    """What the user reported, newest first."""
    if user is None or not user.is_authenticated:
        return Incident.objects.none()
    return (
        Incident.objects.filter(reporter=user)
        .select_related("category", "grid_cell")
        .order_by("-created_at", "-id")
    )


def map_cells() -> dict:
    """Outlines of the active grid cells (name and code only) for the report form's map: a
    reporter places the pin by them when no tiles are configured. Public information."""
    cells = GridCell.objects.filter(active=True).only("code", "name", "geometry")[:MAX_MAP_CELLS]
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": cell.geometry,
                "properties": {"code": cell.code, "name": cell.name},
            }
            for cell in cells
        ],
    }


@dataclass
class Deadline:
    field: str
    at: datetime
    current: bool
    overdue: bool


def deadlines(incident: Incident, *, now: datetime | None = None) -> list[Deadline]:
    """The incident's deadlines; the current stage's is flagged, and overdue when it passed
    (the rating window of feedback_sent is never "overdue": it simply closes)."""
    now = now or timezone.now()
    current = CURRENT_DEADLINE.get(incident.state) if incident.is_open else None
    result = []
    for name in DEADLINE_FIELDS:
        at = getattr(incident, name)
        if at is None:
            continue
        is_current = name == current and not incident.parked
        result.append(
            Deadline(
                field=name,
                at=at,
                current=is_current,
                overdue=is_current and name != "rate_due_at" and at < now,
            )
        )
    return result


def is_overdue(incident: Incident, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    field = CURRENT_DEADLINE.get(incident.state)
    return bool(
        field
        and field != "rate_due_at"
        and incident.due_at is not None
        and incident.due_at < now
        and not incident.parked
    )


def can_refer_to_mediation(user: User, incident: Incident) -> bool:
    """The mediation app's referral page applies: a dispute, in a state that may wait for a
    case, and the user works the incident or its region."""
    return bool(
        user.is_authenticated
        and incident.category.is_dispute
        and incident.state in ACTIONS[Action.REFER_TO_MEDIATION]
        and policies.allowed(Action.REFER_TO_MEDIATION, user, incident)
    )


def linked_matters(user: User, incident: Incident) -> dict:
    """The mediation case and petitions linked to the incident that `user` may see, for the
    detail page: what the higher apps registered in `incidents.detail_links` return."""
    return detail_links.linked_matters(user, incident)


WORKLOAD_LEVELS: list[str] = [Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY]


def workload_regions(user: User) -> QuerySet[Region]:
    """Regions whose workload the user may look at (district, street or community)."""
    return regions_visible(user).filter(level__in=WORKLOAD_LEVELS)


def workload_region(user: User, code: str = "") -> Region | None:
    """The region asked for (if visible), else the user's own region, else the first visible
    one (admins). A street or district dispatcher's own region costs no query and no
    queryset (the queue page asks on every load)."""
    if code:
        return workload_regions(user).filter(code=code).first()
    if user.scope_region_id is not None:
        scope = user_scope(user)  # loads user.scope_region once per request (no query here)
        if scope.prefix and not scope.everything:
            # Staff: the scope region is visible by definition; a city-wide one (a city
            # supervisor) is no workload region, so no query would find it either.
            own = user.scope_region
            if own is not None and own.level in WORKLOAD_LEVELS:
                return own
        else:
            own = workload_regions(user).filter(pk=user.scope_region_id).first()
            if own is not None:
                return own
    return workload_regions(user).order_by("code").first()


# --- the queue's pickers, kept per process ----------------------------------------------------
# The queue page offers grid cells, communities and the people to assign to: lists that change
# a few times a month, read on every load. Each process keeps them per user (a ProcessCopy
# under incidents.caches.PICKERS_TOKEN: a grid cell, a region, a user or a user's roles saved
# publishes a new token; incidents.apps). If the cache is down, the database is read.
PICKERS_PER_PROCESS = 256  # entries (user × list); sizes: docs/performance.md, "Incidents web"


def _no_default_build(key: Any) -> list:
    raise TypeError("the pickers' copy is always read with its own build")


PICKERS: ProcessCopy[list] = ProcessCopy(
    "incidents.pickers",
    _no_default_build,
    token=PICKERS_TOKEN,
    per_key=True,
    max_entries=PICKERS_PER_PROCESS,
)


def cached_per_user(user: User, name: str, build: Callable[[], list]) -> list:
    """build() for `user`, kept in this process until a grid cell, a region or a user changes
    (the pickers' token above); other apps' pickers of regions use it too."""
    return _cached_for(user, name, build)


def _cached_for(user: User, name: str, build: Callable[[], list]) -> list:
    value = PICKERS.get((user.pk, name), build=build)
    assert value is not None  # offline="build": never None  # nosec B101
    return value


def staff_options(user: User) -> list[tuple[str, str]]:
    """(id, label) of staff_choices(user), kept per process (see above)."""
    return _cached_for(
        user,
        "staff",
        lambda: [(str(person.pk), staff_label(person)) for person in staff_choices(user)],
    )


def cell_options(user: User) -> list[tuple[str, str]]:
    """(code, name) of the grid cells the user may see (the queue's filter), by code."""
    from grids.selectors import grid_cells_visible

    def build() -> list[tuple[str, str]]:
        cells = grid_cells_visible(user=user).select_related(None).order_by("code")
        return list(cells.values_list("code", "name")[:MAX_CHOICES])

    return _cached_for(user, "cells", build)


def community_options(user: User) -> list[tuple[str, str]]:
    """(code, name) of the regions whose workload the user may see (the queue's filter)."""

    def build() -> list[tuple[str, str]]:
        regions = workload_regions(user).order_by("code")
        return list(regions.values_list("code", "name")[:MAX_CHOICES])

    return _cached_for(user, "communities", build)


def category_options(user: User) -> list[Category]:
    """report_categories(user) from the per-process copy of the categories
    (incidents.category_cache): active subclasses by large class and code."""
    from incidents.category_cache import active_subcategories

    categories = sorted(
        active_subcategories().values(), key=lambda c: (c.parent.code if c.parent else "", c.code)
    )
    if not is_staff_viewer(user):
        categories = [c for c in categories if not c.internal_only]
    return categories
