import pytest
from django.core.cache import cache

from core import calendar
from core.models import CalendarDay
from petitions.tests import factories as f


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Filing is rate-limited per account (core.ratelimit, in the cache): user ids repeat from
    test to test, so each test starts with an empty cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def district_officer(region_tree):
    return f.officer("officer", region=region_tree["district"])


@pytest.fixture
def street_a_officer(region_tree):
    """Replies for street A; the district officer is the unit above it (Art. 35)."""
    return f.officer("officer_a", region=region_tree["street_a"])


@pytest.fixture
def city_officer(region_tree):
    """The unit above the district (re-examination, Art. 36)."""
    return f.officer("officer_city", region=region_tree["city"])


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
