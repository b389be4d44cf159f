"""Working calendar and time limits.

Limits come as text from the category table: "30m" minutes, "4h" hours, "3d" calendar days,
"5wh" working hours, "2wd" working days. Working days are Monday to Friday unless the admin's
calendar (core.CalendarDay) marks a public holiday or a make-up workday. Working hours are the
morning and afternoon shifts of the admin's office hours (core.OfficeHours). Both are read at
most every 30 s per process (a core.process_cache copy; clear_cache() drops it; saving or
deleting the office hours drops it too, now and on commit).
"""

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.utils import timezone

from core.exceptions import ValidationFailed
from core.process_cache import ProcessCopy

LIMIT_PATTERN = re.compile(r"^\s*(\d+)\s*(m|h|d|wh|wd)\s*$")
_CACHE_SECONDS = 30


def parse_limit(limit: str) -> tuple[int, str]:
    """ "20wd" -> (20, "wd"). Raises ValidationFailed on anything else."""
    match = LIMIT_PATTERN.match(limit or "")
    if not match:
        raise ValidationFailed(f"Unknown time limit {limit!r}: use m, h, d, wh or wd")
    return int(match.group(1)), match.group(2)


@dataclass(frozen=True)
class _Calendar:
    days: dict[date, str]  # core.CalendarDay: date -> "holiday" | "workday"
    shifts: list[tuple[dtime, dtime]]  # core.OfficeHours.shifts()


def _read_calendar() -> _Calendar:
    from core.models import CalendarDay, OfficeHours

    return _Calendar(
        days=dict(CalendarDay.objects.values_list("date", "kind")),
        shifts=OfficeHours.current().shifts(),
    )


# A per-process copy without a token (core.process_cache): a stale calendar for 30 s is fine.
CALENDAR: ProcessCopy[_Calendar] = ProcessCopy(
    "core.calendar", _read_calendar, trust_seconds=_CACHE_SECONDS
)


def clear_cache() -> None:
    """Forget this process's copy (the incident loaders call it after loading calendar days)."""
    CALENDAR.clear_local()


def calendar_changed(**kwargs) -> None:
    """post_save/post_delete of OfficeHours (connected in CoreConfig.ready()): drop this
    process's copy now, and again once the change is committed (a request in another thread
    may have read the old rows in between)."""
    CALENDAR.invalidate()


def _calendar() -> _Calendar:
    calendar = CALENDAR.get()
    if calendar is None:  # a copy without a token always answers
        raise AssertionError("a copy without a token always answers")
    return calendar


def _exceptions() -> dict[date, str]:
    return _calendar().days


def office_hours() -> list[tuple[dtime, dtime]]:
    """The working shifts of a working day (core.OfficeHours): [(08:30, 12:00), (14:00, 17:30)]."""
    return list(_calendar().shifts)


def is_working_day(day: date) -> bool:
    kind = _exceptions().get(day)
    if kind == "holiday":
        return False
    if kind == "workday":
        return True
    return day.weekday() < 5


def next_working_day(day: date) -> date:
    """The day itself if it is a working day, else the next one."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def _shifts(day: date) -> list[tuple[datetime, datetime]]:
    tz = timezone.get_current_timezone()
    result = []
    for start_t, end_t in office_hours():
        result.append(
            (
                datetime.combine(day, start_t, tzinfo=tz),
                datetime.combine(day, end_t, tzinfo=tz),
            )
        )
    return result


def add_working_hours(start: datetime, hours: float) -> datetime:
    remaining = timedelta(hours=hours)
    current = timezone.localtime(start)
    day = current.date()
    for _ in range(3660):  # ten years of days: a calendar with no working day is a data error
        if is_working_day(day):
            for shift_start, shift_end in _shifts(day):
                begin = max(shift_start, current)
                if begin >= shift_end:
                    continue
                available = shift_end - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
                current = shift_end
        day += timedelta(days=1)
    raise ValidationFailed("The working calendar has no working time")


def add_working_days(start: datetime, days: int) -> datetime:
    """The end of the working day `days` working days after the start day.

    A report made on Friday with a 1wd limit is due at the end of Monday's working hours.
    """
    local = timezone.localtime(start)
    day = local.date()
    counted = 0
    for _ in range(3660):
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
            if counted >= days:
                return _shifts(day)[-1][1]
    raise ValidationFailed("The working calendar has no working time")


def add_limit(start: datetime, limit: str) -> datetime:
    """The deadline `limit` after `start`, e.g. add_limit(now, "5wd")."""
    amount, unit = parse_limit(limit)
    if unit == "m":
        return start + timedelta(minutes=amount)
    if unit == "h":
        return start + timedelta(hours=amount)
    if unit == "d":
        return start + timedelta(days=amount)
    if unit == "wh":
        return add_working_hours(start, amount)
    return add_working_days(start, amount)


def add_calendar_days_statutory(start: datetime, days: int) -> datetime:
    """Statutory limits in calendar days (信访工作条例): when the last day is not a working day
    (a public holiday or weekend), the limit ends on the next working day. Ends at 23:59:59."""
    local = timezone.localtime(start)
    last = next_working_day(local.date() + timedelta(days=days))
    return datetime.combine(last, dtime(23, 59, 59), tzinfo=timezone.get_current_timezone())
