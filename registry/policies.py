"""Who may see and write the grid's basic data (the hard part of issue 19).

Basic records (buildings, homes, people, organisations, places):
- a grid worker: the records of their own cells;
- a community or street (dispatcher, supervisor with a scope region): the records of the area;
- a community police officer: the cells they are paired with (GridCell.police_officer);
- an administrator: everything. Everyone else: nothing (404).

Key persons: only
- the responsible grid worker;
- the community's designated staff (DesignatedStaff: all kinds, or one kind);
- a user whose role is granted for the kind (KeyPersonGrant; a department handler only for the
  kinds their department is granted), inside their area (scope region, own cells, or the cells
  they are paired with as police officer).
Administrators are not granted by default (minimum necessary): they edit the kinds and grants
in the admin. Everyone else: 404, and out-of-scope requests are audited.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from accounts.models import RoleCode, User
from grids.models import GridCell

REGIONAL_ROLES = {RoleCode.DISPATCHER, RoleCode.SUPERVISOR}
# Regional roles that write basic data (the community's staff); supervisors only read.
REGIONAL_WRITERS = {RoleCode.DISPATCHER}
# Roles that may ask to see ID numbers and phones in full (audited each time).
UNMASK_ROLES = {RoleCode.GRID_WORKER, RoleCode.POLICE_OFFICER, RoleCode.ADMIN}


@dataclass(frozen=True)
class Area:
    everything: bool = False
    prefix: str | None = None
    cell_ids: frozenset[int] = frozenset()
    write_prefix: str | None = None
    write_cell_ids: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.everything and self.prefix is None and not self.cell_ids

    def q(self, *, cell_field: str = "cell_id", code_field: str = "region_code") -> Q:
        if self.everything:
            return Q()
        q = Q(pk__in=[])
        if self.prefix is not None:
            # A community's prefix is its whole 12-digit code: equality keeps the
            # (region_code, name) index usable for the name search that follows.
            lookup = "exact" if len(self.prefix) == 12 else "startswith"
            q |= Q(**{f"{code_field}__{lookup}": self.prefix})
        if self.cell_ids:
            q |= Q(**{f"{cell_field}__in": sorted(self.cell_ids)})
        return q

    def covers(self, cell) -> bool:
        if self.everything:
            return True
        if cell.pk in self.cell_ids:
            return True
        return bool(self.prefix and cell.community.code.startswith(self.prefix))

    def may_write(self, cell) -> bool:
        if self.everything:
            return True
        if cell.pk in self.write_cell_ids:
            return True
        return bool(self.write_prefix and cell.community.code.startswith(self.write_prefix))


def area_for(user: User | None) -> Area:
    """The basic-data area of `user` (cached on the user object for the request)."""
    if user is None or not user.is_authenticated:
        return Area()
    cached = getattr(user, "_registry_area", None)
    if cached is not None:
        return cached
    area = _area_for(user)
    user._registry_area = area  # type: ignore[attr-defined]
    return area


def _area_for(user: User) -> Area:
    # One query for the roles and one for the cells (a request pays for this once).
    roles = user.role_codes
    if user.is_superuser or RoleCode.ADMIN in roles:
        return Area(everything=True)
    prefix = write_prefix = None
    if roles & REGIONAL_ROLES and user.scope_region_id is not None:
        prefix = user.scope_region.prefix
        if roles & REGIONAL_WRITERS:
            write_prefix = prefix
    cells: set[int] = set()
    write_cells: set[int] = set()
    cell_q = Q(pk__in=[])
    if RoleCode.GRID_WORKER in roles:
        cell_q |= Q(workers__user=user)
    if RoleCode.POLICE_OFFICER in roles:
        cell_q |= Q(police_officer=user)
    if RoleCode.GRID_WORKER in roles or RoleCode.POLICE_OFFICER in roles:
        for pk, worker_user_id in GridCell.objects.filter(cell_q).values_list(
            "pk", "workers__user"
        ):
            cells.add(pk)
            if worker_user_id == user.pk:
                write_cells.add(pk)
    return Area(
        prefix=prefix,
        cell_ids=frozenset(cells),
        write_prefix=write_prefix,
        write_cell_ids=frozenset(write_cells),
    )


def key_person_q(user: User | None) -> Q | None:
    """The filter of the key persons `user` may see, or None for none at all."""
    from registry.models import DesignatedStaff, KeyPersonGrant

    if user is None or not user.is_authenticated:
        return None
    if hasattr(user, "_registry_kp_q"):
        return user._registry_kp_q
    from registry.models import KeyPerson

    parts: list[Q] = []
    roles = user.role_codes
    if RoleCode.GRID_WORKER in roles or KeyPerson.objects.filter(responsible_worker=user).exists():
        parts.append(Q(responsible_worker_id=user.pk))
    for community_code, kind_id in DesignatedStaff.objects.filter(user=user).values_list(
        "community__code", "kind_id"
    ):
        part = Q(region_code=community_code)
        if kind_id is not None:
            part &= Q(kind_id=kind_id)
        parts.append(part)
    granted = [
        kind_id
        for kind_id, department in KeyPersonGrant.objects.filter(
            role__in=sorted(roles), kind__active=True
        ).values_list("kind_id", "department")
        if not department or department == user.department
    ]
    if granted:
        area = _grant_area(user)
        if not area.empty:
            parts.append(Q(kind_id__in=sorted(set(granted))) & area.q())
    q: Q | None = None
    for part in parts:
        q = part if q is None else q | part
    user._registry_kp_q = q  # type: ignore[attr-defined]
    return q


def _grant_area(user: User) -> Area:
    """Where a granted role sees the kind: its scope region, or its cells."""
    area = area_for(user)
    if area.everything:
        return area
    prefix = user.scope_region.prefix if user.scope_region_id else None
    return Area(prefix=prefix, cell_ids=area.cell_ids)


def may_unmask(user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return user.is_portal_admin or bool(user.role_codes & UNMASK_ROLES)


def is_designated(user: User, community_code: str) -> bool:
    from registry.models import DesignatedStaff

    return DesignatedStaff.objects.filter(user=user, community__code=community_code).exists()


def may_see_counts(user: User | None) -> bool:
    """The supervision page (counts only): regional staff and administrators."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_portal_admin:
        return True
    return bool(user.role_codes & REGIONAL_ROLES) and user.scope_region_id is not None
