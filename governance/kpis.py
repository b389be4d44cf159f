"""KPI definitions and selectors (监督考核). Each KPI is defined once, here; the dashboards, the
API (/api/v1/kpis), the drill-down ledger and the exports all read these definitions.

Formulas (RULES.md, Jinhua practice) and the exact sets they count are in docs/supervision.md
and on the dashboard beside each number. Every count is a named *set* of incidents (a Q on
governance.models.IncidentFact for a period), so a number and the list behind it (the ledger)
are the same query. A rate whose denominator is 0 is None, shown "—".
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncDay
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from governance.models import IncidentFact
from grids.models import GridCell, Region
from incidents.models import OPEN_STATES, Category, HandlingLevel, Incident
from incidents.selectors import DEADLINE_STATES

KPI_ROLES = {RoleCode.SUPERVISOR, RoleCode.DISPATCHER}
GROUP_BYS = ("district", "street", "community", "grid", "worker", "category", "unit")
INTERVALS = ("day", "week", "month")
MAX_DAYS = 3 * 366 + 1
NONE_KEY = "-"


# --- who may see the figures, for which region and period --------------------------------------


def can_view_kpis(user: User | None) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and (user.is_portal_admin or user.role_codes & KPI_ROLES)
    )


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


# --- the sets every KPI counts ------------------------------------------------------------------


@dataclass(frozen=True)
class KpiSet:
    key: str
    name: Promise
    definition: Promise


SETS: dict[str, KpiSet] = {
    s.key: s
    for s in [
        KpiSet(
            "reported",
            pgettext_lazy("supervision", "Reported"),
            gettext_lazy("Incidents reported in the period (any state)."),
        ),
        KpiSet(
            "dispatched",
            pgettext_lazy("supervision", "Dispatched"),
            gettext_lazy(
                "Incidents first dispatched in the period (a 随手办 counts as dispatched)."
            ),
        ),
        KpiSet(
            "dispatched_on_time",
            pgettext_lazy("supervision", "Dispatched on time"),
            gettext_lazy(
                "Of those, first dispatched by the dispatch deadline, with no automatic "
                "escalation for a missed verify or dispatch deadline before."
            ),
        ),
        KpiSet(
            "extended",
            pgettext_lazy("supervision", "Extended"),
            gettext_lazy(
                "Of the incidents first dispatched in the period, those with an approved extension."
            ),
        ),
        KpiSet(
            "closed",
            pgettext_lazy("supervision", "Closed"),
            gettext_lazy("Incidents closed in the period (invalid reports excluded)."),
        ),
        KpiSet(
            "closed_on_time",
            pgettext_lazy("supervision", "Closed on time"),
            gettext_lazy(
                "Closed in the period, resolved by the resolve deadline in force (approved "
                "extensions move it) and never escalated by the deadline sweep while being "
                "handled; settled by mediation: referred before the deadline."
            ),
        ),
        KpiSet(
            "due_to_close",
            pgettext_lazy("supervision", "Due to close"),
            gettext_lazy(
                "Closed in the period, plus open incidents whose resolve deadline fell in the "
                "period (up to now)."
            ),
        ),
        KpiSet(
            "deferred",
            pgettext_lazy("supervision", "Deferred"),
            gettext_lazy("Due to close but parked (挂账) with a written explanation."),
        ),
        KpiSet(
            "due_net",
            pgettext_lazy("supervision", "Due to close − deferred"),
            gettext_lazy("Due to close, parked ones left out."),
        ),
        KpiSet(
            "urgent_due",
            pgettext_lazy("supervision", "Urgent due to close"),
            gettext_lazy("Urgent incidents due to close in the period (parked ones included)."),
        ),
        KpiSet(
            "urgent_closed",
            pgettext_lazy("supervision", "Urgent closed"),
            gettext_lazy("Urgent incidents closed in the period."),
        ),
        KpiSet(
            "urgent_closed_on_time",
            pgettext_lazy("supervision", "Urgent closed on time"),
            gettext_lazy("Urgent incidents closed on time in the period."),
        ),
        KpiSet(
            "reworked",
            pgettext_lazy("supervision", "Reworked"),
            gettext_lazy("Closed in the period after at least one rework (返工)."),
        ),
        KpiSet(
            "closed_in_grid",
            pgettext_lazy("supervision", "Solved in the grid"),
            gettext_lazy("Closed in the period with the grid as the handling level."),
        ),
        KpiSet(
            "handled",
            pgettext_lazy("supervision", "Closed with a handling time"),
            gettext_lazy(
                "Closed in the period, dispatched and resolved (mediation-only cases left out)."
            ),
        ),
        KpiSet(
            "rated",
            pgettext_lazy("supervision", "Rated"),
            gettext_lazy("Closed in the period with a rating by the reporter."),
        ),
        KpiSet(
            "satisfied",
            pgettext_lazy("supervision", "Rated 4 or 5"),
            gettext_lazy("Closed in the period, rated 4 or 5 stars."),
        ),
        KpiSet(
            "escalated",
            pgettext_lazy("supervision", "Escalated"),
            gettext_lazy(
                "Reported in the period and escalated at least once (by a person or the sweep)."
            ),
        ),
        KpiSet(
            "overdue_now",
            pgettext_lazy("supervision", "Overdue now"),
            gettext_lazy(
                "Open now and past the current verify, dispatch, resolve or check deadline "
                "(parked ones included); the period does not apply."
            ),
        ),
    ]
}
LIVE_SETS = {"overdue_now"}


# The date each simple set is counted by (IncidentFact fields).
ANCHORS = {
    "reported": "reported_at",
    "dispatched": "first_dispatched_at",
    "closed": "closed_at",
}
# Simple sets: one anchor date in the period plus a condition. They add up per day, so
# governance.aggregates also keeps them per day and community (IncidentDailyCount).
ANCHORED_SETS: dict[str, tuple[str, dict[str, Any]]] = {
    "reported": ("reported", {}),
    "escalated": ("reported", {"escalated": True}),
    "dispatched": ("dispatched", {}),
    "dispatched_on_time": ("dispatched", {"dispatched_on_time": True}),
    "extended": ("dispatched", {"extended": True}),
    "closed": ("closed", {}),
    "closed_on_time": ("closed", {"closed_on_time": True}),
    "urgent_closed": ("closed", {"urgent": True}),
    "urgent_closed_on_time": ("closed", {"urgent": True, "closed_on_time": True}),
    "reworked": ("closed", {"reworked": True}),
    "closed_in_grid": ("closed", {"handling_level": HandlingLevel.GRID}),
    "handled": ("closed", {"handling_seconds__isnull": False}),
    "rated": ("closed", {"rating__isnull": False}),
    "satisfied": ("closed", {"rating__gte": 4}),
}
# Open work whose resolve deadline fell in the period (up to now): never kept per day (it moves
# with every state change), always counted on the facts.
OPEN_DUE_PIECES: dict[str, dict[str, Any]] = {
    "open_due": {},
    "open_due_parked": {"parked": True},
    "open_due_urgent": {"urgent": True},
}
# Composite sets as sums of disjoint pieces (a closed incident is never open).
COMPOSITE_SETS: dict[str, list[tuple[int, str]]] = {
    "due_to_close": [(1, "closed"), (1, "open_due")],
    "deferred": [(1, "open_due_parked")],
    "due_net": [(1, "closed"), (1, "open_due"), (-1, "open_due_parked")],
    "urgent_due": [(1, "urgent_closed"), (1, "open_due_urgent")],
}


def set_q(key: str, query: KpiQuery, *, prefix: str = "") -> Q:
    """The condition for the set `key` over the query's period: on IncidentFact (prefix "") or
    on Incident through its fact (prefix "kpi_fact__"). Not for live sets."""

    def q(**kwargs: Any) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in kwargs.items()})

    def anchored(anchor: str) -> Q:
        field_name = ANCHORS[anchor]
        return q(**{f"{field_name}__gte": query.start_at, f"{field_name}__lt": query.end_at})

    open_due = q(
        state__in=OPEN_STATES,
        resolve_due_at__gte=query.start_at,
        resolve_due_at__lt=query.due_end_at,
    )
    if key in ANCHORED_SETS:
        anchor, condition = ANCHORED_SETS[key]
        return anchored(anchor) & q(**condition)
    if key in OPEN_DUE_PIECES:
        return open_due & q(**OPEN_DUE_PIECES[key])
    if key == "due_to_close":
        return set_q("closed", query, prefix=prefix) | open_due
    if key == "deferred":
        return open_due & q(parked=True)
    if key == "due_net":
        return set_q("closed", query, prefix=prefix) | (open_due & q(parked=False))
    if key == "urgent_due":
        return (set_q("closed", query, prefix=prefix) | open_due) & q(urgent=True)
    raise ValidationFailed(_("Unknown KPI set."), extra={"kpi": [_("Unknown KPI set.")]})


def live_q(key: str, query: KpiQuery) -> Q:
    """Live sets, on Incident (time passes without any event: overdue is read live)."""
    if key == "overdue_now":
        return Q(state__in=DEADLINE_STATES, due_at__lt=query.now)
    raise ValidationFailed(_("Unknown KPI set."), extra={"kpi": [_("Unknown KPI set.")]})


def _any_period_q(query: KpiQuery) -> Q:
    """Rows any fact-based set may count (lets the database use the date indexes)."""
    s, e = query.start_at, query.end_at
    return (
        Q(reported_at__gte=s, reported_at__lt=e)
        | Q(first_dispatched_at__gte=s, first_dispatched_at__lt=e)
        | Q(closed_at__gte=s, closed_at__lt=e)
        | Q(resolve_due_at__gte=s, resolve_due_at__lt=query.due_end_at, state__in=OPEN_STATES)
    )


# --- the KPIs -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KpiDefinition:
    key: str
    name: Promise
    formula: Promise
    kind: str  # "count", "rate" or "hours"
    numerator: str  # a set (count, rate) or the set whose handling times are averaged (hours)
    denominator: str = ""
    higher_is_better: bool = True


KPIS: list[KpiDefinition] = [
    KpiDefinition(
        "reported",
        gettext_lazy("Incidents reported"),
        pgettext_lazy("supervision formula", "reported"),
        "count",
        "reported",
    ),
    KpiDefinition(
        "on_time_dispatch",
        gettext_lazy("On-time dispatch rate"),
        gettext_lazy("dispatched within the limit / dispatched"),
        "rate",
        "dispatched_on_time",
        "dispatched",
    ),
    KpiDefinition(
        "closure_rate",
        gettext_lazy("Closure rate"),
        gettext_lazy("closed / (due to close − deferred)"),
        "rate",
        "closed",
        "due_net",
    ),
    KpiDefinition(
        "on_time_closure",
        gettext_lazy("On-time closure rate"),
        gettext_lazy("closed on time / (due to close − deferred)"),
        "rate",
        "closed_on_time",
        "due_net",
    ),
    KpiDefinition(
        "urgent_on_time_closure",
        gettext_lazy("Urgent on-time closure rate"),
        gettext_lazy("urgent closed on time / urgent due to close"),
        "rate",
        "urgent_closed_on_time",
        "urgent_due",
    ),
    KpiDefinition(
        "rework_rate",
        gettext_lazy("Rework rate"),
        gettext_lazy("incidents reworked at least once / closed"),
        "rate",
        "reworked",
        "closed",
        higher_is_better=False,
    ),
    KpiDefinition(
        "extension_rate",
        gettext_lazy("Extension rate"),
        gettext_lazy("extended / dispatched"),
        "rate",
        "extended",
        "dispatched",
        higher_is_better=False,
    ),
    KpiDefinition(
        "mean_handling_hours",
        gettext_lazy("Mean handling time (hours)"),
        gettext_lazy("mean(resolved − first dispatched) over incidents closed in the period"),
        "hours",
        "handled",
        higher_is_better=False,
    ),
    KpiDefinition(
        "satisfaction",
        gettext_lazy("Satisfaction rate"),
        gettext_lazy("rated 4 or 5 / rated"),
        "rate",
        "satisfied",
        "rated",
    ),
    KpiDefinition(
        "solved_in_grid",
        gettext_lazy("Solved-in-grid rate"),
        gettext_lazy("closed with handling level grid / closed"),
        "rate",
        "closed_in_grid",
        "closed",
    ),
    KpiDefinition(
        "overdue_now",
        gettext_lazy("Overdue now"),
        gettext_lazy("open and past the current deadline"),
        "count",
        "overdue_now",
        higher_is_better=False,
    ),
    KpiDefinition(
        "escalated",
        gettext_lazy("Escalated"),
        gettext_lazy("reported in the period and escalated at least once"),
        "count",
        "escalated",
        higher_is_better=False,
    ),
    KpiDefinition(
        "deferred",
        gettext_lazy("Deferred (parked)"),
        gettext_lazy("due to close and parked"),
        "count",
        "deferred",
        higher_is_better=False,
    ),
]
KPI_BY_KEY = {kpi.key: kpi for kpi in KPIS}
# Every fact-based set is counted (the KPIs' numerators and denominators, and the parts of
# the composite ones, e.g. due to close and deferred, shown beside them).
FACT_SETS = [key for key in SETS if key not in LIVE_SETS]


def kpi_definitions() -> list[dict[str, Any]]:
    """Name, formula and the definitions of the sets each KPI counts (shown beside it)."""
    result = []
    for kpi in KPIS:
        sets = [kpi.numerator] + ([kpi.denominator] if kpi.denominator else [])
        result.append(
            {
                "key": kpi.key,
                "name": str(kpi.name),
                "formula": str(kpi.formula),
                "kind": kpi.kind,
                "higher_is_better": kpi.higher_is_better,
                "sets": [
                    {
                        "key": key,
                        "name": str(SETS[key].name),
                        "definition": str(SETS[key].definition),
                    }
                    for key in sets
                ],
            }
        )
    return result


# --- computing ----------------------------------------------------------------------------------


@dataclass
class KpiValue:
    key: str
    kind: str
    value: float | int | None
    numerator: int
    denominator: int | None
    numerator_set: str
    denominator_set: str

    @property
    def display(self) -> str:
        if self.value is None:
            return "—"
        if self.kind == "rate":
            return f"{self.value * 100:.1f}%"
        if self.kind == "hours":
            return f"{self.value:.1f}"
        return str(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "display": self.display,
            "numerator": self.numerator,
            "denominator": self.denominator,
        }


@dataclass
class KpiRow:
    key: str  # the group key ("" for the total)
    label: str
    counts: dict[str, int]
    handling_seconds: int
    values: dict[str, KpiValue] = field(default_factory=dict)
    filters: dict[str, str] = field(default_factory=dict)  # ledger params selecting the group

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "filters": self.filters,
            "kpis": {key: value.as_dict() for key, value in self.values.items()},
        }


def _value(kpi: KpiDefinition, counts: Mapping[str, int], handling_seconds: int) -> KpiValue:
    numerator = counts.get(kpi.numerator, 0)
    denominator: int | None = None
    value: float | int | None
    if kpi.kind == "count":
        value = numerator
    elif kpi.kind == "rate":
        denominator = counts.get(kpi.denominator, 0)
        value = round(numerator / denominator, 4) if denominator else None
    else:  # hours: the mean of the handling times of the set
        denominator = numerator
        numerator = handling_seconds
        value = round(handling_seconds / denominator / 3600, 2) if denominator else None
    return KpiValue(
        key=kpi.key,
        kind=kpi.kind,
        value=value,
        numerator=numerator,
        denominator=denominator,
        numerator_set=kpi.numerator,
        denominator_set=kpi.denominator,
    )


def _group_expression(group_by: str) -> Any:
    return {
        "": None,
        "district": Substr("region_code", 1, 6),
        "street": Substr("region_code", 1, 9),
        "community": F("region_code"),
        "grid": F("grid_cell_id"),
        "worker": F("assignee_id"),
        "category": F("category_id"),
        "unit": None,  # three columns, see _group_values
    }[group_by]


def _group_values(qs: QuerySet, group_by: str) -> QuerySet:
    if group_by == "unit":
        return qs.values("handling_level", "handling_region_id", "handling_department")
    expression = _group_expression(group_by)
    if expression is None:
        return qs
    return qs.values(group=expression)


def _row_key(row: Mapping[str, Any], group_by: str) -> str:
    if group_by == "unit":
        return unit_key(
            row["handling_level"], row["handling_region_id"], row["handling_department"]
        )
    if not group_by:
        return ""
    value = row["group"]
    return NONE_KEY if value in (None, "") else str(value)


def fact_counts(query: KpiQuery) -> dict[str, dict[str, Any]]:
    """Counts of every fact-based set (and the summed handling time), per group key. Region
    queries (no cell, category, worker or unit; grouped by region at most) read the daily
    counts for the simple sets; everything else reads the facts."""
    if uses_daily_counts(query):
        return _daily_counts(query)
    return _fact_counts(query)


def _unalias(row: Mapping[str, Any]) -> dict[str, Any]:
    return {(k[2:] if k.startswith("n_") else k): v for k, v in row.items()}


def _fact_counts(query: KpiQuery) -> dict[str, dict[str, Any]]:
    facts = IncidentFact.objects.filter(dimension_q(query)).filter(_any_period_q(query))
    # Aliases must not shadow field names the filters use ("closed_on_time" ...).
    aggregates: dict[str, Any] = {
        f"n_{key}": Count("pk", filter=set_q(key, query)) for key in FACT_SETS
    }
    aggregates["n_handling_seconds_sum"] = Sum(
        "handling_seconds", filter=set_q("handled", query), default=0
    )
    grouped = _group_values(facts, query.group_by)
    if not query.group_by:
        return {"": _unalias(grouped.aggregate(**aggregates))}
    result: dict[str, dict[str, Any]] = {}
    for row in grouped.annotate(**aggregates).order_by():
        result[_row_key(row, query.group_by)] = _unalias(row)
    return result


REGION_GROUPS = ("", "district", "street", "community")


def uses_daily_counts(query: KpiQuery) -> bool:
    return (
        query.group_by in REGION_GROUPS
        and query.grid_cell is None
        and query.category is None
        and query.worker is None
        and not query.unit
        and facts_watermark() is not None  # the daily counts exist once the facts were built
    )


def _daily_counts(query: KpiQuery) -> dict[str, dict[str, Any]]:
    """The same counts as _fact_counts, from IncidentDailyCount (simple sets, per day) plus the
    open work due in the period from the facts."""
    from governance.models import IncidentDailyCount

    days = IncidentDailyCount.objects.filter(day__gte=query.start, day__lte=query.end)
    if query.region is not None:
        days = days.filter(**region_code_range(query.region.prefix))
    sums: dict[str, Any] = {f"n_{key}": Sum(key, default=0) for key in ANCHORED_SETS}
    sums["n_handling_seconds_sum"] = Sum("handling_seconds", default=0)
    open_facts = IncidentFact.objects.filter(dimension_q(query)).filter(set_q("open_due", query))
    pieces = {
        f"n_{key}": Count("pk", filter=Q(**condition)) for key, condition in OPEN_DUE_PIECES.items()
    }
    if query.group_by:
        day_rows = {
            _row_key(row, query.group_by): _unalias(row)
            for row in _group_values(days, query.group_by).annotate(**sums).order_by()
        }
        open_rows = {
            _row_key(row, query.group_by): _unalias(row)
            for row in _group_values(open_facts, query.group_by).annotate(**pieces).order_by()
        }
    else:
        day_rows = {"": _unalias(days.aggregate(**sums))}
        open_rows = {"": _unalias(open_facts.aggregate(**pieces))}
    result: dict[str, dict[str, Any]] = {}
    for key in set(day_rows) | set(open_rows):
        counts = dict.fromkeys([*ANCHORED_SETS, *OPEN_DUE_PIECES, "handling_seconds_sum"], 0)
        for source in (day_rows.get(key, {}), open_rows.get(key, {})):
            counts.update({k: v or 0 for k, v in source.items() if k in counts})
        for composite, parts in COMPOSITE_SETS.items():
            counts[composite] = sum(sign * counts[part] for sign, part in parts)
        result[key] = counts
    return result


def live_counts(query: KpiQuery) -> dict[str, dict[str, int]]:
    """Live sets (overdue now), counted on the incident table per group key."""
    incidents = Incident.objects.filter(dimension_q(query)).filter(live_q("overdue_now", query))
    if query.group_by == "unit":
        grouped = incidents.values("handling_level", "handling_region_id", "handling_department")
    else:
        expression = _group_expression(query.group_by)
        if expression is None:
            return {"": {"overdue_now": incidents.count()}}
        grouped = incidents.values(group=expression)
    return {
        _row_key(row, query.group_by): {"overdue_now": row["n"]}
        for row in grouped.annotate(n=Count("pk")).order_by()
    }


def _labels(group_by: str, keys: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    """Display label and ledger filter params of each group key."""
    real = [k for k in keys if k != NONE_KEY]
    labels: dict[str, tuple[str, dict[str, str]]] = {}
    if group_by in ("district", "street", "community"):
        codes = {k: k.ljust(12, "0") for k in real}
        names = dict(Region.objects.filter(code__in=codes.values()).values_list("code", "name"))
        for key, code in codes.items():
            labels[key] = (names.get(code, code), {"community": code})
        labels[NONE_KEY] = (_("Not located"), {"unlocated": "1"})
    elif group_by == "grid":
        cells = GridCell.objects.filter(pk__in=[int(k) for k in real]).values_list(
            "pk", "code", "name"
        )
        for pk, code, name in cells:
            labels[str(pk)] = (f"{name} ({code})", {"grid_cell": code})
        labels[NONE_KEY] = (_("In no grid cell"), {"no_cell": "1"})
    elif group_by == "worker":
        for user in User.objects.filter(pk__in=[int(k) for k in real]):
            labels[str(user.pk)] = (str(user), {"worker": str(user.pk)})
        labels[NONE_KEY] = (_("Nobody assigned"), {"worker": NONE_KEY})
    elif group_by == "category":
        for category in Category.objects.filter(pk__in=[int(k) for k in real]):
            labels[str(category.pk)] = (
                f"{category.code} {category.display_name}",
                {"category": category.code},
            )
    elif group_by == "unit":
        region_ids = {int(k.split(":")[1]) for k in keys if k.split(":")[1].isdigit()}
        regions = dict(Region.objects.filter(pk__in=region_ids).values_list("pk", "name"))
        level_labels = dict(HandlingLevel.choices)
        for key in keys:
            level, region_id, department = key.split(":", 2)
            if department:
                label = department
            elif level:
                region_name = regions.get(int(region_id), "") if region_id.isdigit() else ""
                label = f"{region_name} · {level_labels.get(level, level)}".strip(" ·")
            else:
                label = _("Not yet dispatched")
            labels[key] = (label, {"unit": key})
    return labels


@dataclass
class KpiTable:
    query: KpiQuery
    total: KpiRow
    rows: list[KpiRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {"start": self.query.start.isoformat(), "end": self.query.end.isoformat()},
            "region": (
                {"code": self.query.region.code, "name": self.query.region.name}
                if self.query.region
                else None
            ),
            "group_by": self.query.group_by,
            "definitions": kpi_definitions(),
            "total": self.total.as_dict(),
            "rows": [row.as_dict() for row in self.rows],
        }


def _make_row(key: str, label: str, counts: Mapping[str, Any]) -> KpiRow:
    handling = int(counts.get("handling_seconds_sum") or 0)
    clean = {k: int(counts.get(k) or 0) for k in [*FACT_SETS, *LIVE_SETS]}
    row = KpiRow(key=key, label=label, counts=clean, handling_seconds=handling)
    row.values = {kpi.key: _value(kpi, clean, handling) for kpi in KPIS}
    return row


def cache_seconds() -> int:
    """How long counts are reused (settings.GOVERNANCE_KPI_CACHE_SECONDS; 60 by default, 0
    under tests): the facts move once a minute anyway, and a wall of large screens polling
    the same figures then costs one query a minute."""
    from django.conf import settings

    default = 0 if getattr(settings, "TESTING", False) else 60
    return int(getattr(settings, "GOVERNANCE_KPI_CACHE_SECONDS", default))


_page_marks = threading.local()


@contextmanager
def one_watermark_read() -> Iterator[None]:
    """Within the block (one page: governance.dashboards), the facts' watermark is read once
    rather than once per cached block (the dashboard asks for it 7 times)."""
    _page_marks.active, _page_marks.has_mark = True, False
    try:
        yield
    finally:
        _page_marks.active, _page_marks.has_mark = False, False


def facts_watermark() -> datetime | None:
    """governance.aggregates.facts_as_of, once per one_watermark_read() block."""
    from governance.aggregates import facts_as_of

    if not getattr(_page_marks, "active", False):
        return facts_as_of()
    if not _page_marks.has_mark:
        _page_marks.mark, _page_marks.has_mark = facts_as_of(), True
    return _page_marks.mark


def _cached_counts(query: KpiQuery, compute: Any, kind: str) -> dict[str, dict[str, Any]]:
    seconds = cache_seconds()
    if seconds <= 0:
        return compute(query)
    import hashlib

    from django.core.cache import cache

    mark = facts_watermark()
    raw = f"{kind}|{sorted(query.params().items())}|{mark.isoformat() if mark else ''}"
    key = "governance:kpi:" + hashlib.sha256(raw.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute(query)
        cache.set(key, value, seconds)
    return value


def kpi_table(query: KpiQuery) -> KpiTable:
    """Every KPI for the query's region and period: the total and, with group_by, one row per
    group (busiest first). Counts are reused for cache_seconds()."""
    total_query = KpiQuery(**{**query.__dict__, "group_by": ""})
    totals = dict(_cached_counts(total_query, fact_counts, "facts")[""])
    totals.update(_cached_counts(total_query, live_counts, "live")[""])
    total = _make_row("", _("Total"), totals)
    rows: list[KpiRow] = []
    if query.group_by:
        facts = _cached_counts(query, fact_counts, "facts")
        live = _cached_counts(query, live_counts, "live")
        keys = sorted(set(facts) | set(live))
        labels = _labels(query.group_by, keys)
        for key in keys:
            counts = {**facts.get(key, {}), **live.get(key, {})}
            label, filters = labels.get(key, (key, {}))
            row = _make_row(key, label, counts)
            row.filters = filters
            rows.append(row)
        rows.sort(key=lambda r: (-r.counts["reported"], -r.counts["closed"], r.label))
    return KpiTable(query=query, total=total, rows=rows)


# --- drill-down ---------------------------------------------------------------------------------


def ledger_params(
    query: KpiQuery, set_key: str, group_filters: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Query parameters of the ledger page listing the incidents behind a number. Region,
    category and cell use the dispatch queue's FilterSet names (community, category,
    grid_cell); the KPI extras are kpi, start, end, worker, unit, unlocated, no_cell."""
    params: dict[str, str] = {"kpi": set_key}
    if set_key not in LIVE_SETS:
        params["start"] = query.start.isoformat()
        params["end"] = query.end.isoformat()
    if query.region is not None:
        params["community"] = query.region.code
    if query.grid_cell is not None:
        params["grid_cell"] = query.grid_cell.code
    if query.category is not None:
        params["category"] = query.category.code
    if query.worker is not None:
        params["worker"] = str(query.worker.pk)
    if query.unit:
        params["unit"] = query.unit
    params.update(group_filters or {})
    return params


