from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from volunteers import services
from volunteers.models import Claim, ClaimState, PatrolTask, ServiceRecord
from volunteers.tests import factories as f

pytestmark = pytest.mark.django_db


def _page_text(response) -> str:
    return response.content.decode()


def test_resident_applies_on_the_page_and_the_community_approves(client, world):
    user = f.resident("page_applicant", world["a1"])
    client.force_login(user)
    assert "apply-link" in _page_text(client.get(reverse("volunteers:home")))
    response = client.post(
        reverse("volunteers:apply"),
        {
            "community": world["a1"].pk,
            "real_name": "王五",
            "skills": "急救",
            "availability": "周末",
        },
    )
    assert response.status_code == 302
    client.force_login(world["organiser"])
    page = _page_text(client.get(reverse("volunteers:applications")))
    assert "王五" in page
    volunteer = user.volunteer
    # declining needs a reason: a clear message, nothing changed
    response = client.post(
        reverse("volunteers:application_decide", args=[volunteer.pk]),
        {"decision": "decline", "reason": ""},
        follow=True,
    )
    volunteer.refresh_from_db()
    assert volunteer.state == "applied"
    client.post(
        reverse("volunteers:application_decide", args=[volunteer.pk]), {"decision": "approve"}
    )
    volunteer.refresh_from_db()
    assert volunteer.state == "approved"
    # another street's organiser cannot reach it
    client.force_login(world["organiser_b"])
    response = client.post(
        reverse("volunteers:application_decide", args=[volunteer.pk]), {"decision": "approve"}
    )
    assert response.status_code == 404


def test_claiming_a_full_task_shows_a_chinese_message(client, world, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]], places=1)
    other = f.approved_volunteer("vol_full", world["a1"], world["organiser"])
    services.task_claim(actor=other.user, task_id=task.pk)
    client.force_login(world["volunteer"].user)
    response = client.post(
        reverse("volunteers:task_claim", args=[task.pk]),
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert "名额" in _page_text(response)
    assert Claim.objects.filter(task=task).count() == 1


def test_check_in_outside_the_area_changes_nothing(client, world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]])
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    client.force_login(world["volunteer"].user)
    with time_machine.travel(f.shift_time(task), tick=False):
        client.force_login(world["volunteer"].user)
        response = client.post(
            reverse("volunteers:claim_check_in", args=[claim.pk]),
            {"lat": f.OUT_OF_A1_1[0], "lng": f.OUT_OF_A1_1[1]},
            follow=True,
        )
    assert response.status_code == 200
    claim.refresh_from_db()
    assert claim.state == ClaimState.CLAIMED
    # someone else's claim: 404
    client.force_login(world["organiser"])
    assert client.get(reverse("volunteers:claim", args=[claim.pk])).status_code == 404


def test_whole_journey_on_pages(client, world):
    user = world["volunteer"].user
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]])
    client.force_login(user)
    assert task.title in _page_text(client.get(reverse("volunteers:home")))
    response = client.post(reverse("volunteers:task_claim", args=[task.pk]))
    claim = Claim.objects.get()
    assert response["Location"] == reverse("volunteers:claim", args=[claim.pk])
    with time_machine.travel(f.shift_time(task, 0), tick=False):
        client.force_login(user)  # sessions end after 30 idle minutes
        client.post(
            reverse("volunteers:claim_check_in", args=[claim.pk]),
            {"lat": f.IN_A1_1[0], "lng": f.IN_A1_1[1]},
        )
    with time_machine.travel(f.shift_time(task, 20), tick=False):
        client.force_login(user)
        page = _page_text(client.get(reverse("volunteers:claim", args=[claim.pk])))
        assert "hazard-form" in page
        from incidents.models import Category

        client.post(
            reverse("volunteers:claim_hazard", args=[claim.pk]),
            {
                "category": Category.objects.get(code="0102").pk,
                "description": "路灯不亮",
                "lat": 24.506,
                "lng": 117.606,
            },
        )
    with time_machine.travel(f.shift_time(task, 80), tick=False):
        client.force_login(user)
        client.post(
            reverse("volunteers:claim_check_out", args=[claim.pk]),
            {"lat": f.IN_A1_1[0], "lng": f.IN_A1_1[1]},
        )
    claim.refresh_from_db()
    assert claim.state == ClaimState.COMPLETED and claim.hazards.count() == 1
    record = ServiceRecord.objects.get()
    client.force_login(world["organiser"])
    assert "夜间巡防" in _page_text(client.get(reverse("volunteers:records")))
    client.post(reverse("volunteers:record_confirm", args=[record.pk]))
    client.force_login(user)
    page = _page_text(client.get(reverse("volunteers:points")))
    assert "20.3" in page  # 1.33 h × 10 + 1 hazard × 5 + 2 for the patrol
    response = client.post(reverse("volunteers:certificate_issue"))
    assert response.status_code == 302
    certificate_page = _page_text(client.get(response["Location"]))
    assert "ZYZM" in certificate_page


