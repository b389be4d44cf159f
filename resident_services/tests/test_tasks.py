"""The sweep (warnings, overdue, escalation to the street then the district) and the
day-before reminders, with time travel; both idempotent."""

from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.utils import timezone

from core.models import Notification, SmsMessage
from resident_services import services, tasks
from resident_services.models import ServicePolicy
from resident_services.tests.factories import hours_for, pdf_upload
from tests.builders import make_user

pytestmark = pytest.mark.django_db
TZ = timezone.get_current_timezone()
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=TZ)


def submit(svc):
    return services.request_submit(
        actor=svc.resident, item_id=svc.certificate.pk, attachments=[pdf_upload()]
    )


def actions(request):
    return [e.action for e in request.events.order_by("created_at", "id")]


def test_sweep_warns_once_before_the_deadline(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        request = submit(svc)  # due Thursday 17:30
    with time_machine.travel(MONDAY_10 + timedelta(days=1), tick=False):
        assert tasks.sweep_deadlines() == {"warned": 0, "overdue": 0, "escalated": 0}
    with time_machine.travel(MONDAY_10 + timedelta(days=3), tick=False):  # Thursday 10:00
        assert tasks.sweep_deadlines()["warned"] == 1
        assert tasks.sweep_deadlines()["warned"] == 0
    request.refresh_from_db()
    assert actions(request) == ["submit", "warn"]
    assert (
        Notification.objects.filter(
            user=svc.staff_a1, dedupe_key__contains=f"-{request.pk}-warn-"
        ).count()
        == 1
    )


def test_sweep_flags_overdue_and_escalates_to_the_street_then_the_district(svc):
    street_staff = make_user("svc_street", roles=["service_handler"], region=svc.street_a)
    with time_machine.travel(MONDAY_10, tick=False):
        request = submit(svc)
    with time_machine.travel(MONDAY_10 + timedelta(days=4), tick=False):  # Friday: overdue
        counts = tasks.sweep_deadlines()
        assert counts["overdue"] == 1 and counts["escalated"] == 1
        assert tasks.sweep_deadlines() == {"warned": 0, "overdue": 0, "escalated": 0}
    request.refresh_from_db()
    assert request.overdue and request.ever_overdue and request.escalation_level == 1
    escalation = request.events.get(action="escalate")
    assert escalation.data == {"level": 1, "region": svc.street_a.code}
    assert not escalation.public
    told = set(
        Notification.objects.filter(
            dedupe_key=f"service-request-{request.pk}-escalate-1"
        ).values_list("user", flat=True)
    )
    assert told == {svc.supervisor_a.pk, svc.lawyer.pk, street_staff.pk}  # scoped at the street
    # Two working days after the deadline (Thursday): Friday and Monday; then the district.
    with time_machine.travel(MONDAY_10 + timedelta(days=7), tick=False):  # Monday 10:00
        assert tasks.sweep_deadlines()["escalated"] == 0
    with time_machine.travel(MONDAY_10 + timedelta(days=8), tick=False):  # Tuesday
        assert tasks.sweep_deadlines()["escalated"] == 1
        assert tasks.sweep_deadlines()["escalated"] == 0
    request.refresh_from_db()
    assert request.escalation_level == 2
    assert Notification.objects.filter(
        user=svc.supervisor_district, dedupe_key=f"service-request-{request.pk}-escalate-2"
    ).exists()


def test_the_sweep_leaves_requests_waiting_for_materials_alone(svc):
    with time_machine.travel(MONDAY_10, tick=False):
        request = submit(svc)
        services.request_ask_materials(actor=svc.staff_a1, request_id=request.pk, missing="合同")
    with time_machine.travel(MONDAY_10 + timedelta(days=10), tick=False):
        assert tasks.sweep_deadlines() == {"warned": 0, "overdue": 0, "escalated": 0}
        services.request_supply(
            actor=svc.resident, request_id=request.pk, attachments=[pdf_upload()]
        )
    request.refresh_from_db()
    # The deadline moved by the working days it stood still: not overdue on resumption.
    assert request.due_at > MONDAY_10 + timedelta(days=10)
    assert not request.overdue


def test_reminders_go_the_day_before_once(svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))  # Tuesdays
    with time_machine.travel(MONDAY_10 - timedelta(days=2), tick=False):  # Saturday
        booking = services.booking_create(
            actor=svc.resident, hours_id=hours.pk, starts_at=datetime(2026, 12, 8, 9, 30, tzinfo=TZ)
        )
    with time_machine.travel(datetime(2026, 12, 7, 7, 0, tzinfo=TZ), tick=False):
        assert tasks.remind_bookings() == 0  # not at night
    with time_machine.travel(MONDAY_10 - timedelta(days=1), tick=False):  # Sunday: too early
        assert tasks.remind_bookings() == 0
    with time_machine.travel(MONDAY_10, tick=False):
        assert tasks.remind_bookings() == 1
        assert tasks.remind_bookings() == 0
    sms = SmsMessage.objects.get(dedupe_key=f"service-booking-{booking.pk}-reminder")
    assert sms.phone == svc.resident.phone and "09:30" in sms.text
    booking.refresh_from_db()
    assert booking.reminded_at is not None


def test_cancelled_bookings_get_no_reminder(svc):
    ServicePolicy.objects.create(cancel_hours_before=1)
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    with time_machine.travel(MONDAY_10 - timedelta(days=2), tick=False):
        booking = services.booking_create(
            actor=svc.resident, hours_id=hours.pk, starts_at=datetime(2026, 12, 8, 9, 0, tzinfo=TZ)
        )
        services.booking_cancel(actor=svc.resident, booking_id=booking.pk)
    with time_machine.travel(MONDAY_10, tick=False):
        assert tasks.remind_bookings() == 0
    assert not SmsMessage.objects.filter(dedupe_key__startswith="service-booking-").exists()


def test_the_beat_schedule_runs_both_tasks(settings):
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "resident_services.tasks.sweep_deadlines",
        "resident_services.tasks.remind_bookings",
    } <= tasks_scheduled
