"""core.urls.reverse_for_pk: reverse() once, then a replace per pk."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import NoReverseMatch, reverse, set_script_prefix

from core import urls
from core.urls import reverse_for_pk


@pytest.fixture(autouse=True)
def _fresh_memo():
    urls.clear()
    yield
    urls.clear()
    set_script_prefix("/")


def test_the_url_is_what_reverse_gives():
    incident_url = reverse_for_pk("incidents:detail")
    for pk in (1, 42, 987654320, 10**12):
        assert incident_url(pk) == reverse("incidents:detail", args=[pk])


def test_reverse_runs_once_per_route(monkeypatch):
    calls = []
    real = urls.reverse

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(urls, "reverse", counting)
    incident_url = reverse_for_pk("incidents:detail")
    again = reverse_for_pk("incidents:detail")
    assert [incident_url(pk) for pk in (1, 2, 3)] + [again(4)] == [
        f"/incidents/{pk}/" for pk in (1, 2, 3, 4)
    ]
    assert len(calls) == 1


def test_the_memo_follows_the_script_prefix():
    incident_url = reverse_for_pk("incidents:detail")
    assert incident_url(7) == "/incidents/7/"
    set_script_prefix("/gov/")
    assert incident_url(7) == "/gov/incidents/7/"


@override_settings(ROOT_URLCONF="core.tests.urls_without_incidents")
def test_a_route_that_does_not_reverse():
    with pytest.raises(NoReverseMatch):
        reverse_for_pk("incidents:detail")(7)
    fallback = reverse_for_pk("incidents:detail", fallback=lambda pk: f"/incidents/{pk}/")
    assert fallback(7) == "/incidents/7/"
    assert urls._memo == {}  # nothing memoised while it cannot reverse
