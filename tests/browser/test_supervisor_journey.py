"""A supervisor's review: open the dashboard from the menu, choose the period, see the charts
and the heat map, drill from a KPI into the incidents behind it, export that list (at once, and
as a background job with its progress), and print a case file."""

import csv
import io
import re

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from governance import aggregates
from governance.tests.kpi_data import NOW, build_city
from incidents.models import Incident
from incidents.selectors import DEADLINE_STATES
from tests.builders import DEFAULT_PASSWORD, make_user
from tests.conftest import login


@pytest.mark.browser
def test_supervisor_journey(browser_page, live_server, region_tree, settings, tmp_path):
    page = browser_page
    data = build_city(region_tree)
    aggregates.incident_facts_rebuild(now=NOW)
    make_user(
        "supervisor",
        roles=["supervisor"],
        region=region_tree["city"],
        phone="13800000007",
        display_name="督查科老王",
    )

    login(page, live_server.url, "supervisor", DEFAULT_PASSWORD)
    page.click("[data-nav='governance:dashboard']")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.locator("h1")).to_have_text("监督考核看板")

    # March 2026, the whole city.
    page.fill("#kpi-start", "2026-03-01")
    page.fill("#kpi-end", "2026-03-31")
    page.click("#kpi-filter-submit")
    expect(page.locator("[data-testid='kpi-reported-value']")).to_have_text("12")
    expect(page.locator("[data-testid='kpi-on_time_closure-value']")).to_have_text("50.0%")
    # The definition is beside the number.
    card = page.locator("#kpi-on_time_closure")
    expect(card.locator(".kpi-formula")).to_have_text("按期结案数 / (应结案数 − 缓办数)")
    card.locator("details summary").click()
    expect(card.locator("dl dt").first).to_have_text("按期结案数")
    # ECharts and Leaflet drew from local assets; the heat map recolours by overdue work.
    expect(page.locator("#trend-chart")).to_have_attribute("data-ready", "true")
    expect(page.locator("#trend-chart canvas")).to_have_count(1)
    expect(page.locator("#ranking-chart canvas")).to_have_count(1)
    expect(page.locator("#heat-map")).to_have_attribute("data-ready", "true")
    expect(page.locator("#heat-map path.leaflet-interactive")).to_have_count(4)
    page.check("#heat-by-overdue")
    expect(page.locator("#heat-map")).to_have_attribute("data-colour-by", "overdue")
    overdue = Incident.objects.filter(state__in=DEADLINE_STATES, due_at__lt=timezone.now())
    expect(page.locator("#overdue-board tr[data-tracking-number]")).to_have_count(overdue.count())

    # Drill from the on-time closure rate into the incidents closed on time.
    page.click("[data-testid='kpi-on_time_closure-value']")
    expect(page).to_have_url(re.compile(r"/portal/ledger/incidents/\?.*kpi=closed_on_time"))
    expect(page.locator("#ledger-set")).to_have_text("按期结案数")
    expect(page.locator("#ledger-count")).to_have_attribute("data-count", "4")
    rows = page.locator("#ledger-table tbody tr")
    expect(rows).to_have_count(4)
    on_screen = [rows.nth(i).get_attribute("data-tracking-number") for i in range(4)]
    expected = {data.incidents[n].tracking_number for n in (1, 3, 9, 12)}
    assert set(on_screen) == expected
    # A supervisor does not see reporters' phones in full.
    expect(page.locator("#ledger-table td.reporter-phone").first).to_have_text("139****0000")

    # Export it: small, so the file comes at once; it opens and matches the screen.
    with page.expect_download() as download_info:
        page.click("#export-incidents-xlsx")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    assert download.suggested_filename.startswith("事件台账")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = load_workbook(saved, read_only=True)
    sheet_rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert sheet_rows[0][0] == "受理编号"
    assert [row[0] for row in sheet_rows[1:]] == on_screen
    assert {row[8] for row in sheet_rows[1:]} == {"139****0000"}

    # A large export is prepared in the background: the job page shows progress, then the link.
    settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS = 2
    page.click("#export-incidents-csv")
    expect(page).to_have_url(re.compile(r"/portal/exports/\d+/$"))
    expect(page.locator("#export-progress")).to_have_attribute("data-status", "done")
    with page.expect_download() as download_info:
        page.click("#export-download")
    with open(download_info.value.path(), encoding="utf-8-sig") as handle:
        csv_rows = list(csv.reader(io.StringIO(handle.read())))
    assert [row[0] for row in csv_rows[1:]] == on_screen

    # The printable case file of one of them.
    page.go_back()
    page.click(f"#ledger-table tr[data-tracking-number='{on_screen[0]}'] a")
    expect(page.locator("#case-file h1")).to_contain_text(on_screen[0])
    expect(page.locator("#print-button")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("#print-button")).to_be_hidden()
    expect(page.locator("header.portal-header")).to_be_hidden()
