"""Every read of screening, scoped to the user: the disputes they may see, the warning board,
the parties as the viewer may see them, the monthly reports and the KPIs."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import RoleCode, User
from accounts.selectors import regions_visible, user_scope
from core.exceptions import NotFoundError
from grids.models import GridCell, Region
from screening import policies
from screening.models import (
    ALERT_LEVELS,
    LEVEL_RANK,
    OPEN_STATES,
    Dispute,
    DisputeEvent,
    DisputeOutcome,
    ReportState,
    RiskLevel,
    ScreeningReport,
)


def disputes_visible(user: User | None) -> QuerySet[Dispute]:
    """Admins: all. Handlers and supervisors: their region (by code prefix). Grid workers also
    their own cells and what they registered; a community police officer the cells they are
    paired with. Nobody else (residents never see screened disputes)."""
    qs = Dispute.objects.all()
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_portal_admin:
        return qs
    codes = user.role_codes
    scope = user_scope(user)
    condition = Q(pk__in=[])
    if codes & policies.REGIONAL_ROLES and scope.prefix:
        condition |= Q(region_code__startswith=scope.prefix)
    if codes & policies.HANDLER_ROLES:
        condition |= Q(registered_by=user)
        if scope.cell_ids:
            condition |= Q(grid_cell_id__in=scope.cell_ids)
    if RoleCode.POLICE_OFFICER in codes:
        condition |= Q(grid_cell__police_officer=user)
    return qs.filter(condition)


def dispute_get_for_user(*, user: User, dispute_id: int) -> Dispute:
    dispute = (
        disputes_visible(user)
        .select_related("kind", "region", "grid_cell", "registered_by", "mediation_case")
        .filter(pk=dispute_id)
        .first()
    )
    if dispute is None:
        from audit.services import record_out_of_scope

        record_out_of_scope(user, Dispute, dispute_id)
        raise NotFoundError("Not found.")
    return dispute


def disputes_list(
    user: User, *, level: str = "", state: str = "", overdue: bool = False
) -> QuerySet[Dispute]:
    qs = disputes_visible(user).select_related("kind", "region")
    if level:
        qs = qs.filter(level=level)
    if state:
        qs = qs.filter(state=state)
    if overdue:
        qs = qs.filter(overdue=True)
    return qs


def warning_board(user: User) -> list[Dispute]:
    """Open red and orange disputes the user sees, most serious and oldest first."""
    rows = list(
        disputes_visible(user)
        .filter(state__in=OPEN_STATES, level__in=ALERT_LEVELS)
        .select_related("kind", "region", "grid_cell")
    )
    rows.sort(key=lambda d: (-LEVEL_RANK[RiskLevel(d.level)], d.registered_at))
    return rows


def dispute_timeline(dispute: Dispute) -> QuerySet[DisputeEvent]:
    return dispute.events.select_related("actor")


@dataclass(frozen=True)
class PartyView:
    side: str
    side_label: str
    name: str
    phone: str
    vulnerable: bool
    person_id: int | None


def parties_for_viewer(*, dispute: Dispute, viewer: User, reveal: bool = False) -> list[PartyView]:
    """Names and phones masked, unless `reveal` is asked by a viewer who may see contacts: then
    in full, with an audit event (audit.services.record_unmasked)."""
    show = reveal and policies.may_see_contacts(viewer)
    parties = list(dispute.parties.all())
    if show and parties:
        from audit.services import record_unmasked

        record_unmasked(viewer, dispute, ["party_name", "party_phone"])
    return [
        PartyView(
            side=party.side,
            side_label=str(party.get_side_display()),
            name=party.name if show else party.masked_name,
            phone=party.phone if show else party.masked_phone,
            vulnerable=party.vulnerable,
            person_id=party.person_id,
        )
        for party in parties
    ]


# --- monthly reports ------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def previous_month(day: date) -> date:
    return month_start(month_start(day) - timedelta(days=1))


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in the local time zone."""
    first = month_start(month)
    last_day = calendar.monthrange(first.year, first.month)[1]
    following = first + timedelta(days=last_day)
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(first, time.min), tz),
        timezone.make_aware(datetime.combine(following, time.min), tz),
    )


def communities_visible(user: User) -> QuerySet[Region]:
    return regions_visible(user).filter(level=Region.Level.COMMUNITY)


