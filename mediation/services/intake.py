"""A case comes in: applied online, registered by a room, referred from an incident or a petition;
then the room accepts or declines it and assigns a mediator.
"""

from collections.abc import Sequence

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
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
from core.services import notification_send
from incidents.models import Category
from mediation.models import (
    CaseAction,
    CaseParty,
    CaseSource,
    CaseState,
    MediationCase,
    MediationPolicy,
    MediationRoom,
    RoomMediator,
    id_number_validator,
)
from mediation.selectors import user_is_room_staff
from mediation.services._steps import (
    _active_room_mediator_ids,
    _case_for_update,
    _case_url,
    _enqueue_incident_report,
    _event,
    _move,
    _notify_parties,
    _require_staff,
    _require_state,
    _required_text,
    _room_mediator,
)

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
        action=CaseAction.APPLIED,
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
        action=CaseAction.REGISTERED,
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
        action=CaseAction.REFERRED,
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
        action=CaseAction.PETITION_REFERRED,
        note=str(petition_id),
    )


# --- cases: acceptance --------------------------------------------------------------------


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
    _move(case, actor=actor, target=CaseState.ACCEPTED, action=CaseAction.ACCEPTED)
    _notify_parties(
        case,
        title=_("Mediation case %(number)s accepted") % {"number": case.case_number},
        body=_("%(room)s has accepted your case.") % {"room": case.room.name},
        key="accepted",
        sms_text=_("Your mediation case %(number)s was accepted by %(room)s.")
        % {"number": case.case_number, "room": case.room.name},
    )
    return case


@transaction.atomic
def case_decline(*, actor: User, case_id: int, reason: str) -> MediationCase:
    """applied → declined, with the reason told to the parties. A referred incident is told
    (it goes back to its handling unit)."""
    reason = _required_text(reason, "reason", _("Give the reason for declining."))
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    case.decline_reason = reason
    case.concluded_at = timezone.now()
    _move(case, actor=actor, target=CaseState.DECLINED, action=CaseAction.DECLINED, note=reason)
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
    _event(case, actor=actor, action=CaseAction.MEDIATOR_ASSIGNED, note=str(mediator))
    notification_send(
        user_ids=[mediator.pk],
        title=_("Mediation case %(number)s assigned to you") % {"number": case.case_number},
        url=_case_url(case),
    )
    return case
