from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from mediation.models import CaseState, MediationCase, MediationRoom
from mediation.tests.builders import (
    dispute_incident,
    in_session,
    parties,
    walk_in,
    written_agreement,
)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_rooms_list_with_filters(world):
    client = client_for(world.resident)
    response = client.get("/api/v1/mediation/rooms/")
    assert response.status_code == 200
    assert response.data["count"] == 6
    response = client.get("/api/v1/mediation/rooms/", {"level": "village"})
    assert {r["name"] for r in response.data["results"]} == {
        "西桥社区评理说事点",
        "石亭村乡贤调解室",
    }
    response = client.get("/api/v1/mediation/rooms/", {"category": "1006"})
    assert [r["name"] for r in response.data["results"]] == ["漳州市医患纠纷人民调解委员会"]
    response = client.get("/api/v1/mediation/rooms/", {"region": "350602002"})
    assert [r["name"] for r in response.data["results"]] == ["东铺头派出所警调对接工作室"]
    room = response.data["results"][0]
    assert room["mediators"][0]["name"] == str(world.mediator2)
    assert room["categories"] == ["1001"]


def test_inactive_rooms_only_for_admins(world):
    MediationRoom.objects.filter(pk=world.rooms["county_family"].pk).update(active=False)
    assert client_for(world.resident).get("/api/v1/mediation/rooms/").data["count"] == 5
    assert client_for(world.admin).get("/api/v1/mediation/rooms/").data["count"] == 6
    response = client_for(world.resident).get(
        f"/api/v1/mediation/rooms/{world.rooms['county_family'].pk}/"
    )
    assert response.status_code == 404


def test_admin_creates_updates_and_deactivates_a_room(world):
    client = client_for(world.admin)
    body = {
        "name": "金品社区评理说事点",
        "room_type": "reasoning_point",
        "level": "village",
        "region_code": "350602001002",
        "categories": ["1001"],
        "lat": 24.505,
        "lng": 117.625,
    }
    response = client.post("/api/v1/mediation/rooms/", body, format="json")
    assert response.status_code == 201, response.data
    room_id = response.data["id"]
    response = client.patch(
        f"/api/v1/mediation/rooms/{room_id}/", {"capacity_per_day": 7}, format="json"
    )
    assert response.status_code == 200
    assert response.data["capacity_per_day"] == 7
    assert response.data["categories"] == ["1001"]
    response = client.post(
        f"/api/v1/mediation/rooms/{room_id}/active/", {"active": False}, format="json"
    )
    assert response.data["active"] is False
    response = client.post(
        "/api/v1/mediation/rooms/reorder/", {"room_ids": [room_id]}, format="json"
    )
    assert response.data[0]["id"] == room_id


def test_room_errors_are_json_with_fields(world):
    client = client_for(world.admin)
    response = client.post(
        "/api/v1/mediation/rooms/",
        {"name": "x", "room_type": "nope", "level": "village", "region_code": "350602001000"},
        format="json",
    )
    assert response.status_code == 400
    assert set(response.data["errors"]) >= {"room_type", "region"}
    assert response.data["detail"]
    response = client_for(world.mediator).post(
        "/api/v1/mediation/rooms/",
        {
            "name": "x",
            "room_type": "personal",
            "level": "village",
            "region_code": "350602001002",
        },
        format="json",
    )
    assert response.status_code == 403


def test_csv_import_over_the_api(world):
    client = client_for(world.admin)
    bad = SimpleUploadedFile(
        "rooms.csv", "name,type,level,region_code\n坏,卡拉OK,village,350602001002\n".encode()
    )
    response = client.post("/api/v1/mediation/rooms/import/", {"file": bad}, format="multipart")
    assert response.status_code == 400
    assert response.data["errors"]["rows"][0].startswith(("line 3", "第 3 行", "line 2", "第 2 行"))
    assert not MediationRoom.objects.filter(name="坏").exists()
    good = SimpleUploadedFile(
        "rooms.csv", "name,type,level,region_code\n好,评理说事点,village,350602001002\n".encode()
    )
    response = client.post("/api/v1/mediation/rooms/import/", {"file": good}, format="multipart")
    assert response.status_code == 200
    assert response.data == {"created": 1, "updated": 0}


