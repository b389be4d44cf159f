"""Every write of the mediation app.

Each service runs in one transaction, locks the rows it changes (select_for_update), checks
permission and state, applies the move declared in mediation.models.TRANSITIONS, writes one
MediationEvent, and enqueues follow-up work (SMS, telling a referring incident the outcome) on
commit. Limits used here:
- a case is normally settled within 30 days (司法部《人民调解工作若干规定》Art. 33; 深圳经济特区
  矛盾纠纷多元化解条例 Art. 25), longer only with the parties' consent: the period and the cap on
  one extension are local practice, read from the admin-edited MediationPolicy;
- the parties may jointly apply for judicial confirmation within 30 days of the agreement taking
  effect (人民调解法 Art. 33);
- a party's refusal stops the mediation (Art. 17); a written agreement takes effect when every
  party has signed, the mediator has signed and the committee has sealed it (Art. 29), on the
  latest of those dates; an oral one when it is recorded (Art. 28, 30).
"""

import csv
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User, mainland_mobile_validator
from core.calendar import add_calendar_days_statutory
from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.masking import mask_phone
from core.services import notification_send, sms_queue
from grids.models import Region
from incidents.models import Category
from mediation.models import (
    ROOM_LEVEL_ALIASES,
    ROOM_LEVEL_REGION_LEVEL,
    ROOM_TYPE_ALIASES,
    AgreementSignature,
    CaseOutcome,
    CaseParty,
    CaseSource,
    CaseState,
    MediationAgreement,
    MediationCase,
    MediationEvent,
    MediationPolicy,
    MediationRoom,
    MediationSession,
    Performance,
    RoomLevel,
    RoomMediator,
    RoomType,
    can_move,
    id_number_validator,
)
from mediation.selectors import cases_visible, user_is_room_staff

logger = logging.getLogger(__name__)

# Defaults of MediationPolicy.settle_days / max_extension_days (the services read the policy).
SETTLE_DAYS = 30
CONFIRMATION_DAYS = 30
MAX_EXTENSION_DAYS = 60
# A signature or the seal may be entered a little after the clock says (device clocks differ).
CLOCK_TOLERANCE = timedelta(minutes=5)
MAX_SESSION_MINUTES = 8 * 60


# --- small helpers ------------------------------------------------------------------------


def _case_url(case: MediationCase) -> str:
    return reverse("mediation:case_detail", args=[case.pk])


def _event(
    case: MediationCase,
    *,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
) -> MediationEvent:
    return MediationEvent.objects.create(
        case=case,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data or {},
    )


def _move(
    case: MediationCase,
    *,
    actor: User | None,
    target: str,
    action: str,
    note: str = "",
    data: dict | None = None,
) -> MediationEvent:
    """Apply one move of the declared graph (the caller holds the row lock) and record it."""
    source = case.state
    if not can_move(source, target):
        raise ConflictError(
            _("A case that is “%(state)s” cannot become “%(target)s”.")
            % {"state": CaseState(source).label, "target": CaseState(target).label}
        )
    case.state = target
    case.save()
    return _event(
        case, actor=actor, action=action, from_state=source, to_state=target, note=note, data=data
    )


def _require_state(case: MediationCase, states: Sequence[str]) -> None:
    if case.state not in states:
        raise ConflictError(
            _("Not possible while the case is “%(state)s”.") % {"state": case.get_state_display()}
        )


def _case_for_update(case_id: int, actor: User | None) -> MediationCase:
    """Lock the case; a user who may not see it gets 404 (its existence is not revealed)."""
    case = MediationCase.objects.select_for_update().filter(pk=case_id).first()
    if case is None:
        raise NotFoundError(_("Mediation case not found."))
    if actor is not None and not cases_visible(actor).filter(pk=case_id).exists():
        raise NotFoundError(_("Mediation case not found."))
    return case


def _require_staff(actor: User, case: MediationCase) -> None:
    if not user_is_room_staff(actor, case.room_id):
        raise PermissionDeniedError(_("Only the mediators of this room may do that."))


def _require_admin(actor: User) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_portal_admin:
        raise PermissionDeniedError(_("Only administrators configure mediation rooms."))


def _required_text(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, extra={field_name: [message]})
    return value


def _party_user_ids(case: MediationCase) -> set[int]:
    ids = set(case.parties.exclude(user=None).values_list("user_id", flat=True))
    if case.applicant_user_id:
        ids.add(case.applicant_user_id)
    return ids


def _mediator_user_ids(case: MediationCase) -> set[int]:
    if case.mediator_id:
        return {case.mediator_id}
    return set(
        RoomMediator.objects.filter(room_id=case.room_id, active=True).values_list(
            "user_id", flat=True
        )
    )


def _notify_parties(
    case: MediationCase, *, title: str, body: str = "", key: str, sms_text: str = ""
) -> None:
    """Inbox for parties with an account; SMS to every party's phone (sent after commit)."""
    notification_send(
        user_ids=_party_user_ids(case),
        title=title,
        body=body,
        url=_case_url(case),
        dedupe_key=f"mediation:{case.pk}:{key}",
    )
    if sms_text:
        for party in case.parties.exclude(phone=""):
            sms_queue(
                phone=party.phone,
                text=sms_text,
                dedupe_key=f"mediation:{case.pk}:{key}:party:{party.pk}",
            )


def _notify_mediators(case: MediationCase, *, title: str, body: str = "", key: str) -> None:
    notification_send(
        user_ids=_mediator_user_ids(case),
        title=title,
        body=body,
        url=_case_url(case),
        dedupe_key=f"mediation:{case.pk}:{key}",
    )


def _enqueue_incident_report(case: MediationCase) -> None:
    if case.incident_id is None:
        return
    from mediation.tasks import report_outcome_to_incident

    case_id = case.pk
    transaction.on_commit(lambda: report_outcome_to_incident.delay(case_id))


# --- parties ------------------------------------------------------------------------------


