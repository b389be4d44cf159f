"""The sections of 我的 (the resident's centre), in order: each a label and a provider
`(user) -> list[ResidentItem]` (core.resident_items). The apps below residents offer their own
`<app>.selectors.items_for_resident(user)`; add them here (SECTIONS) as they come — the lead
wires 便民服务, volunteers and deliberation after merging their branches, e.g.

    Section("services", _("My service requests"), "resident_services.selectors.items_for_resident")

Providers of apps above nothing but core are named by dotted path (imported on first use).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from core.resident_items import ResidentItem
from incidents.models import Incident, IncidentFollower, IncidentState
from residents.selectors import public_text

Provider = Callable[[User], list[ResidentItem]]
LIMIT = 20


@dataclass(frozen=True)
class Section:
    key: str
    label: object  # lazy translation
    provider: str | Provider  # a callable or its dotted path


def _next_step(incident: Incident) -> str:
    state = incident.state
    if state == IncidentState.FEEDBACK_SENT and incident.rating is None:
        return _("Rate the result")
    if incident.merged_into_id:
        return _("Merged into another report: you follow it")
    if state in (IncidentState.REPORTED, IncidentState.VERIFYING):
        return _("A grid worker checks it on site")
    if state in (IncidentState.VERIFIED, IncidentState.REOPENED):
        return _("It is being sent to whoever handles it")
    if state in (IncidentState.DISPATCHED, IncidentState.ACCEPTED):
        return _("It is being handled")
    if state in (IncidentState.RESOLVED, IncidentState.CHECKED):
        return _("The result is being checked")
    if state == IncidentState.MEDIATING:
        return _("In mediation")
    return ""


def my_reports(user: User) -> list[ResidentItem]:
    items = []
    for incident in (
        Incident.objects.filter(reporter=user).select_related("category").order_by("-updated_at")
    )[:LIMIT]:
        url = reverse("residents:report", args=[incident.public_id])
        rate = incident.state == IncidentState.FEEDBACK_SENT and incident.rating is None
        items.append(
            ResidentItem(
                kind=_("My reports"),
                title=f"{incident.category.display_name} · {public_text(incident.description)}",
                state=IncidentState(incident.state).label,
                url=url,
                updated_at=incident.updated_at,
                next_step=_next_step(incident),
                action_url=reverse("incidents:detail", args=[incident.pk]) + "#rate"
                if rate
                else "",
            )
        )
    return items


def my_follows(user: User) -> list[ResidentItem]:
    items = []
    for row in (
        IncidentFollower.objects.filter(user=user)
        .select_related("incident", "incident__category")
        .order_by("-created_at")
    )[:LIMIT]:
        incident = row.incident
        items.append(
            ResidentItem(
                kind=_("Reports I follow"),
                title=f"{incident.category.display_name} · {public_text(incident.description)}",
                state=IncidentState(incident.state).label,
                url=reverse("residents:report", args=[incident.public_id]),
                updated_at=incident.updated_at,
                next_step=_next_step(incident),
            )
        )
    return items


def my_mediation(user: User) -> list[ResidentItem]:
    from mediation.models import MediationCase

    return [
        ResidentItem(
            kind=_("My mediation applications"),
            # The facts may name the other party: the number and the kind of dispute only.
            title=" · ".join(
                part
                for part in (case.case_number, case.category and case.category.display_name)
                if part
            ),
            state=case.get_state_display(),
            url=reverse("mediation:case_detail", args=[case.pk]),
            updated_at=case.updated_at,
        )
        for case in MediationCase.objects.filter(applicant_user=user)
        .select_related("category")
        .order_by("-updated_at")[:LIMIT]
    ]


def my_petitions(user: User) -> list[ResidentItem]:
    from petitions.models import Petition

    return [
        ResidentItem(
            kind=_("My petitions"),
            title=f"{petition.tracking_number} · {public_text(petition.matter)}",
            state=petition.get_state_display(),
            url=reverse("petitions:detail", args=[petition.pk]),
            updated_at=petition.updated_at,
        )
        for petition in Petition.objects.filter(owner=user).order_by("-updated_at")[:LIMIT]
    ]


def my_notices(user: User) -> list[ResidentItem]:
    from core.models import Notification

    return [
        ResidentItem(
            kind=_("Notices"),
            title=notice.title,
            state=_("read") if notice.read_at else _("new"),
            url=notice.url or reverse("accounts:inbox"),
            updated_at=notice.created_at,
        )
        for notice in Notification.objects.filter(user=user).order_by("-created_at")[:10]
    ]


SECTIONS: list[Section] = [
    Section("reports", gettext_lazy("My reports"), my_reports),
    Section("mediation", gettext_lazy("My mediation applications"), my_mediation),
    Section("petitions", gettext_lazy("My petitions"), my_petitions),
    Section(
        "services",
        gettext_lazy("My service requests"),
        "resident_services.selectors.items_for_resident",
    ),
    Section(
        "volunteering", gettext_lazy("My volunteering"), "volunteers.selectors.items_for_resident"
    ),
    Section("proposals", gettext_lazy("My proposals"), "deliberation.selectors.items_for_resident"),
    Section("follows", gettext_lazy("Reports I follow"), my_follows),
    Section("notices", gettext_lazy("Notices"), my_notices),
]


def sections_for(user: User) -> list[tuple[Section, list[ResidentItem]]]:
    """Each section with the resident's items (their own records only)."""
    result = []
    for section in SECTIONS:
        provider = section.provider
        if isinstance(provider, str):
            provider = import_string(provider)
        result.append((section, provider(user)))
    return result
