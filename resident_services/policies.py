"""Who may do what with services: one place, used by services, selectors, views and APIs.

- A resident sees their own requests and bookings.
- A service handler (role service_handler) works in the region of their account (scope_region,
  usually one community); with a ServiceProvider row of a kind (legal adviser, family doctor,
  department) they handle that kind's items only; without one (community staff) every kind.
- A supervisor sees (never changes) what lies in their region; admins see and may do all.
"""

from __future__ import annotations

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from resident_services.models import CONSULTING_KINDS, ServiceProvider, ServiceRequest


def is_handler(user: User) -> bool:
    return bool(
        user.is_authenticated
        and RoleCode.SERVICE_HANDLER in user.role_codes
        and user.scope_region_id is not None
    )


def handler_prefix(user: User) -> str | None:
    """The region-code prefix a service handler works in (None: not a handler)."""
    if not is_handler(user):
        return None
    region = user.scope_region
    return region.prefix if region is not None else None


def provider_kind(user: User) -> str | None:
    """The handler kind of a ServiceProvider account (None: community staff, every kind)."""
    if not user.is_authenticated:
        return None
    try:
        return user.service_provider.kind
    except ServiceProvider.DoesNotExist:
        return None


def is_consultant(user: User) -> bool:
    """Legal advisers and family doctors publish consultation hours."""
    return is_handler(user) and provider_kind(user) in CONSULTING_KINDS


def is_supervisor(user: User) -> bool:
    return user.is_authenticated and (
        user.is_portal_admin or RoleCode.SUPERVISOR in user.role_codes
    )


def covers_code(user: User, code: str) -> bool:
    """Does the user's region (a handler's or a supervisor's) contain `code`?"""
    if user.is_portal_admin:
        return True
    prefix = handler_prefix(user)
    if prefix and code.startswith(prefix):
        return True
    return RoleCode.SUPERVISOR in user.role_codes and user_scope(user).covers_code(code)


def handles(user: User, request: ServiceRequest) -> bool:
    """May `user` move `request` (accept, ask for materials, complete, decline)?"""
    if not user.is_authenticated:
        return False
    if user.is_portal_admin:
        return True
    prefix = handler_prefix(user)
    if not prefix or not request.region_code.startswith(prefix):
        return False
    kind = provider_kind(user)
    return kind is None or kind == request.item.handler_kind


def may_view(user: User, request: ServiceRequest) -> bool:
    if not user.is_authenticated:
        return False
    if request.resident_id == user.pk or handles(user, request):
        return True
    return is_supervisor(user) and covers_code(user, request.region_code)
