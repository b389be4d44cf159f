"""Who may do what in deliberation. Pure reads: services check them before a write, selectors
and pages ask them which actions to offer.

- Staff (社区/街道工作人员): dispatchers and administrators, inside their region, review
  proposals, hold meetings, run budget rounds and keep the project library.
- Supervisors read everything in their region (the staff pages and the counts), change nothing.
- A decision's responsible account (any user named on it) reports its progress.
- Residents: a verified resident (phone verified, home community set) proposes for their own
  community, supports, comments, submits budget projects, votes and rates; only residents of
  the area (home community inside the proposal's community or the round's region) count toward
  thresholds or may vote.
"""

from __future__ import annotations

from typing import Any

from accounts.models import RoleCode, User
from accounts.selectors import user_scope

MANAGER_ROLES = (RoleCode.DISPATCHER, RoleCode.ADMIN)
READER_ROLES = (*MANAGER_ROLES, RoleCode.SUPERVISOR)


def _signed_in(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False))


def is_manager(user: Any) -> bool:
    return _signed_in(user) and (user.has_role(*MANAGER_ROLES) or user.is_portal_admin)


def is_reader(user: Any) -> bool:
    """Staff or supervisor: sees the staff pages of their region."""
    return _signed_in(user) and (user.has_role(*READER_ROLES) or user.is_portal_admin)


def is_supervisor(user: Any) -> bool:
    return _signed_in(user) and (user.has_role(RoleCode.SUPERVISOR) or user.is_portal_admin)


def covers(user: Any, region_code: str) -> bool:
    return _signed_in(user) and user_scope(user).covers_code(region_code)


def may_manage(user: Any, region_code: str) -> bool:
    return is_manager(user) and covers(user, region_code)


def may_read(user: Any, region_code: str) -> bool:
    return is_reader(user) and covers(user, region_code)


def is_verified_resident(user: Any) -> bool:
    return _signed_in(user) and bool(user.is_verified_resident)


def lives_in(user: Any, region_code: str, level: str = "community") -> bool:
    """The user's home community lies inside the region (`region_code` at `level`)."""
    from grids.models import Region

    if not is_verified_resident(user):
        return False
    home = user.home_region
    if home is None:
        return False
    prefix = region_code[: Region.PREFIX_LENGTH.get(level, 12)]
    return home.code.startswith(prefix)


def is_resident_user(user: User) -> bool:
    """A plain resident account (no staff role): what the resident pages are built for."""
    return _signed_in(user) and not is_reader(user)
