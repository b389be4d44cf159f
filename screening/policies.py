"""Who may do what with screened disputes. Scope itself is decided in selectors
(disputes_visible); these say which roles, among those who see a dispute, may act on it."""

from __future__ import annotations

from accounts.models import RoleCode, User
from accounts.selectors import user_scope

# Those who find and work disputes (排查, 先行调解, 研判, 流转, 跟踪, 回访).
HANDLER_ROLES = {RoleCode.GRID_WORKER, RoleCode.MEDIATOR, RoleCode.DISPATCHER}
# Those who see disputes of their region (supervisors read, raise and link escalations).
REGIONAL_ROLES = {*HANDLER_ROLES, RoleCode.SUPERVISOR}
# The street's 综治 staff told of red and orange disputes (with the community and the police).
STREET_ALERT_ROLES = {RoleCode.DISPATCHER, RoleCode.SUPERVISOR}
COMMUNITY_ALERT_ROLES = {RoleCode.GRID_WORKER, RoleCode.DISPATCHER, RoleCode.MEDIATOR}
# Who may be shown parties' names and phones in full (an audited unmasking).
CONTACT_ROLES = {*HANDLER_ROLES, RoleCode.POLICE_OFFICER}

ACTION_ROLES: dict[str, set[str]] = {
    "mediate_on_spot": set(HANDLER_ROLES),
    "assess": set(HANDLER_ROLES),
    "route": set(HANDLER_ROLES),
    "follow_up": {*HANDLER_ROLES, RoleCode.POLICE_OFFICER},
    "close": set(HANDLER_ROLES),
    "visit": set(HANDLER_ROLES),
    "raise_level": {*HANDLER_ROLES, RoleCode.SUPERVISOR, RoleCode.POLICE_OFFICER},
    "link_escalation": {RoleCode.DISPATCHER, RoleCode.SUPERVISOR, RoleCode.POLICE_OFFICER},
}


def is_screening_user(user: User) -> bool:
    """May open the screening pages at all (what they then see is scoped)."""
    if not user.is_authenticated:
        return False
    return user.is_portal_admin or bool(
        user.role_codes & {*REGIONAL_ROLES, RoleCode.POLICE_OFFICER}
    )


def may_register(user: User) -> bool:
    return user.is_authenticated and (user.is_portal_admin or bool(user.role_codes & HANDLER_ROLES))


def may_act(user: User, action: str) -> bool:
    """Role check only; the dispute must also be visible (selectors)."""
    return user.is_portal_admin or bool(user.role_codes & ACTION_ROLES.get(action, set()))


def may_see_contacts(user: User) -> bool:
    return user.is_portal_admin or bool(user.role_codes & CONTACT_ROLES)


def may_report(user: User, region_code: str) -> bool:
    """A community's monthly report: handlers whose region covers it, or admins."""
    if user.is_portal_admin:
        return True
    return bool(user.role_codes & HANDLER_ROLES) and user_scope(user).covers_code(region_code)


def is_supervising(user: User) -> bool:
    """May open the KPI page and the ledger (their region)."""
    return user.is_authenticated and (
        user.is_portal_admin or bool(user.role_codes & {RoleCode.SUPERVISOR, RoleCode.DISPATCHER})
    )