def _clean_parties(parties: Sequence[dict]) -> list[dict]:
    """Validate the parties: at least one applicant and one respondent, each with a name;
    ID number and phone optional but well-formed. Raises ValidationFailed listing every
    problem, so bad input never half-writes a case."""
    errors: list[str] = []
    cleaned: list[dict] = []
    for index, raw in enumerate(parties or []):
        number = index + 1
        role = (raw.get("role") or "").strip()
        name = (raw.get("name") or "").strip()
        id_number = (raw.get("id_number") or "").strip().upper()
        phone = (raw.get("phone") or "").strip()
        address = (raw.get("address") or "").strip()
        if not (name or id_number or phone or address):
            continue  # an empty row of a form
        if role not in CaseParty.Role.values:
            errors.append(_("Party %(n)s: choose applicant or respondent.") % {"n": number})
        if not name:
            errors.append(_("Party %(n)s: the name is required.") % {"n": number})
        elif len(name) > 64:
            errors.append(_("Party %(n)s: the name is too long.") % {"n": number})
        if id_number:
            try:
                id_number_validator(id_number)
            except DjangoValidationError:
                errors.append(_("Party %(n)s: the ID number is not valid.") % {"n": number})
        if phone:
            try:
                mainland_mobile_validator(phone)
            except DjangoValidationError:
                errors.append(_("Party %(n)s: the phone number is not valid.") % {"n": number})
        cleaned.append(
            {
                "role": role,
                "name": name,
                "id_number": id_number,
                "phone": phone,
                "address": address[:255],
                "user_id": raw.get("user_id"),
            }
        )
    roles = {party["role"] for party in cleaned}
    if CaseParty.Role.APPLICANT not in roles:
        errors.append(_("At least one applicant is required."))
    if CaseParty.Role.RESPONDENT not in roles:
        errors.append(_("At least one respondent is required."))
    if errors:
        raise ValidationFailed(errors[0], extra={"parties": errors})
    return cleaned


def _category_for(category_code: str | None) -> Category | None:
    if not category_code:
        return None
    category = Category.objects.filter(code=category_code).first()
    if category is None or not category.is_dispute:
        message = _("Choose a dispute category.")
        raise ValidationFailed(message, extra={"category": [message]})
    return category


def _next_case_number() -> str:
    prefix = f"TJ{timezone.localdate():%Y%m%d}"
    last = (
        MediationCase.objects.filter(case_number__startswith=prefix)
        .order_by("-case_number")
        .values_list("case_number", flat=True)
        .first()
    )
    sequence = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{sequence:04d}"


def _case_create(
    *,
    actor: User | None,
    room_id: int,
    source: str,
    category: Category | None,
    facts: str,
    requests: str,
    parties: Sequence[dict],
    region_code: str = "",
    applicant_user: User | None = None,
    incident=None,
    petition_id: int | None = None,
    court_reference: str = "",
    action: str,
    note: str = "",
) -> MediationCase:
    facts = _required_text(facts, "facts", _("Describe the facts of the dispute."))
    cleaned = _clean_parties(parties)
    room = MediationRoom.objects.filter(pk=room_id).first()
    if room is None:
        message = _("Choose a mediation room.")
        raise ValidationFailed(message, extra={"room": [message]})
    if not room.active:
        raise ConflictError(_("This mediation room no longer takes new cases."))
    if not room.takes_category(category):
        message = _("This room does not take this kind of dispute.")
        raise ValidationFailed(message, extra={"room": [message]})
    case = None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                case = MediationCase.objects.create(
                    case_number=_next_case_number(),
                    room=room,
                    category=category,
                    facts=facts,
                    requests=(requests or "").strip(),
                    source=source,
                    region_code=region_code or room.region_code,
                    applicant_user=applicant_user,
                    created_by=actor,
                    incident=incident,
                    petition_id=petition_id,
                    court_reference=court_reference,
                )
            break
        except IntegrityError:
            continue  # two cases got the same number at once: take the next one
    if case is None:
        raise ConflictError(_("Could not number the case; please try again."))
    for position, party in enumerate(cleaned):
        CaseParty.objects.create(
            case=case,
            role=party["role"],
            name=party["name"],
            id_number=party["id_number"],
            phone=party["phone"],
            address=party["address"],
            user_id=party["user_id"],
            position=position,
        )
    _event(case, actor=actor, action=action, to_state=case.state, note=note)
    notification_send(
        user_ids=set(
            RoomMediator.objects.filter(room=room, active=True).values_list("user_id", flat=True)
        ),
        title=_("New mediation case %(number)s") % {"number": case.case_number},
        body=facts[:200],
        url=_case_url(case),
        dedupe_key=f"mediation:{case.pk}:new",
    )
    return case


# --- cases: intake ------------------------------------------------------------------------


@transaction.atomic
def case_apply_online(
    *,
    actor: User,
    room_id: int,
    category_code: str,
    facts: str,
    requests: str = "",
    parties: Sequence[dict],
) -> MediationCase:
    """A resident applies for mediation online (人民调解法 Art. 17). The first applicant is
    linked to the resident's account so they can track the case. Notifies the room."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDeniedError(_("Sign in to apply for mediation."))
    category = _category_for(category_code)
    if category is None:
        message = _("Choose a dispute category.")
        raise ValidationFailed(message, extra={"category": [message]})
    parties = [dict(p) for p in parties]
    for party in parties:
        if party.get("role") == CaseParty.Role.APPLICANT:
            party["user_id"] = actor.pk
            break
    return _case_create(
        actor=actor,
        room_id=room_id,
        source=CaseSource.ONLINE,
        category=category,
        facts=facts,
        requests=requests,
        parties=parties,
        applicant_user=actor,
        action="applied",
    )


@transaction.atomic
def case_register(
    *,
    actor: User,
    room_id: int,
    source: str,
    category_code: str | None,
    facts: str,
    requests: str = "",
    parties: Sequence[dict],
    court_reference: str = "",
) -> MediationCase:
    """A room's mediator registers a walk-in case or a court pre-litigation referral."""
    if source not in (CaseSource.WALK_IN, CaseSource.COURT):
        message = _("Choose walk-in or court referral.")
        raise ValidationFailed(message, extra={"source": [message]})
    if not user_is_room_staff(actor, room_id):
        raise PermissionDeniedError(_("Only the mediators of this room may do that."))
    return _case_create(
        actor=actor,
        room_id=room_id,
        source=source,
        category=_category_for(category_code),
        facts=facts,
        requests=requests,
        parties=parties,
        court_reference=(court_reference or "").strip()[:64],
        action="registered",
    )


