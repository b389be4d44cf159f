"""便民服务 at phone size: a resident applies for a service (refused first without the required
materials), community staff ask for a missing material, the resident supplies it, the staff
complete it and the resident rates it; a resident books a consultation slot, and a slot taken
meanwhile is refused with a clear Chinese message."""

import re
from datetime import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from resident_services import services
from resident_services.models import ConsultationBooking, ServiceItem, ServiceRequest
from resident_services.tests.factories import hours_for, provider
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.conftest import login

PHONE = {"width": 390, "height": 844}
PDF = {"name": "身份证.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% id\n"}


def resident(username, community, phone):
    user = make_user(username, roles=["resident"], phone=phone, display_name=username)
    user.home_region = community
    user.phone_verified_at = timezone.now()
    user.save()
    return user


@pytest.mark.browser
def test_service_request_journey(browser_page, live_server, region_tree):
    page = browser_page
    page.set_viewport_size(PHONE)
    resident("居民老王", region_tree["a1"], "13800000201")
    make_user(
        "staff",
        roles=["service_handler"],
        region=region_tree["a1"],
        phone="13700000201",
        display_name="社区小李",
    )
    item = ServiceItem.objects.get(code="residence-certificate")

    # The resident finds the item in the catalogue and applies.
    login(page, live_server.url, "13800000201", DEFAULT_PASSWORD)
    page.goto("/services/")
    expect(page.locator("h1")).to_have_text("便民服务")
    page.click(f"[data-item='{item.code}'] a")
    expect(page.locator("#materials")).to_contain_text("租房合同或房产证明")
    page.click("#apply-button")
    expect(page.locator("#id_community")).to_have_value(str(region_tree["a1"].pk))
    page.fill("#id_details", "办理居住证明用于孩子入学")
    # Without the required materials: a clear Chinese message, nothing filed.
    page.click("#request-submit")
    expect(page.locator("#errors-attachments")).to_contain_text("请上传所需材料")
    assert not ServiceRequest.objects.exists()
    page.set_input_files("#id_attachments", files=[PDF])
    page.click("#request-submit")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "submitted")
    number = page.locator("#request-number").inner_text()
    page.click("#logout-button")

    # The community staff find it in their queue and ask for a missing material.
    login(page, live_server.url, "staff", DEFAULT_PASSWORD)
    page.goto("/services/queue/")
    page.click(f"#queue tr[data-request='{number}'] a")
    page.click("#button-accept")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "accepted")
    page.fill("#id_ask_materials-missing", "请补充租房合同")
    page.click("#button-ask_materials")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "awaiting_materials")
    page.click("#logout-button")

    # The resident supplies it (the clock resumes).
    login(page, live_server.url, "13800000201", DEFAULT_PASSWORD)
    page.goto("/services/requests/")
    page.click(f"tr[data-request='{number}'] a")
    expect(page.locator("#missing-materials")).to_contain_text("租房合同")
    page.click("#button-supply")  # nothing attached: refused, nothing changed
    expect(page.locator("#supply [role=alert]")).to_contain_text("请上传要求补正的材料")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "awaiting_materials")
    page.set_input_files("#id_supply-attachments", files=[{**PDF, "name": "租房合同.pdf"}])
    page.click("#button-supply")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "accepted")
    page.click("#logout-button")

    # The staff complete it.
    login(page, live_server.url, "staff", DEFAULT_PASSWORD)
    page.goto("/services/queue/")
    page.click(f"#queue tr[data-request='{number}'] a")
    page.click("#button-complete")  # no result: refused
    expect(page.locator("#request-state")).to_have_attribute("data-state", "accepted")
    page.fill("#id_complete-result", "居住证明已开具,请到社区服务站领取")
    page.click("#button-complete")
    expect(page.locator("#request-state")).to_have_attribute("data-state", "completed")
    page.click("#logout-button")

    # The resident reads the result and rates it.
    login(page, live_server.url, "13800000201", DEFAULT_PASSWORD)
    page.goto("/services/requests/")
    page.click(f"tr[data-request='{number}'] a")
    expect(page.locator("#request-result")).to_contain_text("居住证明已开具")
    page.check("input[name='rate-rating'][value='5']")
    page.fill("#id_rate-comment", "很方便")
    page.click("#button-rate")
    expect(page.locator("#request-rating")).to_contain_text("非常满意")
    expect(page.locator("#timeline li")).to_have_count(6)
    request = ServiceRequest.objects.get()
    assert request.state == "completed" and request.rating == 5 and request.closed_on_time


@pytest.mark.browser
def test_consultation_booking_journey(browser_page, live_server, region_tree):
    page = browser_page
    page.set_viewport_size(PHONE)
    resident("居民小张", region_tree["a1"], "13800000211")
    neighbour = resident("邻居", region_tree["a1"], "13800000212")
    lawyer = provider(
        "lawyer", kind="legal_adviser", region=region_tree["street_a"], title="张律师"
    )
    hours = hours_for(lawyer, region_tree["a1"], start=time(9), end=time(10))

    login(page, live_server.url, "13800000211", DEFAULT_PASSWORD)
    page.goto("/services/")
    page.click("#nav-consultations")
    expect(page.locator("h1")).to_have_text("预约咨询")
    expect(page.locator("#slots li.free")).to_have_count(2 * 2)  # two weeks of one weekday
    first = page.locator("#slots li.free").first
    expect(first).to_contain_text("张律师")
    first.locator("input[name=topic]").fill("劳动合同纠纷")
    first.locator(".book-button").click()
    expect(page).to_have_url(re.compile(r"/services/consultations/mine/$"))
    expect(page.locator("#bookings li[data-state='booked']")).to_have_count(1)

    # A slot taken meanwhile: the page still offers it, the neighbour books it first.
    page.goto("/services/consultations/")
    offered = page.locator("#slots li.free").first
    slot = offered.get_attribute("data-slot")
    starts_at = ConsultationBooking.objects.get().ends_at  # the next slot of the same day
    assert slot.endswith(timezone.localtime(starts_at).isoformat())
    services.booking_create(actor=neighbour, hours_id=hours.pk, starts_at=starts_at)
    offered.locator(".book-button").click()
    expect(page.locator("#book-error")).to_contain_text("该时段刚刚已被他人预约")
    assert ConsultationBooking.objects.filter(resident=neighbour).count() == 1
    assert ConsultationBooking.objects.exclude(resident=neighbour).count() == 1

    # Cancel the booking (well before the slot).
    page.goto("/services/consultations/mine/")
    page.locator("#bookings li[data-state='booked'] .cancel-button").click()
    expect(page.locator("#bookings li[data-state='cancelled']")).to_have_count(1)
