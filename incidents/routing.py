"""Who does what next: the verifier, the handling unit or person, the checker, escalation.

Pure reads (no writes): incidents.services calls these inside its transaction and applies the
answer. Rules (docs/incidents.md):
- verifier: the on-duty grid worker of the cell with the fewest open tasks, else a dispatcher
  of the community (or the nearest region above it that has one);
- handling: the category's level (grid, community, street, district, department) and
  department; the region at that level above the incident's community. A clear assignee (the
  only candidate, or the single least-loaded one) gets it in person; grid-level work in a cell
  with several on-duty workers is posted to the claim pool; otherwise the unit gets it;
- escalation: one level up (grid → community → street → district; a department → the district).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import RoleCode, User
from core.prepared_query import PreparedQuery
from grids.models import GridWorker, Region
from incidents import directory
from incidents.models import ESCALATION_ORDER, HandlingLevel, Incident, IncidentState

LEVEL_RANK = {level: rank for rank, level in enumerate(ESCALATION_ORDER)}
# The region level that runs each handling level (grid work is the community's).
REGION_LEVEL_FOR: dict[str, str] = {
    HandlingLevel.GRID: Region.Level.COMMUNITY,
    HandlingLevel.COMMUNITY: Region.Level.COMMUNITY,
    HandlingLevel.STREET: Region.Level.STREET,
    HandlingLevel.DISTRICT: Region.Level.DISTRICT,
    HandlingLevel.DEPARTMENT: Region.Level.DISTRICT,
}


@dataclass(frozen=True)
class DispatchTarget:
    """Where an incident goes: a person, a unit (level + region [+ department]) or the pool."""

    kind: str  # "person" | "unit" | "pool"
    level: str
    region_id: int | None
    department: str = ""
    assignee_id: int | None = None

    @property
    def claimable(self) -> bool:
        return self.kind == "pool"


# --- workload ---------------------------------------------------------------------------------


# Open tasks of a user: assigned and not yet resolved, to verify, to check.
OPEN_TASK_FIELDS = (
    ("assignee", (IncidentState.DISPATCHED, IncidentState.ACCEPTED)),
    ("verifier", (IncidentState.VERIFYING,)),
    ("checker", (IncidentState.RESOLVED,)),
)


def open_tasks_expression(user_id: str = "pk"):
    """The number of open tasks of the user in hand (`user_id`: the outer row's column that
    holds the user's id), as a SQL expression (one correlated count per role: each uses the
    (field, state) indexes), to annotate candidates with."""
    total = None
    for field, states in OPEN_TASK_FIELDS:
        count = Coalesce(
            Subquery(
                Incident.objects.filter(**{field: OuterRef(user_id)}, state__in=states)
                .order_by()
                .values(field)
                .annotate(n=Count("pk"))
                .values("n")[:1],
                output_field=IntegerField(),
            ),
            0,
        )
        total = count if total is None else total + count
    return total


_OPEN_TASK_COUNTS = PreparedQuery(
    lambda ids: (
        User.objects.filter(pk__in=ids)
        .annotate(open_tasks=open_tasks_expression())
        .values_list("pk", "open_tasks")
        .order_by()
    )
)


def open_task_counts(user_ids: Iterable[int]) -> Counter:
    """Open tasks per user (assigned and not yet resolved, to verify, to check): one query."""
    ids = sorted(set(user_ids))
    counts: Counter = Counter()
    if not ids:
        return counts
    for user_id, n in _OPEN_TASK_COUNTS.rows(ids):
        if n:
            counts[user_id] = n
    return counts


def least_loaded(user_ids: Sequence[int]) -> int | None:
    """The user with the fewest open tasks (ties: the lowest id), or None."""
    if not user_ids:
        return None
    counts = open_task_counts(user_ids)
    return min(user_ids, key=lambda pk: (counts[pk], pk))


def clear_assignee(user_ids: Sequence[int]) -> int | None:
    """The only candidate, or the single least-loaded one; None when nobody stands out."""
    ids = sorted(set(user_ids))
    if len(ids) == 1:
        return ids[0]
    if not ids:
        return None
    counts = open_task_counts(ids)
    ranked = sorted(ids, key=lambda pk: counts[pk])
    if counts[ranked[0]] < counts[ranked[1]]:
        return ranked[0]
    return None


# --- people -----------------------------------------------------------------------------------


# The user id of a cell membership row (GridWorker.cells.through).
_MEMBER = "gridworker__user_id"


def _cell_members(cell_id: int, *, on_duty_only: bool = True) -> QuerySet:
    """The cell's memberships of active grid workers (their user ids: `_MEMBER`). Read from
    the cell's membership rows: on PostgreSQL joins run in the written order (settings.py),
    and from the users' side the query read all of the city's workers (docs/performance.md)."""
    qs = GridWorker.cells.through.objects.filter(
        gridcell_id=cell_id,
        gridworker__user__is_active=True,
        gridworker__user__roles__code=RoleCode.GRID_WORKER,
    )
    if on_duty_only:
        qs = qs.filter(gridworker__on_duty=True)
    return qs


_CELL_WORKERS = {
    on_duty: PreparedQuery(
        lambda cell_id, on_duty=on_duty: (
            _cell_members(cell_id, on_duty_only=on_duty).values_list(_MEMBER).order_by()
        )
    )
    for on_duty in (True, False)
}


def cell_worker_ids(cell_id: int | None, *, on_duty_only: bool = True) -> list[int]:
    if cell_id is None:
        return []
    return sorted({pk for (pk,) in _CELL_WORKERS[bool(on_duty_only)].rows(cell_id)})


_LEAST_LOADED_CELL_WORKER = PreparedQuery(
    lambda cell_id: (
        _cell_members(cell_id)
        .annotate(open_tasks=open_tasks_expression(_MEMBER))
        .order_by("open_tasks", _MEMBER)
        .values_list(_MEMBER)[:1]
    )
)


def least_loaded_cell_worker(cell_id: int | None) -> int | None:
    """The on-duty worker of the cell with the fewest open tasks (ties: the lowest id), or
    None: the candidates and their workload in one query."""
    if cell_id is None:
        return None
    rows = _LEAST_LOADED_CELL_WORKER.rows(cell_id)
    return rows[0][0] if rows else None


def _dispatchers_in(region_ids):
    return User.objects.filter(
        is_active=True, roles__code=RoleCode.DISPATCHER, scope_region_id__in=region_ids
    )


_DISPATCHERS_IN = PreparedQuery(
    lambda region_ids: _dispatchers_in(region_ids).values_list("pk", "scope_region_id").order_by()
)


def dispatcher_ids_at(region: Region | None) -> list[int]:
    """Active dispatchers scoped exactly to `region`."""
    if region is None:
        return []
    known = directory.current()
    if known is not None:
        return list(known.dispatchers_at.get(region.pk, ()))
    return sorted({pk for pk, _region in _DISPATCHERS_IN.rows([region.pk])})


# Parent links read in one query: a community's street, district, city and province.
_CHAIN = (
    "parent_id",
    "parent__parent_id",
    "parent__parent__parent_id",
    "parent__parent__parent__parent_id",
)


_REGION_CHAIN = PreparedQuery(
    lambda region_id: Region.objects.filter(pk=region_id).values_list(*_CHAIN).order_by()[:1]
)


def _region_chain_ids(region_id: int) -> list[int]:
    """The region's id and its ancestors' ids, nearest first, in one query (instead of one
    per level; a tree deeper than five levels takes one more per four levels); none with the
    process's directory."""
    known = directory.current()
    if known is not None:
        return known.chain(region_id)
    chain = [region_id]
    while True:
        rows = _REGION_CHAIN.rows(chain[-1])
        above = [pk for pk in (rows[0] if rows else ()) if pk is not None]
        chain.extend(above)
        if len(above) < len(_CHAIN):
            return chain