def test_organiser_pages_and_supervision(client, world):
    client.force_login(world["organiser"])
    for name in ("tasks", "task_new", "teams", "posts", "records", "points", "supervision"):
        assert client.get(reverse(f"volunteers:{name}")).status_code == 200, name
    response = client.get(reverse("volunteers:supervision"), {"format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert (
        client.get(reverse("volunteers:supervision"), {"region": "350602002000"}).status_code == 404
    )
    assert client.get(reverse("volunteers:cell", args=[world["cell_a1_1"].code])).status_code == 200
    assert client.get(reverse("volunteers:cell", args=[world["cell_b1_1"].code])).status_code == 404


def test_post_a_task_on_the_page(client, world):
    client.force_login(world["organiser"])
    start = timezone.localtime() + timedelta(days=1)
    response = client.post(
        reverse("volunteers:task_new"),
        {
            "title": "沿河巡防",
            "level": "street",
            "region": world["street_a"].pk,
            "route": '{"type": "LineString", "coordinates": [[117.600, 24.505], [117.62, 24.505]]}',
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "places": 5,
            "required_checkins": 2,
        },
    )
    task = PatrolTask.objects.get()
    assert response["Location"] == reverse("volunteers:task", args=[task.pk])
    assert task.route["type"] == "LineString"


def test_two_plus_n_page_edits_pairing_and_on_duty(client, world):
    from grids.models import GridWorker
    from tests.builders import make_grid_worker, make_user

    worker = make_grid_worker("cell_worker", cells=[world["cell_a1_1"]], phone="13700009999")
    make_user("officer_zhou", roles=["police_officer"], region=world["a1"])
    client.force_login(world["organiser"])
    url = reverse("volunteers:cell", args=[world["cell_a1_1"].code])
    response = client.post(url, {"police_officer": "officer_zhou", f"duty-{worker.pk}": "0"})
    assert response.status_code == 302
    world["cell_a1_1"].refresh_from_db()
    assert world["cell_a1_1"].police_officer.username == "officer_zhou"
    assert GridWorker.objects.get(user=worker).on_duty is False
    # not a police officer: refused with a message, nothing changed
    client.post(url, {"police_officer": "cell_worker"})
    world["cell_a1_1"].refresh_from_db()
    assert world["cell_a1_1"].police_officer.username == "officer_zhou"
    page = _page_text(client.get(url))
    assert "officer_zhou" in page and "137****9999" in page


def test_withdraw_after_cutoff_on_the_page_changes_nothing(client, world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]])
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    with time_machine.travel(task.withdraw_until + timedelta(minutes=5), tick=False):
        client.force_login(world["volunteer"].user)
        response = client.post(reverse("volunteers:claim_withdraw", args=[claim.pk]), follow=True)
    assert "截止" in _page_text(response)
    claim.refresh_from_db()
    task.refresh_from_db()
    assert claim.state == ClaimState.CLAIMED and task.taken == 1
