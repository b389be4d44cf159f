"""Every read of volunteers, scoped to the user: tasks a volunteer may claim, an organiser's
queues, 2+N, records and points, the leaderboard, and the resident centre's items."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import user_scope
from core.exceptions import NotFoundError
from core.resident_items import ResidentItem
from grids.models import GridCell, GridWorker
from volunteers import policies
from volunteers.models import (
    HOLDING_STATES,
    Claim,
    ClaimState,
    DutyPost,
    HazardFound,
    PatrolTask,
    PointEntry,
    ServiceRecord,
    TaskState,
    Team,
    Volunteer,
    VolunteerState,
)

ZERO = Decimal("0")


def volunteer_of(user: User | None) -> Volunteer | None:
    if user is None or not user.is_authenticated:
        return None
    return Volunteer.objects.select_related("community").filter(user=user).first()


def approved_volunteer_of(user: User | None) -> Volunteer | None:
    volunteer = volunteer_of(user)
    return volunteer if volunteer and volunteer.state == VolunteerState.APPROVED else None


def _scoped(qs: QuerySet, user: User | None, field: str = "region_code") -> QuerySet:
    if user is None or not user.is_authenticated:
        return qs.none()
    scope = user_scope(user)
    if scope.everything:
        return qs
    if scope.prefix is None:
        return qs.none()
    return qs.filter(**{f"{field}__startswith": scope.prefix})


def _area_scoped(qs: QuerySet, user: User | None, field: str = "region_code") -> QuerySet:
    """Rows of the user's region, for the area's staff (policies.reads_area) only."""
    return _scoped(qs, user, field) if policies.reads_area(user) else qs.none()


# --- tasks ---------------------------------------------------------------------------------


def tasks_visible(user: User | None) -> QuerySet[PatrolTask]:
    """Tasks `user` may see: staff those posted in their scope; a volunteer those posted for
    their community or above it (the posting region's prefix starts their community's code)."""
    qs = PatrolTask.objects.select_related("region", "post")
    if user is None or not user.is_authenticated:
        return qs.none()
    condition = Q(pk__in=[])
    scope = user_scope(user)
    if scope.everything:
        return qs
    if scope.prefix is not None and policies.reads_area(user):
        condition |= Q(region_code__startswith=scope.prefix)
    volunteer = approved_volunteer_of(user)
    if volunteer is not None:
        prefixes = [volunteer.region_code[:n] for n in (2, 4, 6, 9, 12)]
        condition |= Q(region_prefix__in=prefixes)
    return qs.filter(condition)


def task_get(user: User | None, task_id: int) -> PatrolTask:
    task = tasks_visible(user).filter(pk=task_id).first()
    if task is None:
        raise NotFoundError(_("Task not found."))
    return task


def tasks_open_for_volunteer(user: User, *, now: datetime | None = None) -> QuerySet[PatrolTask]:
    now = now or timezone.now()
    volunteer = approved_volunteer_of(user)
    if volunteer is None:
        return PatrolTask.objects.none()
    prefixes = [volunteer.region_code[:n] for n in (2, 4, 6, 9, 12)]
    return PatrolTask.objects.filter(
        region_prefix__in=prefixes, state=TaskState.OPEN, ends_at__gt=now
    ).select_related("post", "region")


def claims_of(user: User) -> QuerySet[Claim]:
    return Claim.objects.filter(volunteer__user=user).select_related("task", "task__post")


def claim_get_own(user: User | None, claim_id: int) -> Claim:
    claim = (
        Claim.objects.select_related("task", "task__post", "volunteer", "patrol")
        .filter(pk=claim_id, volunteer__user_id=user.pk if user is not None and user.pk else 0)
        .first()
    )
    if claim is None:
        raise NotFoundError(_("Claim not found."))
    return claim


def claims_for_task(user: User | None, task: PatrolTask) -> QuerySet[Claim]:
    """The claimants of a task: for its organisers only (names; tracks are on the claim)."""
    if not policies.organises(user, task.region_code):
        return Claim.objects.none()
    return task.claims.select_related("volunteer", "team", "patrol").order_by("claimed_at", "id")


# --- people ---------------------------------------------------------------------------------


def applications_for(user: User | None) -> QuerySet[Volunteer]:
    if not policies.is_organiser(user):
        return Volunteer.objects.none()
    return _scoped(Volunteer.objects.select_related("user", "community"), user)


def volunteer_get_for_staff(user: User | None, volunteer_id: int) -> Volunteer:
    volunteer = applications_for(user).filter(pk=volunteer_id).first()
    if volunteer is None:
        raise NotFoundError(_("Volunteer not found."))
    return volunteer


def teams_visible(user: User | None) -> QuerySet[Team]:
    qs = Team.objects.select_related("kind", "region", "leader")
    volunteer = approved_volunteer_of(user)
    staff = _area_scoped(qs, user)
    if volunteer is None:
        return staff
    return qs.filter(Q(pk__in=staff.values("pk")) | Q(memberships__user=user)).distinct()


def team_get(user: User | None, team_id: int) -> Team:
    team = teams_visible(user).filter(pk=team_id).first()
    if team is None:
        raise NotFoundError(_("Team not found."))
    return team


def posts_visible(user: User | None) -> QuerySet[DutyPost]:
    return _area_scoped(DutyPost.objects.select_related("region"), user)


def cells_for_two_plus_n(user: User | None) -> QuerySet[GridCell]:
    """Cells whose 2+N page `user` may see: staff of the region (grid workers, organisers,
    supervisors)."""
    return _area_scoped(
        GridCell.objects.select_related("community", "police_officer"), user, "community__code"
    )


def two_plus_n(cell: GridCell) -> dict:
    """The cell's "2+N": its grid workers, the paired police officer, the teams serving it."""
    return {
        "cell": cell,
        "workers": list(GridWorker.objects.filter(cells=cell).select_related("user")),
        "police_officer": cell.police_officer,
        "teams": list(
            Team.objects.filter(cells=cell)
            .select_related("kind", "leader")
            .prefetch_related("memberships__user")
        ),
    }


