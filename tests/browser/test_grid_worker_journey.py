"""A grid worker's first day: sign in (Chinese), open the grid map, switch to English, log out."""

import re

import pytest
from playwright.sync_api import expect

from tests.builders import DEFAULT_PASSWORD, make_grid_worker
from tests.conftest import login


@pytest.mark.browser
def test_grid_worker_journey(browser_page, live_server, region_tree):
    page = browser_page
    make_grid_worker(
        "gridworker",
        cells=[region_tree["cell_a1_1"], region_tree["cell_a1_2"]],
        phone="13800000004",
        display_name="网格员小林",
    )

    # The login page speaks Chinese to a Chinese browser.
    page.goto("/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("label[for=id_username]")).to_have_text("用户名或手机号")

    # A wrong password is refused with a Chinese message; the phone number then signs in.
    page.fill("#id_username", "gridworker")
    page.fill("#id_password", "not-my-password")
    page.click("#login-button")
    expect(page.locator("#login-form [role=alert]")).to_contain_text("密码错误")
    login(page, live_server.url, "13800000004", DEFAULT_PASSWORD)
    expect(page.locator("#profile-link")).to_have_text("网格员小林")

    # The grid map, from the menu: my cells are listed, other communities' cells are not.
    page.click("[data-nav='grids:map']")
    expect(page).to_have_url(re.compile(r"/grids/map/$"))
    expect(page.locator("h1")).to_have_text("网格地图")
    cells = page.locator("#cell-list li[data-cell-code]")
    expect(page.locator("#cell-list li[data-cell-code='350602001001001']")).to_be_visible()
    expect(page.locator("#cell-list li[data-cell-code='350602001001002']")).to_be_visible()
    expect(cells).to_have_count(2)
    assert page.locator("#cell-list li[data-cell-code='350602002001001']").count() == 0
    assert page.locator("#cell-list li[data-cell-code='350602001002001']").count() == 0
    # Leaflet drew the map from local assets (no tiles configured: outlines on a blank map).
    expect(page.locator("#grid-map.leaflet-container")).to_be_visible()
    expect(page.locator("#grid-map path.leaflet-interactive").first).to_be_attached()

    # Switch to English with the language selector: the same page, now in English.
    page.select_option("#language-select", "en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/grids/map/$"))
    expect(page.locator("h1")).to_have_text("Grid map")
    expect(page.locator("#logout-button")).to_have_text("Log out")
    expect(page.locator("#cell-list li[data-cell-code]")).to_have_count(2)

    # Log out: back at the login page (still English), and the map needs a login again.
    page.click("#logout-button")
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.locator("h1")).to_have_text("Log in")
    expect(page.locator("#logout-button")).to_have_count(0)
    page.goto("/grids/map/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/grids/map/$"))
