"""Every read of deliberation, scoped to the viewer.

The public (anonymous included) reads proposals, published meetings, decisions, budget rounds
past their draft and the project library: never a person's name in full (nicknames:
`public_name`), never a phone, never a hidden comment's text, never who voted. Staff and
supervisors read their region's staff pages."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import filter_by_scope
from core.exceptions import NotFoundError
from core.masking import mask_name, mask_text
from core.resident_items import ResidentItem
from deliberation import policies
from deliberation.models import (
    PUBLIC_MEETING_STATES,
    PUBLIC_PHASES,
    BudgetBallot,
    BudgetProject,
    BudgetRound,
    Decision,
    DecisionRating,
    DecisionState,
    Meeting,
    Project,
    Proposal,
    ProposalComment,
    ProposalState,
    ProposalSupport,
    RoundPhase,
)
from grids.models import Region


def public_name(user: User | None) -> str:
    """How a person is named on public pages: the first character, the rest masked (张**)."""
    if user is None:
        return ""
    return mask_name(user.display_name or user.username) or _("resident")


# --- proposals -----------------------------------------------------------------------------


def proposals_public(*, prefix: str = "", state: str = "", query: str = "") -> QuerySet[Proposal]:
    """Every proposal is public (title, description, place, state, counts); `prefix` is a
    region's code prefix (Region.prefix)."""
    qs = Proposal.objects.select_related("community", "category", "author")
    if prefix:
        qs = qs.filter(region_code__startswith=prefix)
    if state:
        qs = qs.filter(state=state)
    if query:
        qs = qs.filter(title__icontains=query[:60])
    return qs


def proposals_for_staff(*, user: User, state: str = "") -> QuerySet[Proposal]:
    if not policies.is_reader(user):
        return Proposal.objects.none()
    qs = filter_by_scope(proposals_public(state=state), user, code_field="region_code")
    return qs.order_by("review_due_at", "-created_at")


def proposal_get(*, proposal_id: int) -> Proposal:
    proposal = proposals_public().filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFoundError(_("Proposal not found."))
    return proposal


def comments_for(*, proposal: Proposal, viewer: User | None) -> list[dict]:
    """The comments as the viewer may see them: a hidden one shows its text only to staff of
    the community (marked hidden); to anybody else, only that a comment was hidden."""
    moderator = policies.may_read(viewer, proposal.region_code)
    rows = []
    for comment in ProposalComment.objects.filter(proposal=proposal).select_related("author"):
        rows.append(
            {
                "id": comment.pk,
                "author": public_name(comment.author),
                "created_at": comment.created_at,
                "hidden": comment.hidden,
                # Phones and ID numbers typed into a comment are masked for everybody but the
                # community's staff; a hidden comment's text is theirs only.
                "body": comment.body
                if moderator
                else ("" if comment.hidden else mask_text(comment.body)),
                "hidden_reason": comment.hidden_reason if moderator else "",
                "own": viewer is not None and viewer.pk == comment.author_id,
            }
        )
    return rows


def public_text(text: str, *, viewer: User | None, region_code: str) -> str:
    """Free text as the viewer may read it: phones and ID numbers masked unless the viewer is
    staff of the region."""
    return text if policies.may_read(viewer, region_code) else mask_text(text)


