"""Drill-down: the list of incidents behind a number (the ledger) and links to it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ValidationFailed
from governance.kpi_sets import LIVE_SETS
from governance.kpis.query import NONE_KEY, KpiQuery, _unit_q, kpi_query_build, region_code_range
from governance.kpis.sets import SETS, live_q, set_q
from incidents.models import Incident

# --- drill-down ---------------------------------------------------------------------------------


# KpiQuery.params() names the ledger spells differently (the dispatch queue's FilterSet).
LEDGER_PARAM_NAMES = {"region": "community"}


def ledger_params(
    query: KpiQuery, set_key: str, group_filters: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Query parameters of the ledger page listing the incidents behind a number. Region,
    category and cell use the dispatch queue's FilterSet names (community, category,
    grid_cell); the KPI extras are kpi, start, end, worker, unit, unlocated, no_cell."""
    params: dict[str, str] = {"kpi": set_key}
    for name, value in query.params().items():
        if name == "group_by" or (name in ("start", "end") and set_key in LIVE_SETS):
            continue  # a live set has no period; the ledger lists, it does not group
        params[LEDGER_PARAM_NAMES.get(name, name)] = value
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
