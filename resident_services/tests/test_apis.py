"""The REST API: the catalogue, requests with one endpoint per move, 400s with field messages,
scope (404 outside it), slots and bookings (409 for a slot taken), hours, supervision."""

import json
from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from resident_services.models import ConsultationBooking, ServiceRequest
from resident_services.tests.factories import hours_for, pdf_upload

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_items_are_public():
    response = api().get("/api/v1/services/items/")
    assert response.status_code == 200
    assert {"code", "materials", "reach", "time_limit_days"} <= set(response.json()[0])


def test_request_loop_over_the_api(svc):
    resident = api(svc.resident)
    missing = resident.post(
        "/api/v1/services/requests/", {"item": svc.certificate.pk}, format="multipart"
    )
    assert missing.status_code == 400 and "attachments" in json.dumps(missing.json())
    assert not ServiceRequest.objects.exists()
    created = resident.post(
        "/api/v1/services/requests/",
        {"item": svc.certificate.pk, "details": "证明", "attachments": [pdf_upload()]},
        format="multipart",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["community"] == svc.a1.code and body["attachments"] == ["id-card.pdf"]
    assert [e["action"] for e in body["timeline"]] == ["submit"]

    staff = api(svc.staff_a1)
    queue = staff.get("/api/v1/services/requests/", {"queue": "true"}).json()
    assert [row["id"] for row in queue] == [pk]
    assert api(svc.staff_b1).get(f"/api/v1/services/requests/{pk}/").status_code == 404
    assert api(svc.staff_b1).post(f"/api/v1/services/requests/{pk}/accept/").status_code == 404
    assert staff.post(f"/api/v1/services/requests/{pk}/ask-materials/", {}).status_code == 400
    response = staff.post(
        f"/api/v1/services/requests/{pk}/ask-materials/", {"missing": "租房合同"}, format="json"
    )
    assert response.json()["state"] == "awaiting_materials" and response.json()["clock_stopped"]
    supplied = resident.post(
        f"/api/v1/services/requests/{pk}/supply/",
        {"attachments": [pdf_upload("contract.pdf")]},
        format="multipart",
    )
    assert supplied.status_code == 200, supplied.content
    assert supplied.json()["state"] == "submitted"
    assert staff.post(f"/api/v1/services/requests/{pk}/accept/").status_code == 200
    assert staff.post(f"/api/v1/services/requests/{pk}/rate/", {"rating": 5}).status_code == 403
    done = staff.post(f"/api/v1/services/requests/{pk}/complete/", {"result": "已办"})
    assert done.json()["state"] == "completed"
    assert resident.post(f"/api/v1/services/requests/{pk}/rate/", {"rating": 7}).status_code == 400
    rated = resident.post(f"/api/v1/services/requests/{pk}/rate/", {"rating": 4})
    assert rated.json()["rating"] == 4
    assert resident.post(f"/api/v1/services/requests/{pk}/rate/", {"rating": 4}).status_code == 409
    # The resident's timeline shows no internal events; the list shows their own only.
    assert [r["id"] for r in api(svc.resident2).get("/api/v1/services/requests/").json()] == []


def test_bookings_over_the_api(svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    slot = datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=TZ), tick=False):
        slots = api(svc.resident).get("/api/v1/services/slots/", {"community": svc.a1.code})
        assert slots.status_code == 200 and len(slots.json()) == 4  # two Tuesdays in 14 days
        assert api(svc.resident).get("/api/v1/services/slots/").status_code == 400
        booked = api(svc.resident).post(
            "/api/v1/services/bookings/", {"hours": hours.pk, "starts_at": slot.isoformat()}
        )
        assert booked.status_code == 201
        taken = api(svc.resident2).post(
            "/api/v1/services/bookings/", {"hours": hours.pk, "starts_at": slot.isoformat()}
        )
        assert taken.status_code == 409 and "starts_at" in json.dumps(taken.json())
        booking_id = booked.json()["id"]
        assert (
            api(svc.resident2).post(f"/api/v1/services/bookings/{booking_id}/cancel/").status_code
            == 404
        )
        cancelled = api(svc.resident).post(f"/api/v1/services/bookings/{booking_id}/cancel/")
        assert cancelled.json()["state"] == "cancelled"
    assert ConsultationBooking.objects.get().state == "cancelled"


def test_hours_over_the_api(svc):
    assert api(svc.staff_a1).get("/api/v1/services/hours/").status_code == 403
    created = api(svc.lawyer).post(
        "/api/v1/services/hours/",
        {"community": svc.a2.code, "weekday": 4, "start": "09:00", "end": "11:00"},
    )
    assert created.status_code == 201, created.content
    outside = api(svc.lawyer).post(
        "/api/v1/services/hours/",
        {"community": svc.b1.code, "weekday": 4, "start": "09:00", "end": "11:00"},
    )
    assert outside.status_code == 400
    hours_id = created.json()["id"]
    assert api(svc.doctor).post(f"/api/v1/services/hours/{hours_id}/withdraw/").status_code == 404
    withdrawn = api(svc.lawyer).post(f"/api/v1/services/hours/{hours_id}/withdraw/")
    assert withdrawn.json()["active"] is False


def test_supervision_over_the_api(svc):
    assert api(svc.resident).get("/api/v1/services/supervision/").status_code == 404
    body = api(svc.supervisor_a).get("/api/v1/services/supervision/").json()
    assert body["code"] == svc.street_a.code
    assert [child["code"] for child in body["children"]] == [svc.a1.code, svc.a2.code]
    assert (
        api(svc.supervisor_a)
        .get("/api/v1/services/supervision/", {"region": svc.street_b.code})
        .status_code
        == 404
    )