def has_supported(*, proposal: Proposal, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return ProposalSupport.objects.filter(proposal=proposal, user=user).exists()


def proposals_open_in(*, community_id: int, exclude_id: int) -> QuerySet[Proposal]:
    """Open proposals of a community (merge targets)."""
    return Proposal.objects.filter(
        community_id=community_id,
        state__in=[
            ProposalState.COLLECTING,
            ProposalState.REVIEWING,
            ProposalState.ACCEPTED,
            ProposalState.SCHEDULED,
        ],
    ).exclude(pk=exclude_id)


# --- meetings and decisions ------------------------------------------------------------------


def meetings_visible(*, user: User | None) -> QuerySet[Meeting]:
    """Published meetings for everybody, plus the ones being prepared for staff in scope."""
    qs = Meeting.objects.select_related("community")
    public = qs.filter(state__in=PUBLIC_MEETING_STATES)
    if user is not None and policies.is_reader(user):
        return (public | filter_by_scope(qs, user, code_field="region_code")).distinct()
    return public


def meeting_get(*, meeting_id: int, user: User | None) -> Meeting:
    meeting = meetings_visible(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFoundError(_("Meeting not found."))
    return meeting


def decisions_public(*, prefix: str = "") -> QuerySet[Decision]:
    qs = Decision.objects.select_related("meeting", "proposal").filter(
        meeting__state__in=PUBLIC_MEETING_STATES
    )
    if prefix:
        qs = qs.filter(region_code__startswith=prefix)
    return qs


def decision_get(*, decision_id: int) -> Decision:
    decision = decisions_public().filter(pk=decision_id).first()
    if decision is None:
        raise NotFoundError(_("Decision not found."))
    return decision


def has_rated(*, decision: Decision, user: User | None) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return DecisionRating.objects.filter(decision=decision, user=user).exists()


# --- budgets and projects ----------------------------------------------------------------


def rounds_visible(*, user: User | None) -> QuerySet[BudgetRound]:
    qs = BudgetRound.objects.select_related("region")
    public = qs.filter(phase__in=PUBLIC_PHASES)
    if user is not None and policies.is_reader(user):
        return (public | filter_by_scope(qs, user, code_field="region_code")).distinct()
    return public


def round_get(*, round_id: int, user: User | None) -> BudgetRound:
    budget_round = rounds_visible(user=user).filter(pk=round_id).first()
    if budget_round is None:
        raise NotFoundError(_("Budget round not found."))
    return budget_round


def round_projects(*, budget_round: BudgetRound, viewer: User | None) -> QuerySet[BudgetProject]:
    """The projects of a round. Counts (votes, ranks) only once the results are published;
    staff in scope see every project, the public the reviewed ones after the review (and every
    submission while collecting)."""
    qs = budget_round.projects.select_related("author").order_by("rank", "id")
    return qs


def ballot_of(*, budget_round: BudgetRound, user: User | None) -> BudgetBallot | None:
    if user is None or not user.is_authenticated:
        return None
    return (
        BudgetBallot.objects.filter(round=budget_round, voter=user)
        .prefetch_related("projects")
        .first()
    )


def projects_public(*, prefix: str = "") -> QuerySet[Project]:
    qs = Project.objects.select_related("region")
    if prefix:
        qs = qs.filter(region_code__startswith=prefix)
    return qs


def project_get(*, project_id: int) -> Project:
    project = projects_public().filter(pk=project_id).first()
    if project is None:
        raise NotFoundError(_("Project not found."))
    return project


def communities_managed(*, user: User) -> QuerySet[Region]:
    """Communities the user manages (for the meeting form)."""
    if not policies.is_manager(user):
        return Region.objects.none()
    return filter_by_scope(Region.objects.filter(level="community"), user, code_field="code")


def regions_for_rounds(*, user: User) -> QuerySet[Region]:
    if not policies.is_manager(user):
        return Region.objects.none()
    return filter_by_scope(
        Region.objects.filter(level__in=["community", "street"]), user, code_field="code"
    )


# --- 我的 -------------------------------------------------------------------------------------


def items_for_resident(user: User) -> list[ResidentItem]:
    """What 我的 lists of deliberation for one resident: their proposals, the ones they
    support, the decisions on their proposals waiting for their rating, and their budget
    projects. Their own records only."""
    if user is None or not user.is_authenticated:
        return []
    items: list[ResidentItem] = []
    mine = Proposal.objects.filter(author=user)
    supported = Proposal.objects.filter(
        Exists(ProposalSupport.objects.filter(proposal=OuterRef("pk"), user=user))
    ).exclude(author=user)
    for proposal, kind in [
        *[(p, _("My proposals")) for p in mine[:50]],
        *[(p, _("Proposals I support")) for p in supported[:50]],
    ]:
        items.append(
            ResidentItem(
                kind=str(kind),
                title=proposal.title,
                state=str(proposal.get_state_display()),
                url=reverse("deliberation:proposal-detail", args=[proposal.pk]),
                updated_at=proposal.updated_at,
            )
        )
    rated = DecisionRating.objects.filter(user=user).values_list("decision_id", flat=True)
    if user.home_region_id and user.phone_verified_at:
        for decision in (
            Decision.objects.filter(state=DecisionState.DONE, proposal__author=user)
            .exclude(pk__in=rated)
            .select_related("proposal")[:50]
        ):
            url = reverse("deliberation:decision-detail", args=[decision.pk])
            items.append(
                ResidentItem(
                    kind=str(_("Decisions to rate")),
                    title=decision.text[:80],
                    state=str(decision.get_state_display()),
                    url=url,
                    updated_at=decision.done_at or decision.created_at,
                    next_step=str(_("Rate the result.")),
                    action_url=url + "#rate",
                )
            )
    for project in BudgetProject.objects.filter(author=user).select_related("round")[:50]:
        items.append(
            ResidentItem(
                kind=str(_("My budget projects")),
                title=project.title,
                state=str(project.get_state_display()),
                url=reverse("deliberation:round-detail", args=[project.round_id]),
                updated_at=project.created_at,
            )
        )
    return sorted(items, key=lambda item: item.updated_at, reverse=True)


def phase_open_for_votes(budget_round: BudgetRound) -> bool:
    return budget_round.phase == RoundPhase.VOTE