def reports_visible(user: User) -> QuerySet[ScreeningReport]:
    if user.is_portal_admin:
        return ScreeningReport.objects.select_related("region", "reported_by")
    scope = user_scope(user)
    if not (user.role_codes & policies.REGIONAL_ROLES) or not scope.prefix:
        return ScreeningReport.objects.none()
    return ScreeningReport.objects.filter(region_code__startswith=scope.prefix).select_related(
        "region", "reported_by"
    )


def reports_month(user: User, month: date) -> list[dict]:
    """Every community the user sees, with its report for `month` (or none yet)."""
    reports = {r.region_id: r for r in reports_visible(user).filter(month=month_start(month))}
    return [
        {"region": region, "report": reports.get(region.pk)}
        for region in communities_visible(user).order_by("code")
    ]


# --- KPIs -------------------------------------------------------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def dispute_figures(qs: QuerySet[Dispute]) -> dict:
    """Found, by colour, 化解率 (resolved ÷ found), escalated (民转刑: a later criminal incident
    linked), follow-ups on time, open and overdue: of the disputes in `qs`."""
    totals = qs.aggregate(
        found=Count("pk"),
        resolved=Count("pk", filter=Q(outcome=DisputeOutcome.RESOLVED)),
        escalated=Count("pk", filter=Q(escalated_incident__isnull=False)),
        open=Count("pk", filter=Q(state__in=OPEN_STATES)),
        overdue=Count("pk", filter=Q(state__in=OPEN_STATES, overdue=True)),
        follow_ups=Sum("follow_ups"),
        follow_ups_on_time=Sum("follow_ups_on_time"),
        **{level: Count("pk", filter=Q(level=level)) for level in RiskLevel.values},
    )
    found = totals["found"] or 0
    follow_ups = totals["follow_ups"] or 0
    on_time = totals["follow_ups_on_time"] or 0
    return {
        "found": found,
        "by_level": {level: totals[level] for level in RiskLevel.values},
        "resolved": totals["resolved"],
        "resolution_rate": _rate(totals["resolved"], found),
        "escalated": totals["escalated"],
        "open": totals["open"],
        "overdue": totals["overdue"],
        "follow_ups": follow_ups,
        "follow_ups_on_time": on_time,
        "on_time_rate": _rate(on_time, follow_ups),
    }


def supervised_region(user: User, code: str = "") -> Region | None:
    """The region the KPI page shows: `code` if the user's scope covers it, else the user's own
    region (admins: the top of the tree). None when the code is outside the scope."""
    visible = regions_visible(user)
    if code:
        return visible.filter(code=code).first()
    if user.scope_region_id is not None and not user.is_portal_admin:
        return user.scope_region
    return visible.filter(parent__isnull=True).order_by("code").first() or visible.first()


def dispute_kpis(user: User, *, region: Region, month: date | None = None) -> dict:
    """The figures of `region` (and one row per child region, for the drill-down) over the
    disputes the user sees registered in `month` (all time when None), with the monthly
    reports missing for that month."""
    qs = disputes_visible(user).filter(region_code__startswith=region.prefix)
    reports = reports_visible(user).filter(region_code__startswith=region.prefix)
    if month is not None:
        start, end = month_bounds(month)
        qs = qs.filter(registered_at__gte=start, registered_at__lt=end)
        reports = reports.filter(month=month_start(month))
    rows = []
    for child in region.children.order_by("code"):
        figures = dispute_figures(qs.filter(region_code__startswith=child.prefix))
        rows.append({"region": child, **figures})
    return {
        "region": region,
        "month": month,
        "totals": dispute_figures(qs),
        "rows": rows,
        "reports_missing": reports.filter(state=ReportState.MISSING).count(),
        "reports_late": reports.filter(state=ReportState.LATE).count(),
    }


def ledger_disputes(user: User, *, region: Region, month: date) -> QuerySet[Dispute]:
    start, end = month_bounds(month)
    return (
        disputes_visible(user)
        .filter(
            region_code__startswith=region.prefix, registered_at__gte=start, registered_at__lt=end
        )
        .select_related("kind", "region", "grid_cell")
        .prefetch_related("parties", "factors")
        .order_by("registered_at", "pk")
    )


def cells_for_register(user: User) -> QuerySet[GridCell]:
    """The grid cells a user may log a dispute in: their region's, and a grid worker's own."""
    qs = GridCell.objects.filter(active=True).select_related("community").order_by("code")
    if user.is_portal_admin:
        return qs
    scope = user_scope(user)
    condition = Q(pk__in=list(scope.cell_ids))
    if scope.prefix:
        condition |= Q(community__code__startswith=scope.prefix)
    return qs.filter(condition)
