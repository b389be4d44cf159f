"""Filing a report: validation of everything first, a collision-safe random tracking number,
the access code (查询码), and "resend my code"."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.exceptions import ConflictError, ValidationFailed
from core.services import sms_queue
from incidents import access_codes
from incidents.models import Action, Category, Channel, Incident, IncidentState
from incidents.photos import PreparedPhoto, prepare_photos, save_photos
from incidents.services._steps import (
    MAX_TEXT,
    _enqueue_on_commit,
    _event,
    _files_removed_on_error,
    _fmt,
    _lock,
    _now,
    _say,
    track_url,
)

TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
TRACKING_PREFIX = "GG"
TRACKING_RANDOM_LENGTH = 8  # 31^8 ≈ 8.5e11 numbers: not guessable in sequence

PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")
# Channels on which staff file for somebody else (a caller, a petitioner): the user typing it in
# is not the reporter; the person is known by name and phone (SMS feedback, rating by number).
CALL_CHANNELS = {Channel.HOTLINE_12345, Channel.DIVERSION_110, Channel.PETITION}
# Channels whose external_id belongs to a partner (integrations: "<partner code>:<ticket id>"):
# a signed-in user may not send one there (security review L1).
PARTNER_CHANNELS = {Channel.HOTLINE_12345, Channel.DIVERSION_110}


def tracking_number_new() -> str:
    """A fresh tracking number like GG7K3MQ9XP (random, from an unambiguous alphabet)."""
    body = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_RANDOM_LENGTH))
    return TRACKING_PREFIX + body


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
    access_code = access_codes.access_code_new()
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
        access_code_hash=access_codes.access_code_hash(access_code),
        # Known at once (the task locates again and picks the verifier): the region's staff
        # see a new report in their queue straight away.
        grid_cell_id=clean.location.cell_id,
        region_id=clean.location.community_id,
        region_code=clean.location.community_code or "",
        urgent=clean.category.urgent if urgent is None else urgent,
        external_due_at=resolve_by,
        patrol_id=_open_patrol_id(actor, clean.channel),
        state=IncidentState.REPORTED,
        task_enqueued_at=now,
    )
    incident.save(force_insert=True)
    incident.access_code = access_code  # type: ignore[attr-defined]  # not a column
    event = _event(incident, actor=actor, action=Action.REPORT, from_state="")
    save_photos(incident=incident, event=event, photos=clean.photos, saved=saved)
    if resolve_by is not None:
        _event(
            incident,
            actor=None,
            action=Action.PARTNER_DEADLINE,
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
        code = access_codes.access_code_new()
        incident.access_code_hash = access_codes.access_code_hash(code)
        incident.updated_at = _now()
        incident.save(update_fields=["access_code_hash", "updated_at"])
        incident.access_code = code  # type: ignore[attr-defined]  # not a column
        event = _event(
            incident,
            actor=None,
            action=Action.ACCESS_CODE_SENT,
            from_state=incident.state,
            note=_say(gettext_lazy("A new access code was sent to the reporter's phone.")),
            public=False,
        )
        _send_access_code(incident, reporter_phone_of(found), key=f"e{event.pk}")
        return True
