"""Incident photos are streamed after a scope check, never linked as public media files."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from incidents import services
from incidents.models import Channel, IncidentPhoto
from incidents.tests.conftest import IN_A1_1, jpeg_upload

pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


@pytest.fixture
def reported(city):
    incident = services.incident_report(
        actor=city.resident,
        category=city.categories["0102"],
        description="垃圾堆积",
        channel=Channel.RESIDENT_WEB,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
        photos=[jpeg_upload()],
    )
    return incident, IncidentPhoto.objects.get(incident=incident)


def urls(photo) -> list[str]:
    return [
        reverse("incidents:photo", args=[photo.pk]),
        reverse("incidents:photo_thumb", args=[photo.pk]),
    ]


def assert_served(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content)[:2] == b"\xff\xd8"  # a JPEG


def test_owner_and_staff_in_scope_get_the_photo(city, reported):
    _incident, photo = reported
    for user in (city.resident, city.dispatcher, city.worker, city.supervisor, city.admin):
        client = signed_in(user)
        for url in urls(photo):
            assert_served(client.get(url))


def test_outsiders_get_404(city, reported):
    _incident, photo = reported
    for user in (city.resident2, city.dispatcher_b, city.worker_b):
        client = signed_in(user)
        for url in urls(photo):
            assert client.get(url).status_code == 404
    for url in urls(photo):
        assert Client().get(url).status_code == 404  # anonymous, nothing tracked
    assert (
        signed_in(city.admin).get(reverse("incidents:photo", args=[photo.pk + 999])).status_code
        == 404
    )


def test_an_anonymous_tracker_sees_the_photos_of_the_tracked_incident(city, reported):
    incident, photo = reported
    client = Client()
    wrong = client.post(
        reverse("incidents:track"), {"no": incident.tracking_number, "code": "WRONG234"}
    )
    assert wrong.status_code == 200
    assert client.get(urls(photo)[0]).status_code == 404
    right = client.post(
        reverse("incidents:track"), {"no": incident.tracking_number, "code": incident.access_code}
    )
    assert right.status_code == 302
    for url in urls(photo):
        assert_served(client.get(url))


def test_pages_and_api_link_the_scoped_urls_only(city, reported):
    incident, photo = reported
    client = signed_in(city.dispatcher)
    page = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert reverse("incidents:photo", args=[photo.pk]) in page
    assert reverse("incidents:photo_thumb", args=[photo.pk]) in page
    assert photo.image.url not in page and "/media/" not in page
    data = client.get(f"/api/v1/incidents/{incident.pk}").json()
    photos = data.get("photos") or [
        p for e in data.get("timeline", []) for p in e.get("photos", [])
    ]
    assert photos and all(p["url"].startswith("/incidents/photos/") for p in photos)
    assert all("/media/" not in p["thumbnail_url"] for p in photos)


def test_media_is_not_served_by_django_in_production(settings, reported):
    _incident, photo = reported
    assert settings.DEBUG is False
    assert Client().get(photo.image.url).status_code == 404
