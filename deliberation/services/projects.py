"""The project library (项目库): tracked projects with milestones and spending, public."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import NotFoundError
from core.workflow import check, lock, move, record
from deliberation.models import (
    PROJECT_GRAPH,
    BudgetProject,
    Project,
    ProjectAction,
    ProjectEvent,
    ProjectMilestone,
    ProjectSource,
    ProjectSpending,
    ProjectState,
    Proposal,
)
from deliberation.services._common import (
    amount,
    now,
    optional_text,
    refuse,
    require_manager,
    required_text,
)
from grids.models import Region

PA = ProjectAction
PS = ProjectState
NOT_FOUND = _("Project not found.")


def _lock(project_id: int) -> Project:
    return lock(Project, project_id, not_found=NotFoundError(str(NOT_FOUND)))


def project_create(
    *,
    actor: User,
    region_id: int | None,
    title: str,
    description: str = "",
    budget: Any = None,
    proposal: Proposal | None = None,
) -> Project:
    """Staff enter a project in the library (or a proposal is converted into one)."""
    region = Region.objects.filter(pk=region_id).first() if region_id else None
    if region is None:
        raise refuse("region", _("Choose a community or a street."))
    require_manager(actor, region.code, _("Region not found."))
    clean_title = required_text(title, "title", limit=120)
    clean_description = optional_text(description, "description", limit=4000)
    money = amount(budget, "budget", allow_none=True) or Decimal("0")
    with transaction.atomic():
        project = Project.objects.create(
            region=region,
            region_code=region.code,
            title=clean_title,
            description=clean_description,
            source=ProjectSource.PROPOSAL if proposal is not None else ProjectSource.STAFF,
            proposal=proposal,
            budget=money,
            created_at=now(),
        )
        record(ProjectEvent, project, actor=actor, action=PA.CREATE, to_state=project.state)
    return project


def project_from_budget(*, budget_project: BudgetProject, actor: User | None) -> Project:
    """A winning budget project becomes a tracked project (idempotent: one per winner)."""
    existing = Project.objects.filter(budget_project=budget_project).first()
    if existing is not None:
        return existing
    budget_round = budget_project.round
    project = Project.objects.create(
        region_id=budget_round.region_id,
        region_code=budget_round.region_code,
        title=budget_project.title,
        description=budget_project.description,
        source=ProjectSource.BUDGET,
        budget_project=budget_project,
        budget=budget_project.cost,
        created_at=now(),
    )
    record(
        ProjectEvent,
        project,
        actor=actor,
        action=PA.CREATE,
        to_state=project.state,
        data={"round": budget_round.pk, "votes": budget_project.votes},
    )
    return project


def milestone_add(
    *, project_id: int, actor: User, title: str, due_date: date | None
) -> ProjectMilestone:
    clean_title = required_text(title, "title", limit=120)
    if due_date is None:
        raise refuse("due_date", _("Give the planned date."))
    with transaction.atomic():
        project = _lock(project_id)
        require_manager(actor, project.region_code, NOT_FOUND)
        check(project, PROJECT_GRAPH, PA.MILESTONE)
        milestone = ProjectMilestone.objects.create(
            project=project, title=clean_title, due_date=due_date
        )
        record(
            ProjectEvent,
            project,
            actor=actor,
            action=PA.MILESTONE,
            note=clean_title,
            data={"due": due_date.isoformat()},
        )
    return milestone


def milestone_reach(*, milestone_id: int, actor: User) -> ProjectMilestone:
    with transaction.atomic():
        milestone = ProjectMilestone.objects.filter(pk=milestone_id).first()
        if milestone is None:
            raise NotFoundError(_("Milestone not found."))
        project = _lock(milestone.project_id)
        require_manager(actor, project.region_code, NOT_FOUND)
        milestone = ProjectMilestone.objects.select_for_update().get(pk=milestone_id)
        if milestone.done_at is not None:
            raise refuse("milestone", _("This milestone is already reached."))
        previous = move(project, PROJECT_GRAPH, PA.MILESTONE_DONE, PS.IN_PROGRESS)
        project.save(update_fields=["state"])
        milestone.done_at = now()
        milestone.save(update_fields=["done_at"])
        record(
            ProjectEvent,
            project,
            actor=actor,
            action=PA.MILESTONE_DONE,
            from_state=previous,
            to_state=project.state,
            note=milestone.title,
        )
    return milestone


def spending_record(
    *, project_id: int, actor: User, amount_spent: Any, note: str, spent_on: date | None
) -> ProjectSpending:
    money = amount(amount_spent, "amount")
    if money is None:  # amount() refuses an empty value unless allow_none
        raise AssertionError("amount is required")
    clean_note = required_text(note, "note", limit=255)
    if spent_on is None:
        raise refuse("spent_on", _("Give the date."))
    with transaction.atomic():
        project = _lock(project_id)
        require_manager(actor, project.region_code, NOT_FOUND)
        previous = move(project, PROJECT_GRAPH, PA.SPEND, PS.IN_PROGRESS)
        spending = ProjectSpending.objects.create(
            project=project, amount=money, note=clean_note, spent_on=spent_on, recorded_by=actor
        )
        Project.objects.filter(pk=project.pk).update(spent=F("spent") + money, state=project.state)
        record(
            ProjectEvent,
            project,
            actor=actor,
            action=PA.SPEND,
            from_state=previous,
            to_state=project.state,
            note=clean_note,
            data={"amount": str(money)},
        )
    return spending


def project_complete(*, project_id: int, actor: User, note: str = "") -> Project:
    clean_note = optional_text(note, "note", limit=1000)
    with transaction.atomic():
        project = _lock(project_id)
        require_manager(actor, project.region_code, NOT_FOUND)
        previous = move(project, PROJECT_GRAPH, PA.COMPLETE, PS.DONE)
        project.done_at = now()
        project.save(update_fields=["state", "done_at"])
        record(
            ProjectEvent,
            project,
            actor=actor,
            action=PA.COMPLETE,
            from_state=previous,
            to_state=project.state,
            note=clean_note,
        )
    return project
