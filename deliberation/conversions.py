"""What a proposal can be converted into (an incident, a service request, a library project),
as a registry of converters filled at `ready()` time.

deliberation sits above incidents and resident_services (pyproject's layers), so it registers
all three at `ready()`: `incident` (incidents.services.incident_report, the proposer as the
reporter), `service_request` (resident_services.services.request_submit, the proposer as the
resident, in the proposal's community; only services that need no materials, which the
resident could not have attached) and `project` (a project of the library). A higher app may
add or replace one with `register(...)`.

A converter is called inside the proposal's transaction, under its lock: `convert(proposal,
actor, option)` creates the new matter and returns its reference (and a staff URL), or raises an
ApplicationError (a ValidationFailed with a field message: nothing is written). `options()`
lists the choices the staff pick from (an incident category, a service of the catalogue); an
empty list means the converter needs no choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

if TYPE_CHECKING:
    from accounts.models import User
    from deliberation.models import Proposal


@dataclass(frozen=True)
class ConversionResult:
    reference: str  # what the proposer and the public see (GG…, XM…)
    url: str = ""  # the new matter's page for staff


@dataclass(frozen=True)
class Converter:
    kind: str
    label: Any  # translated (lazy) label
    convert: Callable[[Proposal, User, str], ConversionResult]
    options: Callable[[], list[tuple[str, str]]] = field(default=lambda: [])
    order: int = 100


_converters: dict[str, Converter] = {}


def register(converter: Converter) -> None:
    """Register (or replace) the converter of `converter.kind`; call it from a `ready()`."""
    _converters[converter.kind] = converter


def unregister(kind: str) -> None:
    _converters.pop(kind, None)


def get(kind: str) -> Converter | None:
    return _converters.get(kind)


def available() -> list[Converter]:
    return sorted(_converters.values(), key=lambda c: (c.order, c.kind))


# --- the converters deliberation registers itself ------------------------------------------


def _incident_options() -> list[tuple[str, str]]:
    from incidents.models import Category

    return [
        (str(category.pk), f"{category.parent.name if category.parent else ''} / {category.name}")
        for category in Category.objects.filter(active=True, parent__isnull=False).select_related(
            "parent"
        )
    ]


def _to_incident(proposal: Proposal, actor: User, option: str) -> ConversionResult:
    from django.urls import reverse

    from core.exceptions import ValidationFailed
    from incidents.models import Category, Channel
    from incidents.services import incident_report

    category = Category.objects.filter(pk=option if str(option).isdigit() else None).first()
    if category is None:
        message = _("Choose the incident category.")
        raise ValidationFailed(message, extra={"option": [message]})
    if proposal.lat is None or proposal.lng is None:
        message = _("The proposal has no place on the map: an incident needs one.")
        raise ValidationFailed(message, extra={"option": [message]})
    incident = incident_report(
        actor=proposal.author,
        category=category,
        description=f"{proposal.title}\n{proposal.description}"[:2000],
        channel=Channel.RESIDENT_WEB,
        lat=proposal.lat,
        lng=proposal.lng,
        address=proposal.address,
        external_id=f"deliberation-{proposal.pk}",
    )
    return ConversionResult(
        reference=incident.tracking_number,
        url=reverse("incidents:detail", args=[incident.pk]),
    )


def _to_project(proposal: Proposal, actor: User, option: str) -> ConversionResult:
    from django.urls import reverse

    from deliberation.services.projects import project_create

    project = project_create(
        actor=actor,
        region_id=proposal.community_id,
        title=proposal.title,
        description=proposal.description,
        budget=None,
        proposal=proposal,
    )
    return ConversionResult(
        reference=project.reference, url=reverse("deliberation:project-detail", args=[project.pk])
    )


def _service_options() -> list[tuple[str, str]]:
    from resident_services.models import ServiceItem

    return [
        (str(item.pk), f"{item.group.name} / {item.name}")
        for item in ServiceItem.objects.filter(active=True).select_related("group")
        if not item.material_list
    ]


def _to_service_request(proposal: Proposal, actor: User, option: str) -> ConversionResult:
    from django.urls import reverse

    from core.exceptions import ValidationFailed
    from resident_services.services import request_submit

    if option not in {pk for pk, _label in _service_options()}:
        message = _("Choose a service that needs no materials.")
        raise ValidationFailed(message, extra={"option": [message]})
    request = request_submit(
        actor=proposal.author,
        item_id=int(option),
        community_id=proposal.community_id,
        details=f"{proposal.title}\n{proposal.description}"[:2000],
    )
    return ConversionResult(
        reference=request.number,
        url=reverse("resident_services:request_detail", args=[request.pk]),
    )


def register_own() -> None:
    register(
        Converter(
            kind="incident",
            label=gettext_lazy("an incident (事件)"),
            convert=_to_incident,
            options=_incident_options,
            order=10,
        )
    )
    register(
        Converter(
            kind="service_request",
            label=gettext_lazy("a service request (服务)"),
            convert=_to_service_request,
            options=_service_options,
            order=20,
        )
    )
    register(
        Converter(
            kind="project",
            label=gettext_lazy("a library project (项目)"),
            convert=_to_project,
            order=30,
        )
    )
