"""Reads of the mediation app, already scoped to the user.

Who sees which case: admins all; a mediator the cases of the rooms they serve in; a supervisor
the cases of their region (where the dispute is, or the room serving it); everybody the cases
they applied for, are a party to, or referred (from an incident or a petition).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from audit.services import record_out_of_scope
from core.exceptions import NotFoundError
from mediation.models import (
    PROPOSAL_ORDER,
    CaseOutcome,
    CaseParty,
    CaseSource,
    CaseState,
    MediationCase,
    MediationRoom,
    MediationSession,
    RoomLevel,
    RoomMediator,
    RoomType,
    region_code_at_level,
)

# How far ahead a room must have a free session slot to be proposed for a referral.
PROPOSAL_WINDOW_DAYS = 7


def mediator_room_ids(user: User) -> set[int]:
    if user is None or not user.is_authenticated:
        return set()
    return set(
        RoomMediator.objects.filter(user=user, active=True).values_list("room_id", flat=True)
    )


def user_is_room_staff(user: User, room_id: int) -> bool:
    """Admins, and the active mediators of the room, run its cases."""
    if user is None or not user.is_authenticated:
        return False
    if user.is_portal_admin:
        return True
    return user.has_role(RoleCode.MEDIATOR) and room_id in mediator_room_ids(user)


def rooms_list(*, user: User, include_inactive: bool = False) -> QuerySet[MediationRoom]:
    """Rooms are public information (residents choose one); inactive ones only for admins."""
    qs = MediationRoom.objects.select_related("region").prefetch_related(
        "categories",
        Prefetch(
            "memberships",
            queryset=RoomMediator.objects.filter(active=True).select_related("user"),
            to_attr="active_memberships",
        ),
    )
    if not (include_inactive and user.is_portal_admin):
        qs = qs.filter(active=True)
    return qs.order_by("sort_order", "name")


def room_get(*, user: User, room_id: int) -> MediationRoom:
    room = rooms_list(user=user, include_inactive=True).filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    return room


def cases_visible(user: User) -> QuerySet[MediationCase]:
    qs = MediationCase.objects.select_related("room", "mediator", "category")
    if user is None or not user.is_authenticated:
        return qs.none()
    if user.is_portal_admin:
        return qs
    # Whoever referred a case (an incident's handler, a petition officer) follows it; a
    # mediator sees walk-ins through the room only, so leaving a room hides its cases.
    referred = Q(created_by=user, source__in=[CaseSource.INCIDENT, CaseSource.PETITION])
    condition = Q(applicant_user=user) | referred
    condition |= Q(pk__in=CaseParty.objects.filter(user=user).values("case_id"))
    if user.has_role(RoleCode.MEDIATOR):
        condition |= Q(room_id__in=list(mediator_room_ids(user)))
    if user.has_role(RoleCode.SUPERVISOR):
        scope = user_scope(user)
        if scope.prefix:
            condition |= Q(region_code__startswith=scope.prefix) | Q(
                room__region_code__startswith=scope.prefix
            )
    return qs.filter(condition)


def case_get_for_user(*, user: User, case_id: int) -> MediationCase:
    case = cases_visible(user).filter(pk=case_id).first()
    if case is None:
        record_out_of_scope(user, MediationCase, case_id)
        raise NotFoundError(_("Mediation case not found."))
    return case


def case_for_incident(*, incident_id: int) -> MediationCase | None:
    """The latest case referred from an incident (for the incident pages)."""
    return MediationCase.objects.filter(incident_id=incident_id).order_by("-created_at").first()


def cases_for_mediator(*, user: User) -> QuerySet[MediationCase]:
    return cases_visible(user).filter(room_id__in=list(mediator_room_ids(user)))


def cases_applied_by(*, user: User) -> QuerySet[MediationCase]:
    return cases_visible(user).filter(
        Q(applicant_user=user) | Q(pk__in=CaseParty.objects.filter(user=user).values("case_id"))
    )


def sessions_visible(user: User) -> QuerySet[MediationSession]:
    return MediationSession.objects.select_related("case", "room", "mediator").filter(
        case__in=cases_visible(user)
    )


def sessions_between(*, user: User, start: datetime, end: datetime) -> QuerySet[MediationSession]:
    """The calendar: sessions of the cases the user sees, in [start, end)."""
    return sessions_visible(user).filter(starts_at__gte=start, starts_at__lt=end)


# --- referral proposals -------------------------------------------------------------------


@dataclass(frozen=True)
class RoomProposal:
    room: MediationRoom
    tier: int  # 0 village/community, 1 township/street, 2 county/district, 3 city
    free_slots: int  # free session slots over the next PROPOSAL_WINDOW_DAYS days


def _free_slots(rooms: list[MediationRoom], start_day: date, days: int) -> dict[int, int]:
    """Free session slots per room over `days` days from `start_day` (capacity minus the
    sessions already planned on each day; a full day counts zero, never negative)."""
    tz = timezone.get_current_timezone()
    window_start = datetime.combine(start_day, datetime.min.time(), tzinfo=tz)
    window_end = window_start + timedelta(days=days)
    booked: dict[tuple[int, date], int] = defaultdict(int)
    sessions = MediationSession.objects.filter(
        room__in=rooms,
        starts_at__gte=window_start,
        starts_at__lt=window_end,
    ).exclude(state=MediationSession.State.CANCELLED)
    for room_id, starts_at in sessions.values_list("room_id", "starts_at"):
        booked[(room_id, timezone.localtime(starts_at).date())] += 1
    free: dict[int, int] = {}
    for room in rooms:
        total = 0
        for offset in range(days):
            day = start_day + timedelta(days=offset)
            total += max(0, room.capacity_per_day - booked[(room.pk, day)])
        free[room.pk] = total
    return free


def rooms_proposed(
    *, region_code: str, category, on_date: date | None = None
) -> list[RoomProposal]:
    """Rooms for a dispute at `region_code`, nearest first: the community's (village) rooms,
    then the street's (township), the district's (county) and the city's, keeping only active
    rooms that take the category and have a free session slot in the coming week."""
    on_date = on_date or timezone.localdate()
    proposals: list[RoomProposal] = []
    if not region_code:
        return proposals
    targets = {level: region_code_at_level(region_code, level) for level in PROPOSAL_ORDER}
    condition = Q()
    for level, code in targets.items():
        condition |= Q(level=level, region_code=code)
    rooms = list(
        MediationRoom.objects.filter(condition, active=True)
        .select_related("region")
        .prefetch_related("categories")
    )
    rooms = [room for room in rooms if room.takes_category(category)]
    free = _free_slots(rooms, on_date, PROPOSAL_WINDOW_DAYS)
    tiers: dict[str, int] = {level: index for index, level in enumerate(PROPOSAL_ORDER)}
    for room in rooms:
        if free[room.pk] <= 0:
            continue
        proposals.append(RoomProposal(room=room, tier=tiers[room.level], free_slots=free[room.pk]))
    proposals.sort(key=lambda p: (p.tier, not p.room.gold_rated, p.room.sort_order, p.room.name))
    return proposals


def rooms_proposed_for_incident(*, incident, on_date: date | None = None) -> list[RoomProposal]:
    code = incident.region_code or getattr(incident.handling_region, "code", "") or ""
    return rooms_proposed(region_code=code, category=incident.category, on_date=on_date)


# --- statistics ---------------------------------------------------------------------------

STAT_GROUPS = ("room", "room_type", "level", "category")


def case_stats(
    *,
    user: User,
    group_by: str = "room",
    concluded_from: date | None = None,
    concluded_to: date | None = None,
) -> list[dict]:
    """Success rate (agreements / cases concluded) and average days to settle (application to
    agreement), per room, room type, level or category, over the cases the user sees."""
    if group_by not in STAT_GROUPS:
        group_by = "room"
    qs = cases_visible(user).exclude(outcome="")
    if concluded_from:
        qs = qs.filter(concluded_at__date__gte=concluded_from)
    if concluded_to:
        qs = qs.filter(concluded_at__date__lte=concluded_to)
    rows = qs.values_list(
        "room_id",
        "room__name",
        "room__room_type",
        "room__level",
        "category__code",
        "category__name",
        "outcome",
        "created_at",
        "concluded_at",
    )
    type_labels = dict(RoomType.choices)
    level_labels = dict(RoomLevel.choices)
    groups: dict[str, dict] = {}
    for room_id, room_name, room_type, level, cat_code, cat_name, outcome, created, ended in rows:
        if group_by == "room":
            key, label = str(room_id), room_name
        elif group_by == "room_type":
            key, label = room_type, str(type_labels.get(room_type, room_type))
        elif group_by == "level":
            key, label = level, str(level_labels.get(level, level))
        else:
            key, label = cat_code or "", (f"{cat_code} {cat_name}" if cat_code else _("none"))
        group = groups.setdefault(
            key, {"key": key, "label": label, "concluded": 0, "agreements": 0, "days": []}
        )
        group["concluded"] += 1
        if outcome == CaseOutcome.AGREEMENT:
            group["agreements"] += 1
            if ended and created:
                group["days"].append((ended - created).total_seconds() / 86400)
    result = []
    for group in sorted(groups.values(), key=lambda g: (-g["concluded"], g["label"])):
        days = group.pop("days")
        group["success_rate"] = round(group["agreements"] / group["concluded"], 4)
        group["average_days_to_settle"] = round(sum(days) / len(days), 1) if days else None
        result.append(group)
    return result


def case_counts_by_state(*, user: User) -> dict[str, int]:
    rows = cases_visible(user).values("state").annotate(n=Count("id"))
    counts = dict.fromkeys(CaseState.values, 0)
    for row in rows:
        counts[row["state"]] = row["n"]
    return counts


# --- what a user may do (pages show only these buttons) ----------------------------------


def case_actions_for(*, user: User, case: MediationCase) -> set[str]:
    actions: set[str] = set()
    staff = user_is_room_staff(user, case.room_id)
    state = case.state
    is_applicant = case.applicant_user_id == user.pk
    if staff:
        if state == CaseState.APPLIED:
            actions |= {"accept", "decline"}
        if state in (CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION):
            actions |= {"schedule", "fail", "refuse", "extend", "assign"}
        if state == CaseState.APPLIED:
            actions.add("assign")
        if state == CaseState.SCHEDULED:
            actions.add("start_session")
        if state == CaseState.IN_SESSION:
            actions |= {"minutes", "agreement", "start_session"}
        agreement = getattr(case, "agreement", None) if _has_agreement(case) else None
        if agreement is not None and not agreement.is_effective:
            actions.add("sign")
            if (
                agreement.form == agreement.Form.WRITTEN
                and not agreement.is_sealed
                and state == CaseState.IN_SESSION
            ):
                actions.add("seal")
        if state == CaseState.AGREEMENT_REACHED:
            actions.add("follow_up")
            if (
                agreement is not None
                and agreement.form == agreement.Form.WRITTEN
                and case.confirmation_due_at
                and timezone.now() <= case.confirmation_due_at
            ):
                actions.add("confirmation")
        if state == CaseState.CONFIRMATION_REQUESTED:
            actions.add("follow_up")
        if state in (CaseState.FOLLOWED_UP, CaseState.FAILED, CaseState.WITHDRAWN):
            actions.add("close")
    if is_applicant and state in (
        CaseState.APPLIED,
        CaseState.ACCEPTED,
        CaseState.SCHEDULED,
        CaseState.IN_SESSION,
    ):
        actions.add("withdraw")
    if _has_agreement(case) or state in (CaseState.AGREEMENT_REACHED,):
        actions.add("print")
    return actions


def _has_agreement(case: MediationCase) -> bool:
    try:
        case.agreement  # noqa: B018 - a reverse one-to-one raises when missing
    except MediationCase.agreement.RelatedObjectDoesNotExist:
        return False
    return True
