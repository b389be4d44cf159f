"""Dispatch and handling: to a person, a unit or the claim pool (by a dispatcher or by the
routing rules), claim, accept, return, reassign; the partner-deadline repair step.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.exceptions import (
    ValidationFailed,
)
from grids.models import Region
from incidents import routing
from incidents.models import (
    Action,
    Channel,
    HandlingLevel,
    Incident,
    IncidentEvent,
    IncidentState,
)
from incidents.routing import DispatchTarget
from incidents.services._steps import (
    _event,
    _fmt,
    _iso,
    _load,
    _lock,
    _move,
    _notify,
    _now,
    _optional_text,
    _reason_required,
    _required_text,
    _say,
    _staff_for,
    _use_cached_category,
)
from incidents.services.deadlines import (
    _set_due,
    resolve_due_for,
    stage_due,
)

# --- dispatch and handling --------------------------------------------------------------------


def incident_partner_deadline_restore(*, incident_id: int) -> bool:
    """System repair step: an incident in handling whose resolve deadline is not the reporting
    partner's (changed by a bulk write that bypassed the services) gets it back, while the
    partner's deadline lies ahead and no extension was granted. Internal timeline row.
    Idempotent; returns whether the deadline moved."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None or incident.external_due_at is None:
            return False
        now = _now()
        handling = incident.state in (IncidentState.DISPATCHED, IncidentState.ACCEPTED)
        partner_due = incident.external_due_at
        if (
            not handling
            or incident.extension_count
            or partner_due <= now
            or incident.resolve_due_at == partner_due
        ):
            return False
        incident.resolve_due_at = partner_due
        _set_due(incident, partner_due, start=incident.dispatched_at or now)
        incident.save(
            update_fields=[
                "resolve_due_at",
                "due_at",
                "warn_at",
                "escalate_at",
                "warned_at",
                "updated_at",
            ]
        )
        _event(
            incident,
            actor=None,
            action=Action.PARTNER_DEADLINE,
            from_state=incident.state,
            note=_say(
                gettext_lazy("Resolve by %(due)s, the deadline of the %(channel)s ticket."),
                due=_fmt(partner_due),
                channel=Channel(incident.channel).label,
            ),
            public=False,
            data={"due_at": partner_due.isoformat()},
        )
        return True


def _target_from_choice(
    incident: Incident,
    *,
    assignee_id: int | None,
    level: str,
    region_id: int | None,
    department: str,
    to_pool: bool,
) -> DispatchTarget:
    """Validate a dispatcher's choice: exactly one of a person, a unit or the claim pool."""
    chosen = sum([assignee_id is not None, bool(to_pool), bool(level)])
    if chosen != 1:
        message = _("Choose one target: a person, a unit, or the claim pool.")
        raise ValidationFailed(message, extra={"target": [message]})
    if assignee_id is not None:
        person = _staff_for(incident, assignee_id, field="assignee")
        person_level: str
        if person.has_role(RoleCode.GRID_WORKER) and routing.is_cell_worker(person, incident):
            person_level = HandlingLevel.GRID
            department = ""
        elif person.has_role(RoleCode.DEPARTMENT_HANDLER) and person.department:
            department = person.department
            category = incident.category
            person_level = (
                category.handled_at
                if category.department == department
                and category.handled_at
                and category.handled_at != HandlingLevel.GRID
                else HandlingLevel.DEPARTMENT
            )
        else:
            department = ""
            scope_level = (
                person.scope_region.level if person.scope_region is not None else "community"
            )
            levels: dict[str, str] = {
                Region.Level.STREET: HandlingLevel.STREET,
                Region.Level.DISTRICT: HandlingLevel.DISTRICT,
            }
            person_level = levels.get(scope_level, HandlingLevel.COMMUNITY)
        region = routing.region_at_level(incident.region, person_level)
        return DispatchTarget(
            "person", person_level, region.pk if region else None, department, person.pk
        )
    if to_pool:
        if not incident.grid_cell_id or not routing.cell_worker_ids(
            incident.grid_cell_id, on_duty_only=False
        ):
            message = _("Only an incident in a grid cell with grid workers can be claimed.")
            raise ValidationFailed(message, extra={"target": [message]})
        region = routing.region_at_level(incident.region, HandlingLevel.GRID)
        return DispatchTarget("pool", HandlingLevel.GRID, region.pk if region else None)
    if level not in HandlingLevel.values:
        message = _("Unknown handling level.")
        raise ValidationFailed(message, extra={"level": [message]})
    department = (department or "").strip()
    if level == HandlingLevel.DEPARTMENT and not department:
        message = _("Name the department.")
        raise ValidationFailed(message, extra={"department": [message]})
    if level == HandlingLevel.GRID and not incident.grid_cell_id:
        message = _("The incident is in no grid cell.")
        raise ValidationFailed(message, extra={"level": [message]})
    if region_id is None:
        region = routing.region_at_level(incident.region, level)
    else:
        region = Region.objects.filter(pk=region_id).first()
        if (
            region is None
            or region.level != routing.REGION_LEVEL_FOR[level]
            or not incident.region_code.startswith(region.prefix)
        ):
            message = _("Choose the region at that level that contains the incident.")
            raise ValidationFailed(message, extra={"region": [message]})
    if region is None:
        message = _("The incident has no region at that level.")
        raise ValidationFailed(message, extra={"region": [message]})
    return DispatchTarget("unit", level, region.pk, department if department else "")


