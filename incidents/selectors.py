"""Every non-trivial read of incidents, already scoped to the user.

Visibility (incidents_visible): admins see all; dispatchers, supervisors, mediators and petition
officers their region (prefix of region_code); grid workers their cells and what they verify,
handle, check or reported; department handlers what was sent to their department inside their
region, or to them; everyone what they reported. Anonymous users see nothing (the public
tracking page goes through incident_track).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from accounts.selectors import STAFF_ROLES, user_scope
from audit.services import record_out_of_scope
from core.exceptions import NotFoundError
from grids.models import GridWorker, Region
from incidents import policies, routing
from incidents.models import (
    ACTIONS,
    Action,
    Category,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    IncidentState,
    PatrolLog,
)
from incidents.queue_selectors import _QUEUE_ROWS as _QUEUE_ROWS  # a test reads it here
from incidents.queue_selectors import (  # re-exported: the old home of the queue's rows
    QUEUE_COLUMNS as QUEUE_COLUMNS,
)
from incidents.queue_selectors import QueuePages as QueuePages
from incidents.queue_selectors import QueueRow as QueueRow
from incidents.queue_selectors import RowPerson as RowPerson
from incidents.queue_selectors import RowRef as RowRef
from incidents.queue_selectors import choice_label as choice_label
from incidents.queue_selectors import queue_rows as queue_rows
from incidents.tracking_selectors import (  # re-exported: the old home of public tracking
    PublicEvent as PublicEvent,
)
from incidents.tracking_selectors import PublicTrack as PublicTrack
from incidents.tracking_selectors import incident_for_tracked as incident_for_tracked
from incidents.tracking_selectors import incident_for_tracking as incident_for_tracking
from incidents.tracking_selectors import incident_track as incident_track
from incidents.tracking_selectors import incident_track_for as incident_track_for
from incidents.tracking_selectors import reporter_phone_of as reporter_phone_of

S = IncidentState
# States whose due_at is a working deadline (feedback_sent's is the rating window).
DEADLINE_STATES = [S.VERIFYING, S.VERIFIED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED]
REGIONAL_READERS = {
    RoleCode.DISPATCHER,
    RoleCode.SUPERVISOR,
    RoleCode.MEDIATOR,
    RoleCode.PETITION_OFFICER,
}
LIST_RELATED = (
    "category",
    "category__parent",
    "grid_cell",
    "region",
    "handling_region",
    "assignee",
    "verifier",
    "checker",
    "reporter",
)
# Actions people take through the API/pages (system-only steps are left out).
USER_ACTIONS = [
    Action.ASSIGN_VERIFIER,
    Action.VERIFY,
    Action.FIX_ON_SPOT,
    Action.MARK_INVALID,
    Action.DISPATCH,
    Action.CLAIM,
    Action.ACCEPT,
    Action.RETURN,
    Action.REASSIGN,
    Action.ESCALATE,
    Action.REQUEST_EXTENSION,
    Action.APPROVE_EXTENSION,
    Action.REJECT_EXTENSION,
    Action.PARK,
    Action.UNPARK,
    Action.RESOLVE,
    Action.CHECK,
    Action.REWORK,
    Action.SEND_FEEDBACK,
    Action.RATE,
    Action.REOPEN,
    Action.CLOSE,
]


def _visibility_q(user: User | None, *, as_reporter: bool = True) -> Q | None:
    """None: everything. Otherwise the condition on Incident rows (`as_reporter=False`: not
    counting what the user reported, i.e. what they see through their work)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.is_portal_admin:
        return None
    scope = user_scope(user)
    roles = user.role_codes
    q = Q(assignee=user) | Q(verifier=user) | Q(checker=user)
    if as_reporter:
        q |= Q(reporter=user)
    if roles & REGIONAL_READERS and scope.prefix:
        q |= Q(region_code__startswith=scope.prefix)
    if RoleCode.GRID_WORKER in roles and scope.cell_ids:
        q |= Q(grid_cell_id__in=scope.cell_ids)
    if RoleCode.DEPARTMENT_HANDLER in roles:
        q |= routing.handlers_visible_q(user)
    return q


def incidents_visible(user: User | None) -> QuerySet[Incident]:
    """The incidents `user` may see (see the module docstring)."""
    qs = Incident.objects.all()
    q = _visibility_q(user)
    return qs if q is None else qs.filter(q)


