"""The mediation and petition KPIs, read through those apps' selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.utils.translation import get_language, gettext_lazy

from accounts.models import RoleCode, User
from governance.kpis.caching import _cached_counts
from governance.kpis.query import KpiQuery, region_code_range

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
            # concluded_at is set: the filter above asks for it
            days.append((cast(datetime, ended) - created).total_seconds() / 86400)
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
