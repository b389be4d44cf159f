"""Links to the other loops: mediation (访调对接, Art. 33) and the incidents' grid loop."""

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, ValidationFailed
from grids.models import Region
from petitions import personal_data
from petitions.models import (
    Petition,
    PetitionAction,
)
from petitions.services._steps import (
    S,
    _event,
    _lock,
    _require_officer,
)


@dataclass
class RespondentInput:
    """The other party of the dispute, needed by a mediation case."""

    name: str
    phone: str = ""
    address: str = ""


def mediation_rooms():
    """Active mediation rooms when the mediation app is installed (访调对接 rooms first)."""
    try:
        from mediation.models import MediationRoom, RoomType
    except ImportError:
        return None
    from django.db.models import Case, IntegerField, Value, When

    return (
        MediationRoom.objects.filter(active=True)
        .annotate(
            window_first=Case(
                When(room_type=RoomType.PETITION_WINDOW, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("window_first", "sort_order", "name")
    )


def _mediation_create_case(
    petition: Petition,
    *,
    actor: User,
    room_id: int | None,
    respondent: RespondentInput | None,
    note: str,
) -> int | None:
    """Open a case in the mediation app (mediation.services.case_create_from_petition) with the
    petitioners as applicants. Returns the case id, or None when the app or a room is missing
    (the referral then stays a recorded request)."""
    if room_id is None:
        return None
    try:
        from mediation import services as mediation_services
    except ImportError:
        return None
    create = getattr(mediation_services, "case_create_from_petition", None)
    if create is None:
        return None
    parties = [
        {
            "role": "applicant",
            "name": person.name,
            "id_number": person.id_number,
            "phone": person.phone if personal_data.is_mobile(person.phone) else "",
            "address": person.address,
            "user_id": petition.owner_id if position == 0 else None,
        }
        for position, person in enumerate(petition.petitioners.all())
    ]
    if respondent is not None and respondent.name.strip():
        parties.append(
            {
                "role": "respondent",
                "name": respondent.name.strip(),
                "id_number": "",
                "phone": respondent.phone.strip(),
                "address": respondent.address.strip(),
            }
        )
    facts = f"{petition.matter}\n{petition.facts_and_reasons}" + (f"\n{note}" if note else "")
    case = create(
        actor=actor,
        petition_id=petition.pk,
        room_id=room_id,
        parties=parties,
        facts=facts,
        category_code=None,
    )
    return case.pk


def petition_refer_to_mediation(
    *,
    actor: User,
    petition_id: int,
    room_id: int | None = None,
    room_name: str = "",
    respondent: RespondentInput | None = None,
    note: str = "",
) -> Petition:
    """Refer the dispute in a petition to a mediation room (访调对接, Art. 33) while it is being
    handled. With a room of the mediation app, a case is opened there
    (mediation.services.case_create_from_petition: petitioners as applicants, `respondent` as
    the other party) and linked by id; without one, the referral is a recorded request.
    Petition officer in scope; lock; handling of the petition goes on."""
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        if petition.state not in (S.ACCEPTED, S.IN_HANDLING, S.EXTENDED):
            raise ConflictError(_("Only a petition being handled can be referred to mediation."))
        if petition.mediation_requested_at is not None:
            raise ConflictError(_("This petition has already been referred to mediation."))
        rooms = mediation_rooms()
        if room_id is not None and rooms is not None:
            room = rooms.filter(pk=room_id).first()
            if room is None:
                message = _("Choose an active mediation room.")
                raise ValidationFailed(message, extra={"room": [message]})
            room_name = room.name
        note = (note or "").strip()
        case_id = _mediation_create_case(
            petition, actor=actor, room_id=room_id, respondent=respondent, note=note
        )
        petition.mediation_requested_at = timezone.now()
        petition.mediation_room_name = (room_name or "").strip()
        petition.mediation_note = note
        petition.mediation_case_id = case_id
        _event(
            petition,
            actor=actor,
            action=PetitionAction.REFERRED_TO_MEDIATION,
            note=petition.mediation_room_name,
            data={"case_id": case_id},
        )
        petition.save()
    return petition


def _region_centre(region: Region) -> tuple[float | None, float | None]:
    """A point inside the region where the matter arose (when the officer gives none)."""
    from shapely.geometry import shape

    try:
        point = shape(region.boundary).representative_point()
    except (ValueError, TypeError, KeyError, AttributeError):
        return None, None
    return point.y, point.x


def petition_turn_into_incident(
    *,
    actor: User,
    petition_id: int,
    category,
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    note: str = "",
) -> Petition:
    """A concrete local problem goes to the grid loop: an incident is reported through
    incidents.services.incident_report and linked here. Officer in scope; lock; handling of the
    petition continues (the reply reports the outcome)."""
    from incidents.models import Channel
    from incidents.services import incident_report  # the incidents team's contract

    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        if petition.state not in (S.ACCEPTED, S.IN_HANDLING, S.EXTENDED):
            raise ConflictError(_("Only a petition being handled can be turned into an incident."))
        if petition.incident_id is not None:
            raise ConflictError(_("This petition has already been turned into an incident."))
        first = petition.petitioners.first()
        channel = "petition" if "petition" in Channel.values else Channel.API
        if (lat is None or lng is None) and petition.region.boundary:
            lat, lng = _region_centre(petition.region)
        with translation.override(settings.LANGUAGE_CODE):
            description = _("From petition %(number)s: %(matter)s") % {
                "number": petition.tracking_number,
                "matter": petition.matter,
            }
        description = f"{description}\n{petition.request}" + (
            f"\n{note.strip()}" if note.strip() else ""
        )
        incident = incident_report(
            actor=actor,
            category=category,
            description=description,
            channel=channel,
            lat=lat,
            lng=lng,
            address=address or (first.address if first else ""),
            reporter_name=first.name if first else "",
            reporter_phone=first.phone if first and personal_data.is_mobile(first.phone) else "",
        )
        petition.incident = incident
        _event(
            petition,
            actor=actor,
            action=PetitionAction.TURNED_INTO_INCIDENT,
            note=incident.tracking_number,
            data={"incident_id": incident.pk},
        )
        petition.save()
    return petition