def _unmask_reporter_phone(incident, parties: Sequence[dict]) -> list[dict]:
    """The referral page prefills the reporter's phone masked (138****1234) for a viewer who
    does not see contacts. Sent back unchanged, it stands for the reporter's real phone: the
    party gets the real number (the masked string is never stored) and the viewer still never
    sees it. Any other value is the caller's own and is validated as usual."""
    phone = incident.reporter_phone or (
        incident.reporter.phone if incident.reporter_id and incident.reporter.phone else ""
    )
    masked = mask_phone(phone)
    result = []
    for raw in parties or []:
        party = dict(raw)
        if phone and masked != phone and (party.get("phone") or "").strip() == masked:
            party["phone"] = phone
        result.append(party)
    return result


@transaction.atomic
def case_create_from_incident(
    *,
    actor: User,
    incident_id: int,
    room_id: int,
    parties: Sequence[dict],
    facts: str,
    requests: str = "",
) -> MediationCase:
    """The handler of a dispute incident refers it to a mediation room. Locks the incident,
    checks it is a dispute the actor can see with no open case, creates the case and moves the
    incident to "mediating" with the referral on its timeline
    (incidents.services.incident_mediation_referred, which checks the actor works the incident
    or its region and that its state allows a referral). Any refusal rolls everything back."""
    from incidents import services as incident_services
    from incidents.models import Incident
    from incidents.selectors import incident_get_for_user

    if not Incident.objects.select_for_update().filter(pk=incident_id).exists():
        raise NotFoundError(_("Incident not found."))
    incident = incident_get_for_user(user=actor, incident_id=incident_id)
    if not incident.category.is_dispute:
        raise ValidationFailed(_("Only disputes can be referred to mediation."))
    parties = _unmask_reporter_phone(incident, parties)
    if (
        MediationCase.objects.filter(incident_id=incident.pk, outcome="")
        .exclude(state=CaseState.DECLINED)
        .exists()
    ):
        raise ConflictError(_("This incident is already with a mediation room."))
    case = _case_create(
        actor=actor,
        room_id=room_id,
        source=CaseSource.INCIDENT,
        category=incident.category,
        facts=facts or incident.description,
        requests=requests,
        parties=parties,
        region_code=incident.region_code,
        incident=incident,
        action="referred",
        note=incident.tracking_number,
    )
    incident_services.incident_mediation_referred(
        incident_id=incident.pk, actor=actor, case_id=case.pk, room_name=case.room.name
    )
    return case


@transaction.atomic
def case_create_from_petition(
    *,
    actor: User,
    petition_id: int,
    room_id: int,
    parties: list[dict],
    facts: str,
    category_code: str | None,
) -> MediationCase:
    """A petition officer refers a petition (访调对接). One open case per petition."""
    if not (actor.is_portal_admin or actor.has_role(RoleCode.PETITION_OFFICER)):
        raise PermissionDeniedError(_("Only petition officers may refer petitions."))
    if (
        MediationCase.objects.filter(petition_id=petition_id, outcome="")
        .exclude(state=CaseState.DECLINED)
        .exists()
    ):
        raise ConflictError(_("This petition is already with a mediation room."))
    return _case_create(
        actor=actor,
        room_id=room_id,
        source=CaseSource.PETITION,
        category=_category_for(category_code),
        facts=facts,
        requests="",
        parties=parties,
        petition_id=petition_id,
        action="petition_referred",
        note=str(petition_id),
    )


# --- cases: acceptance --------------------------------------------------------------------


def _room_mediator(room_id: int, user_id: int | None) -> User:
    membership = (
        RoomMediator.objects.select_related("user")
        .filter(room_id=room_id, user_id=user_id, active=True)
        .first()
    )
    if membership is None:
        message = _("Choose a mediator of this room.")
        raise ValidationFailed(message, extra={"mediator": [message]})
    return membership.user


@transaction.atomic
def case_accept(*, actor: User, case_id: int, mediator_id: int | None = None) -> MediationCase:
    """applied → accepted. Starts the 30-day settle clock; assigns a mediator (the given one,
    else the accepting mediator). Notifies the parties."""
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    if mediator_id is None and actor.pk in _active_room_mediator_ids(case.room_id):
        mediator_id = actor.pk
    if mediator_id is not None:
        case.mediator = _room_mediator(case.room_id, mediator_id)
    now = timezone.now()
    case.accepted_at = now
    case.due_at = add_calendar_days_statutory(now, MediationPolicy.current().settle_days)
    _move(case, actor=actor, target=CaseState.ACCEPTED, action="accepted")
    _notify_parties(
        case,
        title=_("Mediation case %(number)s accepted") % {"number": case.case_number},
        body=_("%(room)s has accepted your case.") % {"room": case.room.name},
        key="accepted",
        sms_text=_("Your mediation case %(number)s was accepted by %(room)s.")
        % {"number": case.case_number, "room": case.room.name},
    )
    return case


def _active_room_mediator_ids(room_id: int) -> set[int]:
    return set(
        RoomMediator.objects.filter(room_id=room_id, active=True).values_list("user_id", flat=True)
    )


@transaction.atomic
def case_decline(*, actor: User, case_id: int, reason: str) -> MediationCase:
    """applied → declined, with the reason told to the parties. A referred incident is told
    (it goes back to its handling unit)."""
    reason = _required_text(reason, "reason", _("Give the reason for declining."))
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    case.decline_reason = reason
    case.concluded_at = timezone.now()
    _move(case, actor=actor, target=CaseState.DECLINED, action="declined", note=reason)
    _notify_parties(
        case,
        title=_("Mediation case %(number)s declined") % {"number": case.case_number},
        body=reason,
        key="declined",
        sms_text=_("Your mediation case %(number)s was declined: %(reason)s")
        % {"number": case.case_number, "reason": reason[:100]},
    )
    _enqueue_incident_report(case)
    return case


