"""Pages: public reads without personal data, the resident's and staff's forms, refusals."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from deliberation import services
from deliberation.models import Proposal, ProposalState
from deliberation.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def proposal(world):
    return f.proposal(world["alice"])


def test_public_pages_for_anonymous_without_names(client, world, proposal):
    comment = services.proposal_comment(
        proposal_id=proposal.pk, actor=world["bob"], body="同意，晚上太黑"
    )
    services.comment_hide(comment_id=comment.pk, actor=world["staff"], reason="测试")
    for name in ("home", "proposal-list", "meeting-list", "round-list", "project-list"):
        assert client.get(reverse(f"deliberation:{name}")).status_code == 200
    response = client.get(reverse("deliberation:proposal-detail", args=[proposal.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert proposal.title in text
    assert "王小丽" not in text and "王**" in text  # the author masked
    assert "晚上太黑" not in text  # the hidden comment's text
    assert world["alice"].phone not in text


def test_staff_see_the_hidden_text(client, world, proposal):
    comment = services.proposal_comment(
        proposal_id=proposal.pk, actor=world["bob"], body="同意，晚上太黑"
    )
    services.comment_hide(comment_id=comment.pk, actor=world["staff"], reason="测试")
    client.force_login(world["staff"])
    text = client.get(reverse("deliberation:proposal-detail", args=[proposal.pk])).content.decode()
    assert "晚上太黑" in text


def test_propose_page_for_a_verified_resident(client, world):
    client.force_login(world["alice"])
    assert client.get(reverse("deliberation:proposal-new")).status_code == 200
    category = f.category()
    response = client.post(
        reverse("deliberation:proposal-new"),
        {
            "title": "增加休息座椅",
            "category": category.pk,
            "description": "小广场没有座椅",
            "lat": "24.505",
            "lng": "117.605",
        },
    )
    proposal = Proposal.objects.get(title="增加休息座椅")
    assert response.status_code == 302 and response["Location"].endswith(f"/{proposal.pk}/")


def test_propose_bad_input_is_a_form_error(client, world):
    client.force_login(world["alice"])
    response = client.post(reverse("deliberation:proposal-new"), {"title": "", "description": ""})
    assert response.status_code == 200
    assert Proposal.objects.count() == 0


def test_unverified_is_told_to_verify(client, world):
    client.force_login(world["unverified"])
    response = client.get(reverse("deliberation:proposal-new"))
    assert b"not-verified" in response.content


def test_support_and_review_by_pages(client, world, proposal):
    client.force_login(world["bob"])
    assert (
        client.post(reverse("deliberation:proposal-support", args=[proposal.pk])).status_code == 302
    )
    client.force_login(world["staff_b"])
    assert (
        client.post(
            reverse("deliberation:proposal-review", args=[proposal.pk]), {"decision": "accept"}
        ).status_code
        == 404
    )
    client.force_login(world["supervisor"])
    assert (
        client.post(
            reverse("deliberation:proposal-review", args=[proposal.pk]), {"decision": "accept"}
        ).status_code
        == 403
    )
    client.force_login(world["staff"])
    assert (
        client.post(
            reverse("deliberation:proposal-review", args=[proposal.pk]), {"decision": "accept"}
        ).status_code
        == 302
    )
    proposal.refresh_from_db()
    assert proposal.state == ProposalState.ACCEPTED


def test_planned_meeting_hidden_from_the_public_until_noticed(client, world, proposal):
    services.proposal_review(proposal_id=proposal.pk, actor=world["staff"], decision="accept")
    meeting = services.meeting_plan(
        actor=world["staff"],
        community=world["a1"],
        title="路灯议事会",
        place="社区会议室",
        starts_at=timezone.now() + timedelta(days=7),
        topic_ids=[proposal.pk],
    )
    url = reverse("deliberation:meeting-detail", args=[meeting.pk])
    assert client.get(url).status_code == 404
    client.force_login(world["staff"])
    assert client.get(url).status_code == 200
    services.meeting_notice_publish(meeting_id=meeting.pk, actor=world["staff"])
    client.logout()
    assert client.get(url).status_code == 200


def test_supervision_page_and_export(client, world, proposal):
    client.force_login(world["supervisor"])
    response = client.get(reverse("deliberation:supervision"))
    assert response.status_code == 200
    assert "西桥街道" in response.content.decode()
    response = client.get(reverse("deliberation:supervision"), {"region": world["street_a"].code})
    assert response.status_code == 200 and "西桥社区" in response.content.decode()
    export = client.get(
        reverse("deliberation:supervision-export"), {"region": world["street_a"].code}
    )
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert (
        client.get(reverse("deliberation:supervision"), {"region": "350699999999"}).status_code
        == 404
    )
    client.force_login(world["alice"])
    assert client.get(reverse("deliberation:supervision")).status_code == 403


def test_budget_round_pages(client, world):
    budget_round = f.budget_round(world["staff"], world["street_a"])
    url = reverse("deliberation:round-detail", args=[budget_round.pk])
    assert client.get(url).status_code == 404  # draft: staff only
    client.force_login(world["staff"])
    assert client.get(url).status_code == 200
    assert (
        client.post(
            reverse("deliberation:round-advance", args=[budget_round.pk]), {"phase": "draft"}
        ).status_code
        == 302
    )
    client.force_login(world["dave"])  # lives in A2, inside street A
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("deliberation:round-project-submit", args=[budget_round.pk]),
        {"title": "口袋公园", "description": "空地改造", "estimated_cost": "30000"},
    )
    assert response.status_code == 302
    assert budget_round.projects.filter(title="口袋公园").exists()
    with time_machine.travel(timezone.now() + timedelta(days=11), tick=False):
        client.force_login(world["staff"])
        client.post(
            reverse("deliberation:round-advance", args=[budget_round.pk]), {"phase": "collect"}
        )
        budget_round.refresh_from_db()
        assert budget_round.phase == "review"


def test_proposals_are_rate_limited(client, world, settings):
    from django.core.cache import cache

    cache.clear()
    settings.DELIBERATION_PROPOSAL_RATE = "1/h"
    client.force_login(world["alice"])
    data = {"title": "座椅", "category": f.category().pk, "description": "需要座椅"}
    assert client.post(reverse("deliberation:proposal-new"), data).status_code == 302
    response = client.post(reverse("deliberation:proposal-new"), data)
    assert response.status_code == 429 and response["Retry-After"]
    assert Proposal.objects.count() == 1
    cache.clear()
