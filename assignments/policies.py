"""Who may do what with tasks from above. Pure reads: services, selectors and pages ask here.

- Issuers: dispatchers, supervisors and admins issue into their own scope region (a street's
  dispatcher to the street's communities and cells); anybody else needs an active IssuerGrant
  (a court liaison, a department) for the region they issue into.
- The office: the issuer, admins, dispatchers/supervisors whose scope covers the region the
  task was issued into (the office's region), and the holders of a grant for that region in
  the same office's name see a task and all of its assignments; dispatchers of that region and
  the issuer manage them (cancel, reassign, send back).
- Workers: the named worker, or a worker of the cell while nobody has accepted it; every worker
  of the cell sees the cell's assignments.
- Supervisors and dispatchers of the area an assignment lies in see it (read only).
- The addressee of a service of documents is shown in full to the issuer, the office's managers
  and the worker; everybody else sees it masked.
"""

from __future__ import annotations

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from grids.models import Region

ISSUER_ROLES = {RoleCode.DISPATCHER, RoleCode.SUPERVISOR, RoleCode.ADMIN}
AREA_ROLES = {RoleCode.DISPATCHER, RoleCode.SUPERVISOR}


def issuing_regions(user: User | None) -> list[Region]:
    """The regions `user` may issue tasks into (by role, then by explicit grants)."""
    if user is None or not user.is_authenticated:
        return []
    regions: list[Region] = []
    if user.is_portal_admin and user.scope_region_id is None:
        regions.extend(Region.objects.filter(parent__isnull=True))
    elif user.role_codes & ISSUER_ROLES and user.scope_region is not None:
        regions.append(user.scope_region)
    for grant in user.task_issuer_grants.filter(active=True).select_related("region"):
        if all(grant.region.pk != region.pk for region in regions):
            regions.append(grant.region)
    return regions


def is_issuer(user: User | None) -> bool:
    return bool(issuing_regions(user))


def office_name(user: User, region: Region) -> str:
    """The office a task is issued in the name of: the grant's office, else the region's."""
    grant = user.task_issuer_grants.filter(active=True, region=region).first()
    if grant is not None:
        return grant.office
    return region.name


def may_issue_into(user: User | None, code: str) -> Region | None:
    """The issuing region of `user` that covers region code `code`, or None."""
    if not code:
        return None
    for region in issuing_regions(user):
        if region.contains_code(code):
            return region
    return None


def is_office(user: User | None, task) -> bool:
    """The issuer, an admin, or staff of the office's region (dispatcher, supervisor, grant)."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_portal_admin or task.issuer_id == user.pk:
        return True
    code = task.office_region.code
    if user.role_codes & AREA_ROLES and user_scope(user).covers_code(code):
        return True
    # An explicit issuer (a court liaison) belongs to its own office only, not to every office
    # of its region.
    return user.task_issuer_grants.filter(
        active=True, region_id=task.office_region_id, office=task.office
    ).exists()


def may_manage(user: User | None, task) -> bool:
    """Cancel, reassign, send back: the issuer, an admin, or a dispatcher of the office."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_portal_admin or task.issuer_id == user.pk:
        return True
    return bool(
        RoleCode.DISPATCHER in user.role_codes
        and user_scope(user).covers_code(task.office_region.code)
    )


def is_assignee(user: User | None, assignment) -> bool:
    """The worker of the assignment, or (nobody has accepted it yet) a worker of its cell."""
    if user is None or not user.is_authenticated:
        return False
    if assignment.worker_id is not None:
        return assignment.worker_id == user.pk
    return bool(assignment.cell_id and assignment.cell_id in user_scope(user).cell_ids)


def sees_area(user: User | None, assignment) -> bool:
    """Dispatchers and supervisors of the area the assignment lies in (read only)."""
    if user is None or not user.is_authenticated:
        return False
    return bool(
        user.role_codes & AREA_ROLES and user_scope(user).covers_code(assignment.region_code)
    )


def is_cell_worker(user: User | None, assignment) -> bool:
    """A worker of the assignment's cell (sees it, even once a colleague accepted it)."""
    if user is None or not user.is_authenticated:
        return False
    return bool(assignment.cell_id and assignment.cell_id in user_scope(user).cell_ids)


def may_see_assignment(user: User | None, assignment) -> bool:
    return (
        is_assignee(user, assignment)
        or is_cell_worker(user, assignment)
        or is_office(user, assignment.task)
        or sees_area(user, assignment)
    )


def may_see_addressee(user: User | None, assignment) -> bool:
    """The addressee in full: the issuer, the office's managers and the worker."""
    return is_assignee(user, assignment) or may_manage(user, assignment.task)
