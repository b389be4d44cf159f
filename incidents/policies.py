"""Who may take which action on an incident (deny by default).

`allowed(action, user, incident)` answers the role question for a user who can already see the
incident (scope is checked first, by incidents.selectors). `ready(action, incident)` answers the
state question beyond the graph in models.ACTIONS (the pool, a pending extension, parking) and
returns the reason when the move is not possible now. incidents.services uses both before every
move; incidents.selectors.incident_actions_for uses them to list the buttons a user gets.
A `None` user is the system (Celery tasks): it may do every system step.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from incidents import routing
from incidents.models import Action, Incident, IncidentState

S = IncidentState
A = Action
QUEUE_ROLES = (RoleCode.DISPATCHER, RoleCode.SUPERVISOR, RoleCode.ADMIN)


def can_use_queue(user: User) -> bool:
    """The dispatch queue, the overdue board and workload (pages and API): dispatchers,
    supervisors and admins (what they see in them is scoped by incidents.selectors)."""
    return user.is_portal_admin or user.has_role(*QUEUE_ROLES)


def _in_scope(user: User, incident: Incident) -> bool:
    return user_scope(user).covers_code(incident.region_code)


def _dispatcher(user: User, incident: Incident) -> bool:
    return user.has_role(RoleCode.DISPATCHER) and _in_scope(user, incident)


def _supervisor(user: User, incident: Incident) -> bool:
    return user.has_role(RoleCode.SUPERVISOR) and _in_scope(user, incident)


def _handler(user: User, incident: Incident) -> bool:
    """The assignee, or a member of the unit the incident was sent to (nobody took it yet)."""
    if incident.assignee_id is not None:
        return incident.assignee_id == user.pk
    return not incident.claimable and routing.is_unit_member(user, incident)


def _verifier(user: User, incident: Incident) -> bool:
    return incident.verifier_id == user.pk or _dispatcher(user, incident)


def _checker(user: User, incident: Incident) -> bool:
    return (
        incident.checker_id == user.pk
        or routing.is_cell_worker(user, incident)
        or _dispatcher(user, incident)
    )


def _staff_on_it(user: User, incident: Incident) -> bool:
    """Anyone working the incident or its region (for a referral to mediation)."""
    return (
        user.pk in (incident.assignee_id, incident.verifier_id, incident.checker_id)
        or routing.is_cell_worker(user, incident)
        or (
            user.has_role(
                RoleCode.DISPATCHER,
                RoleCode.MEDIATOR,
                RoleCode.SUPERVISOR,
                RoleCode.PETITION_OFFICER,
            )
            and _in_scope(user, incident)
        )
    )


def _nobody(user: User, incident: Incident) -> bool:
    return False


RULES: dict[str, Callable[[User, Incident], bool]] = {
    A.START_VERIFICATION: _nobody,  # the system only
    A.ASSIGN_VERIFIER: _dispatcher,
    A.VERIFY: _verifier,
    A.MARK_INVALID: _verifier,
    A.DISPATCH: _dispatcher,
    A.CLAIM: lambda user, incident: routing.is_cell_worker(user, incident),
    A.ACCEPT: _handler,
    A.RETURN: _handler,
    A.REASSIGN: _dispatcher,
    A.ESCALATE: lambda user, incident: _dispatcher(user, incident) or _supervisor(user, incident),
    A.REQUEST_EXTENSION: _handler,
    A.APPROVE_EXTENSION: lambda user, incident: (
        (_dispatcher(user, incident) or _supervisor(user, incident))
        and incident.extension_requested_by_id != user.pk
    ),
    A.PARK: lambda user, incident: _dispatcher(user, incident) or _supervisor(user, incident),
    A.RESOLVE: lambda user, incident: incident.assignee_id == user.pk,
    A.CHECK: _checker,
    A.REWORK: _checker,
    A.SEND_FEEDBACK: _dispatcher,
    A.RATE: lambda user, incident: incident.reporter_id == user.pk and incident.channel != "patrol",
    A.REOPEN: _dispatcher,
    A.CLOSE: _dispatcher,
    # On an incident being verified: its verifier or a grid worker of its cell.
    A.FIX_ON_SPOT: lambda user, incident: (
        user.has_role(RoleCode.GRID_WORKER)
        and (incident.verifier_id == user.pk or routing.is_cell_worker(user, incident))
    ),
    A.REFER_TO_MEDIATION: _staff_on_it,
    A.MEDIATION_CONCLUDED: _nobody,  # the system only, called by mediation
}
RULES[A.REJECT_EXTENSION] = RULES[A.APPROVE_EXTENSION]
RULES[A.UNPARK] = RULES[A.PARK]

# Actions a portal admin may not take in someone else's place.
NOT_FOR_ADMINS = {A.RATE, A.START_VERIFICATION, A.FIX_ON_SPOT, A.MEDIATION_CONCLUDED}


def allowed(action: str, user: User | None, incident: Incident) -> bool:
    """May `user` take `action` on the incident as far as roles go? None = the system."""
    if user is None:
        return True
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_portal_admin and action not in NOT_FOR_ADMINS:
        return True
    return RULES[action](user, incident)


def ready(action: str, incident: Incident) -> str | None:
    """Why the action cannot happen now beyond the state graph (None: it can)."""
    if action == A.CLAIM and not incident.claimable:
        if incident.assignee_id:
            return _("Already taken by %(name)s.") % {"name": incident.assignee}
        return _("This incident is not open for claiming.")
    if action == A.ACCEPT and incident.claimable:
        return _("This incident is in the claim pool: claim it instead.")
    if action == A.REQUEST_EXTENSION:
        if incident.extension_requested:
            return _("An extension has already been requested.")
        if incident.parked:
            return _("A parked incident needs no extension.")
    if action in (A.APPROVE_EXTENSION, A.REJECT_EXTENSION) and not incident.extension_requested:
        return _("No extension has been requested.")
    if action == A.PARK and incident.parked:
        return _("The incident is already parked.")
    if action == A.PARK and (
        incident.resolve_due_at is None or incident.resolve_due_at > timezone.now()
    ):
        # 挂账 (RULES): unsolved past the handling deadline, with a written explanation.
        return _("Only an incident still unsolved past its handling deadline may be parked.")
    if action == A.UNPARK and not incident.parked:
        return _("The incident is not parked.")
    if action in (A.CHECK, A.REWORK) and not incident.check_required:
        return _("This result needs no on-site check.")
    if action == A.ESCALATE and not routing.can_escalate(incident):
        return _("The incident is already handled at the top level.")
    if action == A.SEND_FEEDBACK and incident.state == S.RESOLVED and incident.check_required:
        return _("The result must be checked on site first.")
    if action == A.RESOLVE and incident.assignee_id is None:
        return _("Nobody has accepted the incident yet.")
    return None
