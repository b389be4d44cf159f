"""Meetings to decisions to ratings; budget rounds through their dated phases to the results
and tracked projects; one support / one ballot per resident under concurrency."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from deliberation import services
from deliberation.models import (
    BudgetBallot,
    DecisionState,
    MeetingState,
    Project,
    ProposalState,
    ProposalSupport,
)
from deliberation.tests import factories as f


def _accepted(world):
    proposal = f.proposal(world["alice"])
    services.proposal_review(proposal_id=proposal.pk, actor=world["staff"], decision="accept")
    return proposal


@pytest.mark.django_db
def test_meeting_to_decision_done_and_rated(world):
    proposal = _accepted(world)
    starts = timezone.now() + timedelta(days=5)
    meeting = services.meeting_plan(
        actor=world["staff"],
        community=world["a1"],
        title="议事会",
        place="会议室",
        starts_at=starts,
        topic_ids=[proposal.pk],
    )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.SCHEDULED
    rep = services.meeting_participant_add(
        meeting_id=meeting.pk, actor=world["staff"], kind=f.kind(), name="李四"
    )
    services.meeting_notice_publish(meeting_id=meeting.pk, actor=world["staff"])
    with pytest.raises(ConflictError):  # not before it starts
        services.meeting_minutes_record(meeting_id=meeting.pk, actor=world["staff"], minutes="x")
    with time_machine.travel(starts + timedelta(hours=1), tick=False):
        services.meeting_minutes_record(
            meeting_id=meeting.pk,
            actor=world["staff"],
            minutes="讨论了两个方案",
            options_discussed="A: 换灯; B: 加装太阳能灯",
            speeches=[(rep.pk, "建议方案B")],
        )
        decision = services.meeting_decide(
            meeting_id=meeting.pk,
            actor=world["staff"],
            text="加装太阳能路灯",
            carried_by="物业公司",
            due_date=(starts + timedelta(days=14)).date(),
            proposal_id=proposal.pk,
            carried_by_user=world["staff"],
        )
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.DECIDED
        with pytest.raises(ConflictError):  # not done yet
            services.decision_rate(decision_id=decision.pk, actor=world["bob"], score=5)
        services.decision_progress(decision_id=decision.pk, actor=world["staff"], note="已采购")
        services.decision_progress(
            decision_id=decision.pk, actor=world["staff"], note="已安装", complete=True
        )
        decision.refresh_from_db()
        assert decision.state == DecisionState.DONE and decision.done_on_time
        services.decision_rate(decision_id=decision.pk, actor=world["bob"], score=5)
        with pytest.raises(ConflictError):
            services.decision_rate(decision_id=decision.pk, actor=world["bob"], score=1)
        with pytest.raises(PermissionDeniedError):  # lives in A2
            services.decision_rate(decision_id=decision.pk, actor=world["dave"], score=1)
        services.meeting_close(meeting_id=meeting.pk, actor=world["staff"])
    decision.refresh_from_db()
    assert (decision.ratings_count, decision.rating_average) == (1, 5.0)
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CLOSED
    assert list(decision.events.values_list("action", flat=True)) == [
        "decide",
        "progress",
        "complete",
        "rate",
    ]


@pytest.mark.django_db
def test_notice_must_be_published_ahead(world):
    proposal = _accepted(world)
    meeting = services.meeting_plan(
        actor=world["staff"],
        community=world["a1"],
        title="议事会",
        place="会议室",
        starts_at=timezone.now() + timedelta(days=2),
        topic_ids=[proposal.pk],
    )
    with pytest.raises(ConflictError):  # notice_days = 3
        services.meeting_notice_publish(meeting_id=meeting.pk, actor=world["staff"])


@pytest.mark.django_db
def test_overdue_decision_flagged_once(world):
    proposal = _accepted(world)
    starts = timezone.now() + timedelta(days=4)
    meeting = services.meeting_plan(
        actor=world["staff"],
        community=world["a1"],
        title="议事会",
        place="会议室",
        starts_at=starts,
        topic_ids=[proposal.pk],
    )
    services.meeting_notice_publish(meeting_id=meeting.pk, actor=world["staff"])
    with time_machine.travel(starts, tick=False):
        services.meeting_minutes_record(meeting_id=meeting.pk, actor=world["staff"], minutes="纪要")
        decision = services.meeting_decide(
            meeting_id=meeting.pk,
            actor=world["staff"],
            text="修路",
            carried_by="街道",
            due_date=(starts + timedelta(days=3)).date(),
        )
    with time_machine.travel(starts + timedelta(days=5), tick=False):
        assert services.deliberation_sweep()["overdue"] == 1
        assert services.deliberation_sweep()["overdue"] == 0
    decision.refresh_from_db()
    assert decision.overdue_at is not None


def _round_to_vote(world, **kwargs):
    budget_round = f.budget_round(world["staff"], world["street_a"], **kwargs)
    services.round_advance(round_id=budget_round.pk, actor=world["staff"])
    projects = [
        services.project_submit(
            round_id=budget_round.pk,
            actor=world["alice"],
            title=title,
            description="d",
            estimated_cost=cost,
        )
        for title, cost in (("座椅", "60000"), ("路灯", "50000"), ("绿化", "40000"))
    ]
    return budget_round, projects


@pytest.mark.django_db
def test_budget_round_phases_enforced_by_dates_and_results(world):
    budget_round, (seats, lights, green) = _round_to_vote(world)
    with pytest.raises(ConflictError):  # collection still open
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
    with pytest.raises(PermissionDeniedError):  # only area residents submit (B1 is street B)
        services.project_submit(
            round_id=budget_round.pk,
            actor=f.resident("zed", world["b1"]),
            title="x",
            description="x",
            estimated_cost="1",
        )
    start = budget_round.collect_opens_at
    with time_machine.travel(start + timedelta(days=11), tick=False):
        with pytest.raises(ConflictError):  # collection closed
            services.project_submit(
                round_id=budget_round.pk,
                actor=world["bob"],
                title="x",
                description="x",
                estimated_cost="1",
            )
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
        with pytest.raises(ValidationFailed):  # not feasible needs reasons
            services.project_review(project_id=green.pk, actor=world["staff"], feasible=False)
        services.project_review(project_id=seats.pk, actor=world["staff"], feasible=True)
        services.project_review(
            project_id=lights.pk,
            actor=world["staff"],
            feasible=True,
            corrected_cost="45000",
            reason="报价核减",
        )
        services.project_review(project_id=green.pk, actor=world["staff"], feasible=True)
        with pytest.raises(ConflictError):  # voting opens on day 20
            services.round_advance(round_id=budget_round.pk, actor=world["staff"])
    with time_machine.travel(start + timedelta(days=21), tick=False):
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
        with pytest.raises(ValidationFailed):  # votes_per_voter = 2
            services.ballot_cast(
                round_id=budget_round.pk,
                actor=world["alice"],
                project_ids=[seats.pk, lights.pk, green.pk],
            )
        services.ballot_cast(
            round_id=budget_round.pk, actor=world["alice"], project_ids=[seats.pk, green.pk]
        )
        services.ballot_cast(
            round_id=budget_round.pk, actor=world["alice"], project_ids=[seats.pk, lights.pk]
        )  # changed
        services.ballot_cast(
            round_id=budget_round.pk, actor=world["bob"], project_ids=[seats.pk, lights.pk]
        )
        services.ballot_cast(round_id=budget_round.pk, actor=world["dave"], project_ids=[green.pk])
        with pytest.raises(PermissionDeniedError):
            services.ballot_cast(
                round_id=budget_round.pk,
                actor=f.resident("yan", world["b1"]),
                project_ids=[seats.pk],
            )
        with pytest.raises(ConflictError):  # results only after the vote closes
            services.round_advance(round_id=budget_round.pk, actor=world["staff"])
    assert BudgetBallot.objects.filter(round=budget_round).count() == 3
    with time_machine.travel(start + timedelta(days=31), tick=False):
        with pytest.raises(ConflictError):
            services.ballot_cast(
                round_id=budget_round.pk, actor=world["carol"], project_ids=[seats.pk]
            )
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
        for project in (seats, lights, green):
            project.refresh_from_db()
        # votes: seats 2 (60000), lights 2 (45000), green 1 (40000); total 100000.
        # tie on 2 votes: the cheaper (lights) first → lights 45000, seats 60000 no longer
        # fits (55000 left), green 40000 fits.
        assert (lights.rank, seats.rank, green.rank) == (1, 2, 3)
        assert (lights.state, seats.state, green.state) == ("selected", "not_selected", "selected")
        assert (lights.votes, seats.votes, green.votes) == (2, 2, 1)
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
    tracked = Project.objects.filter(budget_project__round=budget_round)
    assert sorted(tracked.values_list("title", flat=True)) == ["绿化", "路灯"]
    assert tracked.get(title="路灯").budget == Decimal("45000")


@pytest.mark.django_db
def test_allocate_rule_keeps_within_the_total(world):
    budget_round, (seats, lights, green) = _round_to_vote(world, rule="allocate")
    start = budget_round.collect_opens_at
    with time_machine.travel(start + timedelta(days=11), tick=False):
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
        for project in (seats, lights, green):
            services.project_review(project_id=project.pk, actor=world["staff"], feasible=True)
    with time_machine.travel(start + timedelta(days=21), tick=False):
        services.round_advance(round_id=budget_round.pk, actor=world["staff"])
        with pytest.raises(ValidationFailed):  # 150000 > 100000
            services.ballot_cast(
                round_id=budget_round.pk,
                actor=world["alice"],
                project_ids=[seats.pk, lights.pk, green.pk],
            )
        services.ballot_cast(
            round_id=budget_round.pk, actor=world["alice"], project_ids=[seats.pk, green.pk]
        )


def _race(function, count=6):
    barrier = threading.Barrier(count)
    results, errors = [], []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            outcome = function()
            with lock:
                results.append(outcome)
        except Exception as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_one_support_per_resident_under_concurrency(region_tree):
    f.policy(support_threshold=50)
    alice = f.resident("alice", region_tree["a1"])
    bob = f.resident("bob", region_tree["a1"])
    proposal = f.proposal(alice)
    results, errors = _race(lambda: services.proposal_support(proposal_id=proposal.pk, actor=bob))
    assert len(results) == 1
    assert len(errors) == 5 and all(isinstance(e, ConflictError) for e in errors), errors
    proposal.refresh_from_db()
    assert ProposalSupport.objects.filter(proposal=proposal).count() == 1
    assert (proposal.supports_all, proposal.supports_area) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_one_ballot_per_resident_under_concurrency(region_tree):
    staff = f.staff("staff_a", region_tree["street_a"])
    voter = f.resident("voter", region_tree["a1"])
    world = {"staff": staff, "street_a": region_tree["street_a"], "alice": voter}
    budget_round, projects = _round_to_vote(world)
    start = budget_round.collect_opens_at
    with time_machine.travel(start + timedelta(days=11), tick=False):
        services.round_advance(round_id=budget_round.pk, actor=staff)
        for project in projects:
            services.project_review(project_id=project.pk, actor=staff, feasible=True)
    with time_machine.travel(start + timedelta(days=21), tick=False):
        services.round_advance(round_id=budget_round.pk, actor=staff)
        results, errors = _race(
            lambda: services.ballot_cast(
                round_id=budget_round.pk, actor=voter, project_ids=[projects[0].pk]
            )
        )
    assert not errors, errors
    assert len(results) == 6
    assert BudgetBallot.objects.filter(round=budget_round, voter=voter).count() == 1
    budget_round.refresh_from_db()
    assert budget_round.ballots_count == 1


@pytest.mark.django_db
def test_cancelling_a_meeting_returns_its_topics(world):
    proposal = _accepted(world)
    meeting = services.meeting_plan(
        actor=world["staff"],
        community=world["a1"],
        title="议事会",
        place="会议室",
        starts_at=timezone.now() + timedelta(days=5),
        topic_ids=[proposal.pk],
    )
    with pytest.raises(ValidationFailed):
        services.meeting_cancel(meeting_id=meeting.pk, actor=world["staff"], reason="")
    services.meeting_cancel(meeting_id=meeting.pk, actor=world["staff"], reason="场地冲突")
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACCEPTED
    assert proposal.events.filter(action="unschedule").exists()
    meeting.refresh_from_db()
    assert meeting.state == MeetingState.CANCELLED
