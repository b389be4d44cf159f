"""Pages: the catalogue, applying, the detail's moves, bad input with a message and nothing
changed, consultations, supervision and its xlsx."""

import io
from datetime import datetime, time

import pytest
import time_machine
from django.utils import timezone
from openpyxl import load_workbook

from resident_services import services
from resident_services.models import ConsultationBooking, ServiceRequest
from resident_services.tests.factories import hours_for, pdf_upload

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()


def client_for(client, user):
    client.force_login(user)
    return client


def test_the_catalogue_is_public_and_lists_the_groups(client, svc):
    response = client.get("/services/")
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("法律服务", "医疗健康", "证明办理", "生活服务", "居住证明", "法律咨询"):
        assert name in text
    item = client.get(f"/services/items/{svc.certificate.pk}/")
    assert item.status_code == 200 and "租房合同或房产证明" in item.content.decode()
    assert client.get("/services/items/987654/").status_code == 404


def test_apply_shows_the_materials_and_refuses_without_them(client, svc):
    client_for(client, svc.resident)
    url = f"/services/items/{svc.certificate.pk}/apply/"
    page = client.get(url)
    assert page.status_code == 200 and "租房合同或房产证明" in page.content.decode()
    response = client.post(url, {"community": svc.a1.pk, "details": "x"})
    assert response.status_code == 400
    assert "身份证" in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_apply_then_handle_then_rate_through_the_pages(client, svc):
    client_for(client, svc.resident)
    response = client.post(
        f"/services/items/{svc.certificate.pk}/apply/",
        {"community": svc.a1.pk, "details": "开证明", "attachments": [pdf_upload()]},
    )
    request = ServiceRequest.objects.get()
    assert (
        response.status_code == 302 and response["Location"] == f"/services/requests/{request.pk}/"
    )
    detail = client.get(response["Location"]).content.decode()
    assert request.number in detail and "id-card.pdf" in detail

    staff = client.__class__()
    staff.force_login(svc.staff_a1)
    assert request.number in staff.get("/services/queue/").content.decode()
    base = f"/services/requests/{request.pk}"
    assert staff.post(f"{base}/accept/", {"accept-note": ""}).status_code == 302
    # Completing without a result: 400, a message, nothing changed.
    bad = staff.post(f"{base}/complete/", {"complete-result": ""})
    assert bad.status_code == 400
    request.refresh_from_db()
    assert request.state == "accepted"
    assert staff.post(f"{base}/complete/", {"complete-result": "已开具"}).status_code == 302
    # The resident may not complete; another community's staff sees nothing.
    assert client.post(f"{base}/decline/", {"decline-reason": "x"}).status_code == 403
    other = client.__class__()
    other.force_login(svc.staff_b1)
    assert other.get(f"{base}/").status_code == 404
    assert other.post(f"{base}/decline/", {"decline-reason": "x"}).status_code == 404
    # The resident rates.
    assert client.post(f"{base}/rate/", {"rate-rating": 5, "rate-comment": "好"}).status_code == 302
    request.refresh_from_db()
    assert request.state == "completed" and request.rating == 5
    page = client.get(f"{base}/").content.decode()
    assert 'id="request-rating"' in page and 'id="form-rate"' not in page


def test_the_resident_sees_only_public_events_and_a_masked_phone_is_shown_to_staff(client, svc):
    request = services.request_submit(
        actor=svc.resident, item_id=svc.certificate.pk, attachments=[pdf_upload()]
    )
    staff = client_for(client, svc.staff_a1)
    page = staff.get(f"/services/requests/{request.pk}/").content.decode()
    assert svc.resident.phone not in page and svc.resident.phone[-4:] in page


def test_attachments_download_only_for_those_who_see_the_request(client, svc):
    request = services.request_submit(
        actor=svc.resident, item_id=svc.certificate.pk, attachments=[pdf_upload()]
    )
    attachment = request.attachments.get()
    url = f"/services/requests/{request.pk}/attachments/{attachment.pk}/"
    client_for(client, svc.resident2)
    assert client.get(url).status_code == 404
    client.force_login(svc.staff_a1)
    response = client.get(url)
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]


def test_booking_a_slot_and_a_slot_taken_meanwhile(client, svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    slot = datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=TZ), tick=False):
        client_for(client, svc.resident)
        page = client.get("/services/consultations/").content.decode()
        assert "张律师" in page and 'class="book-button"' in page
        response = client.post(
            "/services/consultations/book/",
            {"hours": hours.pk, "starts_at": slot.isoformat(), "topic": "劳动合同"},
        )
        assert response.status_code == 302
        client.force_login(svc.resident2)
        taken = client.post(
            "/services/consultations/book/", {"hours": hours.pk, "starts_at": slot.isoformat()}
        )
        assert taken.status_code == 400
        assert 'id="book-error"' in taken.content.decode()
    assert ConsultationBooking.objects.get().resident == svc.resident


def test_cancel_through_the_page(client, svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    with time_machine.travel(datetime(2026, 12, 5, 10, 0, tzinfo=TZ), tick=False):
        booking = services.booking_create(
            actor=svc.resident, hours_id=hours.pk, starts_at=datetime(2026, 12, 8, 9, tzinfo=TZ)
        )
        client_for(client, svc.resident2)
        assert client.post(f"/services/consultations/{booking.pk}/cancel/").status_code == 404
        client.force_login(svc.resident)
        assert client.post(f"/services/consultations/{booking.pk}/cancel/").status_code == 302
    booking.refresh_from_db()
    assert booking.state == "cancelled"


def test_hours_page_for_consultants_only(client, svc):
    client_for(client, svc.staff_a1)
    assert client.get("/services/consultations/hours/").status_code == 403
    client.force_login(svc.doctor)
    response = client.post(
        "/services/consultations/hours/",
        {
            "community": svc.a1.pk,
            "weekday": 3,
            "start": "14:00",
            "end": "16:00",
            "slot_minutes": 20,
        },
    )
    assert response.status_code == 302
    assert svc.doctor.consultation_hours.get().slot_minutes == 20


def test_supervision_page_and_export(client, svc):
    services.request_submit(
        actor=svc.resident, item_id=svc.certificate.pk, attachments=[pdf_upload()]
    )
    client_for(client, svc.resident)
    assert client.get("/services/supervision/").status_code == 403
    client.force_login(svc.supervisor_a)
    page = client.get("/services/supervision/").content.decode()
    assert svc.a1.name in page and svc.street_b.name not in page
    assert client.get("/services/supervision/", {"region": svc.b1.code}).status_code == 404
    response = client.get("/services/supervision/export/")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.values)
    assert rows[0][:3] == ("区域", "区划代码", "申请数")
    assert rows[1][1] == svc.street_a.code and rows[1][2] == 1