def ledger_url(
    query: KpiQuery, set_key: str, group_filters: Mapping[str, str] | None = None
) -> str:
    return f"{_ledger_base()}?{urlencode(ledger_params(query, set_key, group_filters))}"


def _ledger_base() -> str:
    # A dashboard makes thousands of links (rows × KPIs); reverse() once per script prefix.
    from django.urls import get_script_prefix

    return _ledger_base_for(get_script_prefix())


@lru_cache(maxsize=8)
def _ledger_base_for(prefix: str) -> str:
    return reverse("governance:incident_ledger")


def queue_url(query: KpiQuery, set_key: str) -> str:
    """The same list on the dispatch queue page when its FilterSet can express it (reported,
    overdue now, without worker/unit filters); "" otherwise."""
    if query.worker is not None or query.unit or set_key not in ("reported", "overdue_now"):
        return ""
    try:
        url = reverse("incidents:queue")
    except NoReverseMatch:
        return ""
    params: dict[str, str] = {}
    if query.region is not None:
        params["community"] = query.region.code
    if query.grid_cell is not None:
        params["grid_cell"] = query.grid_cell.code
    if query.category is not None:
        params["category"] = query.category.code
    if set_key == "reported":
        params["reported_from"] = query.start.isoformat()
        params["reported_to"] = query.end.isoformat()
    else:
        params["overdue"] = "true"
    return f"{url}?{urlencode(params)}"


