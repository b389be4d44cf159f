"""Counting the sets and computing the KPIs: the total and one row per group."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from accounts.models import User
from governance.kpi_sets import ANCHORED_SETS, COMPOSITE_SETS, LIVE_SETS, OPEN_DUE_PIECES
from governance.kpis.caching import _cached_counts, facts_watermark
from governance.kpis.definitions import FACT_SETS, KPIS, KpiDefinition, kpi_definitions
from governance.kpis.query import NONE_KEY, KpiQuery, dimension_q, region_code_range, unit_key
from governance.kpis.sets import _any_period_q, live_q, set_q
from governance.models import IncidentFact
from grids.models import GridCell, Region
from incidents.models import Category, HandlingLevel, Incident

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
    grouped: QuerySet[Any, Any]
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
