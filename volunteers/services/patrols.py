"""Claim-style patrols (抢单式巡防) and duty posts (群防任务): post, claim, withdraw, check in,
check out, report hazards.

Claims are first come, first served with exactly as many winners as places: one conditional
UPDATE (`taken = taken + 1 WHERE taken < places`) decides. PostgreSQL re-checks the condition
after a concurrent UPDATE of the row commits (READ COMMITTED), SQLite runs one write transaction
at a time (IMMEDIATE), and a CHECK constraint (taken <= places) backs both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from core.workflow import lock, move, record
from grids.models import GridCell, Region
from volunteers import areas, policies
from volunteers.models import (
    CLAIM_GRAPH,
    CheckIn,
    Claim,
    ClaimAction,
    ClaimEvent,
    ClaimState,
    DutyPost,
    HazardFound,
    PatrolTask,
    ServiceRecord,
    TaskLevel,
    TaskState,
    Team,
    Volunteer,
    VolunteerState,
)
from volunteers.services._common import fail, not_found, now, text

CHECK_IN_EARLY = timedelta(minutes=15)  # a phone may check in a little before the start
CHECK_OUT_GRACE = timedelta(minutes=30)  # and check out a little after the end
DEFAULT_WITHDRAW_BEFORE = timedelta(hours=2)
MAX_PLACES = 10_000
LEVEL_OF_REGION = {
    TaskLevel.CITY: Region.Level.CITY,
    TaskLevel.DISTRICT: Region.Level.DISTRICT,
    TaskLevel.STREET: Region.Level.STREET,
    TaskLevel.COMMUNITY: Region.Level.COMMUNITY,
    TaskLevel.GRID: Region.Level.COMMUNITY,
}


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)


# --- posting --------------------------------------------------------------------------------


def task_post(
    *,
    actor: User,
    title: str,
    level: str,
    region_id: int | None,
    starts_at: datetime | None,
    ends_at: datetime | None,
    places: int | None,
    description: str = "",
    cell_ids: Sequence[int] = (),
    route: Any = None,
    route_buffer_m: int = 100,
    required_checkins: int = 2,
    withdraw_until: datetime | None = None,
    organiser_name: str = "",
) -> PatrolTask:
    """An organiser (community or street staff, or above) posts a patrol task in their scope.
    The area is grid cells of the region, a route line, or both; level grid needs cells of one
    community. All field errors at once; nothing is written on any."""
    errors: dict[str, list[str]] = {}
    title_text = (title or "").strip()
    if not title_text:
        errors["title"] = [_("Give the task a title.")]
    elif len(title_text) > 100:
        errors["title"] = [_("At most %(n)s characters.") % {"n": 100}]
    if level not in TaskLevel.values:
        errors["level"] = [_("Choose a level.")]
    region = Region.objects.filter(pk=region_id or 0).first()
    if region is None or not policies.organises(actor, region.code):
        errors["region"] = [_("Choose a region in your area.")]
    elif level in TaskLevel.values and region.level != LEVEL_OF_REGION[TaskLevel(level)]:
        errors["region"] = [_("The region does not match the level.")]
    cells = list(GridCell.objects.filter(pk__in=list(cell_ids or []), active=True))
    if len(cells) != len(set(cell_ids or [])) or (
        region is not None and any(not region.contains_code(c.code) for c in cells)
    ):
        errors["cells"] = [_("Choose grid cells of the task's region.")]
    if route in ("", None, {}):
        route = None
    elif problems := areas.route_problems(route):
        errors["route"] = problems
    if not cells and route is None:
        errors.setdefault("cells", [_("Choose grid cells or draw a route on the map.")])
    if level == TaskLevel.GRID and not cells:
        errors.setdefault("cells", [_("A grid-level task names its grid cells.")])
    moment = now()
    if starts_at is None:
        errors["starts_at"] = [_("Give the start.")]
    elif starts_at <= moment:
        errors["starts_at"] = [_("The start must lie ahead.")]
    if ends_at is None:
        errors["ends_at"] = [_("Give the end.")]
    elif starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_("The end must come after the start.")]
    elif starts_at is not None and ends_at - starts_at > timedelta(hours=24):
        errors["ends_at"] = [_("A task lasts at most 24 hours.")]
    if not isinstance(places, int) or isinstance(places, bool) or not 1 <= places <= MAX_PLACES:
        errors["places"] = [_("Between 1 and %(n)s places.") % {"n": MAX_PLACES}]
    if not isinstance(required_checkins, int) or not 2 <= required_checkins <= 20:
        errors["required_checkins"] = [_("Between 2 and 20 check-ins (in and out included).")]
    if not isinstance(route_buffer_m, int) or not 10 <= route_buffer_m <= 2000:
        errors["route_buffer_m"] = [_("Between 10 and 2000 metres.")]
    if starts_at is not None and withdraw_until is not None and withdraw_until > starts_at:
        errors["withdraw_until"] = [_("Withdrawals close at the latest when the task starts.")]
    _errors(errors)
    if not (region is not None and starts_at is not None and ends_at is not None):
        raise AssertionError(
            "unreachable: region is not None and starts_at is not None and ends_at is "
        )
    organiser = text(organiser_name, "organiser_name", limit=100) or region.name
    with transaction.atomic():
        task = PatrolTask.objects.create(
            title=title_text,
            description=text(description, "description", limit=2000),
            level=level,
            region=region,
            region_code=region.code,
            region_prefix=region.prefix,
            route=route,
            route_buffer_m=route_buffer_m,
            starts_at=starts_at,
            ends_at=ends_at,
            withdraw_until=withdraw_until or max(moment, starts_at - DEFAULT_WITHDRAW_BEFORE),
            places=places,  # type: ignore[misc]
            required_checkins=required_checkins,
            posted_by=actor,
            organiser_name=organiser,
        )
        task.cells.set(cells)
        return task


def task_cancel(*, actor: User, task_id: int, reason: str) -> PatrolTask:
    """The organiser cancels a task that has not started; claimants are told."""
    from core.services import notification_send

    reason_text = text(reason, "reason", required=True)
    with transaction.atomic():
        task = lock(PatrolTask, task_id, not_found=not_found(_("Task not found.")))
        if not policies.organises(actor, task.region_code):
            raise not_found(_("Task not found."))
        if task.state != TaskState.OPEN or task.starts_at <= now():
            raise ConflictError(_("Only an open task that has not started can be cancelled."))
        task.state = TaskState.CANCELLED
        task.save(update_fields=["state", "updated_at"])
        claimants = list(
            task.claims.filter(state=ClaimState.CLAIMED).values_list(
                "volunteer__user_id", flat=True
            )
        )
        notification_send(
            user_ids=claimants,
            title=_("Patrol task cancelled: %(title)s") % {"title": task.title},
            body=reason_text,
            url=f"/volunteers/tasks/{task.pk}/",
        )
        return task


# --- duty posts --------------------------------------------------------------------------------


def post_save(
    *,
    actor: User,
    name: str,
    kind: str,
    region_id: int | None,
    lat: float | None,
    lng: float | None,
    shift_start: Any,
    shift_end: Any,
    places: int | None,
    weekdays: Sequence[int] = (1, 2, 3, 4, 5, 6, 7),
    radius_m: int = 150,
) -> DutyPost:
    """An organiser sets up a duty post (守望岗, 交通调流点) with its weekly shifts."""
    errors: dict[str, list[str]] = {}
    name_text = (name or "").strip()
    if not name_text or len(name_text) > 64:
        errors["name"] = [_("Give the post a name (at most 64 characters).")]
    if kind not in DutyPost.Kind.values:
        errors["kind"] = [_("Choose a kind of post.")]
    region = Region.objects.filter(pk=region_id or 0).first()
    if region is None or not policies.organises(actor, region.code):
        errors["region"] = [_("Choose a region in your area.")]
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        errors["location"] = [_("Mark the post on the map.")]
    if shift_start is None or shift_end is None or shift_end <= shift_start:
        errors["shift_end"] = [_("A shift ends after it starts (on the same day).")]
    if not isinstance(places, int) or not 1 <= places <= 100:
        errors["places"] = [_("Between 1 and %(n)s places.") % {"n": 100}]
    days = sorted({int(d) for d in weekdays if str(d).isdigit() and 1 <= int(d) <= 7})
    if not days:
        errors["weekdays"] = [_("Choose at least one weekday.")]
    if not isinstance(radius_m, int) or not 20 <= radius_m <= 2000:
        errors["radius_m"] = [_("Between 20 and 2000 metres.")]
    _errors(errors)
    if not (region is not None and isinstance(places, int)):
        raise AssertionError("unreachable: region is not None and isinstance(places, int)")
    return DutyPost.objects.create(
        name=name_text,
        kind=kind,
        region=region,
        region_code=region.code,
        lat=float(lat),  # type: ignore[arg-type]
        lng=float(lng),  # type: ignore[arg-type]
        radius_m=radius_m,
        weekdays=",".join(str(d) for d in days),
        shift_start=shift_start,
        shift_end=shift_end,
        places=places,
        posted_by=actor,
    )


def shifts_generate(*, post_id: int, days: int = 7, today: date | None = None) -> int:
    """The shifts of the next `days` days for an active post (idempotent: one shift per post and
    start, a unique constraint). Returns how many were created."""
    post = DutyPost.objects.select_related("region").filter(pk=post_id, active=True).first()
    if post is None:
        return 0
    start_day = today or timezone.localdate()
    created = 0
    tz = timezone.get_current_timezone()
    for offset in range(days):
        day = start_day + timedelta(days=offset)
        if day.isoweekday() not in post.weekday_numbers():
            continue
        starts_at = timezone.make_aware(datetime.combine(day, post.shift_start), tz)
        ends_at = timezone.make_aware(datetime.combine(day, post.shift_end), tz)
        if starts_at <= now():
            continue
        _task, was_created = PatrolTask.objects.get_or_create(
            post=post,
            starts_at=starts_at,
            defaults={
                "title": post.name,
                "level": TaskLevel.COMMUNITY
                if post.region.level == Region.Level.COMMUNITY
                else TaskLevel.STREET,
                "region": post.region,
                "region_code": post.region_code,
                "region_prefix": post.region.prefix,
                "ends_at": ends_at,
                "withdraw_until": max(now(), starts_at - DEFAULT_WITHDRAW_BEFORE),
                "places": post.places,
                "required_checkins": 2,
                "posted_by": post.posted_by,
                "organiser_name": post.region.name,
            },
        )
        created += was_created
    return created


# --- claiming -------------------------------------------------------------------------------


def _approved_volunteer(actor: User) -> Volunteer:
    volunteer = (
        Volunteer.objects.filter(user_id=actor.pk).first() if actor.is_authenticated else None
    )
    if volunteer is None or volunteer.state != VolunteerState.APPROVED:
        raise PermissionDeniedError(_("Only approved volunteers claim patrol tasks."))
    return volunteer


def volunteer_may_see(volunteer: Volunteer, task: PatrolTask) -> bool:
    return volunteer.region_code.startswith(task.region_prefix)


def task_claim(*, actor: User, task_id: int, team_id: int | None = None) -> Claim:
    """An approved volunteer takes a place (first come, first served; until the task ends, so
    that a no-show's freed place can be taken). ConflictError when the task is full, cancelled,
    over, or already claimed by them; nothing changes
    then. `team_id`: claiming for a team the volunteer belongs to (shown to the organiser)."""
    volunteer = _approved_volunteer(actor)
    try:
        with transaction.atomic():
            task = PatrolTask.objects.filter(pk=task_id).first()
            if task is None or not volunteer_may_see(volunteer, task):
                raise not_found(_("Task not found."))
            moment = now()
            if task.state != TaskState.OPEN:
                raise ConflictError(_("This task was cancelled."))
            if task.ends_at <= moment:
                raise ConflictError(_("This task has ended: it can no longer be claimed."))
            team = None
            if team_id:
                team = Team.objects.filter(pk=team_id, memberships__user=actor).first()
                if team is None:
                    raise fail("team", _("Choose a team you belong to."))
            claim = Claim.objects.select_for_update().filter(task=task, volunteer=volunteer).first()
            if claim is not None and claim.state != ClaimState.WITHDRAWN:
                raise ConflictError(_("You have already claimed a place on this task."))
            won = PatrolTask.objects.filter(
                pk=task.pk, state=TaskState.OPEN, taken__lt=F("places")
            ).update(taken=F("taken") + 1, updated_at=moment)
            if not won:
                raise ConflictError(
                    _("All %(n)s places of this task are taken.") % {"n": task.places},
                    extra={"places": [_("The task is full.")]},
                )
            if claim is None:
                claim = Claim.objects.create(
                    task=task, volunteer=volunteer, team=team, claimed_at=moment
                )
                previous = ""
            else:
                previous = move(claim, CLAIM_GRAPH, ClaimAction.CLAIM)
                claim.team = team
                claim.claimed_at = moment
                claim.reminded_at = None
                claim.save()
            record(
                ClaimEvent,
                claim,
                actor=actor,
                action=ClaimAction.CLAIM,
                from_state=previous,
                to_state=claim.state,
            )
            return claim
    except IntegrityError:
        # The same volunteer's concurrent second claim: the unique (task, volunteer) refused it
        # and the whole transaction (its place included) rolled back.
        raise ConflictError(_("You have already claimed a place on this task.")) from None


def _own_claim_locked(actor: User, claim_id: int) -> Claim:
    claim = lock(
        Claim.objects.select_related("task", "task__post", "volunteer"),
        claim_id,
        not_found=not_found(_("Claim not found.")),
    )
    if claim.volunteer.user_id != actor.pk:
        raise not_found(_("Claim not found."))
    return claim


def claim_withdraw(*, actor: User, claim_id: int) -> Claim:
    """The volunteer gives the place back, before the task's withdrawal cutoff only."""
    with transaction.atomic():
        claim = _own_claim_locked(actor, claim_id)
        task = claim.task
        if now() > task.withdraw_until:
            raise ConflictError(
                _("Withdrawals closed at %(at)s: ask the organiser instead.")
                % {"at": _fmt(task.withdraw_until)}
            )
        previous = move(claim, CLAIM_GRAPH, ClaimAction.WITHDRAW, conflict=_claim_conflict)
        claim.save()
        PatrolTask.objects.filter(pk=task.pk).update(taken=F("taken") - 1)
        record(
            ClaimEvent,
            claim,
            actor=actor,
            action=ClaimAction.WITHDRAW,
            from_state=previous,
            to_state=claim.state,
        )
        return claim


def _claim_conflict(claim: Claim, action: str, target: str | None) -> ConflictError:
    messages: dict[str, str] = {
        ClaimAction.WITHDRAW: _(
            "Only a claimed place that is not yet checked in can be given back."
        ),
        ClaimAction.CHECK_IN: _("You have already checked in, or this place is no longer yours."),
        ClaimAction.CHECKPOINT: _("Check in first."),
        ClaimAction.CHECK_OUT: _("Check in first."),
        ClaimAction.HAZARD: _("Hazards are reported during the patrol, after checking in."),
    }
    return ConflictError(
        messages.get(action, _("Not possible in this state.")), extra={"state": [claim.state]}
    )


# --- doing it ---------------------------------------------------------------------------------


def _position(lat: Any, lng: Any) -> tuple[float, float]:
    try:
        lat_f, lng_f = float(lat), float(lng)
    except (TypeError, ValueError):
        lat_f = lng_f = float("nan")
    if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
        raise fail("location", _("Your position is missing: allow the phone's location."))
    return lat_f, lng_f


def _check_place(task: PatrolTask, lat: float, lng: float) -> None:
    if not areas.inside_task_area(task, lat, lng):
        raise fail(
            "location",
            _("You are outside the task's area: check in from inside it."),
        )


def _checkin_row(claim: Claim, kind: str, lat: float, lng: float, moment: datetime) -> CheckIn:
    from grids.locator import locate

    return CheckIn.objects.create(
        claim=claim, kind=kind, at=moment, lat=lat, lng=lng, cell_id=locate(lat, lng).cell_id
    )


def _track_point(lat: float, lng: float, moment: datetime) -> list:
    return [lat, lng, timezone.localtime(moment).isoformat()]


def claim_check_in(*, actor: User, claim_id: int, lat: Any, lng: Any) -> Claim:
    """Check in on the phone: inside the area, between 15 minutes before the start and the
    end. Starts the patrol log (incidents.PatrolLog) that keeps the track."""
    from incidents.models import PatrolLog
    from incidents.services import patrol_add_points

    lat_f, lng_f = _position(lat, lng)
    with transaction.atomic():
        claim = _own_claim_locked(actor, claim_id)
        task = claim.task
        moment = now()
        if not CLAIM_GRAPH.can(ClaimAction.CHECK_IN, claim.state):
            raise _claim_conflict(claim, ClaimAction.CHECK_IN, None)
        if moment < task.starts_at - CHECK_IN_EARLY:
            raise fail(
                "time",
                _("Too early: check in from %(at)s.")
                % {"at": _fmt(task.starts_at - CHECK_IN_EARLY)},
            )
        if moment > task.ends_at:
            raise fail("time", _("The task ended at %(at)s.") % {"at": _fmt(task.ends_at)})
        _check_place(task, lat_f, lng_f)
        previous = move(claim, CLAIM_GRAPH, ClaimAction.CHECK_IN)
        if PatrolLog.objects.filter(worker=actor, ended_at__isnull=True).exists():
            raise ConflictError(_("You are on another patrol: end it first."))
        patrol = PatrolLog.objects.create(
            worker=actor,
            region_code=claim.volunteer.region_code,
            started_at=moment,
            notes=task.title,
        )
        claim.patrol = patrol
        claim.checked_in_at = moment
        claim.checkins = 1
        claim.save()
        _checkin_row(claim, CheckIn.Kind.IN, lat_f, lng_f, moment)
        patrol_add_points(
            patrol_id=patrol.pk, actor=actor, points=[_track_point(lat_f, lng_f, moment)]
        )
        record(
            ClaimEvent,
            claim,
            actor=actor,
            action=ClaimAction.CHECK_IN,
            from_state=previous,
            to_state=claim.state,
        )
        return claim


def claim_checkpoint(*, actor: User, claim_id: int, lat: Any, lng: Any) -> Claim:
    """A check-in on the way (the task may require several): inside the area, in the window."""
    from incidents.services import patrol_add_points

    lat_f, lng_f = _position(lat, lng)
    with transaction.atomic():
        claim = _own_claim_locked(actor, claim_id)
        task = claim.task
        moment = now()
        move(claim, CLAIM_GRAPH, ClaimAction.CHECKPOINT, conflict=_claim_conflict)
        if moment > task.ends_at + CHECK_OUT_GRACE:
            raise fail("time", _("The task ended at %(at)s.") % {"at": _fmt(task.ends_at)})
        _check_place(task, lat_f, lng_f)
        claim.checkins += 1
        claim.save(update_fields=["checkins", "updated_at"])
        _checkin_row(claim, CheckIn.Kind.POINT, lat_f, lng_f, moment)
        if claim.patrol_id:
            patrol_add_points(
                patrol_id=claim.patrol_id, actor=actor, points=[_track_point(lat_f, lng_f, moment)]
            )
        record(ClaimEvent, claim, actor=actor, action=ClaimAction.CHECKPOINT)
        return claim


def claim_track(*, actor: User, claim_id: int, points: Sequence) -> Claim:
    """The phone sends the GPS fixes of the last ~30 s while checked in."""
    from incidents.services import patrol_add_points

    with transaction.atomic():
        claim = _own_claim_locked(actor, claim_id)
        if claim.state != ClaimState.ON_DUTY or not claim.patrol_id:
            raise _claim_conflict(claim, ClaimAction.CHECKPOINT, None)
        patrol_add_points(patrol_id=claim.patrol_id, actor=actor, points=points)
        return claim


def _hours(claim: Claim, moment: datetime) -> Decimal:
    task = claim.task
    if not (claim.checked_in_at is not None):
        raise AssertionError("unreachable: claim.checked_in_at is not None")
    start = max(claim.checked_in_at, task.starts_at)
    end = min(moment, task.ends_at)
    seconds = max(0.0, (end - start).total_seconds())
    return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def claim_check_out(*, actor: User, claim_id: int, lat: Any, lng: Any) -> Claim:
    """Check out: inside the area, up to 30 minutes after the end, with the required number of
    check-ins reached (this one included). Ends the patrol log and writes the service record
    (hours from the check-ins, clipped to the window) for the organiser to confirm; the
    organiser is told."""
    from core.services import notification_send
    from incidents.services import patrol_end

    lat_f, lng_f = _position(lat, lng)
    with transaction.atomic():
        claim = _own_claim_locked(actor, claim_id)
        task = claim.task
        moment = now()
        if not CLAIM_GRAPH.can(ClaimAction.CHECK_OUT, claim.state):
            raise _claim_conflict(claim, ClaimAction.CHECK_OUT, None)
        if moment > task.ends_at + CHECK_OUT_GRACE:
            raise fail(
                "time",
                _("Check-out closed at %(at)s.") % {"at": _fmt(task.ends_at + CHECK_OUT_GRACE)},
            )
        _check_place(task, lat_f, lng_f)
        if claim.checkins + 1 < task.required_checkins:
            missing = task.required_checkins - claim.checkins - 1
            raise fail(
                "checkins",
                _("This task needs %(n)s more check-in(s) on the way before checking out.")
                % {"n": missing},
            )
        previous = move(claim, CLAIM_GRAPH, ClaimAction.CHECK_OUT)
        claim.checkins += 1
        claim.checked_out_at = moment
        claim.save()
        _checkin_row(claim, CheckIn.Kind.OUT, lat_f, lng_f, moment)
        if claim.patrol_id:
            patrol_end(
                patrol_id=claim.patrol_id, actor=actor, points=[_track_point(lat_f, lng_f, moment)]
            )
        Volunteer.objects.filter(pk=claim.volunteer_id).update(
            completed_count=F("completed_count") + 1
        )
        ServiceRecord.objects.create(
            volunteer=claim.volunteer,
            claim=claim,
            region_code=task.region_code,
            content=task.title,
            task_kind="shift" if task.is_shift else "patrol",
            place=task.post.name
            if task.post is not None
            else ", ".join(c.name for c in task.cells.all())[:200],
            started_at=claim.checked_in_at or moment,
            ended_at=moment,
            hours=_hours(claim, moment),
            organiser_name=task.organiser_name,
            recorded_by=None,
        )
        record(
            ClaimEvent,
            claim,
            actor=actor,
            action=ClaimAction.CHECK_OUT,
            from_state=previous,
            to_state=claim.state,
        )
        notification_send(
            user_ids=[task.posted_by_id],
            title=_("Service record to confirm: %(title)s") % {"title": task.title},
            url="/volunteers/records/",
            dedupe_key=f"volunteer-record-{claim.pk}",
        )
        return claim


def claim_report_hazard(
    *,
    actor: User,
    claim_id: int,
    category: Any,
    description: str,
    lat: Any,
    lng: Any,
    photos: Sequence = (),
) -> HazardFound:
    """A hazard found during the patrol: filed as an incident (incidents' own report service,
    the resident channel) and linked to the task, credited to the volunteer. Only while
    checked in."""
    from incidents.models import Channel, Incident
    from incidents.services import incident_report

    with transaction.atomic():
        claim = _own_claim_locked(actor, claim_id)
        move(claim, CLAIM_GRAPH, ClaimAction.HAZARD, conflict=_claim_conflict)
        incident = incident_report(
            actor=actor,
            category=category,
            description=description,
            channel=Channel.RESIDENT_WEB,
            lat=None if lat in (None, "") else lat,
            lng=None if lng in (None, "") else lng,
            photos=photos,
        )
        if claim.patrol_id:
            Incident.objects.filter(pk=incident.pk).update(patrol_id=claim.patrol_id)
        hazard = HazardFound.objects.create(claim=claim, incident=incident)
        record(
            ClaimEvent,
            claim,
            actor=actor,
            action=ClaimAction.HAZARD,
            data={"incident": incident.tracking_number},
        )
        return hazard
