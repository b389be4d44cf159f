"""A resident volunteers, on a phone (390×844, Chinese): apply → approved by the community →
claim a patrol (a full one is refused with a message) → check in (outside the area refused,
nothing changed) → report a hazard → check out → the service record is confirmed and the points
appear."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.builders import DEFAULT_PASSWORD, make_user
from tests.conftest import login
from volunteers import services
from volunteers.models import Claim, ClaimState, Volunteer

PHONE = {"width": 390, "height": 844}
INSIDE = {"latitude": 24.505, "longitude": 117.605}  # cell A1-1
OUTSIDE = {"latitude": 24.505, "longitude": 117.645}  # cell B1-1


def log_out(page) -> None:
    page.click("#logout-button")
    expect(page.locator("#logout-button")).to_have_count(0)


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_volunteer_journey(browser_page, live_server, region_tree):
    from incidents.loaders import load_categories

    load_categories()
    a1 = region_tree["a1"]
    make_user(
        "resident_vol",
        roles=["resident"],
        phone="13800000031",
        display_name="居民小陈",
        phone_verified_at=timezone.now(),
        home_region=a1,
    )
    organiser = make_user(
        "organiser", roles=["dispatcher"], region=region_tree["street_a"], phone="13800000032"
    )
    start = timezone.now() + timedelta(minutes=5)  # check-in opens 15 minutes before
    task = services.task_post(
        actor=organiser,
        title="西桥夜间巡防",
        level="community",
        region_id=a1.pk,
        cell_ids=[region_tree["cell_a1_1"].pk],
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        places=3,
    )
    full = services.task_post(
        actor=organiser,
        title="满员巡防",
        level="community",
        region_id=a1.pk,
        cell_ids=[region_tree["cell_a1_1"].pk],
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        places=1,
    )
    other = make_user(
        "other_vol", phone="13800000033", phone_verified_at=timezone.now(), home_region=a1
    )
    applied = services.volunteer_apply(actor=other, community_id=a1.pk, real_name="先到者")
    services.volunteer_approve(actor=organiser, volunteer_id=applied.pk)
    services.task_claim(actor=other, task_id=full.pk)

    page = browser_page
    url = live_server.url
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.context.grant_permissions(["geolocation"], origin=url)
    page.context.set_geolocation(INSIDE)
    page.set_viewport_size(PHONE)

    # 1. The resident applies.
    login(page, url, "13800000031", DEFAULT_PASSWORD)
    page.goto("/volunteers/")
    expect(page.locator("h1")).to_have_text("志愿者之家")
    page.click("#apply-link")
    expect(page.locator("#id_community")).to_have_value(str(a1.pk))
    page.fill("#id_real_name", "陈小明")
    page.fill("#id_skills", "急救、巡逻")
    page.fill("#id_availability", "工作日晚上")
    assert fits(page)
    page.click("#apply-submit")
    expect(page.locator("#volunteer-state")).to_have_text("已申请")
    log_out(page)

    # 2. The community approves.
    login(page, url, "organiser", DEFAULT_PASSWORD)
    page.goto("/volunteers/applications/")
    volunteer = Volunteer.objects.get(real_name="陈小明")
    page.click(f"tr[data-volunteer-id='{volunteer.pk}'] button.approve")
    expect(page.locator(".message-success")).to_contain_text("已通过")
    log_out(page)

    # 3. The volunteer sees open tasks; a full one is refused with a message.
    login(page, url, "13800000031", DEFAULT_PASSWORD)
    page.goto("/volunteers/")
    expect(page.locator("#volunteer-state")).to_have_text("已通过")
    expect(page.locator("#volunteer-number")).to_contain_text("ZY")
    page.goto(f"/volunteers/tasks/{full.pk}/")
    page.click("#claim-submit")
    expect(page.locator(".message-error")).to_contain_text("名额已全部被认领")
    assert not Claim.objects.filter(task=full, volunteer=volunteer).exists()

    # 4. Claim the patrol.
    page.goto("/volunteers/")
    page.click(f"#open-tasks a[data-task-id='{task.pk}']")
    expect(page.locator("#task-map.leaflet-container")).to_be_visible()
    page.click("#claim-submit")
    expect(page).to_have_url(re.compile(r"/volunteers/claims/\d+/$"))
    expect(page.locator("#claim-state")).to_have_attribute("data-state", "claimed")
    assert fits(page)

    # 5. Checking in from outside the area is refused; nothing changes.
    page.context.set_geolocation(OUTSIDE)
    page.reload()
    expect(page.locator("#gps-status")).to_contain_text("117.645")
    page.click("#check-in")
    expect(page.locator(".message-error")).to_contain_text("不在任务区域内")
    expect(page.locator("#claim-state")).to_have_attribute("data-state", "claimed")

    # 6. Inside the area: checked in, a hazard reported, checked out.
    page.context.set_geolocation(INSIDE)
    page.reload()
    expect(page.locator("#gps-status")).to_contain_text("117.605")
    page.click("#check-in")
    expect(page.locator(".message-success")).to_contain_text("签到成功")
    expect(page.locator("#claim-state")).to_have_attribute("data-state", "on_duty")
    expect(page.locator("#gps-status")).to_contain_text("117.605")
    page.locator("#id_category").select_option(index=1)
    page.fill("#id_description", "井盖缺失,夜间危险")
    page.click("#hazard-submit")
    expect(page.locator(".message-success")).to_contain_text("隐患已上报")
    expect(page.locator("#hazards li")).to_have_count(1)
    expect(page.locator("#gps-status")).to_contain_text("117.605")
    page.click("#check-out")
    expect(page.locator(".message-success")).to_contain_text("签退成功")
    expect(page.locator("#claim-state")).to_have_attribute("data-state", "completed")
    expect(page.locator("#claim-records")).to_contain_text("待确认")
    claim = Claim.objects.get(task=task, volunteer=volunteer)
    assert claim.state == ClaimState.COMPLETED and claim.hazards.count() == 1
    log_out(page)

    # 7. The organiser confirms the record; the volunteer's points appear.
    login(page, url, "organiser", DEFAULT_PASSWORD)
    page.goto("/volunteers/records/")
    page.click("#to-confirm button.confirm-record")
    expect(page.locator(".message-success")).to_contain_text("积分已发放")
    log_out(page)
    login(page, url, "13800000031", DEFAULT_PASSWORD)
    page.goto("/volunteers/points/")
    expect(page.locator("#points-balance")).to_have_text("7.0")  # 1 hazard × 5 + the patrol's 2
    expect(page.locator("#leaderboard")).to_contain_text("陈小明")
    assert fits(page)
    assert not script_errors, script_errors
