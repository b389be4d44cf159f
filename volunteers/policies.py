"""Who may do what in volunteers. Organisers are the community's and street's staff (dispatchers
scoped to a region; administrators everywhere); supervisors read the figures."""

from __future__ import annotations

from accounts.models import RoleCode, User
from accounts.selectors import user_scope

ORGANISER_ROLES = {RoleCode.DISPATCHER}
SUPERVISION_ROLES = {RoleCode.DISPATCHER, RoleCode.SUPERVISOR}
# Staff who read the area's tasks, teams, duty posts and 2+N (not its people's records).
AREA_ROLES = {
    RoleCode.DISPATCHER,
    RoleCode.SUPERVISOR,
    RoleCode.GRID_WORKER,
    RoleCode.POLICE_OFFICER,
}


def _signed(user: User | None) -> bool:
    return user is not None and user.is_authenticated


def is_organiser(user: User | None) -> bool:
    """Community or street staff who post tasks and decide applications (in their scope)."""
    if not _signed(user):
        return False
    if not (user is not None):
        raise AssertionError("unreachable: user is not None")
    return user.is_portal_admin or bool(
        user.role_codes & ORGANISER_ROLES and user_scope(user).is_regional
    )


def organises(user: User | None, region_code: str) -> bool:
    """Is `user` an organiser whose scope covers the region code?"""
    return is_organiser(user) and user_scope(user).covers_code(region_code)  # type: ignore[arg-type]


def reads_supervision(user: User | None) -> bool:
    if not _signed(user):
        return False
    if not (user is not None):
        raise AssertionError("unreachable: user is not None")
    return user.is_portal_admin or bool(
        user.role_codes & SUPERVISION_ROLES and user_scope(user).is_regional
    )


def reads_area(user: User | None) -> bool:
    """Organisers, supervisors, grid workers and police officers of a region (and admins): they
    read its tasks, teams, duty posts and 2+N pages."""
    if not _signed(user):
        return False
    if not (user is not None):
        raise AssertionError("unreachable: user is not None")
    return user.is_portal_admin or bool(
        user.role_codes & AREA_ROLES and user_scope(user).is_regional
    )
