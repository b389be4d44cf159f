import json
import re

import pytest
from django.urls import reverse

A_CELLS = {"350602001001001", "350602001001002", "350602001002001"}
B_CELLS = {"350602002001001"}


def map_of(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("grids:map"), params)
    assert response.status_code == 200
    html = response.content.decode()
    codes = set(re.findall(r'<li data-cell-code="(\d+)"', html))
    data = json.loads(
        re.search(
            r'<script id="grid-cells-data" type="application/json">(.*?)</script>', html, re.S
        ).group(1)
    )
    return response, html, codes, data


def test_map_requires_login(client, region_tree):
    response = client.get(reverse("grids:map"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_street_dispatcher_sees_only_their_street(client, people):
    _, html, codes, data = map_of(client, people["dispatcher_a"])
    assert codes == A_CELLS
    assert {f["properties"]["code"] for f in data["features"]} == A_CELLS
    assert 'id="grid-map"' in html and 'id="cell-list"' in html
    _, _, codes, _ = map_of(client, people["dispatcher_b"])
    assert codes == B_CELLS


def test_street_dispatcher_cannot_filter_into_another_street(client, people):
    response, _, codes, _ = map_of(client, people["dispatcher_a"], region="350602002000")
    assert codes == A_CELLS
    assert "350602002001001" not in response.content.decode()
    assert [m.level_tag for m in response.context["messages"]] == ["warning"]


def test_region_filter_narrows_the_map(client, people):
    _, html, codes, _ = map_of(client, people["supervisor"], region="350602001001")
    assert codes == {"350602001001001", "350602001001002"}
    assert 'id="region-select"' in html
    _, _, codes, _ = map_of(client, people["supervisor"])
    assert codes == A_CELLS | B_CELLS


def test_grid_worker_sees_their_community_with_own_cells_highlighted(client, people):
    _, html, codes, data = map_of(client, people["worker_a"])
    assert codes == {"350602001001001", "350602001001002"}
    own = {f["properties"]["code"] for f in data["features"] if f["properties"]["own"]}
    assert own == {"350602001001001"}
    assert '<li data-cell-code="350602001001001" class="own-cell">' in html


def test_admin_sees_every_cell(client, people):
    _, _, codes, _ = map_of(client, people["admin"])
    assert codes == A_CELLS | B_CELLS


def test_resident_sees_outlines_without_staff_data(client, people):
    _, html, codes, data = map_of(client, people["resident"])
    assert codes == A_CELLS | B_CELLS
    assert all("workers" not in f["properties"] for f in data["features"])
    assert "gw_a" not in html and "13900000011" not in html and "139****0011" not in html


def test_staff_without_region_sees_nothing(client, people):
    _, html, codes, _ = map_of(client, people["lost_staff"])
    assert codes == set()
    assert 'class="empty"' in html


def test_popup_workers_phones_follow_the_masking_rule(client, people):
    # A dispatcher may see contacts; a supervisor sees them masked.
    _, _, _, data = map_of(client, people["dispatcher_a"])
    cell = next(f for f in data["features"] if f["properties"]["code"] == "350602001001001")
    assert cell["properties"]["workers"] == [
        {"name": "gw_a", "phone": "13900000011", "on_duty": True}
    ]
    _, html, _, data = map_of(client, people["supervisor"])
    cell = next(f for f in data["features"] if f["properties"]["code"] == "350602001001001")
    assert cell["properties"]["workers"][0]["phone"] == "139****0011"
    assert "13900000011" not in html


@pytest.mark.parametrize("tile_url", ["", "https://tiles.intranet.example/{z}/{x}/{y}.png"])
def test_tiles_only_when_configured(client, people, settings, tile_url):
    settings.MAP_TILE_URL = tile_url
    _, html, _, _ = map_of(client, people["admin"])
    assert f'data-tile-url="{tile_url}"' in html
    assert "vendor/leaflet/leaflet.js" in html
    assert "unpkg.com" not in html and "cdn" not in html.lower()


def test_region_tree_page_counts(client, people):
    client.force_login(people["supervisor"])
    response = client.get(reverse("grids:regions"))
    assert response.status_code == 200
    rows = {row.region.code: row for row in response.context["rows"]}
    assert rows["350600000000"].cell_count == 4
    assert rows["350600000000"].worker_count == 2
    assert rows["350602001000"].cell_count == 3
    assert rows["350602001001"].worker_count == 1
    assert rows["350602002001"].cell_count == 1
    assert rows["350602001000"].depth == 2


def test_region_tree_page_is_scoped(client, people):
    client.force_login(people["dispatcher_b"])
    html = client.get(reverse("grids:regions")).content.decode()
    assert 'data-region-code="350602002001"' in html
    assert "350602001" not in html
    client.force_login(people["resident"])
    html = client.get(reverse("grids:regions")).content.decode()
    assert 'id="no-regions"' in html


def test_map_menu_entry_is_visible(client, people):
    client.force_login(people["resident"])
    html = client.get(reverse("grids:map")).content.decode()
    assert 'data-nav="grids:map"' in html
