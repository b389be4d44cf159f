"""Every read of tasks from above, scoped to the viewer (policies decide; these build the
querysets that match them). Personal data of addressees leaves here masked unless the viewer may
see it (addressee_for_viewer); unmasking is audited."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from assignments import policies
from assignments.models import (
    OPEN_STATES,
    Assignment,
    AssignmentState,
    Campaign,
    Task,
    TaskAttachment,
    TaskKind,
)
from audit.services import record_unmasked
from core.exceptions import NotFoundError
from core.masking import mask_id_number, mask_name, mask_phone
from grids.models import GridCell, Region

S = AssignmentState


def _office_q(user: User, prefix: str = "") -> Q:
    """Tasks whose office the user belongs to (see policies.is_office)."""
    if user.is_portal_admin:
        return Q()
    q = Q(**{f"{prefix}issuer": user})
    scope = user_scope(user)
    if user.role_codes & policies.AREA_ROLES and scope.prefix:
        q |= Q(**{f"{prefix}office_region__code__startswith": scope.prefix})
    for grant in user.task_issuer_grants.filter(active=True):
        q |= Q(**{f"{prefix}office_region_id": grant.region_id, f"{prefix}office": grant.office})
    return q


def tasks_for_office(user: User) -> QuerySet[Task]:
    """The tasks the user's office issued (newest first)."""
    if not user.is_authenticated:
        return Task.objects.none()
    return (
        Task.objects.filter(_office_q(user))
        .select_related("kind", "issuer", "office_region", "campaign")
        .distinct()
    )


