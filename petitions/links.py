"""The petitions turned into an incident, for the incident's detail page (registered with
`incidents.detail_links` at start-up)."""

from __future__ import annotations

from typing import Any

from accounts.models import User
from incidents.models import Incident
from petitions.selectors import petitions_linked_to_incident


def linked_petitions(user: User, incident: Incident) -> dict[str, Any]:
    """At most 20 petitions linked to the incident that `user` may see."""
    return {
        "petitions": list(petitions_linked_to_incident(user=user, incident_id=incident.pk)[:20])
    }
