from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core import calendar
from core.exceptions import ValidationFailed
from core.models import CalendarDay

SH = ZoneInfo("Asia/Shanghai")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.fixture
def national_day(db):
    """2026: 1-7 October off (Thursday 1st ... Wednesday 7th), Saturday 10th worked (调休)."""
    for day in range(1, 8):
        CalendarDay.objects.create(
            date=date(2026, 10, day), kind=CalendarDay.Kind.HOLIDAY, name="国庆节"
        )
    CalendarDay.objects.create(date=date(2026, 10, 10), kind=CalendarDay.Kind.WORKDAY)
    calendar.clear_cache()


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("30m", (30, "m")),
        ("4h", (4, "h")),
        (" 3d ", (3, "d")),
        ("5wh", (5, "wh")),
        ("20wd", (20, "wd")),
    ],
)
def test_parse_limit(text, parsed):
    assert calendar.parse_limit(text) == parsed


@pytest.mark.parametrize("text", ["", "5", "d5", "5 days", "-1d", "1.5h", None])
def test_parse_limit_refuses_anything_else(text):
    with pytest.raises(ValidationFailed):
        calendar.parse_limit(text)


@pytest.mark.django_db
def test_weekends_are_not_working_days():
    assert calendar.is_working_day(date(2026, 11, 20))  # Friday
    assert not calendar.is_working_day(date(2026, 11, 21))
    assert not calendar.is_working_day(date(2026, 11, 22))
    assert calendar.next_working_day(date(2026, 11, 21)) == date(2026, 11, 23)
    assert calendar.next_working_day(date(2026, 11, 20)) == date(2026, 11, 20)


def test_holidays_and_make_up_workdays(national_day):
    assert not calendar.is_working_day(date(2026, 10, 5))  # a Monday off
    assert calendar.is_working_day(date(2026, 10, 10))  # a Saturday worked
    assert calendar.next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)


@pytest.mark.django_db
def test_calendar_limits_ignore_the_calendar():
    start = at(2026, 11, 20, 16, 0)
    assert calendar.add_limit(start, "30m") == at(2026, 11, 20, 16, 30)
    assert calendar.add_limit(start, "10h") == at(2026, 11, 21, 2, 0)
    assert calendar.add_limit(start, "3d") == at(2026, 11, 23, 16, 0)


@pytest.mark.django_db
def test_working_hours_skip_lunch_nights_and_weekends():
    # Friday 11:00 + 2 working hours: 11:00-12:00, then 14:00-15:00.
    assert calendar.add_limit(at(2026, 11, 20, 11, 0), "2wh") == at(2026, 11, 20, 15, 0)
    # Friday 17:00 + 1 wh: 17:00-17:30, then Monday 08:30-09:00.
    assert calendar.add_limit(at(2026, 11, 20, 17, 0), "1wh") == at(2026, 11, 23, 9, 0)
    # Saturday evening counts from Monday morning.
    assert calendar.add_limit(at(2026, 11, 21, 20, 0), "1wh") == at(2026, 11, 23, 9, 30)


@pytest.mark.django_db
def test_working_days_end_at_the_close_of_the_last_day():
    assert calendar.add_limit(at(2026, 11, 20, 9, 0), "1wd") == at(2026, 11, 23, 17, 30)
    assert calendar.add_limit(at(2026, 11, 16, 9, 0), "5wd") == at(2026, 11, 23, 17, 30)


def test_working_days_follow_the_holiday_calendar(national_day):
    # Reported Wednesday 30 September: 1 wd is Thursday 8 October, 3 wd is Saturday 10th (worked).
    assert calendar.add_limit(at(2026, 9, 30, 10, 0), "1wd") == at(2026, 10, 8, 17, 30)
    assert calendar.add_limit(at(2026, 9, 30, 10, 0), "3wd") == at(2026, 10, 10, 17, 30)
    assert calendar.add_limit(at(2026, 9, 30, 17, 0), "1wh") == at(2026, 10, 8, 9, 0)


def test_statutory_calendar_days_move_past_a_holiday(national_day):
    # 15 days from 16 September end on 1 October, a holiday: the limit moves to 8 October.
    assert calendar.add_calendar_days_statutory(at(2026, 9, 16, 10, 0), 15) == at(
        2026, 10, 8, 23, 59, 59
    )
    # An ordinary working last day stays.
    assert calendar.add_calendar_days_statutory(at(2026, 11, 2, 10, 0), 15) == at(
        2026, 11, 17, 23, 59, 59
    )


def test_calendar_changes_are_seen_after_clear_cache(national_day):
    assert calendar.is_working_day(date(2026, 10, 10))
    CalendarDay.objects.filter(date=date(2026, 10, 10)).delete()
    calendar.clear_cache()
    assert not calendar.is_working_day(date(2026, 10, 10))


def test_office_hours_are_admin_data_and_change_working_hour_limits(db):
    """Domain review #5: the office hours are an admin-edited row (core.OfficeHours), not a
    setting; a change is seen at once by add_working_hours and add_working_days."""
    from datetime import time

    from core.models import OfficeHours

    # No row: the defaults, 08:30-12:00 and 14:00-17:30 (Monday 2 November 2026).
    assert OfficeHours.current().shifts() == [
        (time(8, 30), time(12, 0)),
        (time(14, 0), time(17, 30)),
    ]
    assert calendar.add_working_hours(at(2026, 11, 2, 11, 0), 2) == at(2026, 11, 2, 15, 0)
    assert calendar.add_working_days(at(2026, 11, 2, 10, 0), 1) == at(2026, 11, 3, 17, 30)

    hours = OfficeHours.current()
    hours.morning_start, hours.morning_end = time(9, 0), time(12, 30)
    hours.afternoon_start, hours.afternoon_end = time(13, 30), time(18, 0)
    hours.full_clean()
    hours.save()  # clears the calendar's 30 s cache
    assert OfficeHours.objects.count() == 1
    assert calendar.add_working_hours(at(2026, 11, 2, 11, 0), 2) == at(2026, 11, 2, 14, 0)
    assert calendar.add_working_hours(at(2026, 11, 2, 8, 0), 1) == at(2026, 11, 2, 10, 0)
    assert calendar.add_working_days(at(2026, 11, 2, 10, 0), 1) == at(2026, 11, 3, 18, 0)
    assert calendar.add_limit(at(2026, 11, 2, 17, 0), "2wh") == at(2026, 11, 3, 10, 0)


def test_office_hours_must_run_in_order(db):
    from datetime import time

    from django.core.exceptions import ValidationError

    from core.models import OfficeHours

    hours = OfficeHours(morning_start=time(12, 0), morning_end=time(8, 30))
    with pytest.raises(ValidationError):
        hours.full_clean()
    overlapping = OfficeHours(morning_end=time(14, 30))  # past the afternoon's start
    with pytest.raises(ValidationError):
        overlapping.full_clean()


def test_office_hours_are_edited_in_the_admin(admin_client):
    from core.models import OfficeHours

    url = "/admin/core/officehours/add/"
    form = {
        "morning_start": "09:00",
        "morning_end": "12:00",
        "afternoon_start": "13:00",
        "afternoon_end": "17:00",
    }
    assert admin_client.post(url, form).status_code == 302
    assert str(OfficeHours.current()) == "09:00-12:00, 13:00-17:00"
    assert calendar.add_working_hours(at(2026, 11, 2, 11, 0), 2) == at(2026, 11, 2, 14, 0)
    # One row only: no second "add".
    assert admin_client.get(url).status_code == 403
