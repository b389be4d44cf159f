"""The mediation case an incident was referred to, for the incident's detail page
(registered with `incidents.detail_links` at start-up)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from incidents.models import Incident
from incidents.selectors import is_staff_viewer
from mediation.selectors import case_for_incident, cases_visible


def linked_case(user: User, incident: Incident) -> dict[str, Any]:
    """The case linked when `user` may open it. Staff who see the incident learn which case it
    waits for; others only a case they may open themselves."""
    case = case_for_incident(incident_id=incident.pk)
    if case is None:
        return {}
    linked = cases_visible(user).filter(pk=case.pk).exists()
    if not (linked or is_staff_viewer(user)):
        return {}
    return {"mediation_case": case, "mediation_case_linked": linked}
