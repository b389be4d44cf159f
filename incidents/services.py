"""Every write of the incident loop: one service per move of models.ACTIONS.

Each service runs in `transaction.atomic`, locks the incident row (`select_for_update`), checks
scope (NotFoundError outside it), role (PermissionDeniedError) and state (ConflictError, against
models.ACTIONS and policies.ready), applies the move, writes one IncidentEvent (the timeline),
notifies in-app (one bulk INSERT, deduplicated per event by a unique key) and enqueues the
follow-up Celery task on commit (setting `task_enqueued_at`, which the sweep watches).
`actor=None` means the system (a Celery task); only system steps accept it.
Photos are checked and re-encoded before the transaction (incidents.photos); files stored inside
a transaction that then fails are deleted again, so bad input never leaves anything behind.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.calendar import add_limit
from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.models import Notification
from core.services import sms_queue
from grids.models import Region
from incidents import patrols as patrol_helpers
from incidents import policies, routing, tracking
from incidents.models import (
    ACTIONS,
    Action,
    Category,
    Channel,
    HandlingLevel,
    Incident,
    IncidentEvent,
    IncidentPolicy,
    IncidentState,
    PatrolLog,
)
from incidents.photos import PreparedPhoto, delete_files, prepare_photos, save_photos
from incidents.routing import DispatchTarget
from incidents.selectors import incident_is_visible

logger = logging.getLogger(__name__)
S = IncidentState
A = Action

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
TRACKING_PREFIX = "GG"
TRACKING_RANDOM_LENGTH = 8  # 31^8 ≈ 8.5e11 numbers: not guessable in sequence
MAX_TEXT = 2000
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
# Channels on which staff file for somebody else (a caller, a petitioner): the user typing it in
# is not the reporter; the person is known by name and phone (SMS feedback, rating by number).
CALL_CHANNELS = {Channel.HOTLINE_12345, Channel.DIVERSION_110, Channel.PETITION}
# Channels whose external_id belongs to a partner (integrations: "<partner code>:<ticket id>"):
# a signed-in user may not send one there (security review L1).
PARTNER_CHANNELS = {Channel.HOTLINE_12345, Channel.DIVERSION_110}
# Urgent cases: verified and dispatched within the policy's urgent limits (RULES: 10 minutes).
URGENT_LIMITS = {
    "verify_within": "urgent_verify_within",
    "dispatch_within": "urgent_dispatch_within",
}
# States whose deadline the sweep may escalate (one level up) once it passes.
ESCALATABLE_STATES = {S.VERIFYING, S.VERIFIED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED}


# --- small helpers ----------------------------------------------------------------------------


def tracking_number_new() -> str:
    """A fresh tracking number like GG7K3MQ9XP (random, from an unambiguous alphabet)."""
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_RANDOM_LENGTH))
    return TRACKING_PREFIX + body


def _now() -> datetime:
    return timezone.now()


class _Policy:
    """IncidentPolicy.current(), read at most once per service call and only when needed (most
    categories carry their own limits)."""

    def __init__(self) -> None:
        self._policy: IncidentPolicy | None = None

    def __call__(self) -> IncidentPolicy:
        if self._policy is None:
            self._policy = IncidentPolicy.current()
        return self._policy


def stage_due(
    incident: Incident, attribute: str, start: datetime, policy: _Policy | None = None
) -> datetime:
    """The deadline of a stage (`verify_within`, `dispatch_within`, `resolve_within`) from
    `start`: the category's limit, else the policy's default. An urgent incident (an urgent
    category, or a partner's urgent flag) is verified and dispatched by the earlier of that and
    the policy's urgent limit (RULES: urgent cases within 10 minutes)."""
    policy = policy or _Policy()
    limit = getattr(incident.category, attribute) or getattr(policy(), attribute)
    due = add_limit(start, limit)
    if incident.urgent and attribute in URGENT_LIMITS:
        due = min(due, add_limit(start, getattr(policy(), URGENT_LIMITS[attribute])))
    return due


def check_limit_for(incident: Incident, policy: IncidentPolicy | None = None) -> str:
    """On-site check within 1 h in towns, 2 h in villages (Taiyuan practice; IncidentPolicy):
    a villagers' committee has village digits 200–399."""
    policy = policy or IncidentPolicy.current()
    rural = bool(incident.region_code) and incident.region_code[9:12] >= "200"
    return policy.check_within_rural if rural else policy.check_within_urban


def warn_time(start: datetime, due: datetime) -> datetime:
    """When to warn: 80 % of the stage's time, or 1 h before the deadline, whichever is later
    (a 10-minute stage warns after 8 minutes, a 20-day stage one hour before)."""
    if due <= start:
        return due
    return min(due, max(start + (due - start) * 0.8, due - timedelta(hours=1)))


def refresh_alarms(
    incident: Incident, *, start: datetime | None = None, rewarn: bool = True
) -> None:
    """Derive the sweep's alarms (warn_at, escalate_at) from due_at and the incident's state.
    `rewarn=False` keeps the warning as it is (the deadline did not move)."""
    due = incident.due_at
    if due is None or incident.state not in ESCALATABLE_STATES or incident.parked:
        incident.warn_at = None
        incident.escalate_at = None
        if rewarn:
            incident.warned_at = None
        return
    if rewarn:
        incident.warned_at = None
        incident.warn_at = warn_time(start or _now(), due)
    escalatable = not incident.extension_requested and routing.can_escalate(incident)
    incident.escalate_at = due if escalatable else None


def resolve_due_for(incident: Incident, *, now: datetime) -> datetime:
    """A fresh resolve deadline (dispatch, escalation, rework ...): the reporting partner's
    own deadline (`external_due_at`) while it lies ahead and no extension was granted, else the
    category's limit from now. A partner's deadline already missed is not reused: it would
    escalate the incident again at once."""
    partner_due = incident.external_due_at
    if partner_due is not None and not incident.extension_count and partner_due > now:
        return partner_due
    return stage_due(incident, "resolve_within", now)


def _set_due(incident: Incident, due: datetime | None, *, start: datetime) -> None:
    incident.due_at = due
    refresh_alarms(incident, start=start)


_URL_SENTINEL = 987654321
_detail_urls: dict[str, str] = {}  # script prefix -> the detail URL with the sentinel id


def _incident_url(incident: Incident) -> str:
    """reverse("incidents:detail") once per process (and script prefix), then a replace: the
    worker resolved it for every notification (~5 % of a report's worker step)."""
    prefix = get_script_prefix()
    pattern = _detail_urls.get(prefix)
    if pattern is None:
        try:
            pattern = reverse("incidents:detail", args=[_URL_SENTINEL])
        except NoReverseMatch:
            return _incident_path(incident.pk)
        _detail_urls[prefix] = pattern
    return pattern.replace(str(_URL_SENTINEL), str(incident.pk))


def _incident_path(pk: int) -> str:
    """The page of incidents:detail without resolving URLs: the sweep may be the first thing a
    fresh worker runs, and loading the URLconf there costs seconds."""
    return f"/incidents/{pk}/"


def track_url(incident: Incident) -> str:
    """The public tracking (and rating) link, e.g. /incidents/track/?no=GG7K3MQ9XP."""
    try:
        path = reverse("incidents:track")
    except NoReverseMatch:
        path = "/incidents/track/"
    return f"{getattr(settings, 'SITE_URL', '')}{path}?no={incident.tracking_number}"


def _notify(
    user_ids: Sequence[int | None],
    incident: Incident,
    *,
    key: str,
    title: Any,
    body: Any = "",
    params: dict | None = None,
    url: str = "",
) -> None:
    """Inbox messages in the portal's language; `key` deduplicates (a task run twice never
    notifies twice)."""
    ids = sorted({pk for pk in user_ids if pk})
    if not ids:
        return
    values = {"no": incident.tracking_number, **(params or {})}
    with translation.override(settings.LANGUAGE_CODE):
        title_text = (str(title) % values)[:200]
        body_text = (str(body) % values) if body else ""
    dedupe_key = f"incident:{incident.pk}:{key}"
    link = url or _incident_url(incident)
    # One INSERT for everybody; the unique (user, dedupe_key) constraint drops repeats (what
    # core.services.notification_send does with a query and a savepoint per user).
    Notification.objects.bulk_create(
        [
            Notification(
                user_id=pk, title=title_text, body=body_text, url=link, dedupe_key=dedupe_key
            )
            for pk in ids
        ],
        ignore_conflicts=True,
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _event(
    incident: Incident,
    *,
    actor: User | None,
    action: str,
    from_state: str,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> IncidentEvent:
    return IncidentEvent.objects.create(
        incident=incident,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=incident.state,
        note=note,
        public=public,
        data=data or {},
    )


def _enqueue(incident: Incident, task_name: str) -> None:
    """Send the follow-up task after commit and record that it was sent (the sweep re-sends
    it if it leaves no trace)."""
    incident.task_enqueued_at = _now()
    _enqueue_on_commit(incident.pk, task_name)


# The system steps' row lock, compiled once per process (building the 64-column SELECT took
# as long as running it); see routing.PreparedQuery. Only inside a transaction.
_LOCK = routing.PreparedQuery(
    lambda incident_id: (
        Incident.objects.select_for_update(of=("self",)).filter(pk=incident_id).order_by()
    )
)


# The incident's community for routing (it walks up from it), compiled once too. It was read in
# the lock's query (select_related): building that join took ~30 % of the worker's CPU.
_COMMUNITY = routing.PreparedQuery(
    lambda region_id: Region.objects.defer("boundary").filter(pk=region_id).order_by()
)


def _lock(incident_id: int, *, with_region: bool = False) -> Incident:
    sql, params = _LOCK.sql_with_params(incident_id)
    incident = next(iter(Incident.objects.raw(sql, params)), None)
    if incident is None:
        raise NotFoundError(_("Incident not found."))
    if with_region:
        _attach_community(incident)
    return incident


def _attach_community(incident: Incident) -> None:
    """The incident's community (region), for routing: from the process's directory
    (incidents.directory: no query; boundary deferred), else with the compiled query."""
    if incident.region_id is None:
        return
    from incidents import directory

    known = directory.current()
    region = known.region(incident.region_id) if known is not None else None
    if region is not None:
        incident.region = region
        return
    sql, params = _COMMUNITY.sql_with_params(incident.region_id)
    region = next(iter(Region.objects.raw(sql, params)), None)
    if region is not None:
        incident.region = region


def _use_cached_category(incident: Incident) -> None:
    """The incident's category from the process's copy (incidents.category_cache) when it is
    an active one: the system steps read its limits and levels without a query."""
    from incidents.category_cache import active_subcategory_by_id

    category = active_subcategory_by_id(incident.category_id)
    if category is not None:
        incident.category = category


_HAS_GRID_WORKER_ROLE = routing.PreparedQuery(
    lambda user_id: User.roles.through.objects.filter(
        user_id=user_id, role_id=RoleCode.GRID_WORKER
    ).values_list("user_id")[:1]
)


def _reporter_is_grid_worker(incident: Incident) -> bool:
    if incident.reporter_id is None:
        return False
    return bool(_HAS_GRID_WORKER_ROLE.rows(incident.reporter_id))


def _state_conflict(action: str, incident: Incident) -> ConflictError:
    label = IncidentState(incident.state).label
    if incident.assignee_id and incident.state in (S.DISPATCHED, S.ACCEPTED, S.RESOLVED):
        message = _(
            "Cannot %(action)s this incident: it is now “%(state)s”, handled by %(name)s."
        ) % {"action": Action(action).label, "state": label, "name": incident.assignee}
    else:
        message = _("Cannot %(action)s this incident: it is now “%(state)s”.") % {
            "action": Action(action).label,
            "state": label,
        }
    return ConflictError(message, extra={"state": [incident.state]})


def _check_move(action: str, incident: Incident) -> None:
    if incident.state not in ACTIONS[action]:
        raise _state_conflict(action, incident)
    reason = policies.ready(action, incident)
    if reason:
        raise ConflictError(reason)


def _load(action: str, *, incident_id: int, actor: User | None) -> Incident:
    """Lock, then check scope, role and state, in that order."""
    incident = _lock(incident_id)
    if actor is not None and not incident_is_visible(actor, incident):
        raise NotFoundError(_("Incident not found."))
    if not policies.allowed(action, actor, incident):
        raise PermissionDeniedError(
            _("You may not %(action)s this incident.") % {"action": Action(action).label}
        )
    _check_move(action, incident)
    return incident


def _move(incident: Incident, action: str, target: str) -> str:
    """Apply a move of the graph; returns the state it came from."""
    if target not in ACTIONS[action].get(incident.state, ()):  # a bug, never user input
        raise ConflictError(f"{action} cannot lead to {target}")
    previous = incident.state
    incident.state = target
    return previous


def _required_text(value: str, field: str, message: Any) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(str(message), extra={field: [str(message)]})
    if len(text) > MAX_TEXT:
        too_long = _("At most %(n)s characters.") % {"n": MAX_TEXT}
        raise ValidationFailed(too_long, extra={field: [too_long]})
    return text


def _optional_text(value: str, field: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        too_long = _("At most %(n)s characters.") % {"n": MAX_TEXT}
        raise ValidationFailed(too_long, extra={field: [too_long]})
    return text


@contextmanager
def _files_removed_on_error() -> Iterator[list[str]]:
    """Collects stored file names; deletes them if the block (the transaction) fails."""
    saved: list[str] = []
    try:
        yield saved
    except BaseException:
        delete_files(saved)
        raise


def _reason_required() -> Any:
    return gettext_lazy("Give a reason.")


# --- report -----------------------------------------------------------------------------------


@dataclass
class _CleanReport:
    category: Category
    description: str
    channel: str
    lat: float
    lng: float
    address: str
    reporter_name: str
    reporter_phone: str
    photos: list[PreparedPhoto]
    location: Any  # grids.locator.Location
    reporter: User | None


def _clean_report(
    *,
    actor: User | None,
    category: Category | None,
    description: str,
    channel: str,
    lat: float | None,
    lng: float | None,
    address: str,
    reporter_name: str,
    reporter_phone: str,
    photos: Sequence,
    use_photo_location: bool,
    photos_required: bool = False,
) -> _CleanReport:
    """Validate a report completely before anything is written (all field errors at once)."""
    from grids.locator import locate

    errors: dict[str, list[str]] = {}
    if not isinstance(category, Category) or not category.active or category.parent_id is None:
        errors["category"] = [_("Choose a valid category (a subclass that is in use).")]
    text = (description or "").strip()
    if not text:
        errors["description"] = [_("Describe the matter.")]
    elif len(text) > MAX_TEXT:
        errors["description"] = [_("At most %(n)s characters.") % {"n": MAX_TEXT}]
    if channel not in Channel.values:
        errors["channel"] = [_("Unknown channel.")]
    elif channel == Channel.PATROL and not (actor and actor.has_role(RoleCode.GRID_WORKER)):
        errors["channel"] = [_("Only grid workers report from patrol.")]
    phone = (reporter_phone or "").strip()
    if phone and not PHONE_PATTERN.match(phone):
        errors["reporter_phone"] = [_("Enter a valid phone number.")]
    if len((address or "").strip()) > 255:
        errors["address"] = [_("At most %(n)s characters.") % {"n": 255}]
    prepared: list[PreparedPhoto] = []
    try:
        prepared = prepare_photos(photos, required=photos_required)
    except ValidationFailed as exc:
        errors.update(exc.extra)
    if use_photo_location and (lat is None or lng is None):
        position = next((p.gps for p in prepared if p.gps), None)
        if position is not None:
            lat, lng = position
    location = None
    if lat is None or lng is None:
        errors["location"] = [_("Mark the place on the map (or allow the photo's location).")]
    else:
        try:
            lat_f, lng_f = float(lat), float(lng)
        except (TypeError, ValueError):
            lat_f = lng_f = float("nan")
        if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):
            errors["location"] = [_("The coordinates are not valid.")]
        else:
            location = locate(lat_f, lng_f)
            if not location.inside:
                errors["location"] = [_("This place is outside the city's jurisdiction.")]
            lat, lng = lat_f, lng_f
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    reporter = None if channel in CALL_CHANNELS else actor
    return _CleanReport(
        category=category,  # type: ignore[arg-type]
        description=text,
        channel=channel,
        lat=float(lat),  # type: ignore[arg-type]
        lng=float(lng),  # type: ignore[arg-type]
        address=(address or "").strip(),
        reporter_name=(reporter_name or "").strip()[:64]
        or (reporter.display_name or reporter.username if reporter else ""),
        reporter_phone=phone,
        photos=prepared,
        location=location,
        reporter=reporter,
    )


def _open_patrol_id(actor: User | None, channel: str) -> int | None:
    """The patrol a grid worker has open: a patrol-channel report is linked to it."""
    if actor is None or channel != Channel.PATROL:
        return None
    from incidents.models import PatrolLog

    return (
        PatrolLog.objects.filter(worker=actor, ended_at__isnull=True)
        .values_list("pk", flat=True)
        .first()
    )


def _create_incident(
    clean: _CleanReport,
    *,
    actor: User | None,
    tracking_number: str,
    external_id: str,
    saved: list[str],
    urgent: bool | None = None,
    resolve_by: datetime | None = None,
) -> Incident:
    """INSERT the incident (with `task_enqueued_at` already set: its task is enqueued on commit
    by the caller) and its report event. Runs inside the caller's transaction; a taken tracking
    number raises IntegrityError (see _created_with_fresh_number). The new incident carries its
    access code in clear in `incident.access_code` (this object only; the row keeps a hash)."""
    now = _now()
    access_code = tracking.access_code_new()
    incident = Incident(
        tracking_number=tracking_number,
        category=clean.category,
        description=clean.description,
        lat=clean.lat,
        lng=clean.lng,
        address=clean.address,
        reporter=clean.reporter,
        reporter_name=clean.reporter_name,
        reporter_phone=clean.reporter_phone,
        channel=clean.channel,
        external_id=external_id,
        external_caller=_external_caller(actor) if external_id else "",
        access_code_hash=tracking.access_code_hash(access_code),
        # Known at once (the task locates again and picks the verifier): the region's staff
        # see a new report in their queue straight away.
        grid_cell_id=clean.location.cell_id,
        region_id=clean.location.community_id,
        region_code=clean.location.community_code or "",
        urgent=clean.category.urgent if urgent is None else urgent,
        external_due_at=resolve_by,
        patrol_id=_open_patrol_id(actor, clean.channel),
        state=S.REPORTED,
        task_enqueued_at=now,
    )
    incident.save(force_insert=True)
    incident.access_code = access_code
    event = _event(incident, actor=actor, action=A.REPORT, from_state="")
    save_photos(incident=incident, event=event, photos=clean.photos, saved=saved)
    if resolve_by is not None:
        _event(
            incident,
            actor=None,
            action=A.PARTNER_DEADLINE,
            from_state=incident.state,
            note=_say(
                gettext_lazy("Resolve by %(due)s, the deadline of the %(channel)s ticket."),
                due=_fmt(resolve_by),
                channel=Channel(clean.channel).label,
            ),
            public=False,
            data={"due_at": resolve_by.isoformat()},
        )
    return incident


def _external_caller(actor: User | None) -> str:
    """Who owns an external_id: "u<id>" for a signed-in user, "" for a partner or the system
    (a partner's code prefixes its external_id)."""
    return f"u{actor.pk}" if actor is not None else ""


def _existing_for_caller(actor: User | None, channel: str, external_id: str) -> Incident | None:
    return Incident.objects.filter(
        external_caller=_external_caller(actor), channel=channel, external_id=external_id
    ).first()


def _created_with_fresh_number(
    create: Callable[[str, list[str]], Incident],
    *,
    channel: str,
    external_id: str,
    actor: User | None = None,
) -> Incident:
    """Run `create(tracking_number, saved_files)` in one transaction with a fresh random
    number. No pre-check and no savepoint around the INSERT: the unique constraint decides,
    and the rare collision of two numbers (31^8 of them) rolls the whole transaction back and
    draws again. A concurrent duplicate of the same caller's `external_id` returns the
    incident already filed. Files stored by a failed attempt are deleted."""
    for _attempt in range(6):
        number = tracking_number_new()
        try:
            with _files_removed_on_error() as saved, transaction.atomic():
                return create(number, saved)
        except IntegrityError:
            if external_id:
                existing = _existing_for_caller(actor, channel, external_id)
                if existing is not None:
                    return existing
            if not Incident.objects.filter(tracking_number=number).exists():
                raise  # not a collision of numbers: a real error
    # pragma: no cover - 6 collisions in a row among 8.5 * 10^11 numbers
    raise ConflictError(_("Could not allocate a tracking number; try again."))


def _enqueue_on_commit(incident_id: int, task_name: str) -> None:
    """Send the follow-up task after commit (the caller has set `task_enqueued_at`)."""
    from incidents import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(incident_id))


def _clean_partner_terms(
    urgent: bool | None, resolve_by: datetime | None
) -> tuple[bool | None, datetime | None]:
    errors: dict[str, list[str]] = {}
    if urgent is not None and not isinstance(urgent, bool):
        errors["urgent"] = [_("urgent is true, false or not given.")]
    if resolve_by is not None:
        if not isinstance(resolve_by, datetime):
            errors["resolve_by"] = [_("Give the deadline as a date and time.")]
        elif timezone.is_naive(resolve_by):
            resolve_by = timezone.make_aware(resolve_by)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return urgent, resolve_by


def incident_report(
    *,
    actor: User | None,
    category: Category,
    description: str,
    channel: str,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    photos: Sequence = (),
    use_photo_location: bool = False,
    external_id: str = "",
    urgent: bool | None = None,
    resolve_by: datetime | None = None,
) -> Incident:
    """File a report (state `reported`) with a fresh tracking number.

    Anybody may report; `actor=None` is an anonymous or hotline report (give reporter_phone so
    the reporter can track and rate). Validates everything first (category, text, channel,
    photos by content, a location inside the jurisdiction — from the photo's GPS only when
    `use_photo_location`); bad input raises ValidationFailed with field messages and writes
    nothing. `external_id` makes the call idempotent per caller: the same caller (the signed-in
    `actor`, or a partner / the system when `actor` is None) sending the same one on the same
    channel gets its incident back; another caller's is never returned. Signed-in users may
    not send one on the partner channels (12345, 110: ValidationFailed). The new incident's
    access code (查询码) is in `incident.access_code`; a reporter known by phone gets it by SMS.
    `urgent` overrides the category's urgency (None: the category's). `resolve_by` is the
    reporting partner's own deadline (a 12345 ticket's time limit): stored, recorded as an
    internal timeline row, and used as the resolve deadline of every dispatch while it lies
    ahead and no extension was granted (see resolve_due_for). A grid worker's patrol-channel
    report is linked to the patrol they have open.
    Enqueues on commit: tasks.locate_and_assign (locate, choose the verifier; a grid worker's
    own report is verified at once and routed).
    """
    if actor is not None and not actor.is_authenticated:
        actor = None
    external_id = (external_id or "").strip()[:64]
    if external_id and actor is not None and channel in PARTNER_CHANNELS:
        message = _("Only the partner's own intake may give an external id on this channel.")
        raise ValidationFailed(message, extra={"external_id": [message]})
    if external_id:
        existing = _existing_for_caller(actor, channel, external_id)
        if existing is not None:
            return existing
    urgent, resolve_by = _clean_partner_terms(urgent, resolve_by)
    clean = _clean_report(
        actor=actor,
        category=category,
        description=description,
        channel=channel,
        lat=lat,
        lng=lng,
        address=address,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        photos=photos,
        use_photo_location=use_photo_location,
    )

    def create(tracking_number: str, saved: list[str]) -> Incident:
        incident = _create_incident(
            clean,
            actor=actor,
            tracking_number=tracking_number,
            external_id=external_id,
            saved=saved,
            urgent=urgent,
            resolve_by=resolve_by,
        )
        # task_enqueued_at was set by the INSERT: no second UPDATE for it.
        _enqueue_on_commit(incident.pk, "locate_and_assign")
        _send_access_code(incident, incident.reporter_phone, key="report")
        return incident

    return _created_with_fresh_number(create, channel=channel, external_id=external_id, actor=actor)


def _send_access_code(incident: Incident, phone: str, *, key: str) -> None:
    """SMS the tracking number and the incident's fresh access code (on commit, core's SMS
    task). Only right after the code was drawn: `incident.access_code` holds it."""
    code = getattr(incident, "access_code", "")
    if not phone or not code:
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = _(
            "Your report %(no)s was received. Access code: %(code)s. Track it with the number "
            "and the code: %(url)s"
        ) % {"no": incident.tracking_number, "code": code, "url": track_url(incident)}
    sms_queue(phone=phone, text=text, dedupe_key=f"incident:{incident.pk}:code:{key}")


def incident_access_code_resend(*, tracking_number: str, phone: str) -> bool:
    """ "Resend my code": when `phone` is the reporter's full phone number, a new access code
    replaces the old one (stored hashed; the old code and the browsers it unlocked stop working)
    and is sent by SMS to that phone on commit; an internal timeline row records it. Returns
    whether it matched; callers must answer the same either way (and limit the tries: see
    incidents.tracking)."""
    import hmac

    from incidents.selectors import reporter_phone_of

    number = (tracking_number or "").strip().upper()[:16]
    typed = re.sub(r"\D", "", phone or "")
    with transaction.atomic():
        found = (
            Incident.objects.select_related("reporter").filter(tracking_number=number).first()
            if number
            else None
        )
        expected = re.sub(r"\D", "", reporter_phone_of(found)) if found is not None else ""
        matches = hmac.compare_digest(
            (expected or "\x00").encode(), (typed if len(typed) >= 5 else "").encode()
        )
        if found is None or not expected or not matches:
            return False
        incident = _lock(found.pk)
        code = tracking.access_code_new()
        incident.access_code_hash = tracking.access_code_hash(code)
        incident.updated_at = _now()
        incident.save(update_fields=["access_code_hash", "updated_at"])
        incident.access_code = code
        event = _event(
            incident,
            actor=None,
            action=A.ACCESS_CODE_SENT,
            from_state=incident.state,
            note=_say(gettext_lazy("A new access code was sent to the reporter's phone.")),
            public=False,
        )
        _send_access_code(incident, reporter_phone_of(found), key=f"e{event.pk}")
        return True


# --- verification -----------------------------------------------------------------------------


def incident_start_verification(*, incident_id: int, route_now: bool = False) -> Incident:
    """System step after a report (tasks.locate_and_assign): locate the grid cell and
    community, choose the verifier, set the verify deadline, notify the verifier.

    A grid worker's own report is verified at once and routing is enqueued — or, with
    `route_now` (what the task asks), routed by the rules in the same transaction: one lock,
    one UPDATE, no second trip through the broker; the timeline still shows both steps.
    Idempotent: an incident no longer `reported` is returned unchanged.
    """
    from grids.locator import locate

    with transaction.atomic():
        incident = _lock(incident_id)
        if incident.state != S.REPORTED:
            return incident
        _use_cached_category(incident)
        now = _now()
        location = locate(incident.lat, incident.lng)
        if location.inside:
            incident.grid_cell_id = location.cell_id
            incident.region_id = location.community_id
            incident.region_code = location.community_code or ""
        incident.handling_level = (
            HandlingLevel.GRID if incident.grid_cell_id else (HandlingLevel.COMMUNITY)
        )
        incident.handling_region_id = incident.region_id
        data = {
            "grid_cell": location.cell_code,
            "community": location.community_code,
            "inside": location.inside,
        }
        if _reporter_is_grid_worker(incident):
            previous = _move(incident, A.START_VERIFICATION, S.VERIFIED)
            incident.verifier_id = incident.reporter_id
            incident.verified_at = now
            incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
            _set_due(incident, incident.dispatch_due_at, start=now)
            if not route_now:
                _enqueue(incident, "route")
                incident.save()
            _event(
                incident,
                actor=None,
                action=A.START_VERIFICATION,
                from_state=previous,
                note=_say(gettext_lazy("Reported by a grid worker: verified at once.")),
                data=data,
            )
            if route_now:  # what incident_route does, without a second lock and UPDATE
                # One snapshot of the routing directory (one token read) for the whole step.
                with routing.directory.pinned():
                    _attach_community(incident)  # the located one: routing walks up from it
                    target = routing.route(incident)
                    _apply_dispatch(
                        incident, target, actor=None, action=A.DISPATCH, data={"by_rules": True}
                    )
            return incident
        previous = _move(incident, A.START_VERIFICATION, S.VERIFYING)
        incident.verifier_id = routing.choose_verifier(incident)
        incident.verify_due_at = stage_due(incident, "verify_within", incident.created_at)
        _set_due(incident, incident.verify_due_at, start=incident.created_at)
        incident.task_enqueued_at = None
        incident.save()
        event = _event(
            incident,
            actor=None,
            action=A.START_VERIFICATION,
            from_state=previous,
            note=_say(gettext_lazy("Located; waiting for on-site verification.")),
            data={**data, "verifier": incident.verifier_id},
        )
        _notify(
            [incident.verifier_id],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: please verify it on site"),
            body=gettext_lazy("Verify by %(due)s."),
            params={"due": _fmt(incident.verify_due_at)},
        )
        return incident


def _say(message: Any, **params: Any) -> str:
    """Text stored in the timeline by the system, in the portal's language (not the language of
    whichever request or worker happened to run the step)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % params if params else str(message)


def _fmt(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def incident_assign_verifier(
    *, incident_id: int, actor: User, verifier_id: int, note: str = ""
) -> Incident:
    """A dispatcher (in scope) names who verifies (reported or verifying → verifying).
    The verifier must be a grid worker of the cell or staff whose region covers the incident."""
    with transaction.atomic():
        incident = _load(A.ASSIGN_VERIFIER, incident_id=incident_id, actor=actor)
        verifier = _staff_for(incident, verifier_id, field="verifier")
        now = _now()
        previous = _move(incident, A.ASSIGN_VERIFIER, S.VERIFYING)
        incident.verifier = verifier
        if incident.verify_due_at is None:
            incident.verify_due_at = stage_due(incident, "verify_within", incident.created_at)
        _set_due(incident, incident.verify_due_at, start=now)
        incident.task_enqueued_at = None
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.ASSIGN_VERIFIER,
            from_state=previous,
            note=_optional_text(note, "note"),
            public=False,
            data={"verifier": verifier.pk},
        )
        _notify(
            [verifier.pk],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: please verify it on site"),
        )
        return incident


def _staff_for(incident: Incident, user_id: int | None, *, field: str) -> User:
    """An active grid worker, dispatcher or department handler who may work this incident."""
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    message = _("Choose an active staff member who works in this incident's area.")
    if user is None:
        raise ValidationFailed(message, extra={field: [message]})
    from accounts.selectors import user_scope

    ok = routing.is_cell_worker(user, incident) or (
        user.has_role(RoleCode.DISPATCHER, RoleCode.DEPARTMENT_HANDLER, RoleCode.GRID_WORKER)
        and user_scope(user).covers_code(incident.region_code)
    )
    if not ok:
        raise ValidationFailed(message, extra={field: [message]})
    return user


def incident_verify(
    *,
    incident_id: int,
    actor: User,
    note: str = "",
    category_id: int | None = None,
    photos: Sequence = (),
) -> Incident:
    """The verifier (or a dispatcher in scope) confirms the matter on site (verifying →
    verified); may correct the category. Sets the dispatch deadline; enqueues tasks.route."""
    prepared = prepare_photos(photos)
    category = None
    if category_id is not None:
        category = Category.objects.filter(
            pk=category_id, active=True, parent__isnull=False
        ).first()
        if category is None:
            message = _("Choose a valid category (a subclass that is in use).")
            raise ValidationFailed(message, extra={"category": [message]})
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(A.VERIFY, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.VERIFY, S.VERIFIED)
        data: dict[str, Any] = {}
        if category is not None and category.pk != incident.category_id:
            data["category"] = [incident.category.code, category.code]
            incident.category = category
            incident.urgent = incident.urgent or category.urgent
        incident.verified_at = now
        incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
        _set_due(incident, incident.dispatch_due_at, start=now)
        _enqueue(incident, "route")
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.VERIFY,
            from_state=previous,
            note=_optional_text(note, "note"),
            data=data,
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        return incident


def incident_mark_invalid(*, incident_id: int, actor: User, reason: str) -> Incident:
    """The verifier (or a dispatcher in scope) cancels a report that does not qualify (注销),
    with a reason the reporter sees. Final state `invalid`; the reporter is told."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(A.MARK_INVALID, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.MARK_INVALID, S.INVALID)
        incident.invalid_reason = reason
        incident.closed_at = now
        _set_due(incident, None, start=now)
        incident.task_enqueued_at = None
        incident.save()
        event = _event(
            incident, actor=actor, action=A.MARK_INVALID, from_state=previous, note=reason
        )
        _tell_reporter(
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Your report %(no)s was not accepted"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"reason": reason},
        )
        return incident


def _tell_reporter(
    incident: Incident, *, key: str, title: Any, body: Any = "", params: dict | None = None
) -> None:
    """Inbox for a signed-in reporter; SMS for a reporter known only by phone."""
    if incident.reporter_id:
        _notify(
            [incident.reporter_id],
            incident,
            key=key,
            title=title,
            body=body,
            params=params,
            url=track_url(incident),
        )
    elif incident.reporter_phone:
        values = {"no": incident.tracking_number, **(params or {})}
        with translation.override(settings.LANGUAGE_CODE):
            text = f"{str(title) % values} {str(body) % values if body else ''}".strip()
            text = f"{text} {track_url(incident)}"
        sms_queue(
            phone=incident.reporter_phone,
            text=text,
            dedupe_key=f"incident:{incident.pk}:{key}",
        )


# --- dispatch and handling --------------------------------------------------------------------


def incident_partner_deadline_restore(*, incident_id: int) -> bool:
    """System repair step: an incident in handling whose resolve deadline is not the reporting
    partner's (changed by a bulk write that bypassed the services) gets it back, while the
    partner's deadline lies ahead and no extension was granted. Internal timeline row.
    Idempotent; returns whether the deadline moved."""
    with transaction.atomic():
        incident = Incident.objects.select_for_update().filter(pk=incident_id).first()
        if incident is None or incident.external_due_at is None:
            return False
        now = _now()
        handling = incident.state in (S.DISPATCHED, S.ACCEPTED)
        partner_due = incident.external_due_at
        if (
            not handling
            or incident.extension_count
            or partner_due <= now
            or incident.resolve_due_at == partner_due
        ):
            return False
        incident.resolve_due_at = partner_due
        _set_due(incident, partner_due, start=incident.dispatched_at or now)
        incident.save(
            update_fields=[
                "resolve_due_at",
                "due_at",
                "warn_at",
                "escalate_at",
                "warned_at",
                "updated_at",
            ]
        )
        _event(
            incident,
            actor=None,
            action=A.PARTNER_DEADLINE,
            from_state=incident.state,
            note=_say(
                gettext_lazy("Resolve by %(due)s, the deadline of the %(channel)s ticket."),
                due=_fmt(partner_due),
                channel=Channel(incident.channel).label,
            ),
            public=False,
            data={"due_at": partner_due.isoformat()},
        )
        return True


def _target_from_choice(
    incident: Incident,
    *,
    assignee_id: int | None,
    level: str,
    region_id: int | None,
    department: str,
    to_pool: bool,
) -> DispatchTarget:
    """Validate a dispatcher's choice: exactly one of a person, a unit or the claim pool."""
    chosen = sum([assignee_id is not None, bool(to_pool), bool(level)])
    if chosen != 1:
        message = _("Choose one target: a person, a unit, or the claim pool.")
        raise ValidationFailed(message, extra={"target": [message]})
    if assignee_id is not None:
        person = _staff_for(incident, assignee_id, field="assignee")
        if person.has_role(RoleCode.GRID_WORKER) and routing.is_cell_worker(person, incident):
            person_level = HandlingLevel.GRID
            department = ""
        elif person.has_role(RoleCode.DEPARTMENT_HANDLER) and person.department:
            department = person.department
            category = incident.category
            person_level = (
                category.handled_at
                if category.department == department
                and category.handled_at
                and category.handled_at != HandlingLevel.GRID
                else HandlingLevel.DEPARTMENT
            )
        else:
            department = ""
            scope_level = person.scope_region.level if person.scope_region_id else "community"
            person_level = {
                Region.Level.STREET: HandlingLevel.STREET,
                Region.Level.DISTRICT: HandlingLevel.DISTRICT,
            }.get(scope_level, HandlingLevel.COMMUNITY)
        region = routing.region_at_level(incident.region, person_level)
        return DispatchTarget(
            "person", person_level, region.pk if region else None, department, person.pk
        )
    if to_pool:
        if not incident.grid_cell_id or not routing.cell_worker_ids(
            incident.grid_cell_id, on_duty_only=False
        ):
            message = _("Only an incident in a grid cell with grid workers can be claimed.")
            raise ValidationFailed(message, extra={"target": [message]})
        region = routing.region_at_level(incident.region, HandlingLevel.GRID)
        return DispatchTarget("pool", HandlingLevel.GRID, region.pk if region else None)
    if level not in HandlingLevel.values:
        message = _("Unknown handling level.")
        raise ValidationFailed(message, extra={"level": [message]})
    department = (department or "").strip()
    if level == HandlingLevel.DEPARTMENT and not department:
        message = _("Name the department.")
        raise ValidationFailed(message, extra={"department": [message]})
    if level == HandlingLevel.GRID and not incident.grid_cell_id:
        message = _("The incident is in no grid cell.")
        raise ValidationFailed(message, extra={"level": [message]})
    if region_id is None:
        region = routing.region_at_level(incident.region, level)
    else:
        region = Region.objects.filter(pk=region_id).first()
        if (
            region is None
            or region.level != routing.REGION_LEVEL_FOR[level]
            or not incident.region_code.startswith(region.prefix)
        ):
            message = _("Choose the region at that level that contains the incident.")
            raise ValidationFailed(message, extra={"region": [message]})
    if region is None:
        message = _("The incident has no region at that level.")
        raise ValidationFailed(message, extra={"region": [message]})
    return DispatchTarget("unit", level, region.pk, department if department else "")


def _target_user_ids(incident: Incident) -> list[int]:
    if incident.assignee_id:
        return [incident.assignee_id]
    if incident.claimable:
        return routing.cell_worker_ids(incident.grid_cell_id)
    return routing.unit_member_ids(incident)


def _asked_nearest_dispatchers(incident: Incident) -> bool:
    """Whether _target_user_ids already asked routing.nearest_dispatcher_ids for the
    incident's own community (a unit at the community level): no need to ask again."""
    return bool(
        not incident.assignee_id
        and not incident.claimable
        and incident.handling_level not in (HandlingLevel.GRID, HandlingLevel.DEPARTMENT)
        and incident.handling_region_id is not None
        and incident.handling_region_id == incident.region_id
    )


def _apply_dispatch(
    incident: Incident,
    target: DispatchTarget,
    *,
    actor: User | None,
    action: str,
    note: str = "",
    reset_clock: bool = True,
    data: dict | None = None,
    public: bool = True,
) -> IncidentEvent:
    now = _now()
    previous = _move(incident, action, S.DISPATCHED)
    incident.handling_level = target.level
    incident.handling_region_id = target.region_id
    incident.handling_department = target.department
    incident.assignee_id = target.assignee_id
    incident.claimable = target.claimable
    incident.accepted_at = None
    incident.dispatched_at = now
    incident.extension_requested = False
    incident.extension_requested_until = None
    incident.extension_requested_by = None
    incident.parked = False
    if reset_clock or incident.resolve_due_at is None:
        incident.resolve_due_at = resolve_due_for(incident, now=now)
    _set_due(incident, incident.resolve_due_at, start=now)
    incident.task_enqueued_at = None
    incident.save()
    event = _event(
        incident,
        actor=actor,
        action=action,
        from_state=previous,
        note=note,
        public=public,
        data={
            "kind": target.kind,
            "level": target.level,
            "region": target.region_id,
            "department": target.department,
            "assignee": target.assignee_id,
            # The dispatch deadline in force now (a return or escalation may reset it later):
            # the KPI 按时派遣率 judges the first dispatch by it (governance.aggregates).
            "dispatch_due_at": _iso(incident.dispatch_due_at),
            **(data or {}),
        },
    )
    title = (
        gettext_lazy("Incident %(no)s is open for claiming")
        if target.claimable
        else gettext_lazy("Incident %(no)s was sent to you")
    )
    recipients = _target_user_ids(incident)
    if not recipients and not _asked_nearest_dispatchers(incident):
        # A unit with nobody in it yet: its dispatchers must know, or the task waits unseen.
        recipients = routing.nearest_dispatcher_ids(incident.region)
        title = gettext_lazy("Incident %(no)s was sent to a unit with nobody to receive it")
    _notify(
        recipients,
        incident,
        key=f"e{event.pk}",
        title=title,
        body=gettext_lazy("Resolve by %(due)s."),
        params={"due": _fmt(incident.resolve_due_at)},
    )
    return event


def incident_dispatch(
    *,
    incident_id: int,
    actor: User,
    assignee_id: int | None = None,
    level: str = "",
    region_id: int | None = None,
    department: str = "",
    to_pool: bool = False,
    note: str = "",
) -> Incident:
    """A dispatcher (in scope) sends a verified or reopened incident to exactly one of: a
    person (`assignee_id`), a unit (`level` + optional `region_id`, `department` for a
    department), or the claim pool of its grid cell (`to_pool`). The handling clock starts:
    resolve deadline from the category. Of two dispatchers at once, one wins; the other gets
    ConflictError naming who has it. Notifies the target."""
    with transaction.atomic():
        incident = _load(A.DISPATCH, incident_id=incident_id, actor=actor)
        target = _target_from_choice(
            incident,
            assignee_id=assignee_id,
            level=level,
            region_id=region_id,
            department=department,
            to_pool=to_pool,
        )
        _apply_dispatch(
            incident, target, actor=actor, action=A.DISPATCH, note=_optional_text(note, "note")
        )
        return incident


def incident_route(*, incident_id: int) -> Incident:
    """System dispatch by the routing rules (tasks.route): a verified incident with a routing
    task pending, or a reopened one (back to whoever had it). Idempotent: anything else is
    returned unchanged."""
    with transaction.atomic():
        incident = _lock(incident_id, with_region=True)
        pending = incident.state == S.VERIFIED and incident.task_enqueued_at is not None
        if not (pending or incident.state == S.REOPENED):
            return incident
        _use_cached_category(incident)
        target = routing.route(incident)
        _apply_dispatch(incident, target, actor=None, action=A.DISPATCH, data={"by_rules": True})
        return incident


def incident_claim(*, incident_id: int, actor: User) -> Incident:
    """A grid worker of the cell takes an incident from the claim pool (抢单): dispatched →
    accepted, assignee = the claimer. Of many claimers at once exactly one wins (row lock +
    state check); the others get ConflictError naming who has it."""
    with transaction.atomic():
        incident = _load(A.CLAIM, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.CLAIM, S.ACCEPTED)
        incident.assignee = actor
        incident.claimable = False
        incident.accepted_at = now
        incident.save()
        _event(incident, actor=actor, action=A.CLAIM, from_state=previous)
        return incident


def incident_accept(*, incident_id: int, actor: User, note: str = "") -> Incident:
    """The assignee, or a member of the unit it was sent to, accepts (dispatched → accepted);
    a unit member becomes the assignee."""
    with transaction.atomic():
        incident = _load(A.ACCEPT, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.ACCEPT, S.ACCEPTED)
        if incident.assignee_id is None:
            incident.assignee = actor
        incident.accepted_at = now
        incident.save()
        _event(
            incident,
            actor=actor,
            action=A.ACCEPT,
            from_state=previous,
            note=_optional_text(note, "note"),
        )
        return incident


def incident_return(*, incident_id: int, actor: User, reason: str) -> Incident:
    """A unit that is not responsible returns the task with its reason (退回): back to
    `verified`, off the unit, for the dispatchers to send again (they are told; the dispatch
    deadline restarts)."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(A.RETURN, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.RETURN, S.VERIFIED)
        data = {
            "level": incident.handling_level,
            "region": incident.handling_region_id,
            "department": incident.handling_department,
            "assignee": incident.assignee_id,
        }
        incident.assignee = None
        incident.claimable = False
        incident.handling_department = ""
        incident.accepted_at = None
        incident.return_count += 1
        incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
        _set_due(incident, incident.dispatch_due_at, start=now)
        incident.task_enqueued_at = None  # a person dispatches it again
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.RETURN,
            from_state=previous,
            note=reason,
            public=False,
            data=data,
        )
        _notify(
            routing.nearest_dispatcher_ids(incident.region),
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s was returned: dispatch it again"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"reason": reason},
        )
        return incident


def incident_reassign(
    *,
    incident_id: int,
    actor: User,
    assignee_id: int | None = None,
    level: str = "",
    region_id: int | None = None,
    department: str = "",
    to_pool: bool = False,
    note: str = "",
) -> Incident:
    """A dispatcher moves a dispatched or accepted incident to another target (same choices
    as incident_dispatch). The resolve deadline is kept."""
    with transaction.atomic():
        incident = _load(A.REASSIGN, incident_id=incident_id, actor=actor)
        target = _target_from_choice(
            incident,
            assignee_id=assignee_id,
            level=level,
            region_id=region_id,
            department=department,
            to_pool=to_pool,
        )
        _apply_dispatch(
            incident,
            target,
            actor=actor,
            action=A.REASSIGN,
            note=_optional_text(note, "note"),
            reset_clock=False,
            data={"from_assignee": incident.assignee_id},
            public=False,
        )
        return incident


# --- escalation -------------------------------------------------------------------------------


class EscalationContext:
    """What escalation needs about regions and dispatchers, read once (the sweep escalates
    many incidents with it)."""

    def __init__(self) -> None:
        self.regions: dict[int, tuple[str, str, int | None]] = {
            pk: (code, level, parent_id)
            for pk, code, level, parent_id in Region.objects.values_list(
                "pk", "code", "level", "parent_id"
            )
        }
        self.dispatchers: dict[int, list[int]] = {}
        for user_id, region_id in (
            User.objects.filter(
                is_active=True, roles__code=RoleCode.DISPATCHER, scope_region__isnull=False
            )
            .values_list("pk", "scope_region_id")
            .distinct()
        ):
            self.dispatchers.setdefault(region_id, []).append(user_id)
        everyone = [pk for ids in self.dispatchers.values() for pk in ids]
        self.loads = routing.open_task_counts(everyone)

    def region_at(self, community_id: int | None, level: str) -> int | None:
        wanted = routing.REGION_LEVEL_FOR.get(level)
        node = community_id
        while node is not None and node in self.regions:
            _code, node_level, parent = self.regions[node]
            if node_level == wanted:
                return node
            node = parent
        return None

    def nearest_dispatchers(self, region_id: int | None) -> list[int]:
        node = region_id
        while node is not None and node in self.regions:
            if self.dispatchers.get(node):
                return sorted(self.dispatchers[node])
            node = self.regions[node][2]
        return []

    def pick_dispatcher(self, region_id: int | None) -> int | None:
        ids = self.nearest_dispatchers(region_id)
        if not ids:
            return None
        chosen = min(ids, key=lambda pk: (self.loads[pk], pk))
        self.loads[chosen] += 1
        return chosen


def _apply_escalation(
    incident: Incident, *, context: EscalationContext, now: datetime
) -> tuple[str, dict, list[int]] | None:
    """Move the incident's responsibility one level up (in memory). Returns (previous state,
    event data, users to tell), or None when there is no level above."""
    level = routing.next_level(incident)
    region_id = context.region_at(incident.region_id, level) if level else None
    if level is None or region_id is None:
        return None
    previous = incident.state
    data = {
        "from_level": incident.handling_level,
        "to_level": level,
        "from_region": incident.handling_region_id,
        "to_region": region_id,
    }
    incident.handling_level = level
    incident.handling_region_id = region_id
    incident.escalation_level += 1
    tell: list[int] = []
    if previous == S.VERIFYING:
        incident.verifier_id = context.pick_dispatcher(region_id) or incident.verifier_id
        incident.verify_due_at = stage_due(incident, "verify_within", now)
        incident.due_at = incident.verify_due_at
        tell = [incident.verifier_id] if incident.verifier_id else []
    elif previous == S.VERIFIED:
        data["dispatch_due_at"] = _iso(incident.dispatch_due_at)  # the deadline it replaces
        incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
        incident.due_at = incident.dispatch_due_at
        tell = context.nearest_dispatchers(region_id)
    elif previous in (S.DISPATCHED, S.ACCEPTED):
        _move(incident, A.ESCALATE, S.DISPATCHED)
        data["from_assignee"] = incident.assignee_id
        incident.assignee_id = None
        incident.claimable = False
        incident.handling_department = ""
        incident.accepted_at = None
        incident.dispatched_at = now
        incident.extension_requested = False
        incident.extension_requested_until = None
        incident.extension_requested_by_id = None
        incident.resolve_due_at = resolve_due_for(incident, now=now)
        incident.due_at = incident.resolve_due_at
        tell = context.nearest_dispatchers(region_id)
    elif previous == S.RESOLVED:
        incident.checker_id = context.pick_dispatcher(region_id) or incident.checker_id
        incident.check_due_at = add_limit(now, check_limit_for(incident))
        incident.due_at = incident.check_due_at
        tell = [incident.checker_id] if incident.checker_id else []
    refresh_alarms(incident, start=now)
    incident.updated_at = now
    return previous, data, tell


def incident_escalate(*, incident_id: int, actor: User | None, reason: str = "") -> Incident:
    """Move the incident one level up (grid → community → street → district; a department →
    the district): the handling region moves to the parent. In handling, the incident goes to
    the new unit (dispatched, fresh resolve deadline); in verification or check, a dispatcher
    of the new level takes over. Dispatchers and supervisors in scope (with a reason) or the
    system (the deadline sweep). ConflictError at the top level."""
    if actor is not None:
        reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(A.ESCALATE, incident_id=incident_id, actor=actor)
        now = _now()
        applied = _apply_escalation(incident, context=EscalationContext(), now=now)
        if applied is None:
            raise ConflictError(_("The incident is already handled at the top level."))
        previous, data, tell = applied
        incident.save()
        _event(
            incident,
            actor=actor,
            action=A.ESCALATE,
            from_state=previous,
            note=reason or _say(gettext_lazy("Deadline passed: escalated one level up.")),
            data=data,
        )
        _notify(
            tell,
            incident,
            key=f"escalate:{incident.escalation_level}",  # the sweep's key too
            title=gettext_lazy("Incident %(no)s was escalated to you"),
        )
        return incident


# --- extension and parking --------------------------------------------------------------------


def incident_request_extension(
    *, incident_id: int, actor: User, until: datetime, reason: str
) -> Incident:
    """The handler asks for more time (延期) with a reason and the new deadline; the
    dispatchers are told. No escalation while the request is pending."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(A.REQUEST_EXTENSION, incident_id=incident_id, actor=actor)
        now = _now()
        current = incident.resolve_due_at or now
        if until is None or until <= max(current, now):
            message = _("The new deadline must be later than the current one.")
            raise ValidationFailed(message, extra={"until": [message]})
        previous = _move(incident, A.REQUEST_EXTENSION, incident.state)
        incident.extension_requested = True
        incident.extension_requested_until = until
        incident.extension_reason = reason
        incident.extension_requested_by = actor
        refresh_alarms(incident, rewarn=False)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.REQUEST_EXTENSION,
            from_state=previous,
            note=reason,
            public=False,
            data={"until": until.isoformat()},
        )
        _notify(
            routing.nearest_dispatcher_ids(incident.handling_region or incident.region),
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: extension requested until %(until)s"),
            params={"until": _fmt(until)},
        )
        return incident


