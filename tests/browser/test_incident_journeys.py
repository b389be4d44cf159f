"""The incident closed loop in headless Chromium, through the pages only.

A resident reports anonymously on a phone-sized screen (a photo, a pin on the map, "use my
location") and tracks the report; the grid worker verifies it; the dispatcher sees it in the
live queue (htmx refresh, no reload) and assigns it in bulk to the city-management handler; the
handler accepts and resolves it with an evidence photo; the grid worker checks it on site; the
resident rates it on the tracking page and sees the case closed. Celery runs eagerly.
"""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect

from tests.builders import DEFAULT_PASSWORD, make_grid_worker, make_user
from tests.conftest import login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
HOME = {"latitude": 24.505, "longitude": 117.605}  # inside 西桥1网格 of tests.builders's city


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(name: str) -> dict:
    return {"name": name, "mimeType": "image/png", "buffer": png_bytes()}


def log_out(page) -> None:
    page.click("#logout-button")
    expect(page.locator("#logout-button")).to_have_count(0)


def open_task(page, section: str, number: str) -> None:
    page.click("[data-nav='incidents:my_tasks']")
    row = page.locator(f"#tasks-{section} li[data-tracking-number='{number}']")
    expect(row).to_be_visible()
    row.locator("a.incident-link").click()
    expect(page.locator("#tracking-number")).to_have_text(number)


def run_action(page, name: str, fields: dict | None = None, files: dict | None = None) -> None:
    page.click(f"#action-{name}-toggle")
    for selector, value in (fields or {}).items():
        page.fill(selector, value)
    for selector, value in (files or {}).items():
        page.set_input_files(selector, value)
    page.click(f"#action-{name}-submit")
    expect(page.locator(".message-success")).to_be_visible()