LEDGER_EXTRA_PARAMS = ("kpi", "start", "end", "worker", "unit", "unlocated", "no_cell", "page")


def ledger_data(params: Mapping[str, Any]) -> QueryDict:
    """Request parameters as a QueryDict (a page's request.GET, or an export job's saved
    params: a dict of lists or of strings)."""
    if isinstance(params, QueryDict):
        return params
    data = QueryDict(mutable=True)
    for key, value in params.items():
        if isinstance(value, list | tuple):
            data.setlist(key, [str(v) for v in value])
        elif value is not None:
            data[key] = str(value)
    return data


def ledger_queryset(
    *, user: User, params: Mapping[str, Any], now: datetime | None = None
) -> QuerySet[Incident]:
    """The incidents behind a KPI number: the dispatch queue (same visibility, same FilterSet,
    same order) narrowed by the KPI set of the period and the KPI dimensions. The region is
    always applied (the user's own by default), so the count equals the KPI's."""
    from incidents.selectors import dispatch_queue

    data = ledger_data(params)
    worker_param = (data.get("worker") or "").strip()
    query = kpi_query_build(
        user=user,
        params={
            "region": data.get("community") or "",
            "start": data.get("start") or "",
            "end": data.get("end") or "",
            "worker": "" if worker_param == NONE_KEY else worker_param,
            "unit": data.get("unit") or "",
        },
        now=now,
    )
    filters = data.copy()
    for key in LEDGER_EXTRA_PARAMS:
        filters.pop(key, None)
    qs = dispatch_queue(user, filters)
    if query.region is not None:
        qs = qs.filter(**region_code_range(query.region.prefix))
    set_key = (data.get("kpi") or "").strip()
    if set_key in LIVE_SETS:
        qs = qs.filter(live_q(set_key, query))
    elif set_key:
        if set_key not in SETS:
            raise ValidationFailed(_("Unknown KPI set."), extra={"kpi": [_("Unknown KPI set.")]})
        qs = qs.filter(set_q(set_key, query, prefix="kpi_fact__"))
    # Worker and unit as the KPI counted them: from the facts for a fact-based set.
    prefix = "kpi_fact__" if set_key and set_key not in LIVE_SETS else ""
    if worker_param == NONE_KEY:
        qs = qs.filter(**{f"{prefix}assignee_id__isnull": True})
    elif query.worker is not None:
        qs = qs.filter(**{f"{prefix}assignee_id": query.worker.pk})
    if query.unit:
        qs = qs.filter(_unit_q(query.unit, prefix))
    if data.get("unlocated") == "1":
        qs = qs.filter(region_code="")
    if data.get("no_cell") == "1":
        qs = qs.filter(grid_cell__isnull=True)
    return qs