def incident_approve_extension(*, incident_id: int, actor: User, note: str = "") -> Incident:
    """A dispatcher or supervisor in scope (not the requester) grants the extension: the
    resolve deadline moves to the requested time."""
    with transaction.atomic():
        incident = _load(A.APPROVE_EXTENSION, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.APPROVE_EXTENSION, incident.state)
        requester = incident.extension_requested_by_id
        incident.resolve_due_at = incident.extension_requested_until
        incident.extension_count += 1
        incident.extension_requested = False
        incident.extension_requested_by = None
        incident.extension_requested_until = None
        _set_due(incident, incident.resolve_due_at, start=now)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.APPROVE_EXTENSION,
            from_state=previous,
            note=_optional_text(note, "note"),
            data={"resolve_due_at": incident.resolve_due_at.isoformat()},
        )
        _notify(
            [requester],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: extension granted until %(until)s"),
            params={"until": _fmt(incident.resolve_due_at)},
        )
        return incident


def incident_reject_extension(*, incident_id: int, actor: User, reason: str) -> Incident:
    """The extension is refused (with a reason); the deadline stays."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(A.REJECT_EXTENSION, incident_id=incident_id, actor=actor)
        previous = _move(incident, A.REJECT_EXTENSION, incident.state)
        requester = incident.extension_requested_by_id
        incident.extension_requested = False
        incident.extension_requested_by = None
        incident.extension_requested_until = None
        refresh_alarms(incident, rewarn=False)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.REJECT_EXTENSION,
            from_state=previous,
            note=reason,
            public=False,
        )
        _notify(
            [requester],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: extension refused"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"reason": reason},
        )
        return incident


def incident_park(*, incident_id: int, actor: User, reason: str) -> Incident:
    """A dispatcher or supervisor parks (挂账) an incident left unsolved past its handling
    deadline (resolve_due_at), with a written explanation (RULES): no warnings or escalation
    until it is unparked. Before the deadline: ConflictError (policies.ready)."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(A.PARK, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.PARK, incident.state)
        incident.parked = True
        incident.parked_at = now
        incident.parked_reason = reason
        refresh_alarms(incident, rewarn=False)
        incident.save()
        _event(incident, actor=actor, action=A.PARK, from_state=previous, note=reason)
        return incident


