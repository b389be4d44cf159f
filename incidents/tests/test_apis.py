"""The REST API: reports, lists and details per role, one endpoint per move, tracking, work
lists, errors as JSON with field messages, and the OpenAPI schema."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import Incident, IncidentEvent, IncidentPhoto, IncidentState
from incidents.tests.conftest import IN_A1_1, OUTSIDE, jpeg_upload
from incidents.tests.factories import ACCESS_CODE, make_incident

S = IncidentState
pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"


@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user, backend=BACKEND)
        return client

    return client_for


def media_files(settings) -> list[str]:
    return [f for _, _, files in os.walk(settings.MEDIA_ROOT) for f in files]


def report_body(**overrides) -> dict:
    body = {"category": "0102", "description": "垃圾堆积", "lat": IN_A1_1[0], "lng": IN_A1_1[1]}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


# --- report -----------------------------------------------------------------------------------


def test_resident_reports_with_json(city, api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(city.resident).post("/api/v1/incidents", report_body(), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["tracking_number"].startswith("GG") and data["channel"] == "resident_web"
    incident = Incident.objects.get(pk=data["id"])
    assert incident.reporter == city.resident and incident.state == S.VERIFYING


def test_grid_worker_reports_with_photos_in_multipart(city, api):
    body = report_body(photos=[jpeg_upload("a.jpg"), jpeg_upload("b.jpg")])
    response = api(city.worker).post("/api/v1/incidents", body, format="multipart")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["channel"] == "patrol"
    assert IncidentPhoto.objects.filter(incident_id=data["id"]).count() == 2
    detail = api(city.worker).get(data["url"]).json()  # the small answer links the detail
    assert len(detail["timeline"][0]["photos"]) == 2


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("missing location", "location"),
        ("outside the city", "location"),
        ("unknown category", "category"),
        ("huge photo", "photos"),
        ("fake photo", "photos"),
    ],
)
def test_bad_reports_are_400_with_field_messages_and_write_nothing(
    city, api, settings, case, field
):
    settings.PHOTO_MAX_BYTES = 20_000
    from PIL import Image

    noise = Image.effect_noise((300, 300), 80).convert("RGB")
    import io

    big = io.BytesIO()
    noise.save(big, format="PNG")
    bodies = {
        "missing location": report_body(lat=None, lng=None),
        "outside the city": report_body(lat=OUTSIDE[0], lng=OUTSIDE[1]),
        "unknown category": report_body(category="9999"),
        "huge photo": report_body(photos=[SimpleUploadedFile("big.png", big.getvalue())]),
        "fake photo": report_body(
            photos=[jpeg_upload(), SimpleUploadedFile("x.jpg", b"plain text, not a photo")]
        ),
    }
    response = api(city.resident).post("/api/v1/incidents", bodies[case], format="multipart")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["detail"] and field in body["errors"]
    assert Incident.objects.count() == 0 and IncidentEvent.objects.count() == 0
    assert media_files(settings) == []


def test_anonymous_cannot_report_through_the_api(city, api):
    response = api().post("/api/v1/incidents", report_body(), format="json")
    assert response.status_code == 403 and Incident.objects.count() == 0


def test_channel_is_checked_against_the_role(city, api):
    response = api(city.resident).post(
        "/api/v1/incidents", report_body(channel="hotline_12345"), format="json"
    )
    assert response.status_code == 400 and "channel" in response.json()["errors"]
    response = api(city.dispatcher).post(
        "/api/v1/incidents",
        report_body(channel="hotline_12345", reporter_phone="13912345678"),
        format="json",
    )
    assert response.status_code == 201
    detail = api(city.dispatcher).get(response.json()["url"]).json()
    assert detail["reporter_phone"] == "13912345678"  # a dispatcher sees contacts


def test_fix_on_spot_endpoint(city, api, django_capture_on_commit_callbacks):
    body = {
        "category": "0201",
        "description": "小广告",
        "result": "已清除",
        "lat": IN_A1_1[0],
        "lng": IN_A1_1[1],
    }
    missing = api(city.worker).post("/api/v1/incidents/fix-on-spot", body, format="multipart")
    assert missing.status_code == 400 and "photos" in missing.json()["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(city.worker).post(
            "/api/v1/incidents/fix-on-spot",
            {**body, "photos": [jpeg_upload()]},
            format="multipart",
        )
    assert response.status_code == 201
    assert Incident.objects.get(pk=response.json()["id"]).state == S.CLOSED


# --- list and detail --------------------------------------------------------------------------


def test_list_is_scoped_filtered_and_paginated(city, api):
    mine = make_incident(city, state=S.VERIFYING)
    other = make_incident(city, state=S.VERIFYING, cell="cell_b1_1", reporter=city.resident2)
    ids = lambda response: {row["id"] for row in response.json()["results"]}  # noqa: E731
    assert ids(api(city.resident).get("/api/v1/incidents")) == {mine.pk}
    assert ids(api(city.dispatcher_b).get("/api/v1/incidents")) == {other.pk}
    assert ids(api(city.admin).get("/api/v1/incidents")) == {mine.pk, other.pk}
    assert ids(api(city.admin).get("/api/v1/incidents?community=350602002001")) == {other.pk}
    response = api(city.admin).get("/api/v1/incidents")
    assert response.json()["count"] == 2
    assert response.json()["results"][0]["assignee"] is None


def test_detail_shows_the_timeline_per_role_and_masks_phones(city, api):
    incident = make_incident(
        city,
        state=S.DISPATCHED,
        category="0101",
        assignee=city.handler,
        handling_department="城管执法",
        handling_level="department",
    )
    from incidents import services

    services.incident_return(incident_id=incident.pk, actor=city.handler, reason="不归我们")
    staff = api(city.dispatcher).get(f"/api/v1/incidents/{incident.pk}").json()
    resident = api(city.resident).get(f"/api/v1/incidents/{incident.pk}").json()
    supervisor = api(city.supervisor).get(f"/api/v1/incidents/{incident.pk}").json()
    assert [e["action"] for e in staff["timeline"]] == ["return"]
    assert resident["timeline"] == [] and resident["verifier"] is None
    assert staff["reporter_phone"] == "13800000001" == resident["reporter_phone"]
    assert supervisor["reporter_phone"] == "138****0001"
    assert "dispatch" in staff["actions"] and resident["actions"] == []


def test_detail_outside_the_scope_is_404(city, api):
    incident = make_incident(city, state=S.VERIFYING)
    for outsider in (city.dispatcher_b, city.worker_b, city.resident2):
        response = api(outsider).get(f"/api/v1/incidents/{incident.pk}")
        assert response.status_code == 404 and response.json()["detail"]


# --- moves ------------------------------------------------------------------------------------


def test_verify_then_dispatch_to_a_unit_by_region_code(city, api):
    incident = make_incident(city, state=S.VERIFYING)
    response = api(city.worker).post(
        f"/api/v1/incidents/{incident.pk}/verify", {"note": "属实"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == "verified"
    response = api(city.dispatcher).post(
        f"/api/v1/incidents/{incident.pk}/dispatch",
        {"level": "street", "region": "350602001000"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["handling_region"] == "西桥街道"
    bad = api(city.admin).post(
        f"/api/v1/incidents/{incident.pk}/reassign",
        {"level": "street", "region": "999"},
        format="json",
    )
    assert bad.status_code == 400 and "region" in bad.json()["errors"]


def test_claim_race_loser_gets_409_naming_the_winner(city, api):
    from tests.builders import make_grid_worker

    other = make_grid_worker("other", cells=[city.cell_a1_1])
    incident = make_incident(city, state=S.DISPATCHED, assignee=None, claimable=True)
    assert api(other).post(f"/api/v1/incidents/{incident.pk}/claim").status_code == 200
    response = api(city.worker).post(f"/api/v1/incidents/{incident.pk}/claim")
    assert response.status_code == 409 and "other" in response.json()["detail"]


def test_forbidden_and_invalid_moves(city, api):
    incident = make_incident(city, state=S.VERIFYING)
    forbidden = api(city.resident).post(f"/api/v1/incidents/{incident.pk}/verify")
    assert forbidden.status_code == 403
    hidden = api(city.worker_b).post(f"/api/v1/incidents/{incident.pk}/verify")
    assert hidden.status_code == 404
    no_reason = api(city.worker).post(f"/api/v1/incidents/{incident.pk}/invalid", {})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()["errors"]
    illegal = api(city.worker).post(
        f"/api/v1/incidents/{incident.pk}/resolve", {"result": "x"}, format="json"
    )
    assert illegal.status_code in (403, 409)
    conflict = api(city.admin).post(
        f"/api/v1/incidents/{incident.pk}/resolve", {"result": "x"}, format="json"
    )
    assert conflict.status_code == 409
    assert Incident.objects.get(pk=incident.pk).state == S.VERIFYING


def test_resolve_with_photos_and_extension_by_api(city, api):
    incident = make_incident(city, state=S.ACCEPTED)
    until = (incident.resolve_due_at + timedelta(days=2)).isoformat()
    response = api(city.worker).post(
        f"/api/v1/incidents/{incident.pk}/request-extension",
        {"until": until, "reason": "缺材料"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["extension_requested"]
    response = api(city.dispatcher).post(f"/api/v1/incidents/{incident.pk}/approve-extension")
    assert response.status_code == 200 and response.json()["extension_count"] == 1
    response = api(city.worker).post(
        f"/api/v1/incidents/{incident.pk}/resolve",
        {"result": "已处理", "photos": [jpeg_upload()]},
        format="multipart",
    )
    assert response.status_code == 200 and response.json()["state"] == "resolved"


def test_rate_by_the_reporter(city, api, django_capture_on_commit_callbacks):
    incident = make_incident(city, state=S.FEEDBACK_SENT)
    bad = api(city.resident).post(f"/api/v1/incidents/{incident.pk}/rate", {"rating": 9})
    assert bad.status_code == 400 and "rating" in bad.json()["errors"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(city.resident).post(
            f"/api/v1/incidents/{incident.pk}/rate", {"rating": 5, "comment": "好"}, format="json"
        )
    assert response.status_code == 200
    assert Incident.objects.get(pk=incident.pk).state == S.CLOSED


def test_every_move_has_an_endpoint(city, api):
    from incidents.apis import MOVES

    incident = make_incident(city, state=S.CLOSED)
    for segment in MOVES:
        response = api(city.admin).post(f"/api/v1/incidents/{incident.pk}/{segment}")
        assert response.status_code in (400, 403, 409), (segment, response.status_code)


# --- public tracking --------------------------------------------------------------------------


def test_anonymous_tracking_and_rating(city, api, django_capture_on_commit_callbacks):
    incident = make_incident(city, state=S.FEEDBACK_SENT, result="已清理")
    client = api()
    url = "/api/v1/incidents/track"
    ok = client.post(url, {"no": incident.tracking_number, "code": ACCESS_CODE}, format="json")
    assert ok.status_code == 200
    assert ok.json()["can_rate"] and ok.json()["result"] == "已清理"
    assert "reporter_phone" not in ok.json()
    wrong = client.post(url, {"no": incident.tracking_number, "code": "K7M3Q9XQ"}, format="json")
    missing = client.post(url, {"no": "GGNOSUCH22", "code": ACCESS_CODE}, format="json")
    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()
    with django_capture_on_commit_callbacks(execute=True):
        rated = client.post(
            "/api/v1/incidents/track/rate",
            {"no": incident.tracking_number, "code": ACCESS_CODE, "rating": 4},
            format="json",
        )
    assert rated.status_code == 200 and rated.json()["state"] == "rated"
    assert Incident.objects.get(pk=incident.pk).state == S.CLOSED  # then the task closed it


def test_tracking_is_throttled(city, api):
    client = api()
    codes = [
        client.post(
            "/api/v1/incidents/track", {"no": f"GGNOSUCH{i:02}", "code": "K7M3Q9XP"}, format="json"
        ).status_code
        for i in range(25)
    ]
    assert codes[:20] == [404] * 20 and codes[-1] == 429


def test_categories_hide_internal_ones_from_the_public(city, api):
    public = {row["code"] for row in api().get("/api/v1/categories").json()}
    staff = {row["code"] for row in api(city.dispatcher).get("/api/v1/categories").json()}
    assert "1202" not in public and "1202" in staff and "0101" in public


# --- work lists -------------------------------------------------------------------------------


def test_my_tasks_queue_overdue_and_workload(city, api):
    late = make_incident(city, state=S.ACCEPTED, due_at=timezone.now() - timedelta(hours=1))
    make_incident(city, state=S.VERIFYING)
    tasks = api(city.worker).get("/api/v1/incidents/my-tasks").json()
    assert [row["id"] for row in tasks["assigned"]] == [late.pk]
    assert len(tasks["to_verify"]) == 1
    queue = api(city.dispatcher).get("/api/v1/incidents/queue?overdue=true")
    assert [row["id"] for row in queue.json()["results"]] == [late.pk]
    assert queue.json()["results"][0]["overdue"] is True
    assert api(city.resident).get("/api/v1/incidents/queue").status_code == 403
    overdue = api(city.supervisor).get("/api/v1/incidents/overdue").json()
    assert [row["id"] for row in overdue["results"]] == [late.pk]
    workload = api(city.dispatcher).get("/api/v1/incidents/workload").json()
    assert {row["name"] for row in workload} == {"worker_a1", "worker_a1_2"}
    hidden = api(city.dispatcher).get("/api/v1/incidents/workload?region=350602002000")
    assert hidden.status_code == 404


def test_schema_documents_every_incident_endpoint():
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    from incidents.apis import MOVES

    schema = SchemaGenerator().get_schema(request=None, public=True)
    validate_schema(schema)
    paths = schema["paths"]
    for segment in MOVES:
        operation = paths[f"/api/v1/incidents/{{id}}/{segment}"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(operation["responses"])
    for path in (
        "/api/v1/incidents",
        "/api/v1/incidents/track",
        "/api/v1/categories",
        "/api/v1/incidents/my-tasks",
        "/api/v1/incidents/queue",
        "/api/v1/incidents/overdue",
    ):
        assert path in paths


# --- external_id: the caller's own idempotency key (security review L1) -----------------------


def test_external_id_is_scoped_to_the_caller(city, api):
    url = "/api/v1/incidents"
    first = api(city.resident).post(url, report_body(external_id="mine-1"), format="json")
    again = api(city.resident).post(url, report_body(external_id="mine-1"), format="json")
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and Incident.objects.count() == 1
    assert first.json()["access_code"] and again.json()["access_code"] == ""  # shown once
    # Another caller with the same key gets a record of their own, never the first one.
    other = api(city.resident2).post(url, report_body(external_id="mine-1"), format="json")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
    assert other.json()["tracking_number"] != first.json()["tracking_number"]
    assert Incident.objects.count() == 2


def test_users_may_not_send_external_id_on_the_partner_channels(city, api):
    partner_ticket = make_incident(
        city, channel="hotline_12345", reporter=None, external_id="P:T-1"
    )
    for channel in ("hotline_12345", "diversion_110"):
        response = api(city.dispatcher).post(
            "/api/v1/incidents",
            report_body(channel=channel, reporter_phone="13912345678", external_id="P:T-1"),
            format="json",
        )
        assert response.status_code == 400, response.json()
        assert "external_id" in response.json()["errors"]
        assert partner_ticket.tracking_number not in response.content.decode()
    assert Incident.objects.count() == 1


def test_staff_who_only_reported_an_incident_elsewhere_get_the_resident_view(city, api):
    # dispatcher_b works street B; they reported this one in street A (security review I3).
    incident = make_incident(city, state=S.VERIFYING, reporter=city.dispatcher_b)
    IncidentEvent.objects.create(incident=incident, action="report", to_state="reported")
    IncidentEvent.objects.create(
        incident=incident, action="assign_verifier", note="内部备注", public=False
    )
    theirs = api(city.dispatcher_b).get(f"/api/v1/incidents/{incident.pk}")
    assert theirs.status_code == 200
    assert "内部备注" not in theirs.content.decode()
    assert [row["action"] for row in theirs.json()["timeline"]] == ["report"]
    worker = api(city.dispatcher).get(f"/api/v1/incidents/{incident.pk}")
    assert "内部备注" in worker.content.decode()
