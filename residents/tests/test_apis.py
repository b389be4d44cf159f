"""Residents' API: codes, sign-up and sign-in, 我的, claim, data, closing, 附议, 办理公开, and
the staff's merge and public-result endpoints of incidents."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from incidents.models import IncidentFollower, IncidentState
from incidents.tests.factories import make_incident
from residents.models import PhoneCode
from residents.tests.conftest import last_code

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def api():
    return APIClient()


def test_codes_sign_up_and_mine(api, city, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/residents/codes", {"phone": PHONE, "purpose": "sign_up"})
    assert response.status_code == 202
    again = api.post("/api/v1/residents/codes", {"phone": PHONE, "purpose": "sign_up"})
    assert again.status_code == 429 and "Retry-After" in again
    bad = api.post("/api/v1/residents/codes", {"phone": "123", "purpose": "sign_up"})
    assert bad.status_code == 400 and "phone" in bad.json()["errors"]
    body = {"phone": PHONE, "name": "林小梅", "home_region": city.a1.pk, "privacy_accepted": True}
    wrong = api.post(
        "/api/v1/residents/sign-up",
        {**body, "code": "000000" if last_code(PHONE) != "000000" else "111111"},
        format="json",
    )
    assert wrong.status_code == 400 and "code" in wrong.json()["errors"]
    assert not User.objects.filter(phone=PHONE).exists()
    response = api.post(
        "/api/v1/residents/sign-up", {**body, "code": last_code(PHONE)}, format="json"
    )
    assert response.status_code == 201 and response.json()["home_region"] == city.a1.pk
    mine = api.get("/api/v1/residents/mine")
    assert mine.status_code == 200
    assert [s["key"] for s in mine.json()] == [
        "reports",
        "mediation",
        "petitions",
        "services",
        "volunteering",
        "proposals",
        "follows",
        "notices",
    ]


def test_sign_in_by_code(api, city, django_capture_on_commit_callbacks):
    phone = city.resident.phone
    unknown = api.post(
        "/api/v1/residents/codes",
        {"phone": "13900000000", "purpose": "sign_in"},
        REMOTE_ADDR="10.1.1.1",
    )
    assert unknown.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/v1/residents/codes", {"phone": phone, "purpose": "sign_in"})
    response = api.post("/api/v1/residents/sign-in", {"phone": phone, "code": last_code(phone)})
    assert response.status_code == 200 and response.json()["id"] == city.resident.pk
    assert PhoneCode.objects.get().used_at is not None


def test_data_claim_and_close(api, city):
    make_incident(city, reporter=city.resident, description="门口垃圾")
    assert api.get("/api/v1/residents/mine/data").status_code == 403
    api.force_authenticate(city.resident)
    assert api.get("/api/v1/residents/mine/data").json()["reports"][0]["description"] == "门口垃圾"
    assert api.post("/api/v1/residents/mine/claim").status_code == 403  # phone not verified
    assert api.post("/api/v1/residents/mine/close", {"confirm_phone": "1"}).status_code == 400
    response = api.post("/api/v1/residents/mine/close", {"confirm_phone": city.resident.phone})
    assert response.status_code == 200
    city.resident.refresh_from_db()
    assert not city.resident.is_active


def test_nearby_and_follow(api, city):
    incident = make_incident(city, reporter=city.resident2, description="路灯坏了")
    response = api.get(
        "/api/v1/residents/nearby", {"category": "0102", "lat": 24.505, "lng": 117.605}
    )
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["public_id"] == incident.public_id and row["text"] == "路灯坏了"
    assert "tracking_number" not in row and "reporter" not in str(row)
    assert api.get("/api/v1/residents/nearby", {"category": "0102"}).status_code == 400
    dispute = api.get(
        "/api/v1/residents/nearby", {"category": "1001", "lat": 24.505, "lng": 117.605}
    )
    assert dispute.json()["results"] == []
    assert (
        api.post("/api/v1/residents/follows", {"public_id": incident.public_id}).status_code == 403
    )
    api.force_authenticate(city.resident)
    assert (
        api.post("/api/v1/residents/follows", {"public_id": incident.public_id}).status_code == 201
    )
    assert IncidentFollower.objects.filter(incident=incident, user=city.resident).exists()
    assert api.post("/api/v1/residents/follows", {"public_id": "RNOSUCH"}).status_code == 404


def test_results(api, city):
    shown = make_incident(
        city, state=IncidentState.CLOSED, closed_at=timezone.now(), public_result="已清运"
    )
    rows = api.get("/api/v1/residents/results").json()
    assert [r["public_id"] for r in rows] == [shown.public_id] and rows[0]["result"] == "已清运"
    assert api.get(f"/api/v1/residents/results/{shown.public_id}").status_code == 200
    assert api.get("/api/v1/residents/results/RNOSUCH").status_code == 404
    assert api.get("/api/v1/residents/figures").status_code == 200


def test_merge_and_public_result_apis(api, city):
    target = make_incident(city)
    duplicate = make_incident(city)
    url = f"/api/v1/incidents/{duplicate.pk}/merge"
    api.force_authenticate(city.worker)
    assert api.post(url, {"into": target.public_id, "reason": "r"}).status_code == 403
    api.force_authenticate(city.dispatcher_b)
    assert api.post(url, {"into": target.public_id, "reason": "r"}).status_code == 404
    api.force_authenticate(city.dispatcher)
    assert api.post(url, {"into": target.public_id}).status_code == 400
    response = api.post(url, {"into": target.public_id, "reason": "同一处"})
    assert response.status_code == 200 and response.json()["merged_into"] == target.public_id
    assert api.post(url, {"into": target.public_id, "reason": "again"}).status_code == 409
    response = api.post(f"/api/v1/incidents/{target.pk}/public-result", {"public_result": "好"})
    assert response.status_code == 200


def test_the_api_wants_the_captcha_after_several_sends(api, city):
    from datetime import timedelta

    import time_machine
    from captcha.models import CaptchaStore

    from residents import services

    start = timezone.now()
    for n in range(services.CAPTCHA_AFTER):
        with time_machine.travel(start + timedelta(minutes=2 * n)):
            body = {"phone": f"1391234560{n}", "purpose": "sign_up"}
            assert api.post("/api/v1/residents/codes", body).status_code == 202
    with time_machine.travel(start + timedelta(minutes=10)):
        body = {"phone": "13912345699", "purpose": "sign_up"}
        refused = api.post("/api/v1/residents/codes", body)
        assert refused.status_code == 400 and "captcha" in refused.json()["errors"]
        key = CaptchaStore.generate_key()
        answer = CaptchaStore.objects.get(hashkey=key).response
        wrong = api.post(
            "/api/v1/residents/codes", {**body, "captcha_key": key, "captcha_answer": "nope"}
        )
        assert wrong.status_code == 400
        key = CaptchaStore.generate_key()
        answer = CaptchaStore.objects.get(hashkey=key).response
        sent = api.post(
            "/api/v1/residents/codes", {**body, "captcha_key": key, "captcha_answer": answer}
        )
        assert sent.status_code == 202
    assert PhoneCode.objects.filter(phone="13912345699").count() == 1
