"""Issuing a task (下达) and its fan-out into assignments; special campaigns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from assignments import policies, selectors
from assignments.evidence import form_fields_clean
from assignments.models import (
    Assignment,
    AssignmentAction,
    Campaign,
    DocumentService,
    Task,
    TaskAttachment,
    TaskKind,
)
from assignments.services._common import S, cell_worker_ids, default_language, event, notify
from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from core.uploads import attachment_clean
from grids.models import GridCell, Region
from registry import personal_data
from registry.models import Building, Home, Person

MAX_ATTACHMENTS = 5
MAX_TARGETS = 500


@dataclass
class ServiceInput:
    """The document and the addressee of a service of court documents."""

    document_title: str = ""
    case_number: str = ""
    authority: str = ""
    addressee_name: str = ""
    addressee_phone: str = ""
    addressee_id_number: str = ""
    addressee_address: str = ""
    # Links into the registry (ids); a person is also found by the ID number when it is there.
    addressee_person_id: int | None = None
    addressee_home_id: int | None = None
    addressee_building_id: int | None = None


@dataclass
class _Links:
    person: Any = None
    home: Any = None
    building: Any = None

    @property
    def cell_id(self) -> int | None:
        record = self.person or self.home or self.building
        return record.cell_id if record is not None else None


def _registry_links(issuer: User, service: ServiceInput, errors: dict[str, list[str]]) -> _Links:
    """The addressee's person / home / building in the registry, inside the issuer's regions
    (anything else is "not found"); the blanks of the service filled in from them."""
    links = _Links()
    lookups = (
        ("addressee_person", Person, service.addressee_person_id),
        ("addressee_home", Home, service.addressee_home_id),
        ("addressee_building", Building, service.addressee_building_id),
    )
    for name, model, pk in lookups:
        if not pk:
            continue
        record = model.objects.filter(pk=pk, active=True).first()
        if record is None or policies.may_issue_into(issuer, record.region_code) is None:
            errors[name] = [_("Not found in the registry of your region.")]
            continue
        setattr(links, name.removeprefix("addressee_"), record)
    if links.person is None and service.addressee_id_number.strip():
        key = personal_data.lookup_key(
            "id", personal_data.normalise_id_number(service.addressee_id_number)
        )
        for person in Person.objects.filter(id_key=key, active=True)[:5]:
            if policies.may_issue_into(issuer, person.region_code) is not None:
                links.person = person
                break
    if links.person is not None:
        person = links.person
        service.addressee_name = service.addressee_name.strip() or person.name
        if (
            not service.addressee_phone.strip()
            and len(person.phone) == 11
            and person.phone.isdigit()
        ):
            service.addressee_phone = person.phone
        service.addressee_id_number = service.addressee_id_number.strip() or person.id_number
        if links.home is None and person.home_id is not None:
            links.home = person.home
    if links.home is not None and links.building is None:
        links.building = links.home.building
    if not service.addressee_address.strip():
        if links.home is not None:
            service.addressee_address = links.home.address
        elif links.building is not None:
            service.addressee_address = links.building.address
    return links


@dataclass
class _Target:
    region_code: str
    cell: GridCell | None = None
    worker: User | None = None
    notify_ids: list[int] = field(default_factory=list)


def _refuse(errors: dict[str, list[str]]) -> ValidationFailed:
    first = next(iter(errors.values()))[0]
    return ValidationFailed(first, extra=errors)


def _worker_region_code(worker: User) -> str:
    grid_worker = getattr(worker, "grid_worker", None)
    if grid_worker is not None:
        cell = grid_worker.cells.select_related("community").first()
        if cell is not None:
            return cell.community.code
    return worker.scope_region.code if worker.scope_region is not None else ""


def _targets(
    *,
    cell_ids: Iterable[int],
    community_ids: Iterable[int],
    worker_ids: Iterable[int],
    errors: dict[str, list[str]],
) -> list[_Target]:
    targets: list[_Target] = []
    seen_cells: set[int] = set()
    cell_ids, community_ids, worker_ids = list(cell_ids), list(community_ids), list(worker_ids)
    cells = list(GridCell.objects.filter(pk__in=cell_ids, active=True).select_related("community"))
    if len(cells) != len(set(cell_ids)):
        errors.setdefault("cells", []).append(_("A grid cell was not found."))
    communities = list(Region.objects.filter(pk__in=community_ids, level=Region.Level.COMMUNITY))
    if len(communities) != len(set(community_ids)):
        errors.setdefault("communities", []).append(_("A community was not found."))
    cells += list(
        GridCell.objects.filter(community__in=communities, active=True).select_related("community")
    )
    for cell in cells:
        if cell.pk in seen_cells:
            continue
        seen_cells.add(cell.pk)
        targets.append(
            _Target(region_code=cell.community.code, cell=cell, notify_ids=cell_worker_ids(cell.pk))
        )
    workers = list(
        User.objects.filter(
            pk__in=worker_ids, is_active=True, roles__code=RoleCode.GRID_WORKER
        ).distinct()
    )
    if len(workers) != len(set(worker_ids)):
        errors.setdefault("workers", []).append(_("A grid worker was not found."))
    for worker in workers:
        targets.append(
            _Target(region_code=_worker_region_code(worker), worker=worker, notify_ids=[worker.pk])
        )
    return targets


def _office_region(issuer: User, codes: list[str]) -> Region | None:
    """The smallest of the issuer's regions that covers every target."""
    fitting = [
        region
        for region in policies.issuing_regions(issuer)
        if all(code and region.contains_code(code) for code in codes)
    ]
    return max(fitting, key=lambda region: len(region.prefix), default=None)


