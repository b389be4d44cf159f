"""A new resident on a phone (390×844), in Chinese, through the pages only: the public home →
sign up with an SMS code (a wrong code first: a clear message, nothing created) → report a
problem → on a second report, the form offers the same problem reported nearby and the
resident follows it instead (这是同一个问题) → 我的 tracks both → the first report's result
comes back and the resident rates it. Celery runs eagerly; the SMS backend records messages.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.builders import make_grid_worker, make_user

PHONE = {"width": 390, "height": 844}
HOME = {"latitude": 24.505, "longitude": 117.605}  # inside 西桥1网格 of tests.builders's city
MOBILE = "13966667777"


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_sign_up_report_follow_track_rate(browser_page, live_server, region_tree, settings):
    from django.core.cache import cache
    from django.utils import timezone

    from accounts.models import User
    from incidents.loaders import load_categories
    from incidents.models import Category, Incident, IncidentFollower
    from incidents.tests.factories import make_incident
    from residents.tests.conftest import SENT, last_code

    settings.SMS_BACKEND = "residents.tests.conftest.RecordingBackend"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    SENT.clear()
    load_categories()
    worker = make_grid_worker("gridworker", cells=[region_tree["cell_a1_1"]], phone="13800000004")
    neighbour = make_user("neighbour", roles=["resident"], phone="13800000009")
    city = type(
        "City",
        (),
        {
            "cell_a1_1": region_tree["cell_a1_1"],
            "categories": {c.code: c for c in Category.objects.all()},
            "resident": neighbour,
            "worker": worker,
        },
    )
    existing = make_incident(
        city, category="0103", description="路口井盖松动，车过会响", reporter=neighbour
    )

    page = browser_page
    url = live_server.url
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.context.grant_permissions(["geolocation"], origin=url)
    page.context.set_geolocation(HOME)
    page.set_viewport_size(PHONE)

    # 1. The public home: big entries, this month's figures, sign-up.
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("#entry-report")).to_contain_text("随手拍")
    expect(page.locator("#entry-services")).to_have_attribute("href", "/services/")
    expect(page.locator("#city-figures")).to_be_visible()
    assert fits(page)
    page.click("#entry-sign-up")

    # 2. Sign up: ask for a code, type a wrong one (a Chinese message, no account), then the
    #    right one with the name, the community and the privacy notice.
    page.fill("#id_phone", MOBILE)
    page.click("#send-code")
    expect(page.locator("#code-sent")).to_be_visible()
    code = last_code(MOBILE)
    page.fill("#id_code", "000000" if code != "000000" else "111111")
    page.fill("#id_name", "林小梅")
    page.select_option("#id_home_region", str(region_tree["a1"].pk))
    page.check("#id_privacy_accepted")
    page.click("#sign-up-button")
    expect(page.locator("#sign-up-form")).to_contain_text("验证码错误")
    assert not User.objects.filter(phone=MOBILE).exists()
    page.fill("#id_code", code)
    page.fill("#id_name", "林小梅")
    page.check("#id_privacy_accepted")
    page.click("#sign-up-button")
    expect(page).to_have_url(re.compile(r"/residents/mine/$"))
    expect(page.locator("h1")).to_have_text("我的")
    resident = User.objects.get(phone=MOBILE)
    assert resident.is_verified_resident and resident.home_region == region_tree["a1"]
    assert fits(page)

    # 3. Report a problem (rubbish, nobody reported it nearby).
    page.click("#mine-report")
    page.select_option("#id_category", "0102")
    page.fill("#id_description", "楼下垃圾桶满了三天")
    page.click("#use-my-location")
    expect(page.locator("#id_lat")).to_have_value("24.505")
    page.click("#report-submit")
    expect(page.locator("#tracking-number")).to_be_visible()
    mine = Incident.objects.get(reporter=resident)

    # 4. A second problem: the loose manhole cover. The form offers the one reported nearby.
    page.goto("/incidents/report/")
    page.select_option("#id_category", "0103")
    page.click("#use-my-location")
    offered = page.locator(f"#nearby-reports li[data-public-id='{existing.public_id}']")
    expect(offered).to_be_visible()
    expect(offered).to_contain_text("井盖松动")
    assert fits(page)
    offered.locator(".follow-button").click()
    expect(page).to_have_url(re.compile(rf"/residents/reports/{existing.public_id}/$"))
    expect(page.locator("#public-timeline")).to_be_attached()
    assert IncidentFollower.objects.filter(incident=existing, user=resident).exists()
    assert Incident.objects.filter(reporter=resident).count() == 1  # no duplicate filed

    # 5. 我的 tracks both: my report and the one I follow.
    page.goto("/residents/mine/")
    expect(page.locator("#section-reports")).to_contain_text("垃圾桶满了")
    expect(page.locator("#section-follows")).to_contain_text("井盖松动")

    # 6. The result comes back (the staff's part of the loop is elsewhere): rate it.
    now = timezone.now()
    Incident.objects.filter(pk=mine.pk).update(
        state="feedback_sent",
        result="已清运",
        feedback_at=now,
        rate_due_at=now + timedelta(days=7),
        due_at=now + timedelta(days=7),
    )
    page.reload()
    rate = page.locator("#section-reports .item-action")
    expect(rate).to_have_text("评价处理结果")
    rate.click()
    page.click("#action-rate-toggle")
    page.check("input[name='rate-rating'][value='5']")
    page.click("#action-rate-submit")
    expect(page.locator(".message-success")).to_be_visible()
    mine.refresh_from_db()
    assert mine.rating == 5
    assert not errors, errors
