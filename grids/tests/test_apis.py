import pytest
from django.urls import include, path
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

A_CELLS = {"350602001001001", "350602001001002", "350602001002001"}


def get(client, user, url, **params):
    client.force_login(user)
    response = client.get(url, params)
    return response


def codes(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["code"] for row in response.json()["results"]}


def test_grid_cells_are_scoped(client, people):
    assert codes(get(client, people["dispatcher_a"], "/api/v1/grid-cells/")) == A_CELLS
    assert codes(get(client, people["dispatcher_b"], "/api/v1/grid-cells/")) == {"350602002001001"}
    assert codes(get(client, people["worker_a"], "/api/v1/grid-cells/")) == {
        "350602001001001",
        "350602001001002",
    }
    assert len(codes(get(client, people["admin"], "/api/v1/grid-cells/"))) == 4
    assert codes(get(client, people["lost_staff"], "/api/v1/grid-cells/")) == set()


def test_grid_cells_carry_geometry_and_filter(client, people):
    response = get(client, people["supervisor"], "/api/v1/grid-cells/", community="350602001001")
    rows = response.json()["results"]
    assert {r["code"] for r in rows} == {"350602001001001", "350602001001002"}
    assert rows[0]["geometry"]["type"] == "Polygon"
    assert rows[0]["community_code"] == "350602001001"
    prefix = get(client, people["supervisor"], "/api/v1/grid-cells/", code_prefix="350602002")
    assert codes(prefix) == {"350602002001001"}
    assert codes(get(client, people["supervisor"], "/api/v1/grid-cells/", kind="school")) == set()
    bad = get(client, people["supervisor"], "/api/v1/grid-cells/", kind="zoo")
    assert bad.status_code == 400


def test_street_user_cannot_reach_another_street_by_filter(client, people):
    response = get(client, people["dispatcher_a"], "/api/v1/grid-cells/", community="350602002001")
    assert codes(response) == set()


def test_regions_are_scoped(client, people):
    assert codes(get(client, people["dispatcher_a"], "/api/v1/regions/")) == {
        "350602001000",
        "350602001001",
        "350602001002",
    }
    assert codes(get(client, people["resident"], "/api/v1/regions/")) == set()
    level = get(client, people["admin"], "/api/v1/regions/", level="street")
    assert codes(level) == {"350602001000", "350602002000"}
    rows = get(client, people["admin"], "/api/v1/regions/", parent="350602000000").json()
    assert {r["parent_code"] for r in rows["results"]} == {"350602000000"}


def test_grid_workers_scoped_and_phones_masked_per_rule(client, people):
    response = get(client, people["dispatcher_a"], "/api/v1/grid-workers/")
    rows = response.json()["results"]
    assert [r["name"] for r in rows] == ["gw_a"]
    assert rows[0]["phone"] == "13900000011"  # a dispatcher may see contacts
    assert rows[0]["cell_codes"] == ["350602001001001"]

    rows = get(client, people["supervisor"], "/api/v1/grid-workers/").json()["results"]
    assert {r["name"] for r in rows} == {"gw_a", "gw_b"}
    assert {r["phone"] for r in rows} == {"139****0011", "139****0012"}

    assert get(client, people["resident"], "/api/v1/grid-workers/").json()["results"] == []
    on_duty = get(client, people["admin"], "/api/v1/grid-workers/", cell="350602002001001")
    assert [r["name"] for r in on_duty.json()["results"]] == ["gw_b"]


def test_police_officer_phone_masked_for_supervisor(client, people):
    worker = people["worker_a"].grid_worker
    worker.police_officer_name = "王警官"
    worker.police_officer_phone = "13700000001"
    worker.save()
    rows = get(client, people["supervisor"], "/api/v1/grid-workers/").json()["results"]
    assert next(r for r in rows if r["name"] == "gw_a")["police_officer_phone"] == "137****0001"
    rows = get(client, people["dispatcher_a"], "/api/v1/grid-workers/").json()["results"]
    assert rows[0]["police_officer_phone"] == "13700000001"


def test_locate_any_authenticated_user(client, people):
    response = get(client, people["resident"], "/api/v1/locate", lat="24.505", lng="117.605")
    assert response.status_code == 200
    assert response.json() == {
        "inside": True,
        "cell_id": people["worker_a"].grid_worker.cells.get().pk,
        "cell_code": "350602001001001",
        "cell_name": "西桥1网格",
        "community_id": response.json()["community_id"],
        "community_code": "350602001001",
        "community_name": "西桥社区",
    }
    fallback = get(client, people["resident"], "/api/v1/locate", lat=24.505, lng=117.655).json()
    assert fallback["cell_id"] is None and fallback["community_code"] == "350602002001"
    outside = get(client, people["resident"], "/api/v1/locate", lat=30, lng=120).json()
    assert outside["inside"] is False and outside["community_code"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "abc", "lng": "117.6"},
        {"lat": "24.5"},
        {"lat": "95", "lng": "117.6"},
        {"lat": "24.5", "lng": "-181"},
        {"lat": "nan", "lng": "117.6"},
        {"lat": "24.5", "lng": "inf"},
    ],
)
def test_locate_bad_numbers_are_400(client, people, params):
    response = get(client, people["resident"], "/api/v1/locate", **params)
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] and body["errors"]


def test_api_requires_authentication(client, region_tree):
    for url in ("/api/v1/grid-cells/", "/api/v1/regions/", "/api/v1/grid-workers/"):
        assert client.get(url).status_code == 403
    assert client.get("/api/v1/locate", {"lat": 24.5, "lng": 117.6}).status_code == 403


def test_openapi_schema_of_the_grids_api_is_valid():
    patterns = [path("api/v1/", include("grids.api_urls"))]
    schema = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
    validate_schema(schema)
    assert set(schema["paths"]) == {
        "/api/v1/regions/",
        "/api/v1/grid-cells/",
        "/api/v1/grid-workers/",
        "/api/v1/locate",
    }
    parameters = {p["name"] for p in schema["paths"]["/api/v1/locate"]["get"]["parameters"]}
    assert parameters == {"lat", "lng"}