def incident_unpark(
    *, incident_id: int, actor: User, resolve_by: datetime | None = None, note: str = ""
) -> Incident:
    """Take a parked incident up again with a new resolve deadline (given, or the category's
    limit from now)."""
    with transaction.atomic():
        incident = _load(A.UNPARK, incident_id=incident_id, actor=actor)
        now = _now()
        if resolve_by is not None and resolve_by <= now:
            message = _("The new deadline must be in the future.")
            raise ValidationFailed(message, extra={"resolve_by": [message]})
        previous = _move(incident, A.UNPARK, incident.state)
        incident.parked = False
        incident.resolve_due_at = resolve_by or resolve_due_for(incident, now=now)
        _set_due(incident, incident.resolve_due_at, start=now)
        incident.save()
        _event(
            incident,
            actor=actor,
            action=A.UNPARK,
            from_state=previous,
            note=_optional_text(note, "note"),
            data={"resolve_due_at": incident.resolve_due_at.isoformat()},
        )
        return incident


# --- resolution, check, feedback --------------------------------------------------------------


def incident_resolve(
    *, incident_id: int, actor: User, result: str, photos: Sequence = ()
) -> Incident:
    """The assignee reports the result with evidence photos (accepted → resolved). If the
    resolver is not a grid worker of the cell, a grid worker checks on site (checker chosen,
    check deadline set, notified); otherwise feedback is enqueued (tasks.send_feedback)."""
    result = _required_text(result, "result", gettext_lazy("Describe what was done."))
    prepared = prepare_photos(photos)
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(A.RESOLVE, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.RESOLVE, S.RESOLVED)
        incident.result = result
        incident.resolved_at = now
        incident.parked = False
        incident.extension_requested = False
        incident.check_required = not routing.is_cell_worker(actor, incident)
        if incident.check_required:
            incident.checker_id = routing.choose_checker(incident)
            incident.check_due_at = add_limit(now, check_limit_for(incident))
            _set_due(incident, incident.check_due_at, start=now)
            incident.task_enqueued_at = None
        else:
            _set_due(incident, None, start=now)
            _enqueue(incident, "send_feedback")
        incident.save()
        event = _event(incident, actor=actor, action=A.RESOLVE, from_state=previous, note=result)
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        if incident.check_required:
            _notify(
                [incident.checker_id],
                incident,
                key=f"e{event.pk}",
                title=gettext_lazy("Incident %(no)s was resolved: check it on site"),
                body=gettext_lazy("Check by %(due)s."),
                params={"due": _fmt(incident.check_due_at)},
            )
        return incident


