"""A court document served through the grid (网格化+司法送达): the court liaison issues it, the grid
worker, on a phone (390×844), accepts it, photographs the door, records it delivered with the
addressee's signature drawn on the screen and the location; the liaison prints the receipt
(送达回证) with the signature on it."""

import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image
from playwright.sync_api import expect

from assignments.models import Assignment, IssuerGrant
from tests.builders import DEFAULT_PASSWORD, make_grid_worker, make_user
from tests.conftest import login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.mark.browser
def test_court_document_delivered_with_signature_then_receipt_printed(
    browser_page, live_server, region_tree, tmp_path
):
    page = browser_page
    court = make_user(
        "court_liaison",
        roles=["department_handler"],
        region=region_tree["district"],
        display_name="法院联络员",
    )
    IssuerGrant.objects.create(user=court, region=region_tree["district"], office="芗城区人民法院")
    make_grid_worker(
        "gridworker",
        cells=[region_tree["cell_a1_1"]],
        phone="13800000004",
        display_name="网格员小林",
    )
    photo_path = tmp_path / "door.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 120, 160)).save(buffer, "JPEG")
    photo_path.write_bytes(buffer.getvalue())

    # The court liaison issues the service of the judgment to cell 西桥1网格.
    page.set_viewport_size(DESKTOP)
    login(page, live_server.url, "court_liaison", DEFAULT_PASSWORD)
    page.goto("/tasks/new/")
    expect(page.locator("h1")).to_have_text("交办任务")
    page.select_option("#id_kind", label="司法送达")
    page.fill("#id_title", "送达民事判决书")
    page.fill("#id_instructions", "请当面送达，请受送达人签名")
    deadline = timezone.localtime() + timedelta(days=3)
    page.fill("#id_deadline", deadline.strftime("%Y-%m-%dT%H:%M"))
    page.locator("details", has_text="网格").first.locator("summary").click()
    page.check(f"input[name=cells][value='{region_tree['cell_a1_1'].pk}']")
    page.fill("#id_document_title", "民事判决书")
    page.fill("#id_case_number", "(2026)闽0602民初1234号")
    page.fill("#id_addressee_name", "林秀英")
    page.fill("#id_addressee_phone", "13912345678")
    page.fill("#id_addressee_address", "西桥社区3栋201")
    page.click("#issue-button")
    expect(page).to_have_url(re.compile(r"/tasks/\d+/$"))
    expect(page.locator("#task-assignments [data-state=issued]")).to_have_count(1)
    page.click("#logout-button")

    # The grid worker, on the phone: 我的任务 lists it; accept; hand in the delivery.
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": 24.5052, "longitude": 117.6051})
    login(page, live_server.url, "13800000004", DEFAULT_PASSWORD)
    page.goto("/tasks/")
    expect(page.locator("h1")).to_contain_text("我的任务")
    page.click("text=送达民事判决书")
    expect(page.locator("#addressee-name")).to_have_text("林秀英")
    page.click("#accept-button")
    expect(page.locator("[role=status]")).to_contain_text("任务已接收")
    page.select_option("#id_outcome", "delivered")
    page.fill("#id_served_place", "西桥社区3栋201门口")
    page.set_input_files("#id_photo", str(photo_path))

    # Handing in without a signature is refused by the server, with the message on the field.
    page.click("#complete-button")
    expect(page.locator("[data-field=signature]")).to_contain_text("受送达人签名")

    page.select_option("#id_outcome", "delivered")
    page.fill("#id_served_place", "西桥社区3栋201门口")
    page.set_input_files("#id_photo", str(photo_path))
    canvas = page.locator("#signature-canvas")
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] * 0.7)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(
            box["x"] + 20 + step * (box["width"] - 40) / 11,
            box["y"] + box["height"] * (0.7 if step % 2 else 0.3),
            steps=3,
        )
    page.mouse.up()
    page.click("[data-gps-button]")
    expect(page.locator("[data-gps-status]")).to_contain_text("24.505200")
    page.click("#complete-button")
    expect(page.locator("#delivery-outcome")).to_have_text("已送达")
    assignment = Assignment.objects.get()
    assert assignment.state == "done" and assignment.signature and assignment.photo
    assert str(assignment.latitude) == "24.505200"
    page.click("#logout-button")

    # The court liaison opens the receipt and prints it; the signature is on it.
    page.set_viewport_size(DESKTOP)
    login(page, live_server.url, "court_liaison", DEFAULT_PASSWORD)
    page.goto(f"/tasks/a/{assignment.pk}/")
    page.click("#receipt-link")
    expect(page.locator("#receipt h1")).to_have_text("送达回证")
    expect(page.locator("#receipt-document")).to_have_text("民事判决书")
    expect(page.locator("#receipt-addressee")).to_have_text("林秀英")
    expect(page.locator("#receipt-outcome")).to_have_text("已送达")
    signature = page.locator("#receipt-signature")
    expect(signature).to_be_visible()
    assert page.evaluate("document.getElementById('receipt-signature').naturalWidth") > 0
    page.evaluate("window.print = () => { window.__printed = true; }")
    page.click("#print-button")
    assert page.evaluate("window.__printed === true")
    page.emulate_media(media="print")
    expect(page.locator("#print-button")).to_be_hidden()
    expect(page.locator("#receipt")).to_be_visible()