def _target_user_ids(incident: Incident) -> list[int]:
    if incident.assignee_id:
        return [incident.assignee_id]
    if incident.claimable:
        return routing.cell_worker_ids(incident.grid_cell_id)
    return routing.unit_member_ids(incident)


def _asked_nearest_dispatchers(incident: Incident) -> bool:
    """Whether _target_user_ids already asked routing.nearest_dispatcher_ids for the
    incident's own community (a unit at the community level): no need to ask again."""
    return bool(
        not incident.assignee_id
        and not incident.claimable
        and incident.handling_level not in (HandlingLevel.GRID, HandlingLevel.DEPARTMENT)
        and incident.handling_region_id is not None
        and incident.handling_region_id == incident.region_id
    )


def _apply_dispatch(
    incident: Incident,
    target: DispatchTarget,
    *,
    actor: User | None,
    action: str,
    note: str = "",
    reset_clock: bool = True,
    data: dict | None = None,
    public: bool = True,
) -> IncidentEvent:
    now = _now()
    previous = _move(incident, action, IncidentState.DISPATCHED)
    incident.handling_level = target.level
    incident.handling_region_id = target.region_id
    incident.handling_department = target.department
    incident.assignee_id = target.assignee_id
    incident.claimable = target.claimable
    incident.accepted_at = None
    incident.dispatched_at = now
    incident.extension_requested = False
    incident.extension_requested_until = None
    incident.extension_requested_by = None
    incident.parked = False
    if reset_clock or incident.resolve_due_at is None:
        incident.resolve_due_at = resolve_due_for(incident, now=now)
    _set_due(incident, incident.resolve_due_at, start=now)
    incident.task_enqueued_at = None
    incident.save()
    event = _event(
        incident,
        actor=actor,
        action=action,
        from_state=previous,
        note=note,
        public=public,
        data={
            "kind": target.kind,
            "level": target.level,
            "region": target.region_id,
            "department": target.department,
            "assignee": target.assignee_id,
            # The dispatch deadline in force now (a return or escalation may reset it later):
            # the KPI 按时派遣率 judges the first dispatch by it (governance.aggregates).
            "dispatch_due_at": _iso(incident.dispatch_due_at),
            **(data or {}),
        },
    )
    title = (
        gettext_lazy("Incident %(no)s is open for claiming")
        if target.claimable
        else gettext_lazy("Incident %(no)s was sent to you")
    )
    recipients = _target_user_ids(incident)
    if not recipients and not _asked_nearest_dispatchers(incident):
        # A unit with nobody in it yet: its dispatchers must know, or the task waits unseen.
        recipients = routing.nearest_dispatcher_ids(incident.region)
        title = gettext_lazy("Incident %(no)s was sent to a unit with nobody to receive it")
    _notify(
        recipients,
        incident,
        key=f"e{event.pk}",
        title=title,
        body=gettext_lazy("Resolve by %(due)s."),
        params={"due": _fmt(incident.resolve_due_at)},
    )
    return event