def incident_is_visible(user: User | None, incident: Incident) -> bool:
    q = _visibility_q(user)
    return q is None or Incident.objects.filter(q, pk=incident.pk).exists()


def incident_get_for_user(*, user: User | None, incident_id: int) -> Incident:
    """The incident, or NotFoundError when it does not exist or lies outside the user's scope."""
    incident = incidents_visible(user).select_related(*LIST_RELATED).filter(pk=incident_id).first()
    if incident is None:
        record_out_of_scope(user, Incident, incident_id)
        raise NotFoundError(_("Incident not found."))
    return incident


def is_staff_viewer(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_portal_admin or user.role_codes & STAFF_ROLES)
    )


def actor_label(event: IncidentEvent, viewer: User, staff: bool) -> str:
    """Who did a timeline step, as `viewer` may see it: "System" for the rules, "You" for the
    viewer, the person's name for staff (`staff`: is_staff_viewer(viewer)), "Staff" for
    anybody else. The detail page and the case file use it; the API's EventSerializer hides
    the actor the same way."""
    if event.actor_id is None:
        return _("System")
    if event.actor_id == viewer.pk:
        return _("You")
    if staff:
        return str(event.actor)
    return _("Staff")


def incident_actions_for(user: User | None, incident: Incident) -> list[str]:
    """The actions `user` may take on the incident now (names from models.Action), in loop
    order. The pages show one button per name; the services enforce the same rules."""
    if user is None or not user.is_authenticated:
        return []
    if not incident_is_visible(user, incident):
        return []
    names = []
    for action in USER_ACTIONS:
        if incident.state not in ACTIONS[action]:
            continue
        if not policies.allowed(action, user, incident):
            continue
        if policies.ready(action, incident) is not None:
            continue
        names.append(str(action))
    return names


def sees_as_staff(user: User | None, incident: Incident) -> bool:
    """Whether `user` gets the staff view of the incident (internal rows, staff names, photos
    of internal events): staff who see it through their work. A staff member who only
    reported it (outside their region, say) gets the resident view (security review I3)."""
    if user is None or not is_staff_viewer(user):
        return False
    if user.is_portal_admin or incident.reporter_id != user.pk:
        return True
    q = _visibility_q(user, as_reporter=False)
    return q is None or Incident.objects.filter(q, pk=incident.pk).exists()


def incident_timeline_for(user: User | None, incident: Incident) -> QuerySet[IncidentEvent]:
    """The timeline as `user` may see it: everything for staff who work it, public events for
    the rest (sees_as_staff)."""
    qs = incident.events.select_related("actor").prefetch_related("photos")
    if not sees_as_staff(user, incident):
        qs = qs.filter(public=True)
    return qs


def my_tasks(user: User) -> dict[str, QuerySet[Incident]]:
    """The user's work lists: to verify, to check, claimable (pool of their cells), assigned to
    them, and sent to their unit with nobody on it yet. Each ordered by deadline."""
    base = Incident.objects.select_related(*LIST_RELATED).order_by("due_at", "id")
    none = base.none()
    if user is None or not user.is_authenticated:
        return {
            "to_verify": none,
            "to_check": none,
            "claimable": none,
            "assigned": none,
            "unit": none,
        }
    scope = user_scope(user)
    cells = scope.cell_ids if user.has_role(RoleCode.GRID_WORKER) else frozenset()
    unit_q = Q(pk__in=[])
    if user.has_role(RoleCode.DEPARTMENT_HANDLER) and user.department and scope.prefix:
        unit_q |= Q(handling_department=user.department, region_code__startswith=scope.prefix)
    if user.has_role(RoleCode.DISPATCHER) and user.scope_region is not None:
        unit_q |= Q(
            handling_region__code__startswith=user.scope_region.prefix,
            handling_level__in=["community", "street", "district"],
        )
    if cells:
        unit_q |= Q(grid_cell_id__in=cells, handling_level="grid")
    return {
        "to_verify": base.filter(verifier=user, state=S.VERIFYING),
        "to_check": base.filter(
            Q(checker=user) | Q(grid_cell_id__in=cells), state=S.RESOLVED, check_required=True
        ),
        "claimable": base.filter(state=S.DISPATCHED, claimable=True, grid_cell_id__in=cells),
        "assigned": base.filter(assignee=user, state__in=[S.DISPATCHED, S.ACCEPTED]),
        "unit": base.filter(unit_q, state=S.DISPATCHED, assignee__isnull=True, claimable=False),
    }


