"""The REST API: scoped list and detail, filing, actions, masking, analysis."""

import pytest
from rest_framework.test import APIClient

from petitions.models import Petition, PetitionState
from petitions.tests import factories as f

pytestmark = pytest.mark.django_db
S = PetitionState


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def web_payload(region, **extra) -> dict:
    payload = {
        "kind": "request",
        "matter": "楼下餐馆油烟扰民",
        "request": "请求整改",
        "facts_and_reasons": "油烟直排",
        "category": "07",
        "region": region.code,
        "petitioners": [{"name": "张三", "id_number": f.ID_A, "address": "西桥社区1号"}],
    }
    payload.update(extra)
    return payload


def test_resident_files_and_sees_only_their_own(region_tree, district_officer):
    resident = f.resident()
    response = api(resident).post(
        "/api/v1/petitions/", web_payload(region_tree["a1"]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "received" and body["channel"] == "web"
    assert body["petitioners"][0]["id_number"] == "3506**********1235"
    assert body["petitioners"][0]["phone"] == "13800000001"  # the owner's own phone
    assert body["actions"] == []
    assert [e["action"] for e in body["events"]] == ["received"]
    other = f.resident("other", phone="13800000002")
    assert api(other).get("/api/v1/petitions/").json()["count"] == 0
    assert api(other).get(f"/api/v1/petitions/{body['id']}/").status_code == 404
    assert api(resident).get("/api/v1/petitions/").json()["count"] == 1


def test_resident_cannot_register_a_letter(region_tree):
    response = api(f.resident()).post(
        "/api/v1/petitions/", web_payload(region_tree["a1"], channel="letter"), format="json"
    )
    assert response.status_code == 403
    assert not Petition.objects.exists()


def test_bad_input_is_a_400_with_field_errors(region_tree):
    response = api(f.resident()).post(
        "/api/v1/petitions/",
        web_payload(
            region_tree["a1"], petitioners=[{"name": "张三", "id_number": "350602199001011236"}]
        ),
        format="json",
    )
    assert response.status_code == 400
    assert "petitioners.0.id_number" in response.json()["errors"]
    response = api(f.resident("r2", phone="13800000003")).post(
        "/api/v1/petitions/", web_payload(region_tree["a1"], category="nope"), format="json"
    )
    assert response.status_code == 400 and "category" in response.json()["errors"]


def test_officer_lists_filters_and_acts(region_tree, district_officer, street_b_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    client = api(district_officer)
    listing = client.get("/api/v1/petitions/", {"state": "received"}).json()
    assert [row["tracking_number"] for row in listing["results"]] == [petition.tracking_number]
    assert api(street_b_officer).get("/api/v1/petitions/").json()["count"] == 0
    detail = client.get(f"/api/v1/petitions/{petition.pk}/").json()
    assert detail["petitioners"][0]["id_number"] == f.ID_A  # officer in scope
    assert set(detail["actions"]) == {"accept", "transfer", "decline"}
    response = client.post(f"/api/v1/petitions/{petition.pk}/accept/", {}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    response = client.post(f"/api/v1/petitions/{petition.pk}/accept/", {}, format="json")
    assert response.status_code == 409 and response.json()["detail"]
    response = client.post(
        f"/api/v1/petitions/{petition.pk}/reply/",
        {
            "request": "整改",
            "facts_and_reasons": "属实",
            "decision": "责令整改",
            "legal_basis": "大气污染防治法",
            "outcome": "support",
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "replied" and body["opinions"][0]["outcome"] == "support"
    response = api(street_b_officer).post(
        f"/api/v1/petitions/{petition.pk}/close/", {}, format="json"
    )
    assert response.status_code == 404


def test_extension_over_30_days_is_a_400(region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    client = api(district_officer)
    client.post(f"/api/v1/petitions/{petition.pk}/accept/", {}, format="json")
    response = client.post(
        f"/api/v1/petitions/{petition.pk}/extension-request/",
        {"days": 45, "reason": "复杂"},
        format="json",
    )
    assert response.status_code == 400 and "days" in response.json()["errors"]


def test_supervisor_reads_masked_data_and_analysis(region_tree, district_officer):
    petition = f.file_letter(district_officer, region=region_tree["a1"])
    head = f.supervisor(region=region_tree["district"])
    detail = api(head).get(f"/api/v1/petitions/{petition.pk}/").json()
    assert detail["petitioners"][0]["id_number"] == "3506**********1235"
    assert detail["petitioners"][0]["phone"] == "139****0001"
    analysis = api(head).get("/api/v1/petitions/analysis/").json()
    assert analysis["total"] == 1
    assert set(analysis["kpis"]) == {
        "timely_acceptance",
        "on_time_completion",
        "satisfaction",
        "settled",
        "backlog_resolution",
        "local_share",
    }
    assert api(f.resident()).get("/api/v1/petitions/analysis/").status_code == 404


def test_merged_submission_is_reported_by_the_api(region_tree, district_officer):
    resident = f.resident()
    first = api(resident).post("/api/v1/petitions/", web_payload(region_tree["a1"]), format="json")
    again = api(resident).post(
        "/api/v1/petitions/",
        web_payload(region_tree["a1"], matter="餐馆油烟扰民，仍未整改"),
        format="json",
    )
    assert again.status_code == 201
    assert again.json()["state"] == "merged"
    assert again.json()["merged_into"] == first.json()["tracking_number"]
    # The default list leaves merged submissions out.
    assert api(resident).get("/api/v1/petitions/").json()["count"] == 1


def test_schema_documents_the_petition_endpoints(admin_client):
    response = admin_client.get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in ("/api/v1/petitions/", "/api/v1/petitions/analysis/", "reexam-request"):
        assert path in text