def incident_check(
    *, incident_id: int, actor: User, note: str = "", photos: Sequence = ()
) -> Incident:
    """A grid worker (the checker, any worker of the cell, or a dispatcher in scope) confirms
    the result on site (resolved → checked); enqueues tasks.send_feedback."""
    prepared = prepare_photos(photos)
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(A.CHECK, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.CHECK, S.CHECKED)
        incident.checked_at = now
        if incident.checker_id is None:
            incident.checker = actor
        _set_due(incident, None, start=now)
        _enqueue(incident, "send_feedback")
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.CHECK,
            from_state=previous,
            note=_optional_text(note, "note"),
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        return incident


def incident_rework(
    *, incident_id: int, actor: User, reason: str, photos: Sequence = ()
) -> Incident:
    """Not fixed on site (返工): back to the same handler (dispatched) with a fresh resolve
    deadline; the handler is told."""
    reason = _required_text(reason, "reason", _reason_required())
    prepared = prepare_photos(photos)
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(A.REWORK, incident_id=incident_id, actor=actor)
        incident.rework_count += 1
        target = routing.previous_handling(incident) or routing.route(incident)
        event = _apply_dispatch(
            incident, target, actor=actor, action=A.REWORK, note=reason, data={"rework": True}
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        return incident


def incident_can_be_rated(incident: Incident) -> bool:
    """A resident (signed in or known by phone) rates; a grid worker's patrol report is
    closed once the feedback is sent."""
    return incident.channel != Channel.PATROL and bool(
        incident.reporter_id or incident.reporter_phone
    )


def incident_send_feedback(*, incident_id: int, actor: User | None = None) -> Incident:
    """Send the result to the reporter (resolved without a check, or checked → feedback_sent):
    inbox for a signed-in reporter, SMS for one known by phone, with the rating link. Opens
    the rating window (settings.INCIDENT_RATING_WINDOW_DAYS); an incident nobody can rate is
    closed at once. The system (tasks.send_feedback) or a dispatcher. Idempotent for the
    system: an incident already past this step is returned unchanged."""
    with transaction.atomic():
        if actor is None:
            incident = _lock(incident_id)
            waiting = incident.state == S.CHECKED or (
                incident.state == S.RESOLVED and not incident.check_required
            )
            if not waiting:
                return incident
        else:
            incident = _load(A.SEND_FEEDBACK, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.SEND_FEEDBACK, S.FEEDBACK_SENT)
        incident.feedback_at = now
        incident.task_enqueued_at = None
        rateable = incident_can_be_rated(incident)
        if rateable:
            incident.rate_due_at = now + timedelta(days=settings.INCIDENT_RATING_WINDOW_DAYS)
            incident.due_at = incident.rate_due_at
        else:
            incident.due_at = None
        refresh_alarms(incident, start=now)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=A.SEND_FEEDBACK,
            from_state=previous,
            note=incident.result,
        )
        if rateable:
            _tell_reporter(
                incident,
                key=f"feedback:{incident.reopen_count}",
                title=gettext_lazy("Your report %(no)s has been handled"),
                body=gettext_lazy("Result: %(result)s. Please rate it."),
                params={"result": incident.result[:200]},
            )
        else:
            _notify(
                [incident.reporter_id],
                incident,
                key=f"e{event.pk}",
                title=gettext_lazy("Your report %(no)s has been handled"),
                body=gettext_lazy("Result: %(result)s."),
                params={"result": incident.result[:200]},
            )
            _close(incident, actor=None, note=_say(gettext_lazy("Closed: no rating is needed.")))
        return incident