# --- records and points ----------------------------------------------------------------------


def records_counting(volunteer: Volunteer) -> QuerySet[ServiceRecord]:
    """The volunteer's records that count: those no later record corrects."""
    return volunteer.records.filter(corrected_by__isnull=True)


def records_for_staff(user: User | None) -> QuerySet[ServiceRecord]:
    if not policies.is_organiser(user):
        return ServiceRecord.objects.none()
    return _scoped(ServiceRecord.objects.select_related("volunteer", "confirmed_by"), user)


def points_balance(volunteer: Volunteer) -> Decimal:
    total = volunteer.points.aggregate(total=Sum("points"))["total"] or ZERO
    return Decimal(total).quantize(Decimal("0.1"))


def hours_total(volunteer: Volunteer) -> Decimal:
    total = (
        records_counting(volunteer)
        .filter(confirmed_at__isnull=False)
        .aggregate(total=Sum("hours"))["total"]
        or ZERO
    )
    return Decimal(total).quantize(Decimal("0.01"))


def leaderboard(community_code: str, *, month: datetime | None = None, limit: int = 20) -> list:
    """The month's points earned per volunteer of one community, highest first (names only)."""
    moment = timezone.localtime(month or timezone.now())
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (start + timedelta(days=32)).replace(day=1)
    rows = (
        PointEntry.objects.filter(
            region_code=community_code,
            created_at__gte=start,
            created_at__lt=end,
            kind__in=[PointEntry.Kind.EARNED, PointEntry.Kind.CORRECTION],
        )
        .values("volunteer_id", "volunteer__real_name")
        .annotate(total=Sum("points"))
        .order_by("-total", "volunteer_id")[:limit]
    )
    return [
        {
            "volunteer_id": r["volunteer_id"],
            "name": r["volunteer__real_name"],
            "points": Decimal(r["total"]).quantize(Decimal("0.1")),
        }
        for r in rows
    ]


def hazards_of(volunteer: Volunteer) -> QuerySet[HazardFound]:
    return HazardFound.objects.filter(claim__volunteer=volunteer).select_related(
        "incident", "claim__task"
    )


# --- the resident centre (我的) ----------------------------------------------------------------


def items_for_resident(user: User | None) -> list[ResidentItem]:
    """What 我的 lists of volunteering: the application, and the claims (own records only)."""
    volunteer = volunteer_of(user)
    if volunteer is None or user is None:
        return []
    kind = _("My volunteering")
    home = reverse("volunteers:home")
    next_steps: dict[str, str] = {
        VolunteerState.APPLIED: _("The community is considering your application."),
        VolunteerState.APPROVED: _("Claim a patrol task."),
        VolunteerState.DECLINED: volunteer.decline_reason,
    }
    items = [
        ResidentItem(
            kind=kind,
            title=_("Application to volunteer (%(community)s)")
            % {"community": volunteer.community.name},
            state=str(volunteer.get_state_display()),
            url=home,
            updated_at=volunteer.updated_at,
            next_step=next_steps.get(volunteer.state, ""),
        )
    ]
    for claim in claims_of(user).order_by("-claimed_at")[:20]:
        items.append(
            ResidentItem(
                kind=kind,
                title=claim.task.title,
                state=str(claim.get_state_display()),
                url=reverse("volunteers:claim", args=[claim.pk]),
                updated_at=claim.updated_at,
                next_step=_("Check in when the task starts.")
                if claim.state == ClaimState.CLAIMED
                else "",
            )
        )
    return items


__all__ = ["HOLDING_STATES"]