@transaction.atomic
def case_assign_mediator(*, actor: User, case_id: int, mediator_id: int) -> MediationCase:
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(
        case, (CaseState.APPLIED, CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION)
    )
    mediator = _room_mediator(case.room_id, mediator_id)
    case.mediator = mediator
    case.save()
    _event(case, actor=actor, action="mediator_assigned", note=str(mediator))
    notification_send(
        user_ids=[mediator.pk],
        title=_("Mediation case %(number)s assigned to you") % {"number": case.case_number},
        url=_case_url(case),
    )
    return case


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
        action="session_scheduled",
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
        action="session_cancelled",
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
        _event(case, actor=actor, action="session_started", data={"session_id": session.pk})
    else:
        _move(
            case,
            actor=actor,
            target=CaseState.IN_SESSION,
            action="session_started",
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
            action="minutes_recorded",
            data={"session_id": session.pk},
        )
    else:
        _event(case, actor=actor, action="minutes_recorded", data={"session_id": session.pk})
    return session


# --- agreement ----------------------------------------------------------------------------


def _parties_details(case: MediationCase) -> str:
    lines = []
    for party in case.parties.all():
        line = f"{party.get_role_display()}：{party.name}"
        if party.address:
            line += f"，{party.address}"
        lines.append(line)
    return "\n".join(lines)


def _cancel_planned_sessions(case: MediationCase) -> None:
    case.sessions.filter(state=MediationSession.State.PLANNED).update(
        state=MediationSession.State.CANCELLED, updated_at=timezone.now()
    )


def _conclude(
    case: MediationCase,
    *,
    actor: User | None,
    target: str,
    outcome: str,
    action: str,
    note: str = "",
    data: dict | None = None,
) -> None:
    """The mediation ends (agreement, failure, withdrawal): no more sessions; the incident it
    came from is told on commit."""
    now = timezone.now()
    case.outcome = outcome
    case.concluded_at = now
    case.outcome_note = note
    _move(case, actor=actor, target=target, action=action, note=note, data=data)
    _cancel_planned_sessions(case)
    _enqueue_incident_report(case)


def _written_agreement_takes_effect_at(
    case: MediationCase, agreement: MediationAgreement
) -> datetime | None:
    """When a written agreement took effect (人民调解法 Art. 29): the latest of every party's
    signature, the mediator's signature and the committee's seal, as dated on the agreement.
    None while one of them is missing."""
    if agreement.sealed_at is None:
        return None
    signatures = list(agreement.signatures.values_list("party_id", "signed_at"))
    signed_parties = {party_id for party_id, _at in signatures if party_id is not None}
    if not set(case.parties.values_list("pk", flat=True)) <= signed_parties:
        return None
    if not any(party_id is None for party_id, _at in signatures):
        return None
    return max([agreement.sealed_at, *(at for _party, at in signatures)])


def _agreement_effective(
    case: MediationCase,
    agreement: MediationAgreement,
    actor: User,
    effective_at: datetime | None = None,
) -> None:
    """The agreement is in effect from `effective_at` (default: now, for an oral agreement):
    the judicial confirmation window (Art. 33) counts from that date, not from data entry."""
    now = timezone.now()
    effective_at = effective_at or now
    agreement.effective_at = effective_at
    agreement.save()
    policy = MediationPolicy.current()
    if agreement.form == MediationAgreement.Form.WRITTEN:
        case.confirmation_due_at = add_calendar_days_statutory(effective_at, CONFIRMATION_DAYS)
    base_day = max(agreement.performance_deadline or now.date(), timezone.localdate(now))
    case.follow_up_due_at = datetime.combine(
        base_day + timedelta(days=policy.follow_up_days),
        dtime(17, 30),
        tzinfo=timezone.get_current_timezone(),
    )
    _conclude(
        case,
        actor=actor,
        target=CaseState.AGREEMENT_REACHED,
        outcome=CaseOutcome.AGREEMENT,
        action="agreement_effective",
        note=agreement.terms[:500],
        data={"form": agreement.form, "effective_at": effective_at.isoformat()},
    )
    _notify_parties(
        case,
        title=_("Mediation agreement in effect: %(number)s") % {"number": case.case_number},
        body=agreement.terms[:500],
        key="agreement_effective",
        sms_text=_("The mediation agreement of case %(number)s is in effect.")
        % {"number": case.case_number},
    )


@transaction.atomic
def agreement_record(
    *,
    actor: User,
    case_id: int,
    form: str,
    facts: str,
    disputed_matters: str,
    terms: str,
    performance_method: str,
    responsibilities: str = "",
    performance_deadline: date | None = None,
) -> MediationAgreement:
    """Record the agreement reached in session (Art. 29 fields). Written: it waits for every
    party's and the mediator's signature and the committee's seal. Oral (Art. 28): recorded by
    the mediator and in effect at once (Art. 30), so the case becomes "agreement reached". A
    written agreement may be corrected until the first signature or the seal."""
    if form not in MediationAgreement.Form.values:
        message = _("Choose written or oral.")
        raise ValidationFailed(message, extra={"form": [message]})
    facts = _required_text(facts, "facts", _("State the main facts."))
    disputed_matters = _required_text(
        disputed_matters, "disputed_matters", _("State the disputed matters.")
    )
    terms = _required_text(terms, "terms", _("State what was agreed."))
    performance_method = _required_text(
        performance_method,
        "performance_method",
        _("State how and by when the agreement is performed."),
    )
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.IN_SESSION,))
    if performance_deadline is not None and performance_deadline < timezone.localdate():
        message = _("The performance deadline is in the past.")
        raise ValidationFailed(message, extra={"performance_deadline": [message]})
    if case.mediator_id is None:
        case.mediator = _room_mediator(case.room_id, actor.pk)
        case.save()
    agreement = MediationAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is not None and agreement.signatures.exists():
        raise ConflictError(_("The agreement has signatures; it can no longer be changed."))
    if agreement is not None and agreement.is_sealed:
        raise ConflictError(_("The agreement is sealed; it can no longer be changed."))
    if agreement is None:
        agreement = MediationAgreement(case=case, recorded_by=actor)
    agreement.form = form
    agreement.parties_details = _parties_details(case)
    agreement.facts = facts
    agreement.disputed_matters = disputed_matters
    agreement.responsibilities = (responsibilities or "").strip()
    agreement.terms = terms
    agreement.performance_method = performance_method
    agreement.performance_deadline = performance_deadline
    agreement.recorded_by = actor
    agreement.save()
    _event(case, actor=actor, action="agreement_recorded", data={"form": form})
    if form == MediationAgreement.Form.ORAL:
        _agreement_effective(case, agreement, actor)
    else:
        _notify_parties(
            case,
            title=_("Mediation agreement ready to sign: %(number)s") % {"number": case.case_number},
            body=terms[:500],
            key=f"agreement:{agreement.pk}:{agreement.updated_at:%Y%m%d%H%M%S%f}",
        )
    return agreement


