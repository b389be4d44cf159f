"""Hooks the mediation app calls: an incident referred to a mediation room waits for the case,
and comes back (closed or dispatched) when the case ends.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.exceptions import (
    ConflictError,
)
from incidents import routing
from incidents.models import (
    Action,
    Incident,
    IncidentState,
)
from incidents.services._steps import (
    _event,
    _load,
    _lock,
    _move,
    _now,
    _say,
    _state_conflict,
    _tell_reporter,
)
from incidents.services.deadlines import (
    _set_due,
)
from incidents.services.dispatch import _apply_dispatch

# --- mediation hooks (called by the mediation app) --------------------------------------------


def incident_mediation_referred(
    *, incident_id: int, actor: User, case_id: int, room_name: str
) -> Incident:
    """A dispute goes to a mediation room: the incident waits for the case (→ mediating; no
    deadline of its own meanwhile). Staff working the incident or its region. Idempotent for
    the same case."""
    with transaction.atomic():
        incident = _lock(incident_id)
        if incident.state == IncidentState.MEDIATING and incident.mediation_case_id == case_id:
            return incident
        incident = _load(Action.REFER_TO_MEDIATION, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.REFER_TO_MEDIATION, IncidentState.MEDIATING)
        incident.mediation_case_id = case_id
        incident.mediation_room_name = (room_name or "")[:128]
        incident.claimable = False  # out of the claim pool while it waits (state machine test)
        incident.task_enqueued_at = None
        _set_due(incident, None, start=now)
        incident.save()
        _event(
            incident,
            actor=actor,
            action=Action.REFER_TO_MEDIATION,
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
        if incident.state != IncidentState.MEDIATING:
            already = incident.events.filter(
                action=Action.MEDIATION_CONCLUDED, data__case=case_id
            ).exists()
            if already:
                return incident
            raise _state_conflict(Action.MEDIATION_CONCLUDED, incident)
        now = _now()
        note = (note or "").strip()
        data = {"case": case_id, "agreement": bool(agreement_reached)}
        if agreement_reached:
            previous = _move(incident, Action.MEDIATION_CONCLUDED, IncidentState.CLOSED)
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
                action=Action.MEDIATION_CONCLUDED,
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
            action=Action.MEDIATION_CONCLUDED,
            note=note
            or _say(gettext_lazy("Mediation ended without agreement: back to the handling unit.")),
            data=data,
        )
        return incident