def task_issue(
    *,
    issuer: User,
    kind_id: int,
    title: str,
    instructions: str,
    deadline: datetime | None,
    cell_ids: Iterable[int] = (),
    community_ids: Iterable[int] = (),
    worker_ids: Iterable[int] = (),
    requires_photo: bool = False,
    requires_signature: bool = False,
    requires_gps: bool = False,
    form_fields: Iterable[Mapping[str, Any]] = (),
    campaign_id: int | None = None,
    attachments: Iterable[Any] = (),
    service: ServiceInput | None = None,
    now: datetime | None = None,
) -> Task:
    """Issue a task and fan it out: one assignment per cell (a community gives each of its active
    cells) and per named worker, each with an `issue` event; the workers get an inbox message.

    Requires: the issuer may issue into a region covering every target (policies); a future
    deadline (a campaign's task: not after the campaign's; none given: the campaign's); a
    service of documents has exactly one target and its document and addressee. Nothing is
    written when anything is refused (ValidationFailed with field messages, 403 for a
    non-issuer)."""
    now = now or timezone.now()
    if not policies.is_issuer(issuer):
        raise PermissionDeniedError(_("You may not issue tasks."))
    errors: dict[str, list[str]] = {}
    kind = TaskKind.objects.filter(pk=kind_id, active=True).first()
    if kind is None:
        errors["kind"] = [_("Choose a kind of task.")]
    title, instructions = (title or "").strip(), (instructions or "").strip()
    if not title:
        errors["title"] = [_("This field is required.")]
    if not instructions:
        errors["instructions"] = [_("This field is required.")]
    campaign = None
    if campaign_id:
        campaign = (
            selectors.campaigns_issuable(issuer)
            .select_related("region")
            .filter(pk=campaign_id)
            .first()
        )
        if campaign is None:
            errors["campaign"] = [_("Campaign not found.")]
            campaign = None
        elif deadline is None:
            deadline = campaign.deadline
        elif deadline > campaign.deadline:
            errors["deadline"] = [_("A campaign's task is due by the campaign's deadline.")]
    if deadline is None:
        errors.setdefault("deadline", [_("This field is required.")])
    elif deadline <= now:
        errors.setdefault("deadline", [_("The deadline must be in the future.")])
    try:
        fields = form_fields_clean(form_fields)
    except ValidationFailed as exc:
        errors.update(exc.extra)
        fields = []
    links = _Links()
    cell_ids, community_ids, worker_ids = list(cell_ids), list(community_ids), list(worker_ids)
    if kind is not None and kind.is_service_of_documents:
        service = service or ServiceInput()
        links = _registry_links(issuer, service, errors)
        if not (cell_ids or community_ids or worker_ids) and links.cell_id:
            cell_ids = [links.cell_id]  # served in the cell the registry places the addressee
    targets = _targets(
        cell_ids=cell_ids, community_ids=community_ids, worker_ids=worker_ids, errors=errors
    )
    if not targets and not errors.keys() & {"cells", "communities", "workers"}:
        errors["cells"] = [_("Choose grid cells, a community or workers.")]
    if len(targets) > MAX_TARGETS:
        errors["cells"] = [_("At most %(max)s assignments per task.") % {"max": MAX_TARGETS}]
    office_region = None
    if targets and "cells" not in errors:
        office_region = _office_region(issuer, [target.region_code for target in targets])
        if office_region is None:
            errors["cells"] = [_("You may issue tasks only inside your own region.")]
        if campaign is not None and not all(
            campaign.region.contains_code(target.region_code) for target in targets
        ):
            errors["campaign"] = [_("Every target must lie inside the campaign's region.")]
    if kind is not None and kind.is_service_of_documents:
        service = service or ServiceInput()
        if len(targets) != 1:
            errors.setdefault("cells", []).append(
                _("A service of documents goes to one grid cell or one worker.")
            )
        for name in ("document_title", "addressee_name", "addressee_address"):
            if not getattr(service, name).strip():
                errors[name] = [_("This field is required.")]
        if service.addressee_phone and not (
            service.addressee_phone.isdigit() and len(service.addressee_phone) == 11
        ):
            errors["addressee_phone"] = [_("Enter an 11-digit mobile number.")]
        requires_photo = requires_signature = True
    files = list(attachments)
    if len(files) > MAX_ATTACHMENTS:
        errors["attachments"] = [_("At most %(max)s attachments.") % {"max": MAX_ATTACHMENTS}]
    cleaned_files = []
    if "attachments" not in errors:
        for upload in files:
            try:
                cleaned_files.append((attachment_clean(upload), upload.name))
            except ValidationFailed as exc:
                errors.setdefault("attachments", []).append(exc.message)
    if errors:
        raise _refuse(errors)
    if kind is None or office_region is None or deadline is None:  # narrowed by the errors above
        raise AssertionError("refused above")

    with transaction.atomic():
        task = Task.objects.create(
            kind=kind,
            title=title[:120],
            instructions=instructions,
            office=policies.office_name(issuer, office_region),
            office_region=office_region,
            issuer=issuer,
            deadline=deadline,
            requires_photo=requires_photo,
            requires_signature=requires_signature,
            requires_gps=requires_gps,
            form_fields=fields,
            campaign=campaign,
        )
        if kind.is_service_of_documents and service is not None:
            DocumentService.objects.create(
                task=task,
                document_title=service.document_title.strip()[:120],
                case_number=service.case_number.strip()[:64],
                authority=(service.authority.strip() or task.office)[:64],
                addressee_name=service.addressee_name.strip()[:64],
                addressee_phone=service.addressee_phone.strip(),
                addressee_id_number=service.addressee_id_number.strip().upper(),
                addressee_address=service.addressee_address.strip()[:200],
                addressee_person=links.person,
                addressee_home=links.home,
                addressee_building=links.building,
            )
        for cleaned, name in cleaned_files:
            attachment = TaskAttachment(task=task, name=str(name)[:120])
            attachment.file.save(getattr(cleaned, "name", None) or str(name), cleaned, save=False)
            attachment.save()
        for target in targets:
            assignment = Assignment.objects.create(
                task=task,
                cell=target.cell,
                worker=target.worker,
                region_code=target.region_code,
                due_at=deadline,
            )
            event(
                assignment,
                actor=issuer,
                action=AssignmentAction.ISSUE,
                from_state="",  # creation: the timeline shows "→ issued"
            )
            with default_language():
                notify(
                    target.notify_ids,
                    title=_("New task from %(office)s: due %(date)s")
                    % {
                        "office": task.office,
                        "date": timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M"),
                    },
                    assignment=assignment,
                    key="issued",
                )
    return task


