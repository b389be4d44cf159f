import pytest
from django.urls import reverse

from grids.models import GridCell, Team
from tests.builders import rectangle


@pytest.fixture
def admin_client(client, people, region_tree):
    Team.objects.create(name="古城巡防队", kind="patrol", region=region_tree["a1"])
    client.force_login(people["admin"])
    return client


@pytest.mark.parametrize("model", ["region", "gridcell", "gridworker", "team"])
def test_changelists_load_and_search(admin_client, model):
    url = reverse(f"admin:grids_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "西桥"}).status_code == 200


def test_change_forms_load_with_map_preview(admin_client, region_tree, people):
    response = admin_client.get(
        reverse("admin:grids_gridcell_change", args=[region_tree["cell_a1_1"].pk])
    )
    assert response.status_code == 200
    assert "<svg" in response.content.decode()
    for name, pk in [
        ("region", region_tree["a1"].pk),
        ("gridworker", people["worker_a"].grid_worker.pk),
        ("team", Team.objects.get().pk),
    ]:
        assert admin_client.get(reverse(f"admin:grids_{name}_change", args=[pk])).status_code == 200


def test_region_autocomplete(admin_client):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "grids", "model_name": "gridcell", "field_name": "community", "term": "西桥"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == ["西桥社区"]


def test_admin_refuses_an_overlapping_cell_and_computes_area(admin_client, region_tree):
    url = reverse("admin:grids_gridcell_add")
    data = {
        "code": "350602002001002",
        "name": "东2",
        "kind": "basic",
        "community": region_tree["b1"].pk,
        "geometry": '{"type": "Polygon", "coordinates": [[[117.645, 24.5], [117.655, 24.5], '
        "[117.655, 24.51], [117.645, 24.51], [117.645, 24.5]]]}",
        "active": "on",
        "GridWorker_cells-TOTAL_FORMS": "0",
        "GridWorker_cells-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "350602002001001" in response.content.decode()  # the overlapped cell is named
    assert not GridCell.objects.filter(code="350602002001002").exists()

    data["geometry"] = (
        '{"type": "Polygon", "coordinates": [[[117.65, 24.5], [117.66, 24.5], '
        "[117.66, 24.51], [117.65, 24.51], [117.65, 24.5]]]}"
    )
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    cell = GridCell.objects.get(code="350602002001002")
    assert cell.area_m2 > 1_000_000
    assert cell.geometry == rectangle(24.5, 117.65, 24.51, 117.66)
