"""Participatory budget rounds (参与式预算): the phases and their dates, projects, review,
ballots (one per resident, changeable while the vote is open), the results."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.workflow import check, lock, move, record
from deliberation import budget_rules, policies
from deliberation.models import (
    ROUND_GRAPH,
    BudgetBallot,
    BudgetProject,
    BudgetProjectState,
    BudgetRound,
    BudgetRoundEvent,
    RoundAction,
    RoundPhase,
    VotingRule,
)
from deliberation.services._common import (
    amount,
    notify,
    now,
    optional_text,
    refuse,
    require_manager,
    require_verified_resident,
    required_text,
)
from grids.models import Region

RA = RoundAction
P = RoundPhase
BS = BudgetProjectState
ROUND_NOT_FOUND = _("Budget round not found.")


def _lock_round(round_id: int) -> BudgetRound:
    return lock(BudgetRound, round_id, not_found=NotFoundError(str(ROUND_NOT_FOUND)))


def _when(moment: datetime) -> str:
    return formats.date_format(moment, "Y-m-d H:i")


def round_create(
    *,
    actor: User,
    region: Region | None,
    title: str,
    total: Any,
    rule: str,
    collect_opens_at: datetime | None,
    collect_closes_at: datetime | None,
    review_closes_at: datetime | None,
    vote_opens_at: datetime | None,
    vote_closes_at: datetime | None,
    votes_per_voter: int = 3,
    description: str = "",
) -> BudgetRound:
    """Staff of a community or street open a round (phase `draft`) with its total, voting rule
    and the dates of each phase (in order). Validates everything first."""
    if region is None or region.level not in ("community", "street"):
        raise refuse("region", _("Choose a community or a street."))
    require_manager(actor, region.code, _("Region not found."))
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, check_value in (
        ("title", lambda: required_text(title, "title", limit=120)),
        ("description", lambda: optional_text(description, "description", limit=4000)),
        ("total", lambda: amount(total, "total")),
    ):
        try:
            values[field] = check_value()
        except ValidationFailed as exc:
            errors.update(exc.extra)
    if rule not in VotingRule.values:
        errors["rule"] = [_("Choose the voting rule.")]
    try:
        votes = int(votes_per_voter)
    except (TypeError, ValueError):
        votes = 0
    if rule == VotingRule.VOTES and not 1 <= votes <= 50:
        errors["votes_per_voter"] = [_("Between 1 and 50 votes.")]
    dates = [
        ("collect_opens_at", collect_opens_at),
        ("collect_closes_at", collect_closes_at),
        ("review_closes_at", review_closes_at),
        ("vote_opens_at", vote_opens_at),
        ("vote_closes_at", vote_closes_at),
    ]
    for field, value in dates:
        if value is None:
            errors[field] = [_("Give the date and time.")]
    if not errors:
        moments = [value for _field, value in dates]
        strictly = {
            0,
            3,
        }  # collection and voting last some time; review may close when voting opens
        for index in range(4):
            earlier, later = moments[index], moments[index + 1]
            if earlier > later or (index in strictly and earlier == later):  # type: ignore[operator]
                errors[dates[index + 1][0]] = [
                    _("The phases' dates must follow each other in order.")
                ]
                break
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    if None in (
        collect_opens_at,
        collect_closes_at,
        review_closes_at,
        vote_opens_at,
        vote_closes_at,
    ):
        raise AssertionError("dates were checked above")
    with transaction.atomic():
        budget_round = BudgetRound.objects.create(
            region=region,
            region_code=region.code,
            title=values["title"],
            description=values["description"],
            total=values["total"],
            rule=rule,
            votes_per_voter=max(votes, 1),
            collect_opens_at=collect_opens_at,  # type: ignore[misc]  # checked above
            collect_closes_at=collect_closes_at,  # type: ignore[misc]
            review_closes_at=review_closes_at,  # type: ignore[misc]
            vote_opens_at=vote_opens_at,  # type: ignore[misc]
            vote_closes_at=vote_closes_at,  # type: ignore[misc]
            created_by=actor,
            created_at=now(),
        )
        record(
            BudgetRoundEvent,
            budget_round,
            actor=actor,
            action=RA.CREATE,
            to_state=budget_round.phase,
            public=False,
        )
    return budget_round


def _advance_refusal(budget_round: BudgetRound, action: str) -> str | None:
    """Why the round may not move on now (the dates per phase), or None."""
    moment = now()
    if action == RA.OPEN and moment >= budget_round.collect_closes_at:
        return _("The collection period is already over; change the dates first.")
    if action == RA.START_REVIEW and moment < budget_round.collect_closes_at:
        return _("Projects are collected until %(when)s.") % {
            "when": _when(budget_round.collect_closes_at)
        }
    if action == RA.START_VOTE:
        if moment < budget_round.vote_opens_at:
            return _("Voting opens at %(when)s.") % {"when": _when(budget_round.vote_opens_at)}
        if budget_round.projects.filter(state=BS.SUBMITTED).exists():
            return _("Every project must be reviewed before the vote.")
        if not budget_round.projects.filter(state=BS.FEASIBLE).exists():
            return _("No project was found feasible.")
    if action == RA.PUBLISH_RESULTS and moment < budget_round.vote_closes_at:
        return _("Voting is open until %(when)s.") % {"when": _when(budget_round.vote_closes_at)}
    return None


ADVANCES = {
    P.DRAFT: (RA.OPEN, P.COLLECT),
    P.COLLECT: (RA.START_REVIEW, P.REVIEW),
    P.REVIEW: (RA.START_VOTE, P.VOTE),
    P.VOTE: (RA.PUBLISH_RESULTS, P.RESULTS),
    P.RESULTS: (RA.IMPLEMENT, P.IMPLEMENTATION),
}


def round_advance(*, round_id: int, actor: User | None, expected_phase: str = "") -> BudgetRound:
    """Move the round to its next phase, once the dates allow (refused with the date before).
    Publishing the results counts the ballots and selects the winners (budget_rules.select);
    starting the implementation makes each winner a tracked library project. `actor=None` is
    the sweep. `expected_phase` guards against a double submit (409 if it moved already)."""
    with transaction.atomic():
        budget_round = _lock_round(round_id)
        if actor is not None:
            require_manager(actor, budget_round.region_code, ROUND_NOT_FOUND)
        if expected_phase and expected_phase != budget_round.phase:
            raise ConflictError(_("The round has already moved on."))
        if budget_round.phase not in ADVANCES:
            raise ConflictError(_("The round is in its last phase."))
        action, target = ADVANCES[budget_round.phase]  # type: ignore[index]
        check(budget_round, ROUND_GRAPH, action, field="phase")
        refusal = _advance_refusal(budget_round, action)
        if refusal:
            raise ConflictError(refusal)
        previous = move(budget_round, ROUND_GRAPH, action, target, field="phase")
        data: dict[str, Any] = {}
        if action == RA.PUBLISH_RESULTS:
            data = _publish_results(budget_round)
            budget_round.results_published_at = now()
        budget_round.save(update_fields=["phase", "results_published_at"])
        if action == RA.IMPLEMENT:
            data = {"projects": _track_winners(budget_round, actor)}
        record(
            BudgetRoundEvent,
            budget_round,
            actor=actor,
            action=action,
            from_state=previous,
            to_state=budget_round.phase,
            data=data,
        )
    return budget_round


def _publish_results(budget_round: BudgetRound) -> dict[str, Any]:
    # Lock the projects, then count their ballots (PostgreSQL: no FOR UPDATE with GROUP BY).
    feasible = budget_round.projects.filter(state=BS.FEASIBLE)
    locked = list(feasible.select_for_update().values_list("pk", flat=True))
    projects = list(
        feasible.model.objects.filter(pk__in=locked)
        .annotate(ballot_count=Count("ballots"))
        .order_by("pk")
    )
    outcomes = budget_rules.select(
        [budget_rules.Candidate(id=p.pk, votes=p.ballot_count, cost=p.cost) for p in projects],
        budget_round.total,
    )
    by_id = {p.pk: p for p in projects}
    for outcome in outcomes:
        project = by_id[outcome.id]
        project.votes = outcome.votes
        project.rank = outcome.rank
        project.state = BS.SELECTED if outcome.selected else BS.NOT_SELECTED
        project.save(update_fields=["votes", "rank", "state"])
    budget_round.ballots_count = budget_round.ballots.count()
    budget_round.save(update_fields=["ballots_count"])
    selected = [o for o in outcomes if o.selected]
    return {
        "ballots": budget_round.ballots_count,
        "selected": [o.id for o in selected],
        "spent": str(sum((o.cost for o in selected), Decimal("0"))),
    }


def _track_winners(budget_round: BudgetRound, actor: User | None) -> list[int]:
    from deliberation.services.projects import project_from_budget

    return [
        project_from_budget(budget_project=project, actor=actor).pk
        for project in budget_round.projects.filter(state=BS.SELECTED).order_by("rank")
    ]


def project_submit(
    *, round_id: int, actor: User, title: str, description: str, estimated_cost: Any
) -> BudgetProject:
    """A verified resident of the round's area submits a project while collection is open
    (phase `collect` and between its dates)."""
    require_verified_resident(actor)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, check_value in (
        ("title", lambda: required_text(title, "title", limit=120)),
        ("description", lambda: required_text(description, "description", limit=4000)),
        ("estimated_cost", lambda: amount(estimated_cost, "estimated_cost")),
    ):
        try:
            values[field] = check_value()
        except ValidationFailed as exc:
            errors.update(exc.extra)
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    with transaction.atomic():
        budget_round = _lock_round(round_id)
        if budget_round.phase == P.DRAFT:
            raise NotFoundError(str(ROUND_NOT_FOUND))
        if not policies.lives_in(actor, budget_round.region_code, budget_round.region.level):
            raise PermissionDeniedError(_("Only residents of the area take part in this round."))
        check(budget_round, ROUND_GRAPH, RA.SUBMIT, field="phase")
        moment = now()
        if not budget_round.collect_opens_at <= moment < budget_round.collect_closes_at:
            raise ConflictError(_("Projects are not being collected now."))
        project = BudgetProject.objects.create(
            round=budget_round,
            author=actor,
            title=values["title"],
            description=values["description"],
            estimated_cost=values["estimated_cost"],
            created_at=moment,
        )
        record(
            BudgetRoundEvent,
            budget_round,
            actor=None,
            action=RA.SUBMIT,
            note=project.title,
            data={"project": project.pk},
        )
    return project


def project_review(
    *, project_id: int, actor: User, feasible: bool, reason: str = "", corrected_cost: Any = None
) -> BudgetProject:
    """Staff review a project during the review phase, before its closing date: feasible or
    not, with reasons (required when not feasible or when the cost is corrected) and a
    corrected cost. A project may be reviewed again until the vote opens."""
    clean_reason = optional_text(reason, "reason", limit=4000)
    cost = amount(corrected_cost, "corrected_cost", allow_none=True)
    with transaction.atomic():
        try:
            project = BudgetProject.objects.select_for_update().get(pk=project_id)
        except BudgetProject.DoesNotExist:
            raise NotFoundError(_("Project not found.")) from None
        budget_round = _lock_round(project.round_id)
        require_manager(actor, budget_round.region_code, _("Project not found."))
        check(budget_round, ROUND_GRAPH, RA.REVIEW, field="phase")
        if now() >= budget_round.review_closes_at:
            raise ConflictError(
                _("The review closed at %(when)s.") % {"when": _when(budget_round.review_closes_at)}
            )
        changed_cost = cost is not None and cost != project.estimated_cost
        if (not feasible or changed_cost) and not clean_reason:
            raise refuse("reason", _("Give the reasons."))
        project.state = BS.FEASIBLE if feasible else BS.INFEASIBLE
        project.review_reason = clean_reason
        project.corrected_cost = cost if changed_cost else None
        project.reviewed_by = actor
        project.save(update_fields=["state", "review_reason", "corrected_cost", "reviewed_by"])
        record(
            BudgetRoundEvent,
            budget_round,
            actor=actor,
            action=RA.REVIEW,
            note=project.title,
            data={"project": project.pk, "feasible": feasible, "cost": str(project.cost)},
        )
        notify(
            [project.author_id],
            _("Your project “%(title)s” was reviewed: %(state)s")
            % {"title": project.title, "state": project.get_state_display()},
            url=reverse("deliberation:round-detail", args=[budget_round.pk]),
            key=f"deliberation:project-reviewed:{project.pk}:{project.state}",
        )
    return project


def ballot_cast(*, round_id: int, actor: User, project_ids: Iterable[int]) -> BudgetBallot:
    """A verified resident of the area casts (or changes) their one ballot while the vote is
    open (phase `vote`, between its dates). The rule of the round: up to `votes_per_voter`
    distinct projects, or projects whose costs together fit the round's total. One ballot per
    person: the unique constraint decides a race between two first ballots, the loser changes
    the winner's row (the last one counts, as a change would)."""
    require_verified_resident(actor)
    chosen = sorted({int(pk) for pk in project_ids})
    with transaction.atomic():
        try:
            budget_round = BudgetRound.objects.select_related("region").get(pk=round_id)
        except BudgetRound.DoesNotExist:
            raise NotFoundError(str(ROUND_NOT_FOUND)) from None
        if not policies.lives_in(actor, budget_round.region_code, budget_round.region.level):
            raise PermissionDeniedError(_("Only residents of the area vote in this round."))
        if budget_round.phase != P.VOTE:
            raise ConflictError(_("Voting is not open."))
        moment = now()
        if not budget_round.vote_opens_at <= moment < budget_round.vote_closes_at:
            raise ConflictError(_("Voting is not open."))
        projects = list(budget_round.projects.filter(pk__in=chosen, state=BS.FEASIBLE))
        if not chosen:
            raise refuse("projects", _("Choose at least one project."))
        if len(projects) != len(chosen):
            raise refuse("projects", _("Choose among the feasible projects of this round."))
        if budget_round.rule == VotingRule.VOTES and len(chosen) > budget_round.votes_per_voter:
            raise refuse(
                "projects", _("At most %(n)s projects.") % {"n": budget_round.votes_per_voter}
            )
        if budget_round.rule == VotingRule.ALLOCATE:
            spent = sum((p.cost for p in projects), Decimal("0"))
            if spent > budget_round.total:
                raise refuse(
                    "projects",
                    _(
                        "The projects you chose cost %(spent)s yuan, "
                        "more than the %(total)s yuan to allocate."
                    )
                    % {"spent": spent, "total": budget_round.total},
                )
        try:
            with transaction.atomic():
                ballot = BudgetBallot.objects.create(
                    round=budget_round, voter=actor, created_at=moment, updated_at=moment
                )
            BudgetRound.objects.filter(pk=budget_round.pk).update(
                ballots_count=F("ballots_count") + 1
            )
        except IntegrityError:
            ballot = BudgetBallot.objects.select_for_update().get(round=budget_round, voter=actor)
            ballot.updated_at = moment
            ballot.changes += 1
            ballot.save(update_fields=["updated_at", "changes"])
        ballot.projects.set(projects)
    return ballot
