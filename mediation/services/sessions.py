"""Mediation sessions: book (with the double-booking and room-capacity checks), cancel, start, and
record the minutes.
"""

from datetime import datetime, timedelta
from datetime import time as dtime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import (
    ConflictError,
    NotFoundError,
    ValidationFailed,
)
from mediation.models import (
    CaseAction,
    CaseState,
    MediationCase,
    MediationRoom,
    MediationSession,
)
from mediation.services._steps import (
    MAX_SESSION_MINUTES,
    _active_room_mediator_ids,
    _case_for_update,
    _event,
    _move,
    _notify_parties,
    _require_staff,
    _require_state,
    _required_text,
    _room_mediator,
)

# --- sessions -----------------------------------------------------------------------------


@transaction.atomic
def session_schedule(
    *,
    actor: User,
    case_id: int,
    starts_at: datetime,
    duration_minutes: int = 60,
    place: str = "",
    mediator_id: int | None = None,
) -> MediationSession:
    """Book a session: the case becomes "scheduled". Refuses double-booking (the mediator has
    an overlapping session) and a day already at the room's capacity. Locks the room and the
    mediator so two bookings cannot both take the last slot. Notifies the parties (SMS too)."""
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION))
    if starts_at is None or timezone.is_naive(starts_at):
        message = _("Give the date and time of the session.")
        raise ValidationFailed(message, extra={"starts_at": [message]})
    if starts_at < timezone.now():
        message = _("A session cannot start in the past.")
        raise ValidationFailed(message, extra={"starts_at": [message]})
    if not 15 <= int(duration_minutes) <= MAX_SESSION_MINUTES:
        message = _("A session lasts between 15 minutes and 8 hours.")
        raise ValidationFailed(message, extra={"duration_minutes": [message]})
    if mediator_id is None:
        mediator_id = case.mediator_id
    if mediator_id is None and actor.pk in _active_room_mediator_ids(case.room_id):
        mediator_id = actor.pk
    mediator = _room_mediator(case.room_id, mediator_id)
    ends_at = starts_at + timedelta(minutes=int(duration_minutes))

    room = MediationRoom.objects.select_for_update().get(pk=case.room_id)
    User.objects.select_for_update().filter(pk=mediator.pk).first()
    busy = MediationSession.objects.filter(
        mediator=mediator, starts_at__lt=ends_at, ends_at__gt=starts_at
    ).exclude(state=MediationSession.State.CANCELLED)
    if busy.exists():
        raise ConflictError(
            _("%(mediator)s already has a session at that time.") % {"mediator": mediator}
        )
    day = timezone.localtime(starts_at).date()
    tz = timezone.get_current_timezone()
    day_start = datetime.combine(day, dtime.min, tzinfo=tz)
    booked = (
        MediationSession.objects.filter(
            room=room, starts_at__gte=day_start, starts_at__lt=day_start + timedelta(days=1)
        )
        .exclude(state=MediationSession.State.CANCELLED)
        .count()
    )
    if booked >= room.capacity_per_day:
        raise ConflictError(
            _("%(room)s is fully booked on %(day)s (%(capacity)s sessions a day).")
            % {"room": room.name, "day": day.isoformat(), "capacity": room.capacity_per_day}
        )
    session = MediationSession.objects.create(
        case=case,
        room=room,
        mediator=mediator,
        starts_at=starts_at,
        ends_at=ends_at,
        place=(place or "").strip()[:255] or room.address or room.name,
    )
    if case.mediator_id is None:
        case.mediator = mediator
    when = timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M")
    _move(
        case,
        actor=actor,
        target=CaseState.SCHEDULED,
        action=CaseAction.SESSION_SCHEDULED,
        note=f"{when} {session.place}",
        data={"session_id": session.pk},
    )
    _notify_parties(
        case,
        title=_("Mediation session on %(when)s") % {"when": when},
        body=_("Case %(number)s: session at %(place)s with mediator %(mediator)s.")
        % {"number": case.case_number, "place": session.place, "mediator": mediator},
        key=f"session:{session.pk}",
        sms_text=_("Mediation case %(number)s: session on %(when)s at %(place)s.")
        % {"number": case.case_number, "when": when, "place": session.place},
    )
    return session


def _session_for_update(session_id: int, actor: User) -> tuple[MediationSession, MediationCase]:
    session = MediationSession.objects.filter(pk=session_id).first()
    if session is None:
        raise NotFoundError(_("Session not found."))
    case = _case_for_update(session.case_id, actor)
    session = MediationSession.objects.select_for_update().get(pk=session_id)
    _require_staff(actor, case)
    return session, case


@transaction.atomic
def session_cancel(*, actor: User, session_id: int, reason: str) -> MediationSession:
    reason = _required_text(reason, "reason", _("Give the reason for cancelling."))
    session, case = _session_for_update(session_id, actor)
    if session.state != MediationSession.State.PLANNED:
        raise ConflictError(_("Only a planned session can be cancelled."))
    session.state = MediationSession.State.CANCELLED
    session.save()
    when = timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")
    _event(
        case,
        actor=actor,
        action=CaseAction.SESSION_CANCELLED,
        note=f"{when}: {reason}",
        data={"session_id": session.pk},
    )
    _notify_parties(
        case,
        title=_("Mediation session on %(when)s cancelled") % {"when": when},
        body=reason,
        key=f"session:{session.pk}:cancelled",
        sms_text=_("Mediation case %(number)s: the session on %(when)s is cancelled.")
        % {"number": case.case_number, "when": when},
    )
    return session


@transaction.atomic
def session_start(*, actor: User, session_id: int) -> MediationSession:
    """The parties are present: the session is taking place (held) and the case is "in
    session"."""
    session, case = _session_for_update(session_id, actor)
    if session.state != MediationSession.State.PLANNED:
        raise ConflictError(_("Only a planned session can start."))
    session.state = MediationSession.State.HELD
    session.save(update_fields=["state", "updated_at"])
    if case.state == CaseState.IN_SESSION:
        _event(
            case, actor=actor, action=CaseAction.SESSION_STARTED, data={"session_id": session.pk}
        )
    else:
        _move(
            case,
            actor=actor,
            target=CaseState.IN_SESSION,
            action=CaseAction.SESSION_STARTED,
            data={"session_id": session.pk},
        )
    return session


@transaction.atomic
def session_record_minutes(
    *, actor: User, session_id: int, minutes: str, attendees: str = ""
) -> MediationSession:
    """Record the minutes (调解笔录) of a session that has taken place; a case still
    "scheduled" is then "in session"."""
    minutes = _required_text(minutes, "minutes", _("Write the minutes."))
    session, case = _session_for_update(session_id, actor)
    if session.state == MediationSession.State.CANCELLED:
        raise ConflictError(_("A cancelled session has no minutes."))
    if session.starts_at > timezone.now():
        raise ConflictError(_("The session has not started yet."))
    session.minutes = minutes
    session.attendees = (attendees or "").strip()[:255]
    session.state = MediationSession.State.HELD
    session.minutes_recorded_at = timezone.now()
    session.save()
    if case.state == CaseState.SCHEDULED:
        _move(
            case,
            actor=actor,
            target=CaseState.IN_SESSION,
            action=CaseAction.MINUTES_RECORDED,
            data={"session_id": session.pk},
        )
    else:
        _event(
            case, actor=actor, action=CaseAction.MINUTES_RECORDED, data={"session_id": session.pk}
        )
    return session
