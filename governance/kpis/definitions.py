"""The KPIs: name, formula, kind, and the sets they divide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy, pgettext_lazy

from governance.kpi_sets import LIVE_SETS
from governance.kpis.sets import SETS

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