def nearest_dispatcher_ids(region: Region | int | None) -> list[int]:
    """Dispatchers of the region (a Region or its id), else of the nearest region above it that
    has any (two queries whatever the depth: the chain of parents, then the dispatchers along
    it), or none from the process's directory (incidents.directory)."""
    if region is None:
        return []
    region_id = region if isinstance(region, int) else region.pk
    known = directory.current()
    if known is not None:
        return known.nearest_dispatcher_ids(region_id)
    chain = _region_chain_ids(region_id)
    rows = _DISPATCHERS_IN.rows(chain)
    by_region: dict[int, set[int]] = {}
    for pk, region_id in rows:
        by_region.setdefault(region_id, set()).add(pk)
    for region_id in chain:
        if region_id in by_region:
            return sorted(by_region[region_id])
    return []


def department_handler_ids(department: str, region_code: str) -> list[int]:
    """Active handlers of `department` whose scope covers the region code."""
    if not department:
        return []
    known = directory.current()
    if known is not None:
        return known.department_handler_ids(department, region_code)
    rows = User.objects.filter(
        is_active=True,
        roles__code=RoleCode.DEPARTMENT_HANDLER,
        department=department,
        scope_region__isnull=False,
    ).values_list("pk", "scope_region__code", "scope_region__level")
    result = set()
    for pk, code, level in rows:
        prefix = code[: Region.PREFIX_LENGTH[level]]
        if region_code and region_code.startswith(prefix):
            result.add(pk)
    return sorted(result)


