"""What a user may see. Every scoped query in the project starts here."""

from dataclasses import dataclass
from typing import cast

from django.db.models import Model, Q, QuerySet

from accounts.models import RoleCode, User


@dataclass(frozen=True)
class Scope:
    """everything: admins see all. prefix: region-code prefix of the user's region (a street
    user's prefix covers the street, its communities and their cells). cell_ids: a grid worker's
    own cells. A user with neither sees only what they own (their own reports)."""

    user_id: int | None
    everything: bool = False
    prefix: str | None = None
    cell_ids: frozenset[int] = frozenset()

    @property
    def is_regional(self) -> bool:
        return self.everything or self.prefix is not None

    def covers_code(self, code: str | None) -> bool:
        if self.everything:
            return True
        return bool(self.prefix and code and code.startswith(self.prefix))


STAFF_ROLES = {
    RoleCode.GRID_WORKER,
    RoleCode.DISPATCHER,
    RoleCode.DEPARTMENT_HANDLER,
    RoleCode.MEDIATOR,
    RoleCode.PETITION_OFFICER,
    RoleCode.SUPERVISOR,
}


def user_scope(user: User) -> Scope:
    """The one place that decides which region a user may see."""
    if user is None or not user.is_authenticated:
        return Scope(user_id=None)
    if user.is_portal_admin:
        return Scope(user_id=user.pk, everything=True)
    cell_ids: frozenset[int] = frozenset()
    if RoleCode.GRID_WORKER in user.role_codes and hasattr(user, "grid_worker"):
        cell_ids = frozenset(user.grid_worker.cells.values_list("pk", flat=True))
    if user.role_codes & STAFF_ROLES and user.scope_region_id is not None:
        region = user.scope_region
        if region is None:  # scope_region_id is set
            raise AssertionError("scope_region_id is set")
        return Scope(user_id=user.pk, prefix=region.prefix, cell_ids=cell_ids)
    return Scope(user_id=user.pk, cell_ids=cell_ids)


def filter_by_scope(qs: QuerySet, user: User, *, code_field: str) -> QuerySet:
    """Keep the rows whose region code (at `code_field`) lies inside the user's region."""
    scope = user_scope(user)
    if scope.everything:
        return qs
    if scope.prefix is None:
        return qs.none()
    return qs.filter(**{f"{code_field}__startswith": scope.prefix})


def regions_visible(user: User) -> QuerySet:
    """The regions (grids.Region) inside the user's scope. accounts sits below grids: the model
    is reached through the relation accounts already declares by name (User.scope_region)."""
    region_model = cast("type[Model]", User._meta.get_field("scope_region").related_model)
    return filter_by_scope(region_model._default_manager.all(), user, code_field="code")


def users_visible(user: User) -> QuerySet:
    scope = user_scope(user)
    qs = User.objects.all()
    if scope.everything:
        return qs
    if scope.prefix is None:
        return qs.filter(pk=user.pk)
    return qs.filter(Q(scope_region__code__startswith=scope.prefix) | Q(pk=user.pk))