def assignments_visible(user: User) -> QuerySet[Assignment]:
    """Assignments the user may open: their own (or their cells' unaccepted ones), the office's,
    and (dispatchers, supervisors) those lying in their area."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    qs = Assignment.objects.select_related(
        "task", "task__kind", "task__office_region", "cell", "worker"
    )
    if user.is_portal_admin:
        return qs
    scope = user_scope(user)
    q = _office_q(user, "task__") | Q(worker=user)
    if scope.cell_ids:
        q |= Q(cell_id__in=scope.cell_ids)
    if user.role_codes & policies.AREA_ROLES and scope.prefix:
        q |= Q(region_code__startswith=scope.prefix)
    return qs.filter(q).distinct()


def assignments_mine(user: User, *, open_only: bool = False) -> QuerySet[Assignment]:
    """我的任务: the user's own assignments and their cells' unaccepted ones, open ones first by
    deadline."""
    if not user.is_authenticated:
        return Assignment.objects.none()
    scope = user_scope(user)
    q = Q(worker=user)
    if scope.cell_ids:
        q |= Q(worker__isnull=True, cell_id__in=scope.cell_ids)
    qs = Assignment.objects.filter(q).exclude(state=S.CANCELLED)
    if open_only:
        qs = qs.filter(state__in=OPEN_STATES)
    return qs.select_related("task", "task__kind", "cell").order_by("done_at", "due_at", "id")


def my_open_count(user: User) -> int:
    """How many tasks wait for the user (for the home page and the incidents' "my work")."""
    return assignments_mine(user, open_only=True).count()


def my_work(user: User) -> dict[str, Any]:
    """What the grid worker's home and the incidents' "my work" list show of tasks from above:
    how many wait, how many of them are overdue, and where 我的任务 is."""
    from django.urls import reverse

    mine = assignments_mine(user, open_only=True)
    return {
        "open": mine.count(),
        "overdue": mine.filter(state=S.OVERDUE).count(),
        "url": reverse("assignments:home"),
    }


def task_get_for_user(*, user: User, task_id: int) -> Task:
    task = tasks_for_office(user).filter(pk=task_id).first()
    if task is None:
        raise NotFoundError("Task not found.")
    return task


def assignment_get_for_user(*, user: User, assignment_id: int) -> Assignment:
    assignment = (
        Assignment.objects.select_related(
            "task", "task__kind", "task__office_region", "task__issuer", "cell", "worker"
        )
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None or not policies.may_see_assignment(user, assignment):
        raise NotFoundError("Task not found.")
    return assignment


def attachment_get_for_user(*, user: User, attachment_id: int) -> TaskAttachment:
    attachment = TaskAttachment.objects.select_related("task").filter(pk=attachment_id).first()
    if attachment is None:
        raise NotFoundError("Attachment not found.")
    task = attachment.task
    if policies.is_office(user, task) or assignments_visible(user).filter(task=task).exists():
        return attachment
    raise NotFoundError("Attachment not found.")


@dataclass(frozen=True)
class Addressee:
    name: str
    phone: str
    id_number: str
    address: str
    masked: bool


def addressee_for_viewer(
    assignment: Assignment, viewer: User, *, audit: bool = True
) -> Addressee | None:
    """The addressee of a service of documents as the viewer may see it: in full for the issuer,
    the office's managers and the worker (the view audited), masked for everybody else."""
    service = getattr(assignment.task, "service", None)
    if service is None:
        return None
    if policies.may_see_addressee(viewer, assignment):
        if audit:
            record_unmasked(
                viewer,
                service,
                ["addressee_name", "addressee_phone", "addressee_id_number", "addressee_address"],
                assignment=assignment.pk,
            )
        return Addressee(
            name=service.addressee_name,
            phone=service.addressee_phone,
            id_number=service.addressee_id_number,
            address=service.addressee_address,
            masked=False,
        )
    address = service.addressee_address
    return Addressee(
        name=mask_name(service.addressee_name),
        phone=mask_phone(service.addressee_phone),
        id_number=mask_id_number(service.addressee_id_number),
        address=(address[:6] + "****") if address else "",
        masked=True,
    )


def kinds_active() -> QuerySet[TaskKind]:
    return TaskKind.objects.filter(active=True)


def issuable_cells(user: User) -> QuerySet[GridCell]:
    """The active cells inside the regions the user may issue into."""
    regions = policies.issuing_regions(user)
    if not regions:
        return GridCell.objects.none()
    q = Q()
    for region in regions:
        q |= Q(community__code__startswith=region.prefix)
    return GridCell.objects.filter(q, active=True).select_related("community")


def issuable_communities(user: User) -> QuerySet[Region]:
    regions = policies.issuing_regions(user)
    if not regions:
        return Region.objects.none()
    q = Q()
    for region in regions:
        q |= Q(code__startswith=region.prefix)
    return Region.objects.filter(q, level=Region.Level.COMMUNITY)


def issuable_regions(user: User) -> QuerySet[Region]:
    """The regions (street, community …) inside the regions the user may issue into."""
    regions = policies.issuing_regions(user)
    if not regions:
        return Region.objects.none()
    q = Q()
    for region in regions:
        q |= Q(code__startswith=region.prefix)
    return Region.objects.filter(q).exclude(level=Region.Level.PROVINCE)


def campaigns_issuable(user: User) -> QuerySet[Campaign]:
    """Campaigns the user may add tasks to (their region inside the user's issuing regions)."""
    regions = policies.issuing_regions(user)
    if not regions:
        return Campaign.objects.none()
    q = Q()
    for region in regions:
        q |= Q(region__code__startswith=region.prefix)
    return campaigns_for_user(user).filter(q).order_by("-deadline")


def issuable_workers(user: User) -> QuerySet[User]:
    regions = policies.issuing_regions(user)
    if not regions:
        return User.objects.none()
    q = Q()
    for region in regions:
        q |= Q(scope_region__code__startswith=region.prefix)
    return (
        User.objects.filter(q, is_active=True, roles__code=RoleCode.GRID_WORKER)
        .distinct()
        .order_by("display_name", "username")
    )


def campaigns_for_user(user: User) -> QuerySet[Campaign]:
    """Campaigns the user created, those in a dispatcher's or supervisor's area, and those of
    the office an explicit issuer belongs to."""
    if not user.is_authenticated:
        return Campaign.objects.none()
    qs = Campaign.objects.select_related("region", "created_by")
    if user.is_portal_admin:
        return qs
    q = Q(created_by=user)
    scope = user_scope(user)
    if user.role_codes & policies.AREA_ROLES and scope.prefix:
        q |= Q(region__code__startswith=scope.prefix)
    for grant in user.task_issuer_grants.filter(active=True):
        q |= Q(office=grant.office, region__code__startswith=grant.region.prefix)
    return qs.filter(q).distinct()


def campaign_get_for_user(*, user: User, campaign_id: int) -> Campaign:
    campaign = campaigns_for_user(user).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFoundError("Campaign not found.")
    return campaign


@dataclass
class ProgressRow:
    key: str
    label: str
    total: int = 0
    done: int = 0
    overdue: int = 0
    done_late: int = 0
    open: int = 0

    @property
    def percent_done(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def _progress(assignments: list[Assignment], key_of, label_of) -> list[ProgressRow]:
    rows: dict[str, ProgressRow] = {}
    for assignment in assignments:
        key = key_of(assignment)
        row = rows.get(key)
        if row is None:
            row = rows[key] = ProgressRow(key=key, label=label_of(assignment))
        row.total += 1
        if assignment.state == S.DONE:
            row.done += 1
            if assignment.ever_overdue:
                row.done_late += 1
        elif assignment.state == S.OVERDUE:
            row.overdue += 1
        elif assignment.state in (S.ISSUED, S.ACCEPTED, S.RETURNED):
            row.open += 1
    return sorted(rows.values(), key=lambda row: (-row.overdue, row.label))


def campaign_progress(campaign: Campaign, *, now: datetime | None = None) -> dict[str, Any]:
    """The progress board: totals, and done / overdue / open per cell and per worker (an
    assignment nobody has accepted counts for "—")."""
    now = now or timezone.now()
    assignments = list(
        Assignment.objects.filter(task__campaign=campaign)
        .exclude(state=S.CANCELLED)
        .select_related("cell", "worker")
    )
    totals = _progress(assignments, lambda a: "all", lambda a: "")
    by_cell = _progress(
        [a for a in assignments if a.cell_id],
        lambda a: str(a.cell_id),
        lambda a: a.cell.name if a.cell else "",
    )
    by_worker = _progress(
        assignments,
        lambda a: str(a.worker_id or 0),
        lambda a: str(a.worker) if a.worker else "—",
    )
    return {
        "total": totals[0] if totals else ProgressRow(key="all", label=""),
        "by_cell": by_cell,
        "by_worker": by_worker,
        "past_deadline": now > campaign.deadline,
        "task_count": campaign.tasks.count(),
    }


def grouped_by_state(assignments) -> dict[str, list[Assignment]]:
    grouped: dict[str, list[Assignment]] = defaultdict(list)
    for assignment in assignments:
        grouped[assignment.state].append(assignment)
    return grouped