def campaign_create(
    *,
    actor: User,
    title: str,
    description: str = "",
    region_id: int,
    deadline: datetime | None,
    now: datetime | None = None,
) -> Campaign:
    """A special campaign over a region the actor may issue into, with one future deadline."""
    now = now or timezone.now()
    if not policies.is_issuer(actor):
        raise PermissionDeniedError(_("You may not issue tasks."))
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if not title:
        errors["title"] = [_("This field is required.")]
    region = Region.objects.filter(pk=region_id).first()
    issuing = policies.may_issue_into(actor, region.code) if region is not None else None
    if region is None or issuing is None:
        errors["region"] = [_("You may issue tasks only inside your own region.")]
    if deadline is None:
        errors["deadline"] = [_("This field is required.")]
    elif deadline <= now:
        errors["deadline"] = [_("The deadline must be in the future.")]
    if errors:
        raise _refuse(errors)
    if region is None or issuing is None or deadline is None:
        raise AssertionError("refused above")
    return Campaign.objects.create(
        title=title[:120],
        description=(description or "").strip(),
        office=policies.office_name(actor, issuing),
        region=region,
        deadline=deadline,
        created_by=actor,
    )


def task_cancel(*, task_id: int, actor: User, reason: str) -> int:
    """Cancel every open or returned assignment of a task (the office's managers only).
    Returns how many were cancelled."""
    from assignments.services.work import assignment_cancel

    task = Task.objects.select_related("office_region").filter(pk=task_id).first()
    if task is None or not policies.is_office(actor, task):
        raise NotFoundError(_("Task not found."))
    if not policies.may_manage(actor, task):
        raise PermissionDeniedError(_("Only the issuing office may cancel this task."))
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Give a reason."), extra={"reason": [_("This field is required.")]}
        )
    count = 0
    with transaction.atomic():
        Task.objects.filter(pk=task.pk).update(cancelled_at=timezone.now())
        ids = task.assignments.filter(state__in=[*S_OPEN, S.RETURNED]).values_list("pk", flat=True)
        for assignment_id in list(ids):
            assignment_cancel(assignment_id=assignment_id, actor=actor, reason=reason)
            count += 1
    return count


S_OPEN = (S.ISSUED, S.ACCEPTED, S.OVERDUE)
