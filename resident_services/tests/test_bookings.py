"""Consultation hours and bookings: publishing, booking a free slot, a slot taken meanwhile,
cancelling within the admins' limits, and no double booking under concurrency (threads with
their own connections, on SQLite here and on PostgreSQL in CI)."""

import threading
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from resident_services import selectors, services
from resident_services.models import ConsultationBooking, ServicePolicy
from resident_services.tests.factories import build_services, hours_for, next_slot
from tests.builders import make_region_tree, make_user

TZ = timezone.get_current_timezone()
SATURDAY_10 = datetime(2026, 12, 5, 10, 0, tzinfo=TZ)
TUESDAY_9 = datetime(2026, 12, 8, 9, 0, tzinfo=TZ)


@pytest.mark.django_db
def test_a_legal_adviser_publishes_hours_in_a_community_of_their_street(svc):
    hours = services.hours_publish(
        actor=svc.lawyer, community_id=svc.a2.pk, weekday=2, start=time(14), end=time(16)
    )
    assert hours.community == svc.a2
    with pytest.raises(ValidationFailed):  # street B is not theirs
        services.hours_publish(
            actor=svc.lawyer, community_id=svc.b1.pk, weekday=2, start=time(14), end=time(16)
        )
    with pytest.raises(ValidationFailed):
        services.hours_publish(
            actor=svc.lawyer, community_id=svc.a1.pk, weekday=2, start=time(16), end=time(14)
        )
    with pytest.raises(PermissionDeniedError):  # community staff publish no hours
        services.hours_publish(
            actor=svc.staff_a1, community_id=svc.a1.pk, weekday=2, start=time(9), end=time(10)
        )


