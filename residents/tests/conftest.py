"""Fixtures of the residents' tests: the incidents' small city, a clean cache (the rate limits
live there) and an SMS backend that keeps what it sent."""

from __future__ import annotations

import re

import pytest

from incidents.tests.conftest import categories, city  # noqa: F401 - fixtures

SENT: list[tuple[str, str]] = []


class RecordingBackend:
    def send(self, phone: str, text: str) -> None:
        SENT.append((phone, text))


@pytest.fixture(autouse=True)
def _clean(settings):
    from django.core.cache import cache

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.SMS_BACKEND = "residents.tests.conftest.RecordingBackend"
    cache.clear()
    SENT.clear()
    yield
    cache.clear()


def last_code(phone: str) -> str:
    """The code the SMS to `phone` carried (the backend is the only place it ever appears)."""
    for to, text in reversed(SENT):
        if to == phone:
            match = re.search(r"\d{6}", text)
            assert match, text
            return match.group(0)
    raise AssertionError(f"no SMS to {phone}")