def _close(incident: Incident, *, actor: User | None, note: str) -> IncidentEvent:
    now = _now()
    previous = _move(incident, A.CLOSE, S.CLOSED)
    incident.closed_at = now
    incident.task_enqueued_at = None
    _set_due(incident, None, start=now)
    incident.save()
    return _event(incident, actor=actor, action=A.CLOSE, from_state=previous, note=note)


# --- rating, reopen, close --------------------------------------------------------------------


def incident_rate(
    *,
    actor: User | None,
    rating: int,
    comment: str = "",
    incident_id: int | None = None,
    tracking_number: str = "",
    access_code: str = "",
    tracking_proof: str = "",
) -> Incident:
    """The reporter rates the result 1–5 (feedback_sent → rated): signed in (`incident_id`),
    or through tracking with the tracking number and its access code (查询码), or the proof a
    tracking page session keeps (see incidents.tracking). Through tracking the event records
    the channel ("tracking") and the signed-in user if there is one; staff (any role but
    resident) may not rate there a case they can see (PermissionDeniedError).
    Enqueues tasks.apply_rating (3–5 closes, 1–2 reopens)."""
    from incidents.selectors import incident_for_tracked, incident_for_tracking

    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        message = _("Rate from 1 to 5 stars.")
        raise ValidationFailed(message, extra={"rating": [message]})
    comment = _optional_text(comment, "comment")
    if actor is not None and not actor.is_authenticated:
        actor = None
    with transaction.atomic():
        if incident_id is not None and actor is not None:
            incident = _load(A.RATE, incident_id=incident_id, actor=actor)
            channel = "account"
        else:
            if tracking_proof and not access_code:
                found = incident_for_tracked(tracking_number, tracking_proof)
            else:
                found = incident_for_tracking(tracking_number, access_code)
            if actor is not None and _is_staff(actor) and incident_is_visible(actor, found):
                raise PermissionDeniedError(
                    _(
                        "Staff may not rate through tracking an incident they can see: the "
                        "reporter rates it."
                    )
                )
            incident = _lock(found.pk)
            if incident.channel == Channel.PATROL:
                raise PermissionDeniedError(
                    _("You may not %(action)s this incident.") % {"action": A.RATE.label}
                )
            _check_move(A.RATE, incident)
            channel = "tracking"
        now = _now()
        previous = _move(incident, A.RATE, S.RATED)
        incident.rating = rating
        incident.rating_comment = comment
        incident.rated_at = now
        _set_due(incident, None, start=now)
        _enqueue(incident, "apply_rating")
        incident.save()
        _event(
            incident,
            actor=actor,
            action=A.RATE,
            from_state=previous,
            note=comment,
            data={"rating": rating, "channel": channel},
        )
        return incident