def dispatch_queue(user: User, filters: Any = None) -> QuerySet[Incident]:
    """The dispatcher's queue: visible incidents filtered by IncidentFilter (state, category,
    grid cell, community, overdue, urgent, date range, text), ordered by deadline (none last).
    Related rows are joined, so the number of queries does not grow with the rows."""
    from django.db.models import F

    from incidents.filters import IncidentFilter

    qs = incidents_visible(user).select_related(*LIST_RELATED)
    if filters is not None:
        filterset = IncidentFilter(filters, queryset=qs)
        if filterset.is_valid():
            qs = filterset.qs
        else:
            from core.exceptions import ValidationFailed

            errors = {k: [str(m) for m in v] for k, v in filterset.errors.items()}
            raise ValidationFailed(_("Check the filters."), extra=errors)
    return qs.order_by(F("due_at").asc(nulls_last=True), "id")


def dispatch_queue_values(user: User, filters: Any = None) -> QueuePages:
    """dispatch_queue as narrow rows (dicts of QUEUE_COLUMNS) for a Paginator, a page of
    which goes to queue_rows()."""
    return QueuePages(dispatch_queue(user, filters))


def overdue_board(user: User, *, now: datetime | None = None) -> QuerySet[Incident]:
    """Open incidents past their current deadline (verify, dispatch, resolve or check), most
    overdue first; parked ones are included and flagged by `parked`."""
    now = now or timezone.now()
    return (
        incidents_visible(user)
        .select_related(*LIST_RELATED)
        .filter(state__in=DEADLINE_STATES, due_at__lt=now)
        .order_by("due_at", "id")
    )


@dataclass
class WorkerLoad:
    user_id: int
    name: str
    on_duty: bool
    cells: list[str]
    to_verify: int = 0
    assigned: int = 0
    to_check: int = 0
    overdue: int = 0

    @property
    def total(self) -> int:
        return self.to_verify + self.assigned + self.to_check


def workload_per_worker(
    region: Region, *, now: datetime | None = None, with_cells: bool = True
) -> list[WorkerLoad]:
    """Open work of every grid worker with a cell in `region` (busiest first). A constant
    number of queries whatever the number of workers (3; 2 without the workers' cell codes,
    which the queue page's panel does not show)."""
    now = now or timezone.now()
    workers = GridWorker.objects.filter(cells__community__code__startswith=region.prefix)
    loads: dict[int, WorkerLoad] = {}
    if with_cells:
        for worker in workers.select_related("user").prefetch_related("cells").distinct():
            loads[worker.user_id] = WorkerLoad(
                user_id=worker.user_id,
                name=str(worker.user),
                on_duty=worker.on_duty,
                cells=sorted(cell.code for cell in worker.cells.all()),
            )
    else:  # the 4 columns shown (a street has about a hundred workers)
        # Written from the region down (regions → cells → workers → users): joins run in the
        # written order on PostgreSQL (join_collapse_limit=1, settings.py), and from the
        # workers' side the query read every worker of the city (docs/performance.md).
        through = "grid_cells__workers__"
        worker_rows = (
            Region.objects.filter(code__startswith=region.prefix, grid_cells__workers__isnull=False)
            .values_list(
                f"{through}user_id",
                f"{through}user__display_name",
                f"{through}user__username",
                f"{through}on_duty",
            )
            .order_by()
            .distinct()
        )
        for user_id, display_name, username, on_duty in worker_rows:
            loads[user_id] = WorkerLoad(
                user_id=user_id, name=display_name or username, on_duty=on_duty, cells=[]
            )
    ids = list(loads)
    if not ids:
        return []
    # One query for the three kinds of open work (whose turn it is depends on the state).
    open_q: dict[str, tuple[str, str]] = {
        S.VERIFYING: ("to_verify", "verifier_id"),
        S.DISPATCHED: ("assigned", "assignee_id"),
        S.ACCEPTED: ("assigned", "assignee_id"),
        S.RESOLVED: ("to_check", "checker_id"),
    }
    mine = Q()
    for state, (_attribute, field_name) in open_q.items():
        mine |= Q(**{f"{field_name}__in": ids}, state=state)
    person = Case(*(When(state=state, then=F(f)) for state, (_a, f) in open_q.items()))
    rows = (
        Incident.objects.filter(mine)
        .annotate(person=person)
        .values("person", "state")
        .annotate(n=Count("id"), late=Count("id", filter=Q(due_at__lt=now)))
        .order_by()
    )
    for row in rows:
        load = loads[row["person"]]
        attribute = open_q[row["state"]][0]
        setattr(load, attribute, getattr(load, attribute) + row["n"])
        load.overdue += row["late"]
    return sorted(loads.values(), key=lambda load: (-load.total, load.name))