@transaction.atomic
def agreement_sign(
    *,
    actor: User,
    case_id: int,
    party_id: int | None,
    method: str = AgreementSignature.Method.SIGNATURE,
    signed_at: datetime | None = None,
) -> AgreementSignature:
    """Record one signature (signature, seal or fingerprint) on the written agreement: a party's
    (recorded by a mediator of the room, or by the party's own account) or, with party_id None,
    the case mediator's. `signed_at` may be back-dated to the day it was signed on paper. Once
    every party and the mediator have signed and the committee has sealed it (agreement_seal),
    the agreement is in effect from the latest of those dates (Art. 29)."""
    case = _case_for_update(case_id, actor)
    agreement = MediationAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is None:
        raise ConflictError(_("No agreement has been recorded yet."))
    if agreement.form != MediationAgreement.Form.WRITTEN:
        raise ConflictError(_("An oral agreement takes effect when it is recorded."))
    if agreement.is_effective:
        raise ConflictError(_("The agreement is already in effect."))
    _require_state(case, (CaseState.IN_SESSION,))
    if method not in AgreementSignature.Method.values:
        message = _("Choose signature, seal or fingerprint.")
        raise ValidationFailed(message, extra={"method": [message]})
    now = timezone.now()
    signed_at = signed_at or now
    if signed_at > now + CLOCK_TOLERANCE:
        message = _("A signature cannot be dated in the future.")
        raise ValidationFailed(message, extra={"signed_at": [message]})
    staff = user_is_room_staff(actor, case.room_id)
    party = None
    if party_id is None:
        if not (actor.pk == case.mediator_id or actor.is_portal_admin):
            raise PermissionDeniedError(_("Only the case's mediator signs as mediator."))
        signer_name = str(case.mediator)
    else:
        party = case.parties.filter(pk=party_id).first()
        if party is None:
            message = _("This person is not a party to the case.")
            raise ValidationFailed(message, extra={"party": [message]})
        if not (staff or (party.user_id is not None and party.user_id == actor.pk)):
            raise PermissionDeniedError(_("Only the party or a mediator may record this."))
        signer_name = party.name
    if agreement.signatures.filter(party=party).exists():
        raise ConflictError(_("%(name)s has already signed.") % {"name": signer_name})
    signature = AgreementSignature.objects.create(
        agreement=agreement,
        party=party,
        signer_name=signer_name,
        method=method,
        signed_at=signed_at,
        recorded_by=actor,
    )
    _event(
        case,
        actor=actor,
        action="agreement_signed",
        note=signer_name,
        data={"party_id": party_id, "method": method, "signed_at": signed_at.isoformat()},
    )
    effective_at = _written_agreement_takes_effect_at(case, agreement)
    if effective_at is not None:
        _agreement_effective(case, agreement, actor, effective_at)
    return signature


@transaction.atomic
def agreement_seal(
    *, actor: User, case_id: int, sealed_at: datetime | None = None
) -> MediationAgreement:
    """Record that the people's mediation committee sealed the written agreement (加盖人民调解
    委员会印章, 人民调解法 Art. 29), applied by a mediator of the room (or an admin). `sealed_at`
    may be back-dated to the day the seal was applied on paper, but not into the future nor
    before the agreement was recorded. With every signature there, the agreement is in effect
    from the latest of the signatures' and the seal's dates."""
    case = _case_for_update(case_id, actor)
    agreement = MediationAgreement.objects.select_for_update().filter(case=case).first()
    if agreement is None:
        raise ConflictError(_("No agreement has been recorded yet."))
    if agreement.form != MediationAgreement.Form.WRITTEN:
        raise ConflictError(_("An oral agreement takes effect when it is recorded."))
    if agreement.is_effective:
        raise ConflictError(_("The agreement is already in effect."))
    _require_state(case, (CaseState.IN_SESSION,))
    _require_staff(actor, case)
    if agreement.is_sealed:
        raise ConflictError(_("The committee's seal has already been applied."))
    now = timezone.now()
    sealed_at = sealed_at or now
    if timezone.is_naive(sealed_at):
        sealed_at = timezone.make_aware(sealed_at)
    if sealed_at > now + CLOCK_TOLERANCE:
        message = _("The seal cannot be dated in the future.")
        raise ValidationFailed(message, extra={"sealed_at": [message]})
    if sealed_at < agreement.created_at:
        message = _("The seal cannot be dated before the agreement was recorded.")
        raise ValidationFailed(message, extra={"sealed_at": [message]})
    agreement.sealed_at = sealed_at
    agreement.sealed_by = actor
    agreement.save()
    _event(
        case,
        actor=actor,
        action="agreement_sealed",
        note=case.room.name,
        data={"sealed_at": sealed_at.isoformat()},
    )
    effective_at = _written_agreement_takes_effect_at(case, agreement)
    if effective_at is not None:
        _agreement_effective(case, agreement, actor, effective_at)
    return agreement


# --- deadlines, endings -------------------------------------------------------------------


@transaction.atomic
def case_extend(
    *, actor: User, case_id: int, days: int, parties_consent: bool, note: str
) -> MediationCase:
    """Extend the settle deadline; only with the consent of the parties (深圳条例 Art. 25),
    which is recorded in the timeline. One extension is at most MediationPolicy
    .max_extension_days (admin-edited)."""
    note = _required_text(note, "note", _("Record how the parties consented."))
    if not parties_consent:
        message = _("An extension needs the consent of the parties.")
        raise ValidationFailed(message, extra={"parties_consent": [message]})
    max_days = MediationPolicy.current().max_extension_days
    if not 1 <= int(days) <= max_days:
        message = _("Extend by 1 to %(max)s days.") % {"max": max_days}
        raise ValidationFailed(message, extra={"days": [message]})
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION))
    previous = case.due_at
    case.due_at = add_calendar_days_statutory(case.due_at or timezone.now(), int(days))
    case.extension_days += int(days)
    case.settle_reminded_at = None
    case.overdue_notified_at = None
    case.save()
    _event(
        case,
        actor=actor,
        action="extended",
        note=note,
        data={
            "days": int(days),
            "from": previous.isoformat() if previous else None,
            "to": case.due_at.isoformat(),
        },
    )
    return case


