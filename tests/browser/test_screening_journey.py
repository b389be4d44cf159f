"""Dispute screening at phone size (issue 20): a grid worker logs a dispute in which a weapon is
mentioned → it is red and the paired police officer finds the alert in the inbox → the worker
mediates on the spot, assesses it, routes it to mediation (the nearest room) → follows up and
closes it."""

import re

import pytest
from playwright.sync_api import expect

from mediation.models import MediationCase, MediationRoom, RoomMediator
from screening.models import Dispute
from tests.builders import DEFAULT_PASSWORD, make_grid_worker, make_user
from tests.conftest import login

PHONE = {"width": 390, "height": 844}


def log_out(page) -> None:
    page.click("#logout-button")
    expect(page.locator("#logout-button")).to_have_count(0)


def act(page, action: str, fields: dict[str, str]) -> None:
    page.click(f"[data-testid=action-{action}] summary")
    for name, value in fields.items():
        selector = f"#id_{action}-{name}"
        if page.locator(selector).evaluate("e => e.tagName") == "SELECT":
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.click(f"[data-testid=submit-{action}]")


@pytest.mark.browser
def test_screening_journey(browser_page, live_server, region_tree):
    page = browser_page
    page.set_viewport_size(PHONE)
    cell = region_tree["cell_a1_1"]
    make_grid_worker("gw_screen", cells=[cell], phone="13800000031", display_name="网格员小陈")
    police = make_user("police_screen", roles=["police_officer"], phone="13800000032")
    cell.police_officer = police
    cell.save()
    make_user("disp_screen", roles=["dispatcher"], region=region_tree["street_a"])
    mediator = make_user("med_screen", roles=["mediator"], region=region_tree["street_a"])
    room = MediationRoom.objects.create(
        name="西桥社区调解委员会",
        room_type="reasoning_point",
        level="village",
        region=region_tree["a1"],
        capacity_per_day=4,
    )
    RoomMediator.objects.create(room=room, user=mediator)

    # The grid worker logs the dispute on the phone: a weapon was mentioned.
    login(page, live_server.url, "gw_screen", DEFAULT_PASSWORD)
    page.goto("/screening/new/")
    page.select_option("#id_kind", "neighbour")
    page.select_option("#id_grid_cell", str(cell.pk))
    page.fill("#id_place", "西桥社区3号楼楼道")
    page.fill("#id_story", "两户争执，一方扬言拿刀")
    page.check("input[name=factors][value=weapon]")
    page.select_option("#id_parties-0-side", "applicant")
    page.fill("#id_parties-0-name", "张三丰")
    page.fill("#id_parties-0-phone", "13911112222")
    page.select_option("#id_parties-1-side", "respondent")
    page.fill("#id_parties-1-name", "李四光")
    page.click("[data-testid=dispute-submit]")
    expect(page).to_have_url(re.compile(r"/screening/\d+/$"))
    expect(page.locator("[data-level]").first).to_have_attribute("data-level", "red")
    number = page.locator("#dispute-number").inner_text()
    dispute = Dispute.objects.get(number=number)
    log_out(page)

    # The alert is in the paired police officer's inbox at once; it opens the dispute, masked.
    login(page, live_server.url, "police_screen", DEFAULT_PASSWORD)
    page.goto("/accounts/inbox/")
    alert = page.locator("#inbox-list li", has_text=number)
    expect(alert).to_have_count(1)
    alert.locator("a").click()
    expect(page).to_have_url(re.compile(rf"/screening/{dispute.pk}/$"))
    expect(page.locator("#dispute-parties")).to_contain_text("张**")
    expect(page.locator("#dispute-parties")).not_to_contain_text("张三丰")
    page.goto("/screening/board/")
    expect(page.locator(f"[data-testid=dispute-row][data-number='{number}']")).to_be_visible()
    log_out(page)

    # The worker: on the spot, assessed, routed to mediation (the nearest room), then closed.
    login(page, live_server.url, "gw_screen", DEFAULT_PASSWORD)
    page.goto(f"/screening/{dispute.pk}/")
    act(page, "mediate_on_spot", {"note": "现场劝解，双方情绪仍激动"})
    expect(page.locator("#dispute-state")).to_have_attribute("data-state", "first_mediated")
    act(page, "assess", {"note": "有持刀风险，转调解并跟踪"})
    expect(page.locator("#dispute-state")).to_have_attribute("data-state", "assessed")
    act(page, "route", {"target": "mediation", "note": "请尽快调解"})
    expect(page.locator("#dispute-state")).to_have_attribute("data-state", "routed")
    expect(page.locator("#dispute-route")).to_contain_text(room.name)
    assert MediationCase.objects.filter(room=room).count() == 1
    act(page, "follow_up", {"note": "调解室已受理"})
    act(page, "close", {"outcome": "resolved", "note": "达成调解协议"})
    expect(page.locator("#dispute-state")).to_have_attribute("data-state", "closed")
    expect(page.locator("#dispute-outcome")).to_be_visible()
    actions = [
        e.action for e in Dispute.objects.get(pk=dispute.pk).events.order_by("created_at", "id")
    ]
    assert actions == [
        "register",
        "alert",
        "mediate_on_spot",
        "assess",
        "route",
        "follow_up",
        "close",
    ]
