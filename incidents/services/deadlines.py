"""Deadlines: each stage's limit (the category's, else IncidentPolicy's; urgent cases sooner),
when the sweep warns and escalates (warn_at, escalate_at), and the resolve deadline of a
dispatch."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.calendar import add_limit
from incidents import routing
from incidents.models import Incident, IncidentPolicy, IncidentState
from incidents.services._steps import _now

# Urgent cases: verified and dispatched within the policy's urgent limits (RULES: 10 minutes).
URGENT_LIMITS = {
    "verify_within": "urgent_verify_within",
    "dispatch_within": "urgent_dispatch_within",
}
# States whose deadline the sweep may escalate (one level up) once it passes.
ESCALATABLE_STATES = {
    IncidentState.VERIFYING,
    IncidentState.VERIFIED,
    IncidentState.DISPATCHED,
    IncidentState.ACCEPTED,
    IncidentState.RESOLVED,
}


class _Policy:
    """IncidentPolicy.current(), read at most once per service call and only when needed (most
    categories carry their own limits)."""

    def __init__(self) -> None:
        self._policy: IncidentPolicy | None = None

    def __call__(self) -> IncidentPolicy:
        if self._policy is None:
            self._policy = IncidentPolicy.current()
        return self._policy


def stage_due(
    incident: Incident, attribute: str, start: datetime, policy: _Policy | None = None
) -> datetime:
    """The deadline of a stage (`verify_within`, `dispatch_within`, `resolve_within`) from
    `start`: the category's limit, else the policy's default. An urgent incident (an urgent
    category, or a partner's urgent flag) is verified and dispatched by the earlier of that and
    the policy's urgent limit (RULES: urgent cases within 10 minutes)."""
    policy = policy or _Policy()
    limit = getattr(incident.category, attribute) or getattr(policy(), attribute)
    due = add_limit(start, limit)
    if incident.urgent and attribute in URGENT_LIMITS:
        due = min(due, add_limit(start, getattr(policy(), URGENT_LIMITS[attribute])))
    return due


def check_limit_for(incident: Incident, policy: IncidentPolicy | None = None) -> str:
    """On-site check within 1 h in towns, 2 h in villages (Taiyuan practice; IncidentPolicy):
    a villagers' committee has village digits 200–399."""
    policy = policy or IncidentPolicy.current()
    rural = bool(incident.region_code) and incident.region_code[9:12] >= "200"
    return policy.check_within_rural if rural else policy.check_within_urban


def warn_time(start: datetime, due: datetime) -> datetime:
    """When to warn: 80 % of the stage's time, or 1 h before the deadline, whichever is later
    (a 10-minute stage warns after 8 minutes, a 20-day stage one hour before)."""
    if due <= start:
        return due
    return min(due, max(start + (due - start) * 0.8, due - timedelta(hours=1)))


def refresh_alarms(
    incident: Incident, *, start: datetime | None = None, rewarn: bool = True
) -> None:
    """Derive the sweep's alarms (warn_at, escalate_at) from due_at and the incident's state.
    `rewarn=False` keeps the warning as it is (the deadline did not move)."""
    due = incident.due_at
    if due is None or incident.state not in ESCALATABLE_STATES or incident.parked:
        incident.warn_at = None
        incident.escalate_at = None
        if rewarn:
            incident.warned_at = None
        return
    if rewarn:
        incident.warned_at = None
        incident.warn_at = warn_time(start or _now(), due)
    escalatable = not incident.extension_requested and routing.can_escalate(incident)
    incident.escalate_at = due if escalatable else None


def resolve_due_for(incident: Incident, *, now: datetime) -> datetime:
    """A fresh resolve deadline (dispatch, escalation, rework ...): the reporting partner's
    own deadline (`external_due_at`) while it lies ahead and no extension was granted, else the
    category's limit from now. A partner's deadline already missed is not reused: it would
    escalate the incident again at once."""
    partner_due = incident.external_due_at
    if partner_due is not None and not incident.extension_count and partner_due > now:
        return partner_due
    return stage_due(incident, "resolve_within", now)


def _set_due(incident: Incident, due: datetime | None, *, start: datetime) -> None:
    incident.due_at = due
    refresh_alarms(incident, start=start)
