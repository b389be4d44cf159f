"""Counts for supervisors, per region (drill-down: the children of the region looked at):
proposals (made, reviewed in time), meetings held, decisions (made, done, done on time),
participation rate (distinct verified residents of the area who proposed, supported, commented,
submitted a budget project or voted in the period, over the verified residents living there).

Scoped: a supervisor sees their region and below (accounts.selectors.regions_visible)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q

from accounts.models import User
from deliberation.models import (
    BudgetBallot,
    BudgetProject,
    Decision,
    DecisionState,
    Meeting,
    MeetingState,
    Proposal,
    ProposalComment,
    ProposalSupport,
)
from grids.models import Region


@dataclass(frozen=True)
class Row:
    region: Region
    proposals: int
    reviewed: int
    reviewed_in_time: int
    meetings_held: int
    decisions: int
    decisions_done: int
    decisions_done_on_time: int
    participants: int
    residents: int

    @property
    def done_on_time_rate(self) -> float | None:
        return (
            round(100 * self.decisions_done_on_time / self.decisions, 1) if self.decisions else None
        )

    @property
    def participation_rate(self) -> float | None:
        return round(100 * self.participants / self.residents, 1) if self.residents else None


REVIEWED = ["accepted", "scheduled", "decided", "merged", "answered", "declined", "converted"]


def row_for(region: Region, *, since: datetime, until: datetime) -> Row:
    prefix = region.prefix
    in_region = Q(region_code__startswith=prefix)
    proposals = Proposal.objects.filter(in_region, created_at__gte=since, created_at__lt=until)
    reviewed = proposals.filter(state__in=REVIEWED)
    reviewed_in_time = reviewed.filter(
        Q(review_due_at__isnull=True) | Q(reviewed_at__lte=F("review_due_at"))
    )
    meetings = Meeting.objects.filter(
        in_region,
        state__in=[MeetingState.HELD, MeetingState.CLOSED],
        held_at__gte=since,
        held_at__lt=until,
    )
    decisions = Decision.objects.filter(in_region, created_at__gte=since, created_at__lt=until)
    done = decisions.filter(state=DecisionState.DONE)
    on_time = [d for d in done.only("done_at", "due_date") if d.done_on_time]
    residents = User.objects.filter(
        home_region__code__startswith=prefix, phone_verified_at__isnull=False, is_active=True
    )
    window = {"created_at__gte": since, "created_at__lt": until}
    active: set[int] = set()
    active.update(proposals.values_list("author_id", flat=True))
    active.update(
        ProposalSupport.objects.filter(
            proposal__region_code__startswith=prefix, **window
        ).values_list("user_id", flat=True)
    )
    active.update(
        ProposalComment.objects.filter(
            proposal__region_code__startswith=prefix, **window
        ).values_list("author_id", flat=True)
    )
    active.update(
        BudgetProject.objects.filter(round__region_code__startswith=prefix, **window).values_list(
            "author_id", flat=True
        )
    )
    active.update(
        BudgetBallot.objects.filter(round__region_code__startswith=prefix, **window).values_list(
            "voter_id", flat=True
        )
    )
    participants = residents.filter(pk__in=active).count()
    return Row(
        region=region,
        proposals=proposals.count(),
        reviewed=reviewed.count(),
        reviewed_in_time=reviewed_in_time.count(),
        meetings_held=meetings.count(),
        decisions=decisions.count(),
        decisions_done=done.count(),
        decisions_done_on_time=len(on_time),
        participants=participants,
        residents=residents.count(),
    )


def rows_for(regions: list[Region], *, since: datetime, until: datetime) -> list[Row]:
    return [row_for(region, since=since, until=until) for region in regions]