def _is_staff(user: User) -> bool:
    """Any role but resident (or a portal admin)."""
    return bool(user.is_portal_admin or (set(user.role_codes) - {RoleCode.RESIDENT}))


def incident_reopen(*, incident_id: int, actor: User | None = None, note: str = "") -> Incident:
    """A low rating (1–2) reopens the incident (rated → reopened) and routing sends it back to
    whoever handled it (tasks.route). The system (tasks.apply_rating) or a dispatcher.
    Idempotent for the system."""
    with transaction.atomic():
        if actor is None:
            incident = _lock(incident_id)
            if incident.state != S.RATED:
                return incident
        else:
            incident = _load(A.REOPEN, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.REOPEN, S.REOPENED)
        incident.reopen_count += 1
        _set_due(incident, None, start=now)
        _enqueue(incident, "route")
        incident.save()
        _event(
            incident,
            actor=actor,
            action=A.REOPEN,
            from_state=previous,
            note=_optional_text(note, "note")
            or _say(gettext_lazy("Rated %(n)s stars: reopened."), n=incident.rating),
            data={"rating": incident.rating},
        )
        return incident


def incident_close(*, incident_id: int, actor: User | None = None, note: str = "") -> Incident:
    """Close a rated incident (or one whose rating window has run out). The system
    (tasks.apply_rating, the sweep) or a dispatcher in scope. Idempotent for the system."""
    with transaction.atomic():
        if actor is None:
            incident = _lock(incident_id)
            if incident.state not in ACTIONS[A.CLOSE]:
                return incident
        else:
            incident = _load(A.CLOSE, incident_id=incident_id, actor=actor)
        _close(incident, actor=actor, note=_optional_text(note, "note"))
        return incident