def incident_dispatch(
    *,
    incident_id: int,
    actor: User,
    assignee_id: int | None = None,
    level: str = "",
    region_id: int | None = None,
    department: str = "",
    to_pool: bool = False,
    note: str = "",
) -> Incident:
    """A dispatcher (in scope) sends a verified or reopened incident to exactly one of: a
    person (`assignee_id`), a unit (`level` + optional `region_id`, `department` for a
    department), or the claim pool of its grid cell (`to_pool`). The handling clock starts:
    resolve deadline from the category. Of two dispatchers at once, one wins; the other gets
    ConflictError naming who has it. Notifies the target."""
    with transaction.atomic():
        incident = _load(Action.DISPATCH, incident_id=incident_id, actor=actor)
        target = _target_from_choice(
            incident,
            assignee_id=assignee_id,
            level=level,
            region_id=region_id,
            department=department,
            to_pool=to_pool,
        )
        _apply_dispatch(
            incident, target, actor=actor, action=Action.DISPATCH, note=_optional_text(note, "note")
        )
        return incident


def incident_route(*, incident_id: int) -> Incident:
    """System dispatch by the routing rules (tasks.route): a verified incident with a routing
    task pending, or a reopened one (back to whoever had it). Idempotent: anything else is
    returned unchanged."""
    with transaction.atomic():
        incident = _lock(incident_id, with_region=True)
        pending = incident.state == IncidentState.VERIFIED and incident.task_enqueued_at is not None
        if not (pending or incident.state == IncidentState.REOPENED):
            return incident
        _use_cached_category(incident)
        target = routing.route(incident)
        _apply_dispatch(
            incident, target, actor=None, action=Action.DISPATCH, data={"by_rules": True}
        )
        return incident


def incident_claim(*, incident_id: int, actor: User) -> Incident:
    """A grid worker of the cell takes an incident from the claim pool (抢单): dispatched →
    accepted, assignee = the claimer. Of many claimers at once exactly one wins (row lock +
    state check); the others get ConflictError naming who has it."""
    with transaction.atomic():
        incident = _load(Action.CLAIM, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.CLAIM, IncidentState.ACCEPTED)
        incident.assignee = actor
        incident.claimable = False
        incident.accepted_at = now
        incident.save()
        _event(incident, actor=actor, action=Action.CLAIM, from_state=previous)
        return incident


def incident_accept(*, incident_id: int, actor: User, note: str = "") -> Incident:
    """The assignee, or a member of the unit it was sent to, accepts (dispatched → accepted);
    a unit member becomes the assignee."""
    with transaction.atomic():
        incident = _load(Action.ACCEPT, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.ACCEPT, IncidentState.ACCEPTED)
        if incident.assignee_id is None:
            incident.assignee = actor
        incident.accepted_at = now
        incident.save()
        _event(
            incident,
            actor=actor,
            action=Action.ACCEPT,
            from_state=previous,
            note=_optional_text(note, "note"),
        )
        return incident


def incident_return(*, incident_id: int, actor: User, reason: str) -> Incident:
    """A unit that is not responsible returns the task with its reason (退回): back to
    `verified`, off the unit, for the dispatchers to send again (they are told; the dispatch
    deadline restarts)."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(Action.RETURN, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.RETURN, IncidentState.VERIFIED)
        data = {
            "level": incident.handling_level,
            "region": incident.handling_region_id,
            "department": incident.handling_department,
            "assignee": incident.assignee_id,
        }
        incident.assignee = None
        incident.claimable = False
        incident.handling_department = ""
        incident.accepted_at = None
        incident.return_count += 1
        incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
        _set_due(incident, incident.dispatch_due_at, start=now)
        incident.task_enqueued_at = None  # a person dispatches it again
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.RETURN,
            from_state=previous,
            note=reason,
            public=False,
            data=data,
        )
        _notify(
            routing.nearest_dispatcher_ids(incident.region),
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s was returned: dispatch it again"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"reason": reason},
        )
        return incident


def incident_reassign(
    *,
    incident_id: int,
    actor: User,
    assignee_id: int | None = None,
    level: str = "",
    region_id: int | None = None,
    department: str = "",
    to_pool: bool = False,
    note: str = "",
) -> Incident:
    """A dispatcher moves a dispatched or accepted incident to another target (same choices
    as incident_dispatch). The resolve deadline is kept."""
    with transaction.atomic():
        incident = _load(Action.REASSIGN, incident_id=incident_id, actor=actor)
        target = _target_from_choice(
            incident,
            assignee_id=assignee_id,
            level=level,
            region_id=region_id,
            department=department,
            to_pool=to_pool,
        )
        _apply_dispatch(
            incident,
            target,
            actor=actor,
            action=Action.REASSIGN,
            note=_optional_text(note, "note"),
            reset_clock=False,
            data={"from_assignee": incident.assignee_id},
            public=False,
        )
        return incident