@directory.pinned()
def unit_member_ids(incident: Incident) -> list[int]:
    """Who may accept work sent to the incident's handling unit (no assignee yet)."""
    level = incident.handling_level
    if level == HandlingLevel.GRID:
        return cell_worker_ids(incident.grid_cell_id, on_duty_only=False)
    members = set(department_handler_ids(incident.handling_department, incident.region_code))
    if level != HandlingLevel.DEPARTMENT and incident.handling_region_id is not None:
        # By id: the region row itself (with its boundary) is not needed.
        members |= set(nearest_dispatcher_ids(incident.handling_region_id))
    return sorted(members)


def is_unit_member(user: User, incident: Incident) -> bool:
    level = incident.handling_level
    if level == HandlingLevel.GRID:
        return bool(
            incident.grid_cell_id
            and user.has_role(RoleCode.GRID_WORKER)
            and hasattr(user, "grid_worker")
            and user.grid_worker.cells.filter(pk=incident.grid_cell_id).exists()
        )
    if (
        incident.handling_department
        and user.has_role(RoleCode.DEPARTMENT_HANDLER)
        and user.department == incident.handling_department
        and user.scope_region_id
        and incident.region_code.startswith(user.scope_region.prefix)
    ):
        return True
    if level == HandlingLevel.DEPARTMENT:
        return False
    region = incident.handling_region
    return bool(
        region is not None
        and user.has_role(RoleCode.DISPATCHER)
        and user.scope_region_id
        and region.code.startswith(user.scope_region.prefix)
    )


def is_cell_worker(user: User | None, incident: Incident) -> bool:
    return bool(
        user is not None
        and incident.grid_cell_id
        and user.has_role(RoleCode.GRID_WORKER)
        and hasattr(user, "grid_worker")
        and user.grid_worker.cells.filter(pk=incident.grid_cell_id).exists()
    )


# --- choices ----------------------------------------------------------------------------------


def choose_verifier(incident: Incident) -> int | None:
    """The on-duty worker of the cell with the fewest open tasks (one query), else the least
    loaded dispatcher of the community or the nearest region above it."""
    worker = least_loaded_cell_worker(incident.grid_cell_id)
    if worker is not None:
        return worker
    return least_loaded(nearest_dispatcher_ids(incident.region))


def choose_checker(incident: Incident) -> int | None:
    """Whoever checks on site: the verifier if a worker of the cell, else a worker of the cell
    with the fewest tasks, else a dispatcher of the community (or above)."""
    workers = cell_worker_ids(incident.grid_cell_id)
    if incident.verifier_id in workers:
        return incident.verifier_id
    if workers:
        return least_loaded(workers)
    return least_loaded(nearest_dispatcher_ids(incident.region))


def region_at_level(community: Region | None, level: str) -> Region | None:
    """The region running `level` above (or at) the incident's community. A region above it
    comes from the process's directory (incidents.directory: its boundary deferred), else
    from the database."""
    wanted = REGION_LEVEL_FOR.get(level)
    if community is None or community.level == wanted:
        return community
    known = directory.current()
    if known is not None and known.knows_chain_from(community.parent_id):
        return known.region_at_level(community.parent_id, wanted)
    node = community
    while node is not None and node.level != wanted:
        node = node.parent
    return node


