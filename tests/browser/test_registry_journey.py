"""The grid's basic data at phone size (issue 19): a grid worker adds a building, a home and a
person, follows the person as a key person, logs a visit that raises the risk level; the
community's designated staff find the alert in their inbox and open the key person's page."""

import re

import pytest
from playwright.sync_api import expect

from tests.builders import DEFAULT_PASSWORD, make_grid_worker, make_user
from tests.conftest import login


@pytest.mark.browser
def test_registry_journey(browser_page, live_server, region_tree):
    from core.models import SmsMessage
    from registry.defaults import ensure_defaults
    from registry.models import DesignatedStaff, KeyPerson, Person

    ensure_defaults()  # a transactional test: the data migration's rows were flushed
    page = browser_page
    page.set_viewport_size({"width": 390, "height": 844})
    cell = region_tree["cell_a1_1"]
    make_grid_worker("gw", cells=[cell], phone="13800000004", display_name="网格员小林")
    staff = make_user(
        "community",
        roles=["dispatcher"],
        region=region_tree["a1"],
        phone="13800000005",
        display_name="社区专管员",
    )
    DesignatedStaff.objects.create(community=region_tree["a1"], user=staff)
    police = make_user(
        "police", roles=["police_officer"], region=region_tree["a1"], phone="13800000006"
    )
    cell.police_officer = police
    cell.save()

    login(page, live_server.url, "gw", DEFAULT_PASSWORD)
    page.goto("/registry/")
    expect(page.locator("h1")).to_have_text("网格基础数据")

    # A building, with its location.
    page.click("#add-building")
    page.fill("#id_name", "5号楼")
    page.fill("#id_address", "新华西路5号")
    page.fill("#id_floors", "7")
    page.fill("#id_lat", "24.505")
    page.fill("#id_lng", "117.605")
    page.click("#record-save")
    expect(page.locator("#record-title")).to_have_text("5号楼")

    # A home in it (rented, two tenants).
    page.click("#add-home")
    page.fill("#id_number", "302")
    page.select_option("#id_occupancy", "rented")
    page.fill("#id_tenant_count", "2")
    page.click("#record-save")
    expect(page.locator("#record-facts")).to_contain_text("出租")

    # A person in the home: the ID number and phone are masked on the page.
    page.click("#add-person-here")
    page.fill("#id_name", "赵大勇")
    page.fill("#id_id_number", "11010519491231002X")
    page.fill("#id_phone", "13912345678")
    page.click("#record-save")
    expect(page.locator("#record-title")).to_have_text("赵大勇")
    expect(page.locator("#record-facts")).to_contain_text("139****5678")
    expect(page.locator("#record-facts")).not_to_contain_text("13912345678")

    # Followed as a key person (severe mental illness, risk level 1).
    page.click("#add-key-person")
    page.select_option("#id_kind", label="严重精神障碍患者")
    page.fill("#id_risk_level", "1")
    page.click("#key-person-save")
    expect(page.locator("#kp-title")).to_have_text("赵大勇")
    expect(page.locator("#kp-risk")).to_contain_text("1")

    # A visit on the phone that raises the risk level to 3.
    page.click("#log-visit")
    page.fill("#id_observations", "情绪激动，在家中摔砸物品，劝说无效。")
    page.fill("#id_risk_after", "3")
    page.fill("#id_place", "家中")
    page.click("#visit-save")
    expect(page).to_have_url(re.compile(r"/registry/key-persons/\d+/$"))
    expect(page.locator("#kp-risk")).to_contain_text("3")
    expect(page.locator("#visit-list")).to_contain_text("1 → 3")
    kp = KeyPerson.objects.get(person=Person.objects.get(name="赵大勇"))
    assert kp.risk_level == 3

    # The community's designated staff see the alert at once (and an SMS was queued).
    page.click("#logout-button")
    login(page, live_server.url, "community", DEFAULT_PASSWORD)
    expect(page.locator("#unread-count")).to_have_text("1")
    page.click("#inbox-link")
    alert = page.locator("a", has_text="重点人员风险等级上升")
    expect(alert).to_be_visible()
    alert.click()
    expect(page.locator("#kp-title")).to_have_text("赵大勇")
    expect(page.locator("#kp-risk")).to_contain_text("3")
    assert set(SmsMessage.objects.values_list("phone", flat=True)) == {
        "13800000005",
        "13800000006",
    }
