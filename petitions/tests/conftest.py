import pytest

from core import calendar
from core.models import CalendarDay
from petitions.tests import factories as f


@pytest.fixture
def district_officer(region_tree):
    return f.officer("officer", region=region_tree["district"])


@pytest.fixture
def street_b_officer(region_tree):
    return f.officer("officer_b", region=region_tree["street_b"])


@pytest.fixture
def holidays(db):
    """2026 public holidays used by the deadline tests (Labour Day, National Day, Qingming)."""

    def add(*days: str) -> None:
        for day in days:
            CalendarDay.objects.create(date=day, kind="holiday")
        calendar.clear_cache()

    add("2026-04-06", "2026-05-01", "2026-05-04", "2026-05-05")
    add(*[f"2026-10-0{d}" for d in range(1, 8)])
    return add