@directory.pinned()
def target_at(incident: Incident, *, level: str, department: str = "") -> DispatchTarget:
    """The best target at `level` (and department) for the incident: person, pool or unit."""
    region = region_at_level(incident.region, level)
    region_id = region.pk if region else None
    if level == HandlingLevel.GRID:
        workers = cell_worker_ids(incident.grid_cell_id)
        if len(workers) == 1:
            return DispatchTarget("person", level, region_id, assignee_id=workers[0])
        if len(workers) > 1:
            return DispatchTarget("pool", level, region_id)
        # Nobody on duty in the cell: the community takes it (属地兜底).
        return target_at(incident, level=HandlingLevel.COMMUNITY)
    if department:
        handlers = department_handler_ids(department, incident.region_code)
        if handlers:
            person = clear_assignee(handlers)
            if person is not None:
                return DispatchTarget("person", level, region_id, department, assignee_id=person)
            return DispatchTarget("unit", level, region_id, department)
        if level == HandlingLevel.DEPARTMENT:
            # The department has nobody here: the district government takes it.
            return target_at(incident, level=HandlingLevel.DISTRICT)
        department = ""  # the region's own staff handle it
    person = clear_assignee(dispatcher_ids_at(region))
    if person is not None:
        return DispatchTarget("person", level, region_id, department, assignee_id=person)
    return DispatchTarget("unit", level, region_id, department)


@directory.pinned()
def route(incident: Incident) -> DispatchTarget:
    """The routing rules for a verified (or reopened, or returned from mediation) incident."""
    if (
        incident.state in (IncidentState.REOPENED, IncidentState.MEDIATING)
        and incident.dispatched_at is not None
    ):
        previous = previous_handling(incident)
        if previous is not None:
            return previous
    category = incident.category
    level = category.handled_at or HandlingLevel.COMMUNITY
    department = category.department
    if level == HandlingLevel.DEPARTMENT:
        if incident.handling_level == HandlingLevel.DISTRICT:
            return target_at(incident, level=HandlingLevel.DISTRICT)
        return target_at(incident, level=level, department=department)
    current = incident.handling_level
    if incident.escalation_level and LEVEL_RANK.get(current, -1) > LEVEL_RANK[level]:
        # Escalated while waiting: the higher level keeps it (without the lower department).
        return target_at(incident, level=current)
    if level == HandlingLevel.GRID and not incident.grid_cell_id:
        level = HandlingLevel.COMMUNITY
    return target_at(incident, level=level, department=department)


def previous_handling(incident: Incident) -> DispatchTarget | None:
    """The unit (or person) that had the incident, to send it back after a reopen."""
    if not incident.handling_level:
        return None
    if incident.assignee_id and incident.assignee.is_active:
        return DispatchTarget(
            "person",
            incident.handling_level,
            incident.handling_region_id,
            incident.handling_department,
            assignee_id=incident.assignee_id,
        )
    return DispatchTarget(
        "unit", incident.handling_level, incident.handling_region_id, incident.handling_department
    )


def next_level(incident: Incident) -> str | None:
    """One level up from the incident's current responsible level; None at the top."""
    current = incident.handling_level or (
        HandlingLevel.GRID if incident.grid_cell_id else HandlingLevel.COMMUNITY
    )
    if current == HandlingLevel.DEPARTMENT:
        return HandlingLevel.DISTRICT
    rank = LEVEL_RANK.get(current)
    if rank is None or rank + 1 >= len(ESCALATION_ORDER):
        return None
    return ESCALATION_ORDER[rank + 1]


def can_escalate(incident: Incident) -> bool:
    return next_level(incident) is not None


def dispatcher_for(region: Region | None) -> int | None:
    """One dispatcher to carry a verification or a check that was escalated to `region`."""
    return least_loaded(nearest_dispatcher_ids(region))


@directory.pinned()
def responsible_user_ids(incident: Incident) -> list[int]:
    """Who should hear about the incident's current deadline."""
    state = incident.state
    if state in (IncidentState.REPORTED, IncidentState.VERIFYING) and incident.verifier_id:
        return [incident.verifier_id]
    if state == IncidentState.RESOLVED and incident.checker_id:
        return [incident.checker_id]
    if state in (IncidentState.DISPATCHED, IncidentState.ACCEPTED):
        if incident.assignee_id:
            return [incident.assignee_id]
        if incident.claimable:
            return cell_worker_ids(incident.grid_cell_id)
        members = unit_member_ids(incident)
        if members:
            return members
    return nearest_dispatcher_ids(incident.handling_region or incident.region)


def handlers_visible_q(user: User) -> Q:
    """Incidents sent to the user's department inside the user's region."""
    if not user.department or user.scope_region_id is None:
        return Q(pk__in=[])
    return Q(
        handling_department=user.department,
        region_code__startswith=user.scope_region.prefix,
    )
