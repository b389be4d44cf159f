"""Proposals: submit, supports (one per resident, area residents count), comments moderated
(hidden, never deleted), the community's review, conversion, the sweep with time travel."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification
from deliberation import conversions, services
from deliberation.models import Project, ProposalComment, ProposalEvent, ProposalState
from deliberation.tests import factories as f

pytestmark = pytest.mark.django_db


def test_submit_for_the_home_community(world):
    proposal = f.proposal(world["alice"])
    assert proposal.community == world["a1"]
    assert proposal.state == ProposalState.COLLECTING
    assert list(proposal.events.values_list("action", flat=True)) == ["submit"]


def test_submit_refused_without_verification(world):
    with pytest.raises(PermissionDeniedError):
        f.proposal(world["unverified"])


def test_submit_reports_every_field_error_at_once(world):
    with pytest.raises(ValidationFailed) as caught:
        services.proposal_submit(
            actor=world["alice"], title="", description="", category=None, lat=100, lng=1
        )
    assert {"title", "description", "category", "location"} <= set(caught.value.extra)


def test_one_support_per_resident_and_only_area_residents_count(world):
    proposal = f.proposal(world["alice"])
    services.proposal_support(proposal_id=proposal.pk, actor=world["dave"])  # lives in A2
    with pytest.raises(ConflictError):
        services.proposal_support(proposal_id=proposal.pk, actor=world["dave"])
    proposal.refresh_from_db()
    assert (proposal.supports_all, proposal.supports_area) == (1, 0)
    assert proposal.state == ProposalState.COLLECTING
    services.proposal_support(proposal_id=proposal.pk, actor=world["bob"])
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.COLLECTING  # threshold 2, one area support
    services.proposal_support(proposal_id=proposal.pk, actor=world["carol"])
    proposal.refresh_from_db()
    assert (proposal.supports_all, proposal.supports_area) == (3, 2)
    assert proposal.state == ProposalState.REVIEWING
    assert proposal.review_due_at is not None
    assert Notification.objects.filter(user=world["staff"], url__contains=str(proposal.pk)).exists()
    assert not Notification.objects.filter(user=world["staff_b"]).exists()


def test_unverified_may_not_support(world):
    proposal = f.proposal(world["alice"])
    with pytest.raises(PermissionDeniedError):
        services.proposal_support(proposal_id=proposal.pk, actor=world["unverified"])


def test_moderation_hides_but_keeps(world):
    proposal = f.proposal(world["alice"])
    comment = services.proposal_comment(
        proposal_id=proposal.pk, actor=world["bob"], body="广告 13912345678"
    )
    services.comment_hide(comment_id=comment.pk, actor=world["staff"], reason="广告")
    comment.refresh_from_db()
    assert comment.hidden and comment.body.startswith("广告")
    with pytest.raises(RuntimeError):
        comment.delete()
    assert ProposalComment.objects.filter(pk=comment.pk).exists()
    from deliberation import selectors

    public = selectors.comments_for(proposal=proposal, viewer=None)
    assert public[0]["hidden"] and public[0]["body"] == ""
    staff_view = selectors.comments_for(proposal=proposal, viewer=world["staff"])
    assert staff_view[0]["body"].startswith("广告")
    assert ProposalEvent.objects.filter(
        proposal=proposal, action="comment_hide", public=False
    ).exists()
    with pytest.raises(NotFoundError):  # staff of another street do not moderate here
        services.comment_show(comment_id=comment.pk, actor=world["staff_b"])
    services.comment_show(comment_id=comment.pk, actor=world["staff"])
    comment.refresh_from_db()
    assert not comment.hidden


@pytest.mark.parametrize("decision", ["accept", "answer", "decline"])
def test_review_decisions(world, decision):
    proposal = f.proposal(world["alice"])
    reply = "" if decision == "accept" else "已安排维修"
    services.proposal_review(
        proposal_id=proposal.pk, actor=world["staff"], decision=decision, reply=reply
    )
    proposal.refresh_from_db()
    assert (
        proposal.state
        == {"accept": "accepted", "answer": "answered", "decline": "declined"}[decision]
    )
    assert Notification.objects.filter(user=world["alice"]).exists()


def test_decline_needs_a_public_reason(world):
    proposal = f.proposal(world["alice"])
    with pytest.raises(ValidationFailed) as caught:
        services.proposal_review(proposal_id=proposal.pk, actor=world["staff"], decision="decline")
    assert "reply" in caught.value.extra


def test_review_scoped_and_role_checked(world):
    proposal = f.proposal(world["alice"])
    with pytest.raises(NotFoundError):
        services.proposal_review(proposal_id=proposal.pk, actor=world["staff_b"], decision="accept")
    with pytest.raises(PermissionDeniedError):
        services.proposal_review(
            proposal_id=proposal.pk, actor=world["supervisor"], decision="accept"
        )
    with pytest.raises(NotFoundError):
        services.proposal_review(proposal_id=proposal.pk, actor=world["bob"], decision="accept")


def test_merge_into_another_of_the_same_community(world):
    first = f.proposal(world["alice"])
    second = f.proposal(world["bob"], title="东门路灯")
    elsewhere = f.proposal(world["dave"], title="金品社区路灯")
    with pytest.raises(ValidationFailed):
        services.proposal_review(
            proposal_id=second.pk,
            actor=world["staff"],
            decision="merge",
            merge_into_id=elsewhere.pk,
        )
    services.proposal_review(
        proposal_id=second.pk, actor=world["staff"], decision="merge", merge_into_id=first.pk
    )
    second.refresh_from_db()
    assert second.state == ProposalState.MERGED and second.merged_into == first
    assert first.events.filter(action="merge").exists()


def test_a_reviewed_proposal_cannot_be_reviewed_again(world):
    proposal = f.proposal(world["alice"])
    services.proposal_review(proposal_id=proposal.pk, actor=world["staff"], decision="accept")
    with pytest.raises(ConflictError):
        services.proposal_review(
            proposal_id=proposal.pk, actor=world["staff"], decision="decline", reply="x"
        )


def test_convert_into_a_project_through_the_registry(world):
    proposal = f.proposal(world["alice"])
    assert {c.kind for c in conversions.available()} >= {"incident", "project"}
    services.proposal_convert(proposal_id=proposal.pk, actor=world["staff"], kind="project")
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.CONVERTED and proposal.converted_kind == "project"
    project = Project.objects.get(proposal=proposal)
    assert proposal.converted_reference == project.reference


def test_convert_into_an_incident(world):
    from incidents.loaders import load_categories
    from incidents.models import Category, Incident

    load_categories()
    proposal = f.proposal(world["alice"])
    category = Category.objects.filter(active=True, parent__isnull=False).first()
    services.proposal_convert(
        proposal_id=proposal.pk, actor=world["staff"], kind="incident", option=str(category.pk)
    )
    proposal.refresh_from_db()
    incident = Incident.objects.get(tracking_number=proposal.converted_reference)
    assert incident.reporter == world["alice"]


def test_convert_into_a_service_request(world):
    from resident_services.models import ServiceGroup, ServiceItem, ServiceRequest

    group = ServiceGroup.objects.create(code="mx-life", name="生活服务")
    free = ServiceItem.objects.create(
        code="mx-free",
        group=group,
        name="MXFREE 开具证明",
        time_limit_days=3,
        handler_kind="community_staff",
    )
    needs = ServiceItem.objects.create(
        code="mx-needs",
        group=group,
        name="MXNEEDS 补办",
        time_limit_days=3,
        handler_kind="community_staff",
        materials="身份证复印件",
    )
    offered = {pk for pk, _label in conversions.get("service_request").options()}
    assert str(free.pk) in offered and str(needs.pk) not in offered
    proposal = f.proposal(world["alice"])
    with pytest.raises(ValidationFailed):
        services.proposal_convert(
            proposal_id=proposal.pk,
            actor=world["staff"],
            kind="service_request",
            option=str(needs.pk),
        )
    assert not ServiceRequest.objects.exists()
    services.proposal_convert(
        proposal_id=proposal.pk, actor=world["staff"], kind="service_request", option=str(free.pk)
    )
    proposal.refresh_from_db()
    request = ServiceRequest.objects.get(number=proposal.converted_reference)
    assert request.resident == world["alice"] and request.community_id == proposal.community_id


def test_a_failing_converter_writes_nothing(world):
    def broken(proposal, actor, option):
        Project.objects.create(
            region=proposal.community, region_code="x", title="half", source="staff"
        )
        raise ValidationFailed("no", extra={"option": ["no"]})

    previous = conversions.get("service_request")
    conversions.register(conversions.Converter(kind="service_request", label="x", convert=broken))
    try:
        proposal = f.proposal(world["alice"])
        with pytest.raises(ValidationFailed):
            services.proposal_convert(
                proposal_id=proposal.pk, actor=world["staff"], kind="service_request"
            )
        proposal.refresh_from_db()
        assert proposal.state == ProposalState.COLLECTING
        assert not Project.objects.filter(title="half").exists()
    finally:
        conversions.unregister("service_request")
        if previous is not None:
            conversions.register(previous)


def test_sweep_warns_then_escalates_with_time_travel(world):
    street_staff = world["staff"]
    proposal = f.proposal(world["alice"])
    services.proposal_support(proposal_id=proposal.pk, actor=world["bob"])
    services.proposal_support(proposal_id=proposal.pk, actor=world["carol"])
    proposal.refresh_from_db()
    due = proposal.review_due_at
    assert services.deliberation_sweep()["warned"] == 0
    with time_machine.travel(due - timedelta(days=1), tick=False):
        assert services.deliberation_sweep() == {"warned": 1, "escalated": 0, "overdue": 0}
        assert services.deliberation_sweep()["warned"] == 0  # idempotent
    with time_machine.travel(due + timedelta(hours=1), tick=False):
        assert services.deliberation_sweep()["escalated"] == 1
        assert services.deliberation_sweep()["escalated"] == 0
    actions = list(proposal.events.values_list("action", flat=True))
    assert actions.count("warn") == 1 and actions.count("escalate") == 1
    assert Notification.objects.filter(
        user=street_staff, dedupe_key=f"deliberation:escalate:{proposal.pk}"
    ).exists()


def test_sweep_leaves_reviewed_proposals_alone(world):
    proposal = f.proposal(world["alice"])
    services.proposal_support(proposal_id=proposal.pk, actor=world["bob"])
    services.proposal_support(proposal_id=proposal.pk, actor=world["carol"])
    services.proposal_review(proposal_id=proposal.pk, actor=world["staff"], decision="accept")
    with time_machine.travel(timezone.now() + timedelta(days=30), tick=False):
        assert services.deliberation_sweep() == {"warned": 0, "escalated": 0, "overdue": 0}
