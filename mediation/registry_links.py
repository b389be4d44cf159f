"""The mediation cases linked to a registry person, for the key person's page (registered with
`registry.links` at start-up; registry sits below mediation and cannot import it).

A case is linked when a worker linked it explicitly (registry.PersonLink, target
"mediation_case") or when one of its parties has the person's phone. Only cases `user` may see.
"""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse

from accounts.models import User
from mediation.selectors import cases_visible


def person_cases(user: User, person) -> list:
    from registry.links import LinkedMatter, explicit_ids

    q = Q(pk__in=explicit_ids(person, "mediation_case"))
    if person.phone:
        q |= Q(parties__phone=person.phone)
    rows = cases_visible(user).filter(q).select_related("category").distinct().order_by("-pk")[:20]
    return [
        LinkedMatter(
            kind="mediation_case",
            label=case.case_number,
            title=str(case.category),
            url=reverse("mediation:case_detail", args=[case.pk]),
            status=case.get_state_display(),
        )
        for case in rows
    ]
