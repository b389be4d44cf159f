"""The request workflow: submit, accept, 补正 (clock stops and resumes), complete, decline,
rate; scope and role checks; bad input changes nothing."""

from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from core import calendar
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.models import Notification, SmsMessage
from resident_services import services
from resident_services.models import ServiceRequest, ServiceRequestAttachment
from resident_services.tests.factories import jpeg_upload, pdf_upload

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)


def submit(svc, item=None, **kwargs):
    kwargs.setdefault("attachments", [pdf_upload()])
    return services.request_submit(
        actor=kwargs.pop("actor", svc.resident), item_id=(item or svc.certificate).pk, **kwargs
    )


def test_submit_in_own_community_starts_the_clock_and_tells_the_handlers(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        request = submit(svc, details="需要开具居住证明")
    assert request.state == "submitted"
    assert request.community == svc.a1 and request.region_code == svc.a1.code
    assert request.number.startswith("FW20261207")
    # 3 working days from Monday: the end of Thursday's working hours.
    assert request.due_at == calendar.add_working_days(MONDAY_10, 3)
    assert timezone.localtime(request.due_at).date().isoformat() == "2026-12-10"
    assert request.attachments.count() == 1
    assert [e.action for e in request.events.all()] == ["submit"]
    told = set(
        Notification.objects.filter(url__endswith=f"/{request.pk}/").values_list("user", flat=True)
    )
    assert told == {svc.staff_a1.pk}  # not the legal adviser nor the doctor: not their kind


def test_own_community_items_are_refused_elsewhere_and_nothing_is_written(svc):
    with pytest.raises(ValidationFailed) as error:
        submit(svc, community_id=svc.b1.pk)
    assert "community" in error.value.extra
    assert not ServiceRequest.objects.exists()
    assert not ServiceRequestAttachment.objects.exists()


def test_any_community_items_can_be_handled_in_another_community(svc):
    request = submit(svc, svc.allowance, community_id=svc.b1.pk)
    assert request.community == svc.b1
    assert services.handler_ids_for(request) == [svc.staff_b1.pk]


def test_missing_materials_are_refused_with_a_field_message(svc):
    with pytest.raises(ValidationFailed) as error:
        submit(svc, attachments=[])
    assert "身份证" in error.value.extra["attachments"][0]
    assert not ServiceRequest.objects.exists()


def test_an_item_without_materials_needs_no_attachment(svc):
    assert submit(svc, svc.repair, attachments=[]).state == "submitted"


def test_a_fake_document_is_refused(svc):
    from django.core.files.uploadedfile import SimpleUploadedFile

    fake = SimpleUploadedFile("id.pdf", b"MZ not a pdf", content_type="application/pdf")
    with pytest.raises(ValidationFailed):
        submit(svc, attachments=[fake])
    assert not ServiceRequest.objects.exists()


def test_a_resident_without_a_community_must_choose_one(svc):
    svc.resident.home_region = None
    svc.resident.save()
    with pytest.raises(ValidationFailed) as error:
        submit(svc, svc.allowance)
    assert "community" in error.value.extra


def test_the_whole_loop_with_materials_asked_for(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        request = submit(svc)
        first_due = request.due_at
        services.request_accept(actor=svc.staff_a1, request_id=request.pk)
        services.request_ask_materials(
            actor=svc.staff_a1, request_id=request.pk, missing="租房合同"
        )
    request.refresh_from_db()
    assert request.state == "awaiting_materials" and request.paused_at is not None
    sms = SmsMessage.objects.get(dedupe_key__startswith=f"service-request-{request.pk}-materials")
    assert sms.phone == svc.resident.phone and "租房合同" in sms.text
    # Two working days pass (Tue, Wed) while the clock stands still.
    with time_machine.travel(MONDAY_10 + timedelta(days=2), tick=False):
        services.request_supply(
            actor=svc.resident, request_id=request.pk, attachments=[jpeg_upload()]
        )
    request.refresh_from_db()
    assert request.state == "accepted"  # back where it was
    assert request.due_at == calendar.add_working_days(first_due, 2)
    assert request.attachments.filter(supplement=True).count() == 1
    with time_machine.travel(MONDAY_10 + timedelta(days=3), tick=False):
        services.request_complete(actor=svc.staff_a1, request_id=request.pk, result="已开具")
        services.request_rate(actor=svc.resident, request_id=request.pk, rating=5, comment="快")
    request.refresh_from_db()
    assert request.state == "completed" and request.closed_on_time is True
    assert request.rating == 5
    assert [e.action for e in request.events.order_by("created_at", "id")] == [
        "submit",
        "accept",
        "ask_materials",
        "supply",
        "complete",
        "rate",
    ]
    supply = request.events.get(action="supply")
    assert supply.data == {"paused_working_days": 2}
    assert supply.from_state == "awaiting_materials" and supply.to_state == "accepted"


def test_supplying_before_acceptance_returns_to_submitted(svc):
    request = submit(svc)
    services.request_ask_materials(actor=svc.staff_a1, request_id=request.pk, missing="合同")
    services.request_supply(actor=svc.resident, request_id=request.pk, attachments=[pdf_upload()])
    request.refresh_from_db()
    assert request.state == "submitted"


def test_supply_without_a_file_changes_nothing(svc):
    request = submit(svc)
    services.request_ask_materials(actor=svc.staff_a1, request_id=request.pk, missing="合同")
    with pytest.raises(ValidationFailed):
        services.request_supply(actor=svc.resident, request_id=request.pk, attachments=[])
    request.refresh_from_db()
    assert request.state == "awaiting_materials"
    assert request.events.count() == 2


def test_completing_late_is_not_on_time(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        request = submit(svc)
        services.request_accept(actor=svc.staff_a1, request_id=request.pk)
    with time_machine.travel(MONDAY_10 + timedelta(days=8), tick=False):
        services.request_complete(actor=svc.staff_a1, request_id=request.pk, result="已办")
    request.refresh_from_db()
    assert request.closed_on_time is False


def test_decline_needs_a_reason_and_the_resident_is_told(svc):
    request = submit(svc)
    with pytest.raises(ValidationFailed):
        services.request_decline(actor=svc.staff_a1, request_id=request.pk, reason="  ")
    services.request_decline(actor=svc.staff_a1, request_id=request.pk, reason="不在本社区居住")
    request.refresh_from_db()
    assert request.state == "declined" and request.closed_at is not None
    assert SmsMessage.objects.filter(dedupe_key=f"service-request-{request.pk}-declined").exists()


def test_illegal_moves_are_conflicts(svc):
    request = submit(svc)
    with pytest.raises(ConflictError):
        services.request_complete(actor=svc.staff_a1, request_id=request.pk, result="x")
    with pytest.raises(ConflictError):
        services.request_rate(actor=svc.resident, request_id=request.pk, rating=4)


def test_rating_twice_is_refused(svc):
    request = submit(svc)
    services.request_decline(actor=svc.staff_a1, request_id=request.pk, reason="x")
    services.request_rate(actor=svc.resident, request_id=request.pk, rating=2)
    with pytest.raises(ConflictError):
        services.request_rate(actor=svc.resident, request_id=request.pk, rating=5)
    with pytest.raises(ValidationFailed):
        services.request_rate(actor=svc.resident, request_id=request.pk, rating=9)


def test_only_the_handlers_in_scope_and_of_the_kind_may_move(svc):
    request = submit(svc)
    with pytest.raises(NotFoundError):  # another community's staff
        services.request_accept(actor=svc.staff_b1, request_id=request.pk)
    with pytest.raises(NotFoundError):  # a legal adviser of the street: not their kind
        services.request_accept(actor=svc.lawyer, request_id=request.pk)
    with pytest.raises(PermissionDeniedError):  # the supervisor sees, never moves
        services.request_accept(actor=svc.supervisor_a, request_id=request.pk)
    with pytest.raises(PermissionDeniedError):  # the resident sees, never accepts
        services.request_accept(actor=svc.resident, request_id=request.pk)
    with pytest.raises(NotFoundError):
        services.request_rate(actor=svc.resident2, request_id=request.pk, rating=5)
    request.refresh_from_db()
    assert request.state == "submitted" and request.events.count() == 1


def test_a_legal_adviser_handles_legal_items_in_their_street(svc):
    request = submit(svc, svc.legal, community_id=svc.a1.pk)
    assert services.handler_ids_for(request) == sorted([svc.staff_a1.pk, svc.lawyer.pk])
    services.request_accept(actor=svc.lawyer, request_id=request.pk)
    request.refresh_from_db()
    assert request.handled_by == svc.lawyer


def test_the_timeline_is_append_only(svc):
    request = submit(svc)
    event = request.events.get()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_a_number_clash_draws_another_number(svc, monkeypatch):
    first = submit(svc, svc.repair, attachments=[])
    suffix = first.number[-6:].lower()
    draws = iter([suffix, "abcdef"])

    class Fake:
        def __init__(self, value):
            self.hex = value + "0" * 26

    monkeypatch.setattr(services.uuid, "uuid4", lambda: Fake(next(draws)))
    second = submit(svc, svc.repair, attachments=[])
    assert second.number.endswith("ABCDEF") and second.number != first.number