@transaction.atomic
def case_withdraw(
    *, actor: User, case_id: int, reason: str, party_id: int | None = None
) -> MediationCase:
    """Mediation stops when a party refuses it (人民调解法 Art. 17). A mediator records which
    party refused; the applicant may withdraw their own application. Planned sessions are
    cancelled; the referring incident is told."""
    reason = _required_text(reason, "reason", _("Give the reason."))
    case = _case_for_update(case_id, actor)
    staff = user_is_room_staff(actor, case.room_id)
    is_applicant = case.applicant_user_id is not None and case.applicant_user_id == actor.pk
    if not (staff or is_applicant):
        raise PermissionDeniedError(_("Only a party or the room's mediators may do that."))
    party = None
    if party_id is not None:
        party = case.parties.filter(pk=party_id).first()
        if party is None:
            message = _("This person is not a party to the case.")
            raise ValidationFailed(message, extra={"party": [message]})
    elif staff and not is_applicant:
        message = _("Say which party refused mediation.")
        raise ValidationFailed(message, extra={"party": [message]})
    _require_state(
        case, (CaseState.APPLIED, CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION)
    )
    note = f"{party.name}: {reason}" if party else reason
    _conclude(
        case,
        actor=actor,
        target=CaseState.WITHDRAWN,
        outcome=CaseOutcome.WITHDRAWN,
        action="party_refused" if party else "withdrawn",
        note=note,
        data={"party_id": party_id},
    )
    _notify_parties(
        case,
        title=_("Mediation case %(number)s stopped") % {"number": case.case_number},
        body=note,
        key="withdrawn",
    )
    _notify_mediators(
        case,
        title=_("Mediation case %(number)s stopped") % {"number": case.case_number},
        body=note,
        key="withdrawn:mediator",
    )
    return case


@transaction.atomic
def case_fail(*, actor: User, case_id: int, reason: str) -> MediationCase:
    """No agreement could be reached: the mediation ends, and the parties are told they may
    still go to arbitration, administrative routes or court (Art. 26)."""
    reason = _required_text(reason, "reason", _("Give the reason."))
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION))
    _conclude(
        case,
        actor=actor,
        target=CaseState.FAILED,
        outcome=CaseOutcome.FAILED,
        action="failed",
        note=reason,
    )
    _notify_parties(
        case,
        title=_("Mediation case %(number)s ended without agreement") % {"number": case.case_number},
        body=_("You may still seek arbitration, an administrative decision or go to court."),
        key="failed",
    )
    return case


@transaction.atomic
def case_request_confirmation(
    *, actor: User, case_id: int, court: str, note: str = ""
) -> MediationCase:
    """The parties jointly applied to the court for judicial confirmation, within 30 days of
    the written agreement taking effect (人民调解法 Art. 33)."""
    court = _required_text(court, "court", _("Name the court."))
    case = _case_for_update(case_id, actor)
    staff = user_is_room_staff(actor, case.room_id)
    if not (staff or actor.pk in _party_user_ids(case)):
        raise PermissionDeniedError(_("Only a party or the room's mediators may do that."))
    _require_state(case, (CaseState.AGREEMENT_REACHED,))
    agreement = MediationAgreement.objects.filter(case=case).first()
    if agreement is None or agreement.form != MediationAgreement.Form.WRITTEN:
        raise ConflictError(_("Judicial confirmation needs a written agreement."))
    if case.confirmation_due_at is None or timezone.now() > case.confirmation_due_at:
        raise ConflictError(_("The 30 days for applying for judicial confirmation have passed."))
    case.confirmation_requested_at = timezone.now()
    case.confirmation_court = court[:100]
    _move(
        case,
        actor=actor,
        target=CaseState.CONFIRMATION_REQUESTED,
        action="confirmation_requested",
        note=f"{court} {note}".strip(),
    )
    return case


@transaction.atomic
def case_follow_up(*, actor: User, case_id: int, performance: str, result: str) -> MediationCase:
    """The follow-up visit on how the agreement is performed (Art. 31)."""
    if performance not in Performance.values:
        message = _("Say whether the agreement was performed.")
        raise ValidationFailed(message, extra={"performance": [message]})
    result = _required_text(result, "result", _("Write the result of the visit."))
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.AGREEMENT_REACHED, CaseState.CONFIRMATION_REQUESTED))
    case.followed_up_at = timezone.now()
    case.follow_up_performance = performance
    case.follow_up_result = result
    _move(
        case,
        actor=actor,
        target=CaseState.FOLLOWED_UP,
        action="followed_up",
        note=result,
        data={"performance": performance},
    )
    return case


@transaction.atomic
def case_close(*, actor: User, case_id: int, note: str = "") -> MediationCase:
    """Archive a case whose mediation has ended (followed up, failed or withdrawn)."""
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    case.closed_at = timezone.now()
    _move(case, actor=actor, target=CaseState.CLOSED, action="closed", note=(note or "").strip())
    return case


# --- rooms (admins) -----------------------------------------------------------------------


@dataclass
class RoomData:
    """Validated room fields, shared by the pages, the API and the CSV import."""

    name: str
    room_type: str
    level: str
    region: Region
    categories: list[Category] = field(default_factory=list)
    address: str = ""
    lat: float | None = None
    lng: float | None = None
    opening_hours: str = ""
    phone: str = ""
    capacity_per_day: int = 4
    gold_rated: bool = False
    active: bool = True
    description: str = ""


def _room_type_code(value: str) -> str | None:
    value = (value or "").strip()
    if value in RoomType.values:
        return value
    if value in ROOM_TYPE_ALIASES:
        return ROOM_TYPE_ALIASES[value]
    for code, label in RoomType.choices:
        if value.lower() == str(label).lower():
            return code
    return None


def _room_level_code(value: str) -> str | None:
    value = (value or "").strip()
    if value.lower() in RoomLevel.values:
        return value.lower()
    if value in ROOM_LEVEL_ALIASES:
        return ROOM_LEVEL_ALIASES[value]
    for code, label in RoomLevel.choices:
        if value.lower() == str(label).lower():
            return code
    return None


