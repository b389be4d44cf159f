"""Handling under way: escalation one level up (shared with the sweep), extension requests,
parking (挂账) and unparking.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.calendar import add_limit
from core.exceptions import (
    ConflictError,
    ValidationFailed,
)
from grids.models import Region
from incidents import routing
from incidents.models import (
    Action,
    Incident,
    IncidentState,
)
from incidents.services._steps import (
    _event,
    _fmt,
    _iso,
    _load,
    _move,
    _notify,
    _now,
    _optional_text,
    _reason_required,
    _required_text,
    _say,
)
from incidents.services.deadlines import (
    _set_due,
    check_limit_for,
    refresh_alarms,
    resolve_due_for,
    stage_due,
)

# --- escalation -------------------------------------------------------------------------------


class EscalationContext:
    """What escalation needs about regions and dispatchers, read once (the sweep escalates
    many incidents with it)."""

    def __init__(self) -> None:
        self.regions: dict[int, tuple[str, str, int | None]] = {
            pk: (code, level, parent_id)
            for pk, code, level, parent_id in Region.objects.values_list(
                "pk", "code", "level", "parent_id"
            )
        }
        self.dispatchers: dict[int, list[int]] = {}
        for user_id, region_id in (
            User.objects.filter(
                is_active=True, roles__code=RoleCode.DISPATCHER, scope_region__isnull=False
            )
            .values_list("pk", "scope_region_id")
            .distinct()
        ):
            self.dispatchers.setdefault(region_id, []).append(user_id)
        everyone = [pk for ids in self.dispatchers.values() for pk in ids]
        self.loads = routing.open_task_counts(everyone)

    def region_at(self, community_id: int | None, level: str) -> int | None:
        wanted = routing.REGION_LEVEL_FOR.get(level)
        node = community_id
        while node is not None and node in self.regions:
            _code, node_level, parent = self.regions[node]
            if node_level == wanted:
                return node
            node = parent
        return None

    def nearest_dispatchers(self, region_id: int | None) -> list[int]:
        node = region_id
        while node is not None and node in self.regions:
            if self.dispatchers.get(node):
                return sorted(self.dispatchers[node])
            node = self.regions[node][2]
        return []

    def pick_dispatcher(self, region_id: int | None) -> int | None:
        ids = self.nearest_dispatchers(region_id)
        if not ids:
            return None
        chosen = min(ids, key=lambda pk: (self.loads[pk], pk))
        self.loads[chosen] += 1
        return chosen


def _apply_escalation(
    incident: Incident, *, context: EscalationContext, now: datetime
) -> tuple[str, dict, list[int]] | None:
    """Move the incident's responsibility one level up (in memory). Returns (previous state,
    event data, users to tell), or None when there is no level above."""
    level = routing.next_level(incident)
    region_id = context.region_at(incident.region_id, level) if level else None
    if level is None or region_id is None:
        return None
    previous = incident.state
    data = {
        "from_level": incident.handling_level,
        "to_level": level,
        "from_region": incident.handling_region_id,
        "to_region": region_id,
    }
    incident.handling_level = level
    incident.handling_region_id = region_id
    incident.escalation_level += 1
    tell: list[int] = []
    if previous == IncidentState.VERIFYING:
        incident.verifier_id = context.pick_dispatcher(region_id) or incident.verifier_id
        incident.verify_due_at = stage_due(incident, "verify_within", now)
        incident.due_at = incident.verify_due_at
        tell = [incident.verifier_id] if incident.verifier_id else []
    elif previous == IncidentState.VERIFIED:
        data["dispatch_due_at"] = _iso(incident.dispatch_due_at)  # the deadline it replaces
        incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
        incident.due_at = incident.dispatch_due_at
        tell = context.nearest_dispatchers(region_id)
    elif previous in (IncidentState.DISPATCHED, IncidentState.ACCEPTED):
        _move(incident, Action.ESCALATE, IncidentState.DISPATCHED)
        data["from_assignee"] = incident.assignee_id
        incident.assignee_id = None
        incident.claimable = False
        incident.handling_department = ""
        incident.accepted_at = None
        incident.dispatched_at = now
        incident.extension_requested = False
        incident.extension_requested_until = None
        incident.extension_requested_by_id = None
        incident.resolve_due_at = resolve_due_for(incident, now=now)
        incident.due_at = incident.resolve_due_at
        tell = context.nearest_dispatchers(region_id)
    elif previous == IncidentState.RESOLVED:
        incident.checker_id = context.pick_dispatcher(region_id) or incident.checker_id
        incident.check_due_at = add_limit(now, check_limit_for(incident))
        incident.due_at = incident.check_due_at
        tell = [incident.checker_id] if incident.checker_id else []
    refresh_alarms(incident, start=now)
    incident.updated_at = now
    return previous, data, tell


def incident_escalate(*, incident_id: int, actor: User | None, reason: str = "") -> Incident:
    """Move the incident one level up (grid → community → street → district; a department →
    the district): the handling region moves to the parent. In handling, the incident goes to
    the new unit (dispatched, fresh resolve deadline); in verification or check, a dispatcher
    of the new level takes over. Dispatchers and supervisors in scope (with a reason) or the
    system (the deadline sweep). ConflictError at the top level."""
    if actor is not None:
        reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(Action.ESCALATE, incident_id=incident_id, actor=actor)
        now = _now()
        applied = _apply_escalation(incident, context=EscalationContext(), now=now)
        if applied is None:
            raise ConflictError(_("The incident is already handled at the top level."))
        previous, data, tell = applied
        incident.save()
        _event(
            incident,
            actor=actor,
            action=Action.ESCALATE,
            from_state=previous,
            note=reason or _say(gettext_lazy("Deadline passed: escalated one level up.")),
            data=data,
        )
        _notify(
            tell,
            incident,
            key=f"escalate:{incident.escalation_level}",  # the sweep's key too
            title=gettext_lazy("Incident %(no)s was escalated to you"),
        )
        return incident


# --- extension and parking --------------------------------------------------------------------


def incident_request_extension(
    *, incident_id: int, actor: User, until: datetime, reason: str
) -> Incident:
    """The handler asks for more time (延期) with a reason and the new deadline; the
    dispatchers are told. No escalation while the request is pending."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(Action.REQUEST_EXTENSION, incident_id=incident_id, actor=actor)
        now = _now()
        current = incident.resolve_due_at or now
        if until is None or until <= max(current, now):
            message = _("The new deadline must be later than the current one.")
            raise ValidationFailed(message, extra={"until": [message]})
        previous = _move(incident, Action.REQUEST_EXTENSION, incident.state)
        incident.extension_requested = True
        incident.extension_requested_until = until
        incident.extension_reason = reason
        incident.extension_requested_by = actor
        refresh_alarms(incident, rewarn=False)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.REQUEST_EXTENSION,
            from_state=previous,
            note=reason,
            public=False,
            data={"until": until.isoformat()},
        )
        _notify(
            routing.nearest_dispatcher_ids(incident.handling_region or incident.region),
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: extension requested until %(until)s"),
            params={"until": _fmt(until)},
        )
        return incident