# --- 随手办 -----------------------------------------------------------------------------------


def incident_fix_on_spot(
    *,
    actor: User,
    result: str,
    photos: Sequence,
    incident_id: int | None = None,
    category: Category | None = None,
    description: str = "",
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    use_photo_location: bool = False,
) -> Incident:
    """随手办: a grid worker fixes a small matter on the spot, verified and resolved in one
    step, with at least one evidence photo (required). Either a new matter they found (give
    category, description and the place, inside their own cells or community: reported →
    resolved) or an incident they came to verify (`incident_id`: verifying → resolved).
    No on-site check follows; feedback (and closing or rating) is enqueued."""
    if actor is None or not actor.is_authenticated or not actor.has_role(RoleCode.GRID_WORKER):
        raise PermissionDeniedError(_("Only grid workers record on-the-spot fixes."))
    result = _required_text(result, "result", gettext_lazy("Describe what was done."))
    if incident_id is not None:
        evidence = prepare_photos(photos, required=True)
        with _files_removed_on_error() as saved, transaction.atomic():
            incident = _load(A.FIX_ON_SPOT, incident_id=incident_id, actor=actor)
            event = _fixed_on_spot(incident, actor=actor, result=result)
            save_photos(incident=incident, event=event, photos=evidence, saved=saved)
            return incident
    clean = _clean_report(
        actor=actor,
        category=category,
        description=description,
        channel=Channel.PATROL,
        lat=lat,
        lng=lng,
        address=address,
        reporter_name="",
        reporter_phone="",
        photos=photos,
        use_photo_location=use_photo_location,
        photos_required=True,
    )
    from accounts.selectors import user_scope

    location = clean.location
    scope = user_scope(actor)
    if not (location.cell_id in scope.cell_ids or scope.covers_code(location.community_code)):
        message = _("This place is outside your grid.")
        raise ValidationFailed(message, extra={"location": [message]})
    evidence, clean.photos = clean.photos, []

    def create(tracking_number: str, saved: list[str]) -> Incident:
        incident = _create_incident(
            clean, actor=actor, tracking_number=tracking_number, external_id="", saved=saved
        )
        event = _fixed_on_spot(incident, actor=actor, result=result)
        save_photos(incident=incident, event=event, photos=evidence, saved=saved)
        return incident

    return _created_with_fresh_number(create, channel=Channel.PATROL, external_id="", actor=actor)


def _fixed_on_spot(incident: Incident, *, actor: User, result: str) -> IncidentEvent:
    now = _now()
    previous = _move(incident, A.FIX_ON_SPOT, S.RESOLVED)
    incident.handling_level = HandlingLevel.GRID
    incident.handling_region_id = incident.region_id
    incident.handling_department = ""
    incident.verifier_id = incident.verifier_id or actor.pk
    incident.assignee = actor
    incident.claimable = False
    incident.verified_at = incident.verified_at or now
    incident.dispatched_at = incident.accepted_at = incident.resolved_at = now
    incident.result = result
    incident.check_required = False
    _set_due(incident, None, start=now)
    _enqueue(incident, "send_feedback")
    incident.save()
    return _event(incident, actor=actor, action=A.FIX_ON_SPOT, from_state=previous, note=result)


# --- mediation hooks (called by the mediation app) --------------------------------------------


def incident_mediation_referred(
    *, incident_id: int, actor: User, case_id: int, room_name: str
) -> Incident:
    """A dispute goes to a mediation room: the incident waits for the case (→ mediating; no
    deadline of its own meanwhile). Staff working the incident or its region. Idempotent for
    the same case."""
    with transaction.atomic():
        incident = _lock(incident_id)
        if incident.state == S.MEDIATING and incident.mediation_case_id == case_id:
            return incident
        incident = _load(A.REFER_TO_MEDIATION, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, A.REFER_TO_MEDIATION, S.MEDIATING)
        incident.mediation_case_id = case_id
        incident.mediation_room_name = (room_name or "")[:128]
        incident.claimable = False  # out of the claim pool while it waits (state machine test)
        incident.task_enqueued_at = None
        _set_due(incident, None, start=now)
        incident.save()
        _event(
            incident,
            actor=actor,
            action=A.REFER_TO_MEDIATION,
            from_state=previous,
            note=_say(gettext_lazy("Referred to %(room)s."), room=incident.mediation_room_name),
            data={"case": case_id},
        )
        return incident


def incident_mediation_concluded(
    *, incident_id: int, case_id: int, agreement_reached: bool, note: str = ""
) -> Incident:
    """The mediation case ended (system). Agreement: the incident is closed with the agreement
    as its result (the reporter is told). Failed or withdrawn: it goes back to its handling
    unit (or is routed by the rules), dispatched with a fresh deadline. Idempotent: a second
    call for the same case changes nothing; another case → ConflictError."""
    with transaction.atomic():
        incident = _lock(incident_id)
        if incident.mediation_case_id != case_id:
            raise ConflictError(_("This incident is not waiting for that mediation case."))
        if incident.state != S.MEDIATING:
            already = incident.events.filter(
                action=A.MEDIATION_CONCLUDED, data__case=case_id
            ).exists()
            if already:
                return incident
            raise _state_conflict(A.MEDIATION_CONCLUDED, incident)
        now = _now()
        note = (note or "").strip()
        data = {"case": case_id, "agreement": bool(agreement_reached)}
        if agreement_reached:
            previous = _move(incident, A.MEDIATION_CONCLUDED, S.CLOSED)
            incident.result = note or _say(
                gettext_lazy("Settled by mediation: an agreement was reached.")
            )
            incident.resolved_at = incident.resolved_at or now
            incident.closed_at = now
            _set_due(incident, None, start=now)
            incident.save()
            event = _event(
                incident,
                actor=None,
                action=A.MEDIATION_CONCLUDED,
                from_state=previous,
                note=incident.result,
                data=data,
            )
            _tell_reporter(
                incident,
                key=f"e{event.pk}",
                title=gettext_lazy("Your report %(no)s was settled by mediation"),
                body=gettext_lazy("Result: %(result)s."),
                params={"result": incident.result[:200]},
            )
            return incident
        target = routing.route(incident)
        _apply_dispatch(
            incident,
            target,
            actor=None,
            action=A.MEDIATION_CONCLUDED,
            note=note
            or _say(gettext_lazy("Mediation ended without agreement: back to the handling unit.")),
            data=data,
        )
        return incident


# --- the deadline sweep (bulk) ----------------------------------------------------------------


@dataclass
class SweepResult:
    re_enqueued: int = 0
    closed: int = 0
    escalated: int = 0
    warned: int = 0


SWEEP_BATCH = 1000  # per kind of work and run; the rest waits for the next minute
STUCK_TASKS = {
    S.REPORTED: "locate_and_assign",
    S.VERIFIED: "route",
    S.REOPENED: "route",
    S.RESOLVED: "send_feedback",
    S.CHECKED: "send_feedback",
    S.RATED: "apply_rating",
}


def _locked_batch(qs):
    """Lock a batch without waiting for rows another transaction holds (PostgreSQL)."""
    from django.db import connection

    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs.select_for_update()


def incidents_re_enqueue_stuck(*, now: datetime | None = None) -> int:
    """Re-send the task of incidents whose task left no trace (the state did not move for
    settings.INCIDENT_TASK_STUCK_MINUTES after it was enqueued). While many tasks wait in the
    broker's queue (a backlog after an outage), an old task may just be waiting: then only
    those never sent (tasks.NOT_SENT) go, so a backlog is not sent twice."""
    from core.celery_base import queue_backlog
    from incidents.tasks import NOT_SENT

    now = now or _now()
    cutoff = now - timedelta(minutes=settings.INCIDENT_TASK_STUCK_MINUTES)
    if queue_backlog() > settings.INCIDENT_REDRIVE_MAX_BACKLOG:
        cutoff = NOT_SENT
    with transaction.atomic():
        rows = list(
            _locked_batch(
                Incident.objects.filter(state__in=list(STUCK_TASKS), task_enqueued_at__lte=cutoff)
            )
            .order_by("task_enqueued_at")
            .values_list("pk", "state")[:SWEEP_BATCH]
        )
        if not rows:
            return 0
        Incident.objects.filter(pk__in=[pk for pk, _state in rows]).update(task_enqueued_at=now)
        from incidents import tasks

        for pk, state in rows:
            task = getattr(tasks, STUCK_TASKS[state])
            transaction.on_commit(lambda task=task, pk=pk: task.delay(pk))
    logger.info("incident sweep: re-enqueued %d stuck incidents", len(rows))
    return len(rows)


def incidents_close_unrated(*, now: datetime | None = None) -> int:
    """Close incidents whose rating window ran out without a rating (system event each)."""
    now = now or _now()
    with transaction.atomic():
        ids = list(
            _locked_batch(
                Incident.objects.filter(state=S.FEEDBACK_SENT, due_at__lte=now)
            ).values_list("pk", flat=True)[:SWEEP_BATCH]
        )
        if not ids:
            return 0
        Incident.objects.filter(pk__in=ids, state=S.FEEDBACK_SENT).update(
            state=S.CLOSED,
            closed_at=now,
            due_at=None,
            warn_at=None,
            escalate_at=None,
            task_enqueued_at=None,
            updated_at=now,
        )
        with translation.override(settings.LANGUAGE_CODE):
            note = str(_("Not rated within the rating window: closed."))
        IncidentEvent.objects.bulk_create(
            [
                IncidentEvent(
                    incident_id=pk,
                    actor=None,
                    action=A.CLOSE,
                    from_state=S.FEEDBACK_SENT,
                    to_state=S.CLOSED,
                    note=note,
                    created_at=now,
                )
                for pk in ids
            ]
        )
    return len(ids)