def room_data_clean(
    *,
    name: str,
    room_type: str,
    level: str,
    region_code: str,
    category_codes: Sequence[str] = (),
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    opening_hours: str = "",
    phone: str = "",
    capacity_per_day: int = 4,
    gold_rated: bool = False,
    active: bool = True,
    description: str = "",
) -> RoomData:
    """Check every room field; raises ValidationFailed with all field errors at once."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors.setdefault("name", []).append(_("The name is required."))
    elif len(name) > 100:
        errors.setdefault("name", []).append(_("The name is too long."))
    type_code = _room_type_code(room_type)
    if type_code is None:
        errors.setdefault("room_type", []).append(
            _("Unknown room type “%(value)s”.") % {"value": room_type}
        )
    level_code = _room_level_code(level)
    if level_code is None:
        errors.setdefault("level", []).append(_("Unknown level “%(value)s”.") % {"value": level})
    region = Region.objects.filter(code=(region_code or "").strip()).first()
    if region is None:
        errors.setdefault("region", []).append(
            _("No region with code “%(value)s”.") % {"value": region_code}
        )
    elif level_code and region.level != ROOM_LEVEL_REGION_LEVEL[level_code]:
        errors.setdefault("region", []).append(
            _("A %(level)s room serves a region of level “%(region_level)s”.")
            % {
                "level": RoomLevel(level_code).label,
                "region_level": Region.Level(ROOM_LEVEL_REGION_LEVEL[level_code]).label,
            }
        )
    codes = [c.strip() for c in category_codes if c and c.strip()]
    categories = list(Category.objects.filter(code__in=codes, is_dispute=True))
    missing = sorted(set(codes) - {c.code for c in categories})
    if missing:
        errors.setdefault("categories", []).append(
            _("Not dispute categories: %(codes)s.") % {"codes": ", ".join(missing)}
        )
    if (lat is None) != (lng is None):
        errors.setdefault("lat", []).append(_("Give both latitude and longitude, or neither."))
    if lat is not None and not -90 <= lat <= 90:
        errors.setdefault("lat", []).append(_("The latitude must be between -90 and 90."))
    if lng is not None and not -180 <= lng <= 180:
        errors.setdefault("lng", []).append(_("The longitude must be between -180 and 180."))
    try:
        capacity = int(capacity_per_day)
    except (TypeError, ValueError):
        capacity = -1
    if not 0 <= capacity <= 100:
        errors.setdefault("capacity_per_day", []).append(
            _("The capacity is a number of sessions a day, 0 to 100.")
        )
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return RoomData(
        name=name,
        room_type=type_code,
        level=level_code,
        region=region,
        categories=categories,
        address=(address or "").strip()[:255],
        lat=lat,
        lng=lng,
        opening_hours=(opening_hours or "").strip()[:100],
        phone=(phone or "").strip()[:20],
        capacity_per_day=capacity,
        gold_rated=bool(gold_rated),
        active=bool(active),
        description=(description or "").strip(),
    )


def _room_apply(room: MediationRoom, data: RoomData) -> MediationRoom:
    duplicate = MediationRoom.objects.filter(name=data.name).exclude(pk=room.pk).exists()
    if duplicate:
        message = _("A room with this name already exists.")
        raise ValidationFailed(message, extra={"name": [message]})
    for attribute in (
        "name",
        "room_type",
        "level",
        "region",
        "address",
        "lat",
        "lng",
        "opening_hours",
        "phone",
        "capacity_per_day",
        "gold_rated",
        "active",
        "description",
    ):
        setattr(room, attribute, getattr(data, attribute))
    if room.pk is None:
        room.sort_order = (MediationRoom.objects.aggregate(m=Max("sort_order"))["m"] or 0) + 1
    room.save()
    room.categories.set(data.categories)
    return room


@transaction.atomic
def room_create(*, actor: User, data: RoomData) -> MediationRoom:
    _require_admin(actor)
    return _room_apply(MediationRoom(), data)


@transaction.atomic
def room_update(*, actor: User, room_id: int, data: RoomData) -> MediationRoom:
    _require_admin(actor)
    room = MediationRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    return _room_apply(room, data)


@transaction.atomic
def room_set_active(*, actor: User, room_id: int, active: bool) -> MediationRoom:
    """Deactivate (or reactivate) a room: it is no longer proposed and takes no new cases;
    its cases stay and are finished there."""
    _require_admin(actor)
    room = MediationRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    room.active = bool(active)
    room.save(update_fields=["active", "updated_at"])
    return room


@transaction.atomic
def room_reorder(*, actor: User, room_ids: Sequence[int]) -> None:
    """Put the given rooms first, in this order; the others keep their order after them."""
    _require_admin(actor)
    ids = [int(pk) for pk in room_ids]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(_("A room appears twice in the order."))
    rooms = {room.pk: room for room in MediationRoom.objects.select_for_update()}
    unknown = [pk for pk in ids if pk not in rooms]
    if unknown:
        raise ValidationFailed(_("Unknown rooms: %(ids)s.") % {"ids": unknown})
    rest = [
        room.pk
        for room in sorted(rooms.values(), key=lambda r: (r.sort_order, r.name))
        if room.pk not in ids
    ]
    for position, pk in enumerate(ids + rest, start=1):
        if rooms[pk].sort_order != position:
            MediationRoom.objects.filter(pk=pk).update(sort_order=position)


@transaction.atomic
def room_move(*, actor: User, room_id: int, direction: str) -> None:
    """Move a room one place up or down in the list."""
    _require_admin(actor)
    order = list(MediationRoom.objects.order_by("sort_order", "name").values_list("pk", flat=True))
    if room_id not in order:
        raise NotFoundError(_("Mediation room not found."))
    index = order.index(room_id)
    other = index - 1 if direction == "up" else index + 1
    if 0 <= other < len(order):
        order[index], order[other] = order[other], order[index]
    room_reorder(actor=actor, room_ids=order)


@transaction.atomic
def room_mediator_add(
    *, actor: User, room_id: int, user_id: int, title: str = "", speciality: str = ""
) -> RoomMediator:
    _require_admin(actor)
    room = MediationRoom.objects.select_for_update().filter(pk=room_id).first()
    if room is None:
        raise NotFoundError(_("Mediation room not found."))
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or RoleCode.MEDIATOR not in user.role_codes:
        message = _("Choose a user with the mediator role.")
        raise ValidationFailed(message, extra={"user": [message]})
    membership, _created = RoomMediator.objects.update_or_create(
        room=room,
        user=user,
        defaults={
            "title": title.strip()[:64],
            "speciality": speciality.strip()[:128],
            "active": True,
        },
    )
    return membership


@transaction.atomic
def room_mediator_remove(*, actor: User, room_id: int, user_id: int) -> None:
    """The mediator leaves the room; their past cases keep their name."""
    _require_admin(actor)
    updated = RoomMediator.objects.filter(room_id=room_id, user_id=user_id).update(
        active=False, updated_at=timezone.now()
    )
    if not updated:
        raise NotFoundError(_("This mediator does not serve in this room."))


# --- CSV import ---------------------------------------------------------------------------

CSV_COLUMNS = [
    "name",
    "type",
    "level",
    "region_code",
    "categories",
    "address",
    "lat",
    "lng",
    "opening_hours",
    "phone",
    "capacity",
    "gold",
    "active",
    "mediators",
    "description",
]
CSV_REQUIRED = ("name", "type", "level", "region_code")
CSV_MAX_BYTES = 1024 * 1024
CSV_MAX_ROWS = 2000
TRUE_WORDS = {"1", "true", "yes", "y", "是", "金牌", "启用", "on"}
FALSE_WORDS = {"", "0", "false", "no", "n", "否", "停用", "off"}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


def _decode_csv(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.lstrip("\ufeff")
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves GBK
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("The file is not UTF-8 or GBK text."))


def _parse_bool(value: str, default: bool) -> bool | None:
    value = (value or "").strip().lower()
    if not value:
        return default
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None


def _parse_mediators(value: str) -> list[tuple[str, str]]:
    """ "wang:首席调解员;li" -> [("wang", "首席调解员"), ("li", "")]"""
    result = []
    for item in re.split(r"[;；]", value or ""):
        item = item.strip()
        if item:
            username, _sep, title = item.partition(":")
            result.append((username.strip(), title.strip()))
    return result


@transaction.atomic
def rooms_import_csv(*, actor: User, content: bytes | str) -> ImportResult:
    """Create or update rooms (matched by name) from a CSV file with the columns CSV_COLUMNS
    (name, type, level and region_code required). Every row is checked first; one bad row and
    nothing is written: ValidationFailed lists each problem as "line N: ..."."""
    _require_admin(actor)
    if isinstance(content, bytes) and len(content) > CSV_MAX_BYTES:
        raise ValidationFailed(_("The file is larger than 1 MB."))
    text = _decode_csv(content)
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [column for column in CSV_REQUIRED if column not in headers]
    if missing:
        message = _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}
        raise ValidationFailed(message, extra={"rows": [message]})
    reader.fieldnames = headers
    errors: list[str] = []
    prepared: list[tuple[RoomData, list[tuple[User, str]]]] = []
    seen_names: dict[str, int] = {}
    for line_number, row in enumerate(reader, start=2):
        if line_number - 1 > CSV_MAX_ROWS:
            errors.append(_("More than %(n)s rows.") % {"n": CSV_MAX_ROWS})
            break
        row = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        row_errors: list[str] = []
        lat = lng = None
        try:
            lat = float(row["lat"]) if row.get("lat") else None
            lng = float(row["lng"]) if row.get("lng") else None
        except ValueError:
            row_errors.append(_("latitude and longitude must be numbers"))
        capacity = row.get("capacity") or "4"
        gold = _parse_bool(row.get("gold", ""), False)
        active = _parse_bool(row.get("active", ""), True)
        if gold is None or active is None:
            row_errors.append(_("gold and active must be yes or no"))
        data = None
        try:
            data = room_data_clean(
                name=row.get("name", ""),
                room_type=row.get("type", ""),
                level=row.get("level", ""),
                region_code=row.get("region_code", ""),
                category_codes=re.split(r"[;；,，\s]+", row.get("categories", "")),
                address=row.get("address", ""),
                lat=lat,
                lng=lng,
                opening_hours=row.get("opening_hours", ""),
                phone=row.get("phone", ""),
                capacity_per_day=capacity,
                gold_rated=bool(gold),
                active=bool(active) if active is not None else True,
                description=row.get("description", ""),
            )
        except ValidationFailed as exc:
            for messages in exc.extra.values():
                row_errors.extend(messages)
        mediators: list[tuple[User, str]] = []
        for username, title in _parse_mediators(row.get("mediators", "")):
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None or RoleCode.MEDIATOR not in user.role_codes:
                row_errors.append(
                    _("“%(username)s” is not a user with the mediator role")
                    % {"username": username}
                )
            else:
                mediators.append((user, title))
        name = row.get("name", "")
        if name in seen_names:
            row_errors.append(_("the name repeats line %(line)s") % {"line": seen_names[name]})
        seen_names.setdefault(name, line_number)
        if row_errors:
            errors.extend(
                _("line %(line)s: %(message)s") % {"line": line_number, "message": message}
                for message in row_errors
            )
        elif data is not None:
            prepared.append((data, mediators))
    if not errors and not prepared:
        errors.append(_("The file has no rooms."))
    if errors:
        raise ValidationFailed(errors[0], extra={"rows": errors})
    result = ImportResult()
    for data, mediators in prepared:
        room = MediationRoom.objects.select_for_update().filter(name=data.name).first()
        if room is None:
            room = _room_apply(MediationRoom(), data)
            result.created += 1
        else:
            _room_apply(room, data)
            result.updated += 1
        for user, title in mediators:
            RoomMediator.objects.update_or_create(
                room=room, user=user, defaults={"title": title[:64], "active": True}
            )
    return result


# --- system steps (tasks) -----------------------------------------------------------------


def case_record_system_event(*, case_id: int, action: str, note: str = "") -> None:
    """A timeline row written by the system (reminders, the incident being told)."""
    case = MediationCase.objects.get(pk=case_id)
    _event(case, actor=None, action=action, note=note)
