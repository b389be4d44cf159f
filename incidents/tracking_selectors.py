"""Reads of public tracking: the incident a tracking number and its access code (查询码)
unlock, and what anybody holding them may read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _

from core.exceptions import NotFoundError
from incidents.models import Action, Category, Incident, IncidentState

S = IncidentState


# --- public tracking --------------------------------------------------------------------------


@dataclass
class PublicEvent:
    at: datetime
    action: str
    action_label: str
    to_state: str
    to_state_label: str
    note: str


@dataclass
class PublicTrack:
    """What anybody holding the tracking number and its access code (查询码) may read."""

    tracking_number: str
    category: str
    state: str
    state_label: str
    reported_at: datetime
    address: str
    result: str
    rating: int | None
    can_rate: bool
    rate_due_at: datetime | None
    events: list[PublicEvent] = field(default_factory=list)


def reporter_phone_of(incident: Incident) -> str:
    """The reporter's phone: given with the report, else the signed-in reporter's own."""
    if incident.reporter_phone:
        return incident.reporter_phone
    reporter = incident.reporter if incident.reporter_id else None
    if reporter is not None and reporter.phone:
        return reporter.phone
    return ""


def _tracking_not_found() -> NotFoundError:
    return NotFoundError(_("No incident matches this tracking number and access code."))


def _tracked_incident(tracking_number: str) -> Incident | None:
    number = (tracking_number or "").strip().upper()[:16]
    if not number:
        return None
    return (
        Incident.objects.select_related("category", "reporter")
        .filter(tracking_number=number)
        .first()
    )


def incident_for_tracking(tracking_number: str, access_code: str) -> Incident:
    """The incident when the number and its access code (查询码) match; NotFoundError
    otherwise, with the same message and the same work whether the number exists or not. The
    callers count failures (incidents.tracking: per client and per number)."""
    from incidents.access_codes import access_code_matches

    incident = _tracked_incident(tracking_number)
    stored = incident.access_code_hash if incident is not None else ""
    if not access_code_matches(stored, access_code) or incident is None:
        raise _tracking_not_found()
    return incident


def incident_for_tracked(tracking_number: str, proof: str) -> Incident:
    """The incident a browser already unlocked (the session's proof, see
    incidents.tracking.tracking_proof); NotFoundError once its code was replaced."""
    from incidents.access_codes import tracking_proof_matches

    incident = _tracked_incident(tracking_number)
    if incident is None or not tracking_proof_matches(incident.access_code_hash, proof):
        raise _tracking_not_found()
    return incident


def incident_track_for(incident: Incident) -> PublicTrack:
    """The public view of one unlocked incident for the tracking page and API (no personal
    data, public events only, internal-only categories shown generically)."""
    category: Category = incident.category
    events = [
        PublicEvent(
            at=event.created_at,
            action=event.action,
            action_label=str(Action(event.action).label)
            if event.action in Action.values
            else event.action,
            to_state=event.to_state,
            to_state_label=str(IncidentState(event.to_state).label) if event.to_state else "",
            note=event.note,
        )
        for event in incident.events.filter(public=True).order_by("created_at", "id")
    ]
    return PublicTrack(
        tracking_number=incident.tracking_number,
        category=_("Other matter") if category.internal_only else category.display_name,
        state=incident.state,
        state_label=str(IncidentState(incident.state).label),
        reported_at=incident.created_at,
        address="" if category.internal_only else incident.address,
        result=incident.result if incident.state in _RESULT_STATES else "",
        rating=incident.rating,
        can_rate=incident.state == S.FEEDBACK_SENT and incident.channel != "patrol",
        rate_due_at=incident.rate_due_at if incident.state == S.FEEDBACK_SENT else None,
        events=events,
    )


def incident_track(tracking_number: str, access_code: str) -> PublicTrack:
    """incident_track_for the incident the number and access code unlock (NotFoundError)."""
    return incident_track_for(incident_for_tracking(tracking_number, access_code))


_RESULT_STATES = {S.FEEDBACK_SENT, S.RATED, S.CLOSED, S.REOPENED}
