"""Who may see the KPIs."""

from __future__ import annotations

from accounts.models import RoleCode, User

KPI_ROLES = {RoleCode.SUPERVISOR, RoleCode.DISPATCHER}


def can_view_kpis(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_portal_admin or user.role_codes & KPI_ROLES)
    )