# --- charts -------------------------------------------------------------------------------------


def kpi_trend(query: KpiQuery, *, interval: str = "day") -> list[dict[str, Any]]:
    """kpi_trend, reused for cache_seconds() like the KPI table (docs/performance.md)."""
    return _cached_counts(
        query, lambda q: _kpi_trend(q, interval=interval), f"trend|{interval}|{get_language()}"
    )


def _kpi_trend(query: KpiQuery, *, interval: str = "day") -> list[dict[str, Any]]:
    """Reported, closed and closed-on-time counts per day, week or month of the period."""
    if interval not in INTERVALS:
        raise ValidationFailed(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(INTERVALS)},
            extra={"interval": [_("Unknown interval.")]},
        )

    def bucket_of(day: date) -> str:
        if interval == "week":
            day = day - timedelta(days=day.weekday())
        elif interval == "month":
            day = day.replace(day=1)
        return day.isoformat()

    series: dict[str, dict[str, int]] = {}

    def add(day: date, key: str, value: int) -> None:
        entry = series.setdefault(bucket_of(day), {})
        entry[key] = entry.get(key, 0) + (value or 0)

    if uses_daily_counts(KpiQuery(**{**query.__dict__, "group_by": ""})):
        from governance.models import IncidentDailyCount

        days = IncidentDailyCount.objects.filter(day__gte=query.start, day__lte=query.end)
        if query.region is not None:
            days = days.filter(**region_code_range(query.region.prefix))
        for row in (
            days.values("day")
            .annotate(
                reported=Sum("reported"),
                closed=Sum("closed"),
                closed_on_time=Sum("closed_on_time"),
            )
            .order_by()
        ):
            for key in ("reported", "closed", "closed_on_time"):
                add(row["day"], key, row[key])
    else:
        tz = timezone.get_current_timezone()
        facts = IncidentFact.objects.filter(dimension_q(query))
        reported = (
            facts.filter(set_q("reported", query))
            .annotate(period=TruncDay("reported_at", tzinfo=tz))
            .values("period")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in reported:
            add(_as_date(row["period"]), "reported", row["n"])
        closed = (
            facts.filter(set_q("closed", query))
            .annotate(period=TruncDay("closed_at", tzinfo=tz))
            .values("period")
            .annotate(n=Count("pk"), on_time=Count("pk", filter=Q(closed_on_time=True)))
            .order_by()
        )
        for row in closed:
            add(_as_date(row["period"]), "closed", row["n"])
            add(_as_date(row["period"]), "closed_on_time", row["on_time"])
    # Every bucket of the period, empty ones too (a chart without gaps).
    buckets: list[str] = []
    day = query.start
    while day <= query.end:
        if interval == "day":
            key = day
        elif interval == "week":
            key = day - timedelta(days=day.weekday())
        else:
            key = day.replace(day=1)
        if not buckets or buckets[-1] != key.isoformat():
            buckets.append(key.isoformat())
        day += timedelta(days=1)
    return [
        {
            "period": key,
            "reported": series.get(key, {}).get("reported", 0),
            "closed": series.get(key, {}).get("closed", 0),
            "closed_on_time": series.get(key, {}).get("closed_on_time", 0),
        }
        for key in buckets
    ]


def _as_date(value: datetime | date) -> date:
    return value.date() if isinstance(value, datetime) else value


def reported_by_category(query: KpiQuery, *, large_class: bool = True) -> list[dict[str, Any]]:
    """_reported_by_category, reused for cache_seconds() like the KPI table."""
    return _cached_counts(
        query,
        lambda q: _reported_by_category(q, large_class=large_class),
        f"categories|{large_class}|{get_language()}",
    )


def _reported_by_category(query: KpiQuery, *, large_class: bool = True) -> list[dict[str, Any]]:
    """Incidents reported in the period per category (large class by default), most first."""
    rows = (
        IncidentFact.objects.filter(dimension_q(query))
        .filter(set_q("reported", query))
        .values("category_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    categories = {c.pk: c for c in Category.objects.select_related("parent")}
    counts: dict[int, int] = {}
    for row in rows:
        category = categories.get(row["category_id"])
        if category is None:
            continue
        target = category.parent if large_class and category.parent_id else category
        counts[target.pk] = counts.get(target.pk, 0) + row["n"]
    result = [
        {
            "code": categories[pk].code,
            "name": categories[pk].display_name,
            "count": n,
            "url": ledger_url(query, "reported", {"category": categories[pk].code}),
        }
        for pk, n in counts.items()
    ]
    return sorted(result, key=lambda r: (-r["count"], r["code"]))


def cell_heat(query: KpiQuery, *, user: User) -> dict[str, Any]:
    """_cell_heat, reused for cache_seconds() like the KPI table (per user: the cells are
    the ones the user sees)."""
    return _cached_counts(
        query, lambda q: _cell_heat(q, user=user), f"heat|{user.pk}|{get_language()}"
    )


def _cell_heat(query: KpiQuery, *, user: User) -> dict[str, Any]:
    """GeoJSON of the grid cells in the region the user sees, each with the incidents reported
    in the period and those overdue now (the heat map colours by either)."""
    from grids.selectors import grid_cell_view

    cells = grid_cell_view(user=user).cells.filter(active=True)
    if query.region is not None:
        cells = cells.filter(code__startswith=query.region.prefix)
    if query.grid_cell is not None:
        cells = cells.filter(pk=query.grid_cell.pk)
    reported = dict(
        IncidentFact.objects.filter(dimension_q(query))
        .filter(set_q("reported", query), grid_cell_id__isnull=False)
        .values_list("grid_cell_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    overdue = dict(
        Incident.objects.filter(dimension_q(query))
        .filter(live_q("overdue_now", query), grid_cell_id__isnull=False)
        .values_list("grid_cell_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    features = []
    for cell in cells.order_by("code").only("pk", "code", "name", "geometry", "community__name"):
        features.append(
            {
                "type": "Feature",
                "geometry": cell.geometry,
                "properties": {
                    "code": cell.code,
                    "name": cell.name,
                    "community": cell.community.name,
                    "reported": reported.get(cell.pk, 0),
                    "overdue": overdue.get(cell.pk, 0),
                    "url": ledger_url(query, "reported", {"grid_cell": cell.code}),
                    "overdue_url": ledger_url(query, "overdue_now", {"grid_cell": cell.code}),
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


# --- mediation and petitions --------------------------------------------------------------------


def mediation_kpis(query: KpiQuery, *, user: User) -> dict[str, Any] | None:
    """_mediation_kpis, reused for cache_seconds() like the KPI table (per user: the cases the
    user sees)."""
    return _cached_counts(
        query, lambda q: _mediation_kpis(q, user=user), f"mediation_kpis|{user.pk}|{get_language()}"
    )


def _mediation_kpis(query: KpiQuery, *, user: User) -> dict[str, Any] | None:
    """Mediation success rate (agreements / cases concluded in the period) and mean days from
    application to agreement, over the cases the user sees in the region: the formula of
    mediation.selectors.case_stats, restricted to a region. None when the user sees no cases
    by region (mediation cases are shown to supervisors, mediators and admins)."""
    from mediation.models import CaseOutcome
    from mediation.selectors import cases_visible

    if not (user.is_portal_admin or user.has_role(RoleCode.SUPERVISOR)):
        return None
    qs = (
        cases_visible(user)
        .exclude(outcome="")
        .filter(concluded_at__gte=query.start_at, concluded_at__lt=query.end_at)
    )
    if query.region is not None:
        qs = qs.filter(**region_code_range(query.region.prefix))
    concluded = 0
    agreements = 0
    days: list[float] = []
    for outcome, created, ended in qs.values_list("outcome", "created_at", "concluded_at"):
        concluded += 1
        if outcome == CaseOutcome.AGREEMENT:
            agreements += 1
            days.append((ended - created).total_seconds() / 86400)
    return {
        "concluded": concluded,
        "agreements": agreements,
        "success_rate": round(agreements / concluded, 4) if concluded else None,
        "success_percent": round(100 * agreements / concluded, 1) if concluded else None,
        "mean_days": round(sum(days) / len(days), 1) if days else None,
    }


PETITION_KPI_NAMES = {
    "timely_acceptance": gettext_lazy("Timely acceptance rate"),
    "on_time_completion": gettext_lazy("On-time completion rate"),
    "satisfaction": gettext_lazy("Petition satisfaction rate"),
    "settled": gettext_lazy("Settled rate (no further petition)"),
    "backlog_resolution": gettext_lazy("Backlog resolution rate"),
}


def petition_kpis(query: KpiQuery, *, user: User) -> dict[str, Any] | None:
    """_petition_kpis, reused for cache_seconds() like the KPI table (per user: the cases the
    user sees)."""
    return _cached_counts(
        query, lambda q: _petition_kpis(q, user=user), f"petition_kpis|{user.pk}|{get_language()}"
    )


def _petition_kpis(query: KpiQuery, *, user: User) -> dict[str, Any] | None:
    """The petitions app's own KPIs (petitions.selectors.petition_kpis, formulas in
    docs/petitions.md) for petitions received in the period in the region. None for users who
    do not see petitions by region."""
    from petitions import selectors as petition_selectors

    if not petition_selectors.is_petition_staff(user):
        return None
    qs = petition_selectors.petitions_for_analysis(
        user=user, date_from=query.start, date_to=query.end
    )
    if query.region is not None:
        qs = qs.filter(**region_code_range(query.region.prefix))
    kpis = petition_selectors.petition_kpis(qs=qs, now=query.now)
    return {
        key: {**kpis[key], "name": str(name)}
        for key, name in PETITION_KPI_NAMES.items()
        if key in kpis
    }