def incidents_escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate, one level up, every incident whose escalate_at has passed (system events).
    Bulk: one read of regions and dispatchers, one UPDATE per batch, bulk events and inbox
    messages."""
    now = now or _now()
    fields = [
        "state",
        "verifier",
        "checker",
        "assignee",
        "claimable",
        "handling_level",
        "handling_region",
        "handling_department",
        "escalation_level",
        "verify_due_at",
        "dispatch_due_at",
        "resolve_due_at",
        "check_due_at",
        "dispatched_at",
        "accepted_at",
        "extension_requested",
        "extension_requested_until",
        "extension_requested_by",
        "due_at",
        "warn_at",
        "warned_at",
        "escalate_at",
        "updated_at",
    ]
    with transaction.atomic():
        incidents = list(
            _locked_batch(
                Incident.objects.filter(
                    escalate_at__lte=now, state__in=list(ESCALATABLE_STATES), parked=False
                )
            )
            .select_related("category")
            .order_by("escalate_at")[: SWEEP_BATCH // 2]
        )
        if not incidents:
            return 0
        context = EscalationContext()
        with translation.override(settings.LANGUAGE_CODE):
            note = str(_("Deadline passed: escalated one level up."))
            title = str(_("Incident %(no)s was escalated to you"))
        changed, events, notices = [], [], []
        for incident in incidents:
            applied = _apply_escalation(incident, context=context, now=now)
            if applied is None:  # nowhere to go: stop trying
                incident.escalate_at = None
                incident.updated_at = now
                changed.append(incident)
                continue
            previous, data, tell = applied
            changed.append(incident)
            events.append(
                IncidentEvent(
                    incident_id=incident.pk,
                    actor=None,
                    action=A.ESCALATE,
                    from_state=previous,
                    to_state=incident.state,
                    note=note,
                    data=data,
                    created_at=now,
                )
            )
            key = f"incident:{incident.pk}:escalate:{incident.escalation_level}"
            notices.extend(
                Notification(
                    user_id=user_id,
                    title=title % {"no": incident.tracking_number},
                    url=_incident_path(incident.pk),
                    dedupe_key=key,
                )
                for user_id in set(tell)
                if user_id
            )
        # One small UPDATE per row: far cheaper than bulk_update's CASE over 23 columns.
        attnames = [Incident._meta.get_field(name).attname for name in fields]
        for incident in changed:
            Incident.objects.filter(pk=incident.pk).update(
                **{name: getattr(incident, name) for name in attnames}
            )
        IncidentEvent.objects.bulk_create(events, batch_size=500)
        Notification.objects.bulk_create(notices, batch_size=500, ignore_conflicts=True)
    return len(events)


def incidents_warn_due(*, now: datetime | None = None) -> int:
    """Warn whoever is responsible once before a deadline (warn_at passed): inbox message and
    an internal timeline row; warned_at is set and warn_at cleared."""
    now = now or _now()
    with transaction.atomic():
        rows = list(
            _locked_batch(Incident.objects.filter(warn_at__lte=now, parked=False))
            .order_by("warn_at")
            .values_list(
                "pk",
                "tracking_number",
                "state",
                "due_at",
                "assignee_id",
                "verifier_id",
                "checker_id",
                "claimable",
                "grid_cell_id",
                "handling_region_id",
                "region_id",
                "handling_department",
                "region_code",
            )[:SWEEP_BATCH]
        )
        if not rows:
            return 0
        ids = [row[0] for row in rows]
        Incident.objects.filter(pk__in=ids).update(warn_at=None, warned_at=now)
        context = EscalationContext()
        cells = {row[8] for row in rows if row[7] and row[8]}
        cell_workers: dict[int, list[int]] = {}
        if cells:
            from grids.models import GridWorker

            for user_id, cell_id in GridWorker.objects.filter(
                cells__id__in=cells, on_duty=True, user__is_active=True
            ).values_list("user_id", "cells__id"):
                if cell_id in cells:
                    cell_workers.setdefault(cell_id, []).append(user_id)
        handlers = _department_handlers({row[11] for row in rows if row[11]})
        with translation.override(settings.LANGUAGE_CODE):
            title = str(_("Incident %(no)s is due at %(due)s"))
            note = str(_("Deadline warning sent."))
        events, notices = [], []
        for (
            pk,
            number,
            state,
            due,
            assignee_id,
            verifier_id,
            checker_id,
            claimable,
            cell_id,
            handling_region_id,
            region_id,
            department,
            region_code,
        ) in rows:
            if state in (S.REPORTED, S.VERIFYING) and verifier_id:
                tell = [verifier_id]
            elif state == S.RESOLVED and checker_id:
                tell = [checker_id]
            elif state in (S.DISPATCHED, S.ACCEPTED) and assignee_id:
                tell = [assignee_id]
            elif state == S.DISPATCHED and claimable:
                tell = cell_workers.get(cell_id, [])
            else:
                tell = [
                    pk_
                    for pk_, prefix in handlers.get(department, [])
                    if region_code.startswith(prefix)
                ] or context.nearest_dispatchers(handling_region_id or region_id)
            events.append(
                IncidentEvent(
                    incident_id=pk,
                    actor=None,
                    action=A.DEADLINE_WARNING,
                    from_state=state,
                    to_state=state,
                    note=note,
                    public=False,
                    data={"due_at": due.isoformat() if due else None},
                    created_at=now,
                )
            )
            key = f"incident:{pk}:warn:{int(due.timestamp()) if due else 0}"
            notices.extend(
                Notification(
                    user_id=user_id,
                    title=title % {"no": number, "due": _fmt(due)},
                    url=_incident_path(pk),
                    dedupe_key=key,
                )
                for user_id in set(tell)
            )
        IncidentEvent.objects.bulk_create(events, batch_size=500)
        Notification.objects.bulk_create(notices, batch_size=500, ignore_conflicts=True)
    return len(rows)


def _department_handlers(departments: set[str]) -> dict[str, list[tuple[int, str]]]:
    if not departments:
        return {}
    result: dict[str, list[tuple[int, str]]] = {}
    for pk, department, code, level in User.objects.filter(
        is_active=True,
        roles__code=RoleCode.DEPARTMENT_HANDLER,
        department__in=departments,
        scope_region__isnull=False,
    ).values_list("pk", "department", "scope_region__code", "scope_region__level"):
        result.setdefault(department, []).append((pk, code[: Region.PREFIX_LENGTH[level]]))
    return result


def incidents_sweep(*, now: datetime | None = None) -> SweepResult:
    """The minute sweep (tasks.sweep_deadlines): re-enqueue stuck tasks, close unrated work
    after the rating window, escalate overdue work, warn before deadlines. Each part in its
    own transaction over indexed alarm columns, in batches."""
    now = now or _now()
    return SweepResult(
        re_enqueued=incidents_re_enqueue_stuck(now=now),
        closed=incidents_close_unrated(now=now),
        escalated=incidents_escalate_overdue(now=now),
        warned=incidents_warn_due(now=now),
    )


# --- patrol log (巡查日志) ----------------------------------------------------------------------


def _patrol_locked(patrol_id: int, actor: User) -> PatrolLog:
    """The actor's own patrol, locked. Somebody else's: NotFoundError when they may not see
    it, PermissionDeniedError when they may (a dispatcher only reads patrols)."""
    from incidents.selectors import patrols_visible

    patrol = PatrolLog.objects.select_for_update().filter(pk=patrol_id).first()
    if patrol is None or not patrols_visible(actor).filter(pk=patrol_id).exists():
        raise NotFoundError(_("Patrol not found."))
    if patrol.worker_id != actor.pk:
        raise PermissionDeniedError(_("Only the grid worker on the patrol records it."))
    return patrol


def _add_points(patrol: PatrolLog, points: Sequence, *, now: datetime) -> int:
    """Merge validated points into the track (distance and cells patrolled follow)."""
    from grids.locator import locate

    new = patrol_helpers.clean_points(points, not_before=patrol.started_at, now=now)
    if not new:
        return 0
    merged = patrol_helpers.merge_track(list(patrol.track or []), new)
    if len(merged) > patrol_helpers.MAX_TRACK_POINTS:
        message = _("The track is full (%(n)s points).") % {"n": patrol_helpers.MAX_TRACK_POINTS}
        raise ValidationFailed(message, extra={"points": [message]})
    added = len(merged) - len(patrol.track or [])
    patrol.track = merged
    patrol.distance_m = round(patrol_helpers.track_distance_m(merged), 1)
    cell_ids = {locate(p[0], p[1]).cell_id for p in new} - {None}
    if cell_ids:
        patrol.cells.add(*cell_ids)
    return added


def patrol_start(
    *,
    actor: User,
    cell_ids: Sequence[int] | None = None,
    notes: str = "",
    points: Sequence = (),
) -> PatrolLog:
    """A grid worker starts a patrol (巡查). Requires the grid worker role; one open patrol per
    worker (ConflictError for a second: the user row is locked, and a partial unique index
    backs it). `cell_ids` (default: all the worker's cells) must be the worker's own cells;
    `points` may carry the first GPS fix."""
    if not actor.is_authenticated or not actor.has_role(RoleCode.GRID_WORKER):
        raise PermissionDeniedError(_("Only grid workers keep a patrol log."))
    from grids.models import GridWorker

    worker = GridWorker.objects.filter(user=actor).first()
    own_cells = set(worker.cells.values_list("pk", flat=True)) if worker else set()
    chosen = set(own_cells if cell_ids is None else cell_ids)
    if not chosen <= own_cells:
        message = _("Choose among your own grid cells.")
        raise ValidationFailed(message, extra={"cells": [message]})
    text = _optional_text(notes, "notes")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        open_patrol = PatrolLog.objects.filter(worker=actor, ended_at__isnull=True).first()
        if open_patrol is not None:
            raise ConflictError(
                _("You are already on a patrol (started %(at)s): end it first.")
                % {"at": _fmt(open_patrol.started_at)}
            )
        now = _now()
        region_code = actor.scope_region.code if actor.scope_region_id else ""
        patrol = PatrolLog(worker=actor, started_at=now, region_code=region_code, notes=text)
        try:
            with transaction.atomic():
                patrol.save()
        except IntegrityError as exc:  # another request of the same worker won the race
            raise ConflictError(_("You are already on a patrol: end it first.")) from exc
        if chosen:
            patrol.cells.add(*chosen)
        if points:
            _add_points(patrol, points, now=now)
            patrol.save(update_fields=["track", "distance_m", "updated_at"])
        return patrol


def patrol_add_points(*, patrol_id: int, actor: User, points: Sequence) -> PatrolLog:
    """The patrol page sends the GPS fixes of the last ~30 s (or one added by hand). Only the
    worker on the patrol, only while it is open (ConflictError after the end). Points are
    [lat, lng, time]; a bad one rejects the batch (ValidationFailed); a repeated time (a
    retried request) is ignored. Distance and the cells patrolled are updated."""
    with transaction.atomic():
        patrol = _patrol_locked(patrol_id, actor)
        if not patrol.is_open:
            raise ConflictError(_("This patrol has ended."))
        _add_points(patrol, points, now=_now())
        patrol.save(update_fields=["track", "distance_m", "updated_at"])
        return patrol


def patrol_end(
    *, patrol_id: int, actor: User, notes: str | None = None, points: Sequence = ()
) -> PatrolLog:
    """The worker ends the patrol, with notes (replacing the start's when given) and the last
    points. ConflictError when it has already ended."""
    with transaction.atomic():
        patrol = _patrol_locked(patrol_id, actor)
        if not patrol.is_open:
            raise ConflictError(_("This patrol has ended."))
        now = _now()
        if points:
            _add_points(patrol, points, now=now)
        if notes is not None:
            patrol.notes = _optional_text(notes, "notes")
        patrol.ended_at = now
        patrol.save()
        return patrol
