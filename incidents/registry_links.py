"""The incidents linked to a registry person, for the key person's page (registered with
`registry.links` at start-up; registry sits below incidents and cannot import it).

An incident is linked when a worker linked it explicitly (registry.PersonLink, target
"incident") or when it was reported from the person's phone. Only incidents `user` may see.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from accounts.models import User
from incidents.selectors import incidents_visible


def person_incidents(user: User, person) -> list:
    from registry.links import LinkedMatter, explicit_ids

    q = Q(pk__in=explicit_ids(person, "incident"))
    if person.phone:
        q |= Q(reporter_phone=person.phone)
    rows = incidents_visible(user).filter(q).select_related("category").order_by("-pk")[:20]
    return [
        LinkedMatter(
            kind="incident",
            label=incident.tracking_number,
            title=str(incident.category),
            url=reverse("incidents:detail", args=[incident.pk]),
            status=incident.get_state_display(),
        )
        for incident in rows
    ]