def incident_approve_extension(*, incident_id: int, actor: User, note: str = "") -> Incident:
    """A dispatcher or supervisor in scope (not the requester) grants the extension: the
    resolve deadline moves to the requested time."""
    with transaction.atomic():
        incident = _load(Action.APPROVE_EXTENSION, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.APPROVE_EXTENSION, incident.state)
        requester = incident.extension_requested_by_id
        incident.resolve_due_at = incident.extension_requested_until
        incident.extension_count += 1
        incident.extension_requested = False
        incident.extension_requested_by = None
        incident.extension_requested_until = None
        _set_due(incident, incident.resolve_due_at, start=now)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.APPROVE_EXTENSION,
            from_state=previous,
            note=_optional_text(note, "note"),
            data={"resolve_due_at": _iso(incident.resolve_due_at)},
        )
        _notify(
            [requester],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: extension granted until %(until)s"),
            params={"until": _fmt(incident.resolve_due_at)},
        )
        return incident


def incident_reject_extension(*, incident_id: int, actor: User, reason: str) -> Incident:
    """The extension is refused (with a reason); the deadline stays."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(Action.REJECT_EXTENSION, incident_id=incident_id, actor=actor)
        previous = _move(incident, Action.REJECT_EXTENSION, incident.state)
        requester = incident.extension_requested_by_id
        incident.extension_requested = False
        incident.extension_requested_by = None
        incident.extension_requested_until = None
        refresh_alarms(incident, rewarn=False)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.REJECT_EXTENSION,
            from_state=previous,
            note=reason,
            public=False,
        )
        _notify(
            [requester],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: extension refused"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"reason": reason},
        )
        return incident


def incident_park(*, incident_id: int, actor: User, reason: str) -> Incident:
    """A dispatcher or supervisor parks (挂账) an incident left unsolved past its handling
    deadline (resolve_due_at), with a written explanation (RULES): no warnings or escalation
    until it is unparked. Before the deadline: ConflictError (policies.ready)."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(Action.PARK, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.PARK, incident.state)
        incident.parked = True
        incident.parked_at = now
        incident.parked_reason = reason
        refresh_alarms(incident, rewarn=False)
        incident.save()
        _event(incident, actor=actor, action=Action.PARK, from_state=previous, note=reason)
        return incident


def incident_unpark(
    *, incident_id: int, actor: User, resolve_by: datetime | None = None, note: str = ""
) -> Incident:
    """Take a parked incident up again with a new resolve deadline (given, or the category's
    limit from now)."""
    with transaction.atomic():
        incident = _load(Action.UNPARK, incident_id=incident_id, actor=actor)
        now = _now()
        if resolve_by is not None and resolve_by <= now:
            message = _("The new deadline must be in the future.")
            raise ValidationFailed(message, extra={"resolve_by": [message]})
        previous = _move(incident, Action.UNPARK, incident.state)
        incident.parked = False
        incident.resolve_due_at = resolve_by or resolve_due_for(incident, now=now)
        _set_due(incident, incident.resolve_due_at, start=now)
        incident.save()
        _event(
            incident,
            actor=actor,
            action=Action.UNPARK,
            from_state=previous,
            note=_optional_text(note, "note"),
            data={"resolve_due_at": incident.resolve_due_at.isoformat()},
        )
        return incident