@pytest.mark.django_db
def test_slots_are_offered_and_a_booked_one_is_shown_taken(svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    with time_machine.travel(SATURDAY_10, tick=False):
        slots = selectors.free_slots(community=svc.a1, days=7)
        assert [s.starts_at for s in slots] == [TUESDAY_9, TUESDAY_9 + timedelta(minutes=30)]
        assert all(s.free for s in slots) and slots[0].provider_name == "张律师"
        services.booking_create(actor=svc.resident, hours_id=hours.pk, starts_at=TUESDAY_9)
        slots = selectors.free_slots(community=svc.a1, days=7)
    assert [s.free for s in slots] == [False, True]


@pytest.mark.django_db
def test_a_slot_taken_meanwhile_is_refused_and_nothing_changes(svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    with time_machine.travel(SATURDAY_10, tick=False):
        services.booking_create(actor=svc.resident, hours_id=hours.pk, starts_at=TUESDAY_9)
        with pytest.raises(ConflictError) as error:
            services.booking_create(actor=svc.resident2, hours_id=hours.pk, starts_at=TUESDAY_9)
    assert "starts_at" in error.value.extra
    assert ConsultationBooking.objects.count() == 1
    assert ConsultationBooking.objects.get().resident == svc.resident


@pytest.mark.django_db
def test_only_real_future_slots_can_be_booked(svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    with time_machine.travel(SATURDAY_10, tick=False):
        for wrong in (
            TUESDAY_9 + timedelta(minutes=10),  # not on a slot boundary
            TUESDAY_9 + timedelta(hours=1),  # after the hours
            TUESDAY_9 + timedelta(days=1),  # another weekday
            TUESDAY_9 + timedelta(days=28),  # too far ahead
            SATURDAY_10 - timedelta(days=4),  # in the past
        ):
            with pytest.raises(ValidationFailed):
                services.booking_create(actor=svc.resident, hours_id=hours.pk, starts_at=wrong)
        with pytest.raises(ValidationFailed):
            services.booking_create(actor=svc.lawyer, hours_id=hours.pk, starts_at=TUESDAY_9)
    assert not ConsultationBooking.objects.exists()


@pytest.mark.django_db
def test_withdrawn_hours_take_no_bookings(svc):
    hours = hours_for(svc.lawyer, svc.a1, weekday=1)
    services.hours_withdraw(actor=svc.lawyer, hours_id=hours.pk)
    with time_machine.travel(SATURDAY_10, tick=False), pytest.raises(ValidationFailed):
        services.booking_create(actor=svc.resident, hours_id=hours.pk, starts_at=TUESDAY_9)


@pytest.mark.django_db
def test_cancelling_frees_the_slot_within_the_limits(svc):
    ServicePolicy.objects.create(cancel_hours_before=24, cancellations_per_30_days=1)
    hours = hours_for(svc.lawyer, svc.a1, weekday=1, start=time(9), end=time(10))
    with time_machine.travel(SATURDAY_10, tick=False):
        first = services.booking_create(actor=svc.resident, hours_id=hours.pk, starts_at=TUESDAY_9)
        services.booking_cancel(actor=svc.resident, booking_id=first.pk)
        again = services.booking_create(actor=svc.resident2, hours_id=hours.pk, starts_at=TUESDAY_9)
        assert again.state == "booked"
        later = services.booking_create(
            actor=svc.resident, hours_id=hours.pk, starts_at=TUESDAY_9 + timedelta(minutes=30)
        )
        with pytest.raises(ValidationFailed):  # one cancellation in 30 days is the limit
            services.booking_cancel(actor=svc.resident, booking_id=later.pk)
        with pytest.raises(ConflictError):
            services.booking_cancel(actor=svc.resident, booking_id=first.pk)
    too_late = TUESDAY_9 - timedelta(hours=3)
    with time_machine.travel(too_late, tick=False), pytest.raises(ValidationFailed):
        services.booking_cancel(actor=svc.resident2, booking_id=again.pk)
    later.refresh_from_db()
    assert later.state == "booked"


@pytest.mark.django_db
def test_nobody_cancels_another_residents_booking(svc):
    from core.exceptions import NotFoundError

    hours = hours_for(svc.lawyer, svc.a1, weekday=1)
    with time_machine.travel(SATURDAY_10, tick=False):
        booking = services.booking_create(
            actor=svc.resident, hours_id=hours.pk, starts_at=TUESDAY_9
        )
        with pytest.raises(NotFoundError):
            services.booking_cancel(actor=svc.resident2, booking_id=booking.pk)


# --- concurrency --------------------------------------------------------------------------------


def _booking_race(bookers: int):
    tree = make_region_tree()
    svc = build_services(tree)
    hours = hours_for(svc.lawyer, svc.a1)
    slot = next_slot(hours)
    residents = [make_user(f"racer{n}", roles=["resident"]) for n in range(bookers)]
    barrier = threading.Barrier(bookers)
    winners, losers, errors = [], [], []

    def book(resident):
        try:
            barrier.wait(timeout=30)
            services.booking_create(actor=resident, hours_id=hours.pk, starts_at=slot)
            winners.append(resident)
        except ConflictError as exc:
            losers.append(exc.message)
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(r,)) for r in residents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return winners, losers, errors, ConsultationBooking.objects.filter(starts_at=slot)


def _assert_one_booking(winners, losers, errors, bookings, bookers):
    assert not errors, errors
    assert len(winners) == 1, (winners, losers)
    assert len(losers) == bookers - 1
    assert all("taken" in m or "预约" in m for m in losers)
    assert bookings.count() == 1 and bookings.get().resident == winners[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_on_sqlite_have_exactly_one_winner():
    winners, losers, errors, bookings = _booking_race(6)
    _assert_one_booking(winners, losers, errors, bookings, 6)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_on_postgres_have_exactly_one_winner():
    # SELECT ... FOR UPDATE on the hours row queues the bookers; the partial unique index is
    # the last word if anything slips past.
    winners, losers, errors, bookings = _booking_race(12)
    _assert_one_booking(winners, losers, errors, bookings, 12)


@pytest.mark.django_db
def test_the_database_itself_refuses_a_second_live_booking_of_a_slot(svc):
    from django.db import IntegrityError, transaction

    hours = hours_for(svc.lawyer, svc.a1)
    slot = next_slot(hours)
    fields = {
        "hours": hours,
        "provider": svc.lawyer,
        "community": svc.a1,
        "starts_at": slot,
        "ends_at": slot + timedelta(minutes=30),
    }
    ConsultationBooking.objects.create(resident=svc.resident, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsultationBooking.objects.create(resident=svc.resident2, **fields)
    # A cancelled booking does not hold the slot.
    ConsultationBooking.objects.create(resident=svc.resident2, state="cancelled", **fields)