def test_apply_and_follow_a_case_over_the_api(world):
    client = client_for(world.resident)
    response = client.post(
        "/api/v1/mediation/cases/",
        {
            "room": world.rooms["village_a1"].pk,
            "category": "1001",
            "facts": "楼上漏水",
            "parties": parties(),
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    case_id = response.data["id"]
    assert response.data["state"] == "applied"
    assert response.data["actions"] == ["withdraw"]
    # The resident sees the other party's phone masked, their own in full.
    phones = {p["name"]: p["phone"] for p in response.data["parties"]}
    assert phones["李四"] == "137****0002"
    assert phones["张三"] == "13700000001"
    ids = {p["name"]: p["id_number"] for p in response.data["parties"]}
    assert ids["张三"] == "350602199001011234"

    mediator = client_for(world.mediator)
    response = mediator.get(f"/api/v1/mediation/cases/{case_id}/")
    assert "accept" in response.data["actions"]
    response = mediator.post(f"/api/v1/mediation/cases/{case_id}/accept/", {}, format="json")
    assert response.status_code == 200
    assert response.data["state"] == "accepted"
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = mediator.post(
        f"/api/v1/mediation/cases/{case_id}/sessions/",
        {"starts_at": start.isoformat(), "place": "调解室"},
        format="json",
    )
    assert response.status_code == 201
    assert response.data["state"] == "scheduled"
    session_id = response.data["sessions"][0]["id"]
    # Double-booking is a 409 with a message.
    other = walk_in(world)
    mediator.post(f"/api/v1/mediation/cases/{other.pk}/accept/", {}, format="json")
    response = mediator.post(
        f"/api/v1/mediation/cases/{other.pk}/sessions/",
        {"starts_at": start.isoformat()},
        format="json",
    )
    assert response.status_code == 409
    assert response.data["detail"]
    response = mediator.post(f"/api/v1/mediation/sessions/{session_id}/start/")
    assert response.status_code == 200
    response = mediator.post(
        f"/api/v1/mediation/cases/{case_id}/agreement/",
        {
            "form": "written",
            "facts": "漏水",
            "disputed_matters": "维修费",
            "terms": "赔偿500元",
            "performance_method": "三日内转账",
        },
        format="json",
    )
    assert response.status_code == 200
    assert response.data["agreement"]["is_effective"] is False
    for party in response.data["parties"]:
        mediator.post(
            f"/api/v1/mediation/cases/{case_id}/signatures/", {"party": party["id"]}, format="json"
        )
    response = mediator.post(f"/api/v1/mediation/cases/{case_id}/signatures/", {}, format="json")
    assert len(response.data["agreement"]["signatures"]) == 3
    # Signed by everyone, not yet sealed by the committee: not in effect (Art. 29).
    assert response.data["state"] == "in_session"
    assert response.data["agreement"]["is_effective"] is False
    assert "seal" in response.data["actions"]
    response = mediator.post(f"/api/v1/mediation/cases/{case_id}/seal/", {}, format="json")
    assert response.status_code == 200
    assert response.data["state"] == "agreement_reached"
    assert response.data["agreement"]["is_sealed"] is True
    assert response.data["agreement"]["is_effective"] is True
    assert response.data["agreement"]["effective_at"] == response.data["agreement"]["sealed_at"]
    response = mediator.post(
        f"/api/v1/mediation/cases/{case_id}/follow-up/",
        {"performance": "fully", "result": "已赔偿"},
        format="json",
    )
    assert response.data["state"] == "followed_up"
    response = mediator.post(f"/api/v1/mediation/cases/{case_id}/close/", {}, format="json")
    assert response.data["state"] == "closed"
    assert [e["action"] for e in response.data["events"]][-1] == "closed"


def test_case_list_is_scoped_and_filtered(world):
    walk_in(world, "village_a1")
    accepted = walk_in(world, "township_a", category_code="1002")
    client_for(world.mediator).post(f"/api/v1/mediation/cases/{accepted.pk}/accept/", {})
    walk_in(world, "township_b", actor=world.mediator2)
    assert client_for(world.mediator).get("/api/v1/mediation/cases/").data["count"] == 2
    assert client_for(world.mediator2).get("/api/v1/mediation/cases/").data["count"] == 1
    assert client_for(world.resident).get("/api/v1/mediation/cases/").data["count"] == 0
    admin = client_for(world.admin)
    assert admin.get("/api/v1/mediation/cases/").data["count"] == 3
    response = admin.get("/api/v1/mediation/cases/", {"state": "accepted"})
    assert [c["id"] for c in response.data["results"]] == [accepted.pk]
    response = admin.get("/api/v1/mediation/cases/", {"category": "1002"})
    assert [c["id"] for c in response.data["results"]] == [accepted.pk]
    response = admin.get("/api/v1/mediation/cases/", {"room": world.rooms["township_b"].pk})
    assert response.data["count"] == 1
    response = admin.get("/api/v1/mediation/cases/", {"overdue": "true"})
    assert response.data["count"] == 0
    # Another room's case is a 404, not a 403.
    assert (
        client_for(world.mediator2).get(f"/api/v1/mediation/cases/{accepted.pk}/").status_code
        == 404
    )


def test_illegal_moves_are_409(world):
    case = walk_in(world)
    response = client_for(world.mediator).post(
        f"/api/v1/mediation/cases/{case.pk}/follow-up/",
        {"performance": "fully", "result": "x"},
        format="json",
    )
    assert response.status_code == 409
    assert MediationCase.objects.get(pk=case.pk).state == CaseState.APPLIED


def test_referral_over_the_api(world):
    incident = dispute_incident(world)
    handler = client_for(world.handler)
    response = handler.get("/api/v1/mediation/referrals/proposals/", {"incident": incident.pk})
    assert response.status_code == 200
    assert [p["room"]["name"] for p in response.data] == [
        "西桥社区评理说事点",
        "西桥街道两代表一委员调解室",
    ]
    response = handler.post(
        "/api/v1/mediation/referrals/",
        {
            "incident": incident.pk,
            "room": response.data[0]["room"]["id"],
            "parties": parties(),
        },
        format="json",
    )
    assert response.status_code == 201, response.data
    assert response.data["source"] == "incident"
    assert response.data["incident"] == incident.pk
    assert (
        client_for(world.resident)
        .get("/api/v1/mediation/referrals/proposals/", {"incident": incident.pk})
        .status_code
        == 404
    )


def test_the_committee_seal_over_the_api(world):
    case = in_session(world)
    written_agreement(world, case)
    url = f"/api/v1/mediation/cases/{case.pk}/seal/"
    # A supervisor sees the case but does not apply the room's seal.
    assert client_for(world.supervisor).post(url, {}, format="json").status_code == 403
    assert client_for(world.mediator2).post(url, {}, format="json").status_code == 404
    mediator = client_for(world.mediator)
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = mediator.post(url, {"sealed_at": future}, format="json")
    assert response.status_code == 400
    assert "sealed_at" in response.data["errors"] or "sealed_at" in str(response.data)
    response = mediator.post(url, {}, format="json")
    assert response.status_code == 200
    assert response.data["agreement"]["is_sealed"] is True
    assert response.data["agreement"]["sealed_by"] == world.mediator.pk
    assert response.data["agreement"]["is_effective"] is False  # nobody has signed yet
    assert response.data["events"][-1]["action"] == "agreement_sealed"
    assert mediator.post(url, {}, format="json").status_code == 409


def test_stats_api(world):
    client = client_for(world.supervisor)
    response = client.get("/api/v1/mediation/stats/", {"group_by": "level"})
    assert response.status_code == 200
    assert response.data == []
    assert client.get("/api/v1/mediation/stats/", {"group_by": "bogus"}).status_code == 400
    assert client_for(world.resident).get("/api/v1/mediation/stats/").status_code == 403


def test_sessions_calendar_api(world):
    case = walk_in(world)
    mediator = client_for(world.mediator)
    mediator.post(f"/api/v1/mediation/cases/{case.pk}/accept/", {})
    start = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    mediator.post(
        f"/api/v1/mediation/cases/{case.pk}/sessions/",
        {"starts_at": start.isoformat()},
        format="json",
    )
    response = mediator.get(
        "/api/v1/mediation/sessions/",
        {"starts_from": (start - timedelta(hours=1)).isoformat()},
    )
    assert response.data["count"] == 1
    assert client_for(world.mediator2).get("/api/v1/mediation/sessions/").data["count"] == 0


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/mediation/rooms/",
        "/api/v1/mediation/cases/",
        "/api/v1/mediation/cases/{id}/accept/",
        "/api/v1/mediation/cases/{id}/signatures/",
        "/api/v1/mediation/cases/{id}/seal/",
        "/api/v1/mediation/referrals/proposals/",
        "/api/v1/mediation/stats/",
    ],
)
def test_the_openapi_schema_lists_the_mediation_api(world, path):
    response = client_for(world.admin).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert path in response.json()["paths"]


def test_anonymous_users_get_403(db):
    assert APIClient().get("/api/v1/mediation/cases/").status_code == 403


def test_lists_do_not_query_per_row(world, django_assert_max_num_queries):
    for _ in range(8):
        walk_in(world)
    client = client_for(world.admin)
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/mediation/rooms/")
    assert len(response.data["results"]) == 6
    with django_assert_max_num_queries(12):
        response = client.get("/api/v1/mediation/cases/")
    assert response.data["count"] == 8
