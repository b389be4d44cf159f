"""What a KPI request counts: the region, period and dimensions (KpiQuery), built from
request parameters, and the filters they make."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_scope
from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from governance.kpis.access import can_view_kpis
from grids.models import GridCell, Region
from incidents.models import Category

GROUP_BYS = ("district", "street", "community", "grid", "worker", "category", "unit")
INTERVALS = ("day", "week", "month")
MAX_DAYS = 3 * 366 + 1
NONE_KEY = "-"


# --- who may see the figures, for which region and period --------------------------------------


@dataclass(frozen=True)
class KpiQuery:
    """What a KPI request counts: a region (None: everything), optional narrower dimensions,
    a period of whole local days [start, end], an optional grouping, and `now`."""

    start: date
    end: date
    region: Region | None = None
    grid_cell: GridCell | None = None
    category: Category | None = None
    worker: User | None = None
    unit: str = ""
    group_by: str = ""
    now: datetime = field(default_factory=timezone.now)

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def end_at(self) -> datetime:
        """Exclusive end: the first moment after the period."""
        return datetime.combine(
            self.end + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone()
        )

    @property
    def due_end_at(self) -> datetime:
        """Open work counts as due only when its deadline has already come."""
        return min(self.end_at, self.now)

    def params(self) -> dict[str, str]:
        """The query string that reproduces this query (the API, the ledger links)."""
        params = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.region is not None:
            params["region"] = self.region.code
        if self.grid_cell is not None:
            params["grid_cell"] = self.grid_cell.code
        if self.category is not None:
            params["category"] = self.category.code
        if self.worker is not None:
            params["worker"] = str(self.worker.pk)
        if self.unit:
            params["unit"] = self.unit
        if self.group_by:
            params["group_by"] = self.group_by
        return params


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(
            _("Enter a valid date (YYYY-MM-DD)."),
            extra={name: [_("Enter a valid date (YYYY-MM-DD).")]},
        ) from None


def default_period(now: datetime | None = None) -> tuple[date, date]:
    """The last 30 days, today included."""
    today = timezone.localdate(now or timezone.now())
    return today - timedelta(days=29), today


def default_region(user: User) -> Region | None:
    scope = user_scope(user)
    if scope.everything:
        return Region.objects.filter(parent__isnull=True).order_by("code").first()
    return user.scope_region


def kpi_query_build(
    *,
    user: User,
    params: Mapping[str, Any],
    now: datetime | None = None,
    require_kpi_access: bool = True,
) -> KpiQuery:
    """Validate request parameters (region, start, end, grid_cell, category, worker, unit,
    group_by) for `user`. PermissionDeniedError for users without KPI access (unless
    `require_kpi_access` is False: the mediation and petition ledgers, scoped by their own
    apps), NotFoundError for a region, cell or worker outside the user's scope,
    ValidationFailed for bad values."""
    if require_kpi_access and not can_view_kpis(user):
        raise PermissionDeniedError(_("Only supervisors and dispatchers see the KPIs."))
    scope = user_scope(user)
    if not scope.everything and scope.prefix is None:
        raise PermissionDeniedError(_("Your account has no region; ask an administrator."))
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}

    def text(name: str) -> str:
        value = params.get(name) or ""
        return str(value).strip()

    region_code = text("region")
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None or not scope.covers_code(region.code):
            raise NotFoundError(_("Region not found."))
    else:
        region = default_region(user)

    first, last = default_period(now)
    start = _parse_date(text("start"), "start") if text("start") else first
    end = _parse_date(text("end"), "end") if text("end") else last
    if end < start:
        errors["end"] = [_("The end date is before the start date.")]
    elif (end - start).days >= MAX_DAYS:
        errors["end"] = [_("The period is at most three years.")]

    grid_cell = None
    if text("grid_cell"):
        grid_cell = GridCell.objects.filter(code=text("grid_cell")).first()
        if grid_cell is None or not scope.covers_code(grid_cell.code):
            raise NotFoundError(_("Grid cell not found."))

    category = None
    if text("category"):
        category = Category.objects.filter(code=text("category")).first()
        if category is None:
            errors["category"] = [_("Unknown category.")]

    worker = None
    if text("worker"):
        try:
            worker = User.objects.filter(pk=int(text("worker"))).first()
        except ValueError:
            worker = None
        if worker is None:
            raise NotFoundError(_("Worker not found."))

    unit = text("unit")
    if unit and unit.count(":") < 2:
        errors["unit"] = [_("Unknown unit.")]

    group_by = text("group_by")
    if group_by and group_by not in GROUP_BYS:
        errors["group_by"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(GROUP_BYS)}]
    if errors:
        raise ValidationFailed(_("Check the filters."), extra=errors)
    return KpiQuery(
        start=start,
        end=end,
        region=region,
        grid_cell=grid_cell,
        category=category,
        worker=worker,
        unit=unit,
        group_by=group_by,
        now=now,
    )


# --- dimensions ---------------------------------------------------------------------------------


def region_code_range(prefix: str) -> dict[str, str]:
    """Region codes under a prefix as a plain range: every B-tree index serves it, whatever
    the database collation (a LIKE 'prefix%' does not in PostgreSQL without pattern ops)."""
    return {"region_code__gte": prefix.ljust(12, "0"), "region_code__lte": prefix.ljust(12, "9")}


def unit_key(level: str, region_id: int | None, department: str) -> str:
    return f"{level or ''}:{region_id or ''}:{department or ''}"


def _unit_q(key: str, prefix: str = "") -> Q:
    level, region_id, department = key.split(":", 2)
    return Q(
        **{
            f"{prefix}handling_level": level,
            f"{prefix}handling_region_id": int(region_id) if region_id.isdigit() else None,
            f"{prefix}handling_department": department,
        }
    )


def _category_ids(category: Category) -> list[int]:
    """A large class includes its subclasses (as in the dispatch queue's filter)."""
    return [category.pk, *Category.objects.filter(parent=category).values_list("pk", flat=True)]


def dimension_q(query: KpiQuery, *, prefix: str = "") -> Q:
    """The region and dimension filters, on IncidentFact (prefix "") or on Incident through
    the fact (prefix "kpi_fact__"); region and cell also work on Incident with prefix ""."""
    q = Q()
    if query.region is not None:
        q &= Q(**{f"{prefix}{k}": v for k, v in region_code_range(query.region.prefix).items()})
    if query.grid_cell is not None:
        q &= Q(**{f"{prefix}grid_cell_id": query.grid_cell.pk})
    if query.category is not None:
        q &= Q(**{f"{prefix}category_id__in": _category_ids(query.category)})
    if query.worker is not None:
        q &= Q(**{f"{prefix}assignee_id": query.worker.pk})
    if query.unit:
        q &= _unit_q(query.unit, prefix)
    return q