def categories_active() -> QuerySet[Category]:
    """The categories a report may use (subclasses), with their large class."""
    return Category.objects.filter(active=True, parent__isnull=False).select_related("parent")


# --- photos -----------------------------------------------------------------------------------


def photo_get_for_user(*, user: User | None, photo_id: int) -> IncidentPhoto:
    """A photo whose incident `user` may see, on a timeline event they may see (staff: all;
    others: public events). NotFoundError otherwise (the same for a photo that does not
    exist)."""
    photo = IncidentPhoto.objects.select_related("incident", "event").filter(pk=photo_id).first()
    if (
        photo is None
        or not incident_is_visible(user, photo.incident)
        or (
            photo.event is not None
            and not photo.event.public
            and not sees_as_staff(user, photo.incident)
        )
    ):
        raise NotFoundError(_("Photo not found."))
    return photo


def photo_get_for_tracker(*, photo_id: int, tracked: dict[str, str]) -> IncidentPhoto:
    """A photo for an anonymous tracker: its incident is one whose number and access code this
    browser proved (`tracked`: number → proof, kept in the session by the tracking page), on a
    public event, and the category is not internal-only."""
    photo = (
        IncidentPhoto.objects.select_related("incident", "incident__category", "event")
        .filter(pk=photo_id)
        .first()
    )
    if photo is None:
        raise NotFoundError(_("Photo not found."))
    incident = photo.incident
    proof = tracked.get(incident.tracking_number)
    if (
        not proof
        or incident.category.internal_only
        or (photo.event is not None and not photo.event.public)
    ):
        raise NotFoundError(_("Photo not found."))
    from incidents.access_codes import tracking_proof_matches

    if not tracking_proof_matches(incident.access_code_hash, proof):
        raise NotFoundError(_("Photo not found."))
    return photo


# --- patrol log -------------------------------------------------------------------------------

PATROL_READERS = {RoleCode.DISPATCHER, RoleCode.SUPERVISOR}


def patrols_visible(user: User | None) -> QuerySet[PatrolLog]:
    """Patrols `user` may read: their own; dispatchers and supervisors those of the workers in
    their region (prefix of the worker's community code); admins all."""
    qs = PatrolLog.objects.select_related("worker")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_portal_admin:
        return qs
    own = Q(worker_id=user.pk)
    if user.role_codes & PATROL_READERS:
        scope = user_scope(user)
        if scope.prefix is not None:
            return qs.filter(own | Q(region_code__startswith=scope.prefix))
    return qs.filter(own)


def patrol_get_for_user(*, user: User | None, patrol_id: int) -> PatrolLog:
    """The patrol, or NotFoundError when it does not exist or `user` may not read it."""
    patrol = patrols_visible(user).filter(pk=patrol_id).first()
    if patrol is None:
        record_out_of_scope(user, PatrolLog, patrol_id)
        raise NotFoundError(_("Patrol not found."))
    return patrol


def patrol_open_for(user: User | None) -> PatrolLog | None:
    """The patrol `user` has open, if any."""
    if user is None or not user.is_authenticated:
        return None
    return PatrolLog.objects.filter(worker_id=user.pk, ended_at__isnull=True).first()


def patrol_incidents(user: User | None, patrol: PatrolLog) -> QuerySet[Incident]:
    """The incidents reported during the patrol, as far as `user` may see them."""
    return incidents_visible(user).filter(patrol=patrol).select_related("category")
