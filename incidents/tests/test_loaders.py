"""Reference data: categories from the CSV, the working calendar, the demo incidents."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.calendar import add_limit, is_working_day
from core.models import CalendarDay
from incidents.loaders import load_calendar, load_categories
from incidents.models import Category, Incident

pytestmark = pytest.mark.django_db


def test_categories_load_from_the_projects_csv():
    result = load_categories()
    assert result.created == Category.objects.count() == 57
    road = Category.objects.get(code="0401")
    assert (road.parent.code, road.name, road.name_en) == ("04", "路面塌陷", "Road collapse")
    assert (road.handled_at, road.department, road.urgent) == ("department", "市政", True)
    assert (road.verify_within, road.dispatch_within, road.resolve_within) == ("30m", "10m", "4h")
    assert Category.objects.get(code="1001").is_dispute
    internal = set(Category.objects.filter(internal_only=True).values_list("code", flat=True))
    assert internal == {"1202", "1301"}
    assert Category.objects.filter(parent__isnull=True).count() == 11


def test_loading_twice_keeps_admin_edits_unless_asked():
    load_categories()
    Category.objects.filter(code="0102").update(resolve_within="3wd")
    again = load_categories()
    assert (again.created, again.updated) == (0, 0)
    assert Category.objects.get(code="0102").resolve_within == "3wd"
    reset = load_categories(update=True)
    assert reset.updated == 1 and Category.objects.get(code="0102").resolve_within == "1wd"


def test_load_categories_command():
    out = io.StringIO()
    call_command("load_categories", "--calendar", stdout=out)
    call_command("load_categories", "--calendar", stdout=out)
    assert "57 created" in out.getvalue() and "0 created" in out.getvalue()
    assert CalendarDay.objects.count() > 60


def test_calendar_2026_and_2027():
    load_calendar()
    load_calendar()
    assert not is_working_day(date(2026, 2, 16))  # 春节
    assert is_working_day(date(2026, 2, 14))  # a Saturday make-up workday
    assert not is_working_day(date(2026, 10, 5))  # 国庆
    assert is_working_day(date(2026, 10, 10))
    assert not is_working_day(date(2027, 2, 8))
    # 1 working day from the Friday before the Spring Festival ends on the make-up Saturday.
    friday = timezone.make_aware(datetime(2026, 2, 13, 10, 0))
    assert timezone.localtime(add_limit(friday, "1wd")).date() == date(2026, 2, 14)


def test_demo_loads_incidents_through_the_services_once(django_capture_on_commit_callbacks):
    """The real demo city, loaded twice: incidents exist in various states with timelines."""
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):  # as outside a test transaction
        call_command("load_demo_city", stdout=out)
    states = dict(Incident.objects.values_list("external_id", "state"))
    assert len(states) == 8
    assert {"verifying", "accepted", "closed", "dispatched", "invalid"} <= set(states.values())
    for incident in Incident.objects.all():
        assert incident.events.filter(action="report").count() == 1
    events = sum(i.events.count() for i in Incident.objects.all())
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo_city", stdout=out)
    assert Incident.objects.count() == 8
    assert sum(i.events.count() for i in Incident.objects.all()) == events
    assert "0 demo incidents created" in out.getvalue()
