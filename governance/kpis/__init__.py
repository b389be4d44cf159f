"""KPI definitions and selectors (监督考核). Each KPI is defined once, here; the dashboards, the
API (/api/v1/kpis), the drill-down ledger and the exports all read these definitions.

Formulas (RULES.md, Jinhua practice) and the exact sets they count are in docs/supervision.md
and on the dashboard beside each number. Every count is a named *set* of incidents (a Q on
governance.models.IncidentFact for a period), so a number and the list behind it (the ledger)
are the same query. A rate whose denominator is 0 is None, shown "—".

The package, by concern (each module imports only those above it):
- `access`: who may see the figures (`can_view_kpis`);
- `query`: `KpiQuery` (region, period, dimensions), `kpi_query_build` from request
  parameters, and the dimension filters (`dimension_q`, `region_code_range`);
- `governance.kpi_sets` (outside the package, pure data shared with governance.aggregates):
  the anchors and conditions of the simple sets, the composite ones;
- `sets`: the named sets (`SETS`) and their conditions (`set_q`, `live_q`);
- `definitions`: the KPIs (`KPIS`, `kpi_definitions`);
- `caching`: counts reused for `cache_seconds()`, the facts' watermark read once per page;
- `compute`: counting the sets per group, `kpi_table`;
- `ledger`: the incidents behind a number (`ledger_queryset`) and the links to it;
- `charts`: trend, categories, heat map;
- `other_apps`: the mediation and petition KPIs, through those apps' selectors.
"""

from django.utils import timezone as timezone

from governance.kpi_sets import (
    ANCHORED_SETS,
    ANCHORS,
    COMPOSITE_SETS,
    LIVE_SETS,
    OPEN_DUE_PIECES,
)
from governance.kpis.access import KPI_ROLES, can_view_kpis
from governance.kpis.caching import (
    _cached_counts,
    cache_seconds,
    facts_watermark,
    one_watermark_read,
)
from governance.kpis.charts import (
    _as_date,
    _cell_heat,
    _kpi_trend,
    _reported_by_category,
    cell_heat,
    kpi_trend,
    reported_by_category,
)
from governance.kpis.compute import (
    REGION_GROUPS,
    KpiRow,
    KpiTable,
    KpiValue,
    _daily_counts,
    _fact_counts,
    _group_expression,
    _group_values,
    _labels,
    _make_row,
    _row_key,
    _unalias,
    _value,
    fact_counts,
    kpi_table,
    live_counts,
    uses_daily_counts,
)
from governance.kpis.definitions import (
    FACT_SETS,
    KPI_BY_KEY,
    KPIS,
    KpiDefinition,
    kpi_definitions,
)
from governance.kpis.ledger import (
    LEDGER_EXTRA_PARAMS,
    _ledger_base,
    _ledger_base_for,
    ledger_data,
    ledger_params,
    ledger_queryset,
    ledger_url,
    queue_url,
)
from governance.kpis.other_apps import (
    PETITION_KPI_NAMES,
    _mediation_kpis,
    _petition_kpis,
    mediation_kpis,
    petition_kpis,
)
from governance.kpis.query import (
    GROUP_BYS,
    INTERVALS,
    MAX_DAYS,
    NONE_KEY,
    KpiQuery,
    _category_ids,
    _parse_date,
    _unit_q,
    default_period,
    default_region,
    dimension_q,
    kpi_query_build,
    region_code_range,
    unit_key,
)
from governance.kpis.sets import SETS, KpiSet, _any_period_q, live_q, set_q
from incidents.selectors import DEADLINE_STATES

__all__ = [
    "ANCHORED_SETS",
    "ANCHORS",
    "COMPOSITE_SETS",
    "DEADLINE_STATES",
    "FACT_SETS",
    "GROUP_BYS",
    "INTERVALS",
    "KPIS",
    "KPI_BY_KEY",
    "KPI_ROLES",
    "LEDGER_EXTRA_PARAMS",
    "LIVE_SETS",
    "MAX_DAYS",
    "NONE_KEY",
    "OPEN_DUE_PIECES",
    "PETITION_KPI_NAMES",
    "REGION_GROUPS",
    "SETS",
    "KpiDefinition",
    "KpiQuery",
    "KpiRow",
    "KpiSet",
    "KpiTable",
    "KpiValue",
    "_any_period_q",
    "_as_date",
    "_cached_counts",
    "_category_ids",
    "_cell_heat",
    "_daily_counts",
    "_fact_counts",
    "_group_expression",
    "_group_values",
    "_kpi_trend",
    "_labels",
    "_ledger_base",
    "_ledger_base_for",
    "_make_row",
    "_mediation_kpis",
    "_parse_date",
    "_petition_kpis",
    "_reported_by_category",
    "_row_key",
    "_unalias",
    "_unit_q",
    "_value",
    "cache_seconds",
    "can_view_kpis",
    "cell_heat",
    "default_period",
    "default_region",
    "dimension_q",
    "fact_counts",
    "facts_watermark",
    "kpi_definitions",
    "kpi_query_build",
    "kpi_table",
    "kpi_trend",
    "ledger_data",
    "ledger_params",
    "ledger_queryset",
    "ledger_url",
    "live_counts",
    "live_q",
    "mediation_kpis",
    "one_watermark_read",
    "petition_kpis",
    "queue_url",
    "region_code_range",
    "reported_by_category",
    "set_q",
    "timezone",
    "unit_key",
    "uses_daily_counts",
]