@pytest.mark.browser
def test_report_verify_dispatch_resolve_check_rate(browser_page, live_server, region_tree):
    from incidents.loaders import load_categories
    from incidents.models import Incident

    load_categories()
    worker = make_grid_worker(
        "gridworker",
        cells=[region_tree["cell_a1_1"], region_tree["cell_a1_2"]],
        phone="13800000004",
        display_name="网格员小林",
    )
    make_user(
        "dispatcher",
        roles=["dispatcher"],
        region=region_tree["street_a"],
        phone="13800000003",
        display_name="调度员老陈",
    )
    handler = make_user(
        "handler",
        roles=["department_handler"],
        region=region_tree["district"],
        department="城管执法",
        phone="13800000005",
        display_name="城管王队",
    )
    page = browser_page
    url = live_server.url
    script_errors: list[str] = []
    page.on("pageerror", lambda error: script_errors.append(str(error)))
    page.context.grant_permissions(["geolocation"], origin=url)
    page.context.set_geolocation(HOME)

    # 1. A resident, not signed in, reports on a phone: photo, pin, "use my location".
    page.set_viewport_size(PHONE)
    page.goto("/incidents/report/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("上报事件")
    expect(page.locator("#report-map.leaflet-container")).to_be_visible()
    page.select_option("#id_category", "0103")
    page.fill("#id_description", "小区门口堆了一周的建筑垃圾")
    page.set_input_files("#id_photos", photo("rubbish.png"))
    page.locator("#report-map").click()  # tap the map: a pin drops there
    expect(page.locator("#report-map .leaflet-marker-icon")).to_be_visible()
    expect(page.locator("#id_lat")).not_to_have_value("")
    page.click("#use-my-location")  # the phone's position moves the pin
    expect(page.locator("#id_lat")).to_have_value("24.505")
    expect(page.locator("#id_lng")).to_have_value("117.605")
    page.fill("#id_address", "西桥路12号")
    page.fill("#id_reporter_phone", "13911112222")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.click("#report-submit")
    number = page.locator("#tracking-number").inner_text().strip()
    assert re.fullmatch(r"GG[0-9A-Z]{8}", number)
    code = page.locator("#access-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", code)
    incident = Incident.objects.get(tracking_number=number)
    assert incident.reporter is None and incident.photos.count() == 1
    assert incident.verifier == worker and incident.state == "verifying"

    # ... and tracks it with the number and its access code.
    page.click("#track-this")
    expect(page.locator("#id_no")).to_have_value(number)
    page.fill("#id_code", code)
    page.click("#track-submit")
    expect(page.locator("#track-state")).to_have_attribute("data-state", "verifying")
    expect(page.locator("#track-timeline li[data-action='report']")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    # 2. The grid worker verifies it on site.
    page.set_viewport_size(DESKTOP)
    login(page, url, "gridworker", DEFAULT_PASSWORD)
    open_task(page, "to_verify", number)
    expect(page.locator("#incident-map.leaflet-container")).to_be_visible()
    expect(page.locator("#incident-photos img")).to_have_count(1)
    run_action(page, "verify", {"#id_verify-note": "现场核实属实"})
    incident.refresh_from_db()
    assert incident.state == "dispatched"  # routed at once to the community (no person)
    log_out(page)

    # 3. The dispatcher sees it in the live queue and assigns it in bulk to the handler.
    login(page, url, "dispatcher", DEFAULT_PASSWORD)
    page.click("[data-nav='incidents:queue']")
    row = page.locator(f"#queue-rows tr[data-tracking-number='{number}']")
    expect(row).to_be_visible()
    # The street's workload panel arrives after the page (htmx, a placeholder until then).
    panel = page.locator(f"#workload-table tr[data-user-id='{worker.pk}']")
    expect(panel).to_contain_text("网格员小林")
    expect(page.locator("#workload-loading")).to_have_count(0)
    # A new report arrives: the table body refreshes without reloading the page.
    page.wait_for_load_state("load")  # htmx has wired the table body's triggers
    page.evaluate("window.__sameDocument = true")
    from incidents.models import Category
    from incidents.services import incident_report

    second = incident_report(
        actor=None,
        category=Category.objects.get(code="0102"),
        description="路灯下有散落垃圾",
        channel="resident_web",
        lat=24.505,
        lng=117.615,
        reporter_phone="13911113333",
    )
    page.evaluate("htmx.trigger(document.body, 'queue-refresh')")
    expect(
        page.locator(f"#queue-rows tr[data-tracking-number='{second.tracking_number}']")
    ).to_be_visible()
    assert page.evaluate("window.__sameDocument === true")
    row.locator("input.row-select").check()
    expect(page.locator("#selected-count")).to_have_text("1")
    page.select_option("#id_assignee", str(handler.pk))
    page.click("#bulk-assign-submit")
    expect(page.locator(".message-success")).to_contain_text(number)
    expect(row).to_contain_text("城管王队")
    log_out(page)

    # 4. The handler accepts and resolves it with an evidence photo.
    login(page, url, "handler", DEFAULT_PASSWORD)
    open_task(page, "assigned", number)
    run_action(page, "accept")
    run_action(
        page,
        "resolve",
        {"#id_resolve-result": "已清运建筑垃圾并告知物业"},
        {"#id_resolve-photos": photo("cleared.png")},
    )
    expect(page.locator("#incident-state .state")).to_have_attribute("data-state", "resolved")
    log_out(page)

    # 5. The grid worker checks it on site; the result goes to the reporter.
    login(page, url, "gridworker", DEFAULT_PASSWORD)
    open_task(page, "to_check", number)
    run_action(page, "check", {"#id_check-note": "现场已清理干净"})
    incident.refresh_from_db()
    assert incident.state == "feedback_sent"
    log_out(page)

    # 6. Back on the phone, the resident rates the result and sees the case closed.
    page.set_viewport_size(PHONE)
    page.goto(f"/incidents/track/?no={number}")
    page.fill("#id_code", code)
    page.click("#track-submit")
    expect(page.locator("#track-result")).to_contain_text("已清运建筑垃圾")
    page.check("input[name='rate-rating'][value='5']")
    page.fill("#id_rate-comment", "处理得很快，谢谢")
    page.click("#track-rate-submit")
    expect(page.locator(".message-success")).to_be_visible()
    expect(page.locator("#track-state")).to_have_attribute("data-state", "closed")
    expect(page.locator("#track-rating")).to_contain_text("5")
    expect(page.locator("#track-rate-form")).to_have_count(0)
    incident.refresh_from_db()
    assert incident.state == "closed" and incident.rating == 5
    assert not script_errors, script_errors
