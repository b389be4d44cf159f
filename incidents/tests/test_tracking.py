"""Public tracking with a real secret (security review M2, L5): the access code (查询码) issued
with the tracking number, hashed at rest; one budget per client address and one per number,
shared by the page and the API; identical 404s; ratings through tracking record their channel
and user; staff may not rate there; "resend my code"."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from core.models import SmsMessage
from incidents import tracking
from incidents.models import Incident, IncidentEvent, IncidentState
from incidents.tests.conftest import IN_A1_1
from incidents.tests.factories import make_incident

S = IncidentState
pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
TRACK_API = "/api/v1/incidents/track"
RATE_API = "/api/v1/incidents/track/rate"
RESEND_API = "/api/v1/incidents/track/resend-code"
PHONE = "13911112222"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def anonymous(city, **fields):
    values = {"reporter": None, "reporter_phone": PHONE, "reporter_name": "陈先生"}
    values.update(fields)
    return make_incident(city, **values)


def signed_in(user, client_class=Client):
    client = client_class()
    client.force_login(user, backend=BACKEND)
    return client


def page_track(client, number, code):
    return client.post(reverse("incidents:track"), {"no": number, "code": code})


def api_track(client, number, code):
    return client.post(TRACK_API, {"no": number, "code": code}, format="json")


# --- the code ---------------------------------------------------------------------------------


def test_a_report_gets_an_access_code_shown_once_sent_by_sms_and_stored_hashed(
    city, django_capture_on_commit_callbacks
):
    client = Client()
    data = {
        "category": "0102",
        "description": "楼道口垃圾堆积",
        "lat": IN_A1_1[0],
        "lng": IN_A1_1[1],
        "reporter_phone": PHONE,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("incidents:report"), data)
    assert response.status_code == 302
    incident = Incident.objects.get()
    done = client.get(response.url).content.decode()
    code = re.search(r'id="access-code"[^>]*>([^<]+)<', done)[1].strip()
    assert len(code) >= 6 and set(code) <= set(tracking.ACCESS_CODE_ALPHABET)
    assert not set(code) & set("01OIL")
    # Hashed at rest, salted (the same code hashes differently each time).
    assert code not in incident.access_code_hash and incident.access_code_hash
    assert tracking.access_code_matches(incident.access_code_hash, code)
    assert tracking.access_code_hash(code) != tracking.access_code_hash(code)
    sms = SmsMessage.objects.get(phone=PHONE)
    assert code in sms.text and incident.tracking_number in sms.text
    assert code not in response.url
    # The number and the code unlock it in another browser; the phone's last 4 digits do not.
    other = Client()
    assert page_track(other, incident.tracking_number, PHONE[-4:]).status_code == 200
    assert page_track(other, incident.tracking_number, code.lower()).status_code == 302


def test_the_phones_last_digits_no_longer_unlock_anything(city):
    incident = anonymous(city, state=S.FEEDBACK_SENT, result="done")
    client = APIClient()
    assert api_track(client, incident.tracking_number, PHONE[-4:]).status_code == 404
    legacy = client.post(
        TRACK_API, {"no": incident.tracking_number, "phone_last4": PHONE[-4:]}, format="json"
    )
    assert legacy.status_code == 400
    rate = client.post(
        RATE_API,
        {"no": incident.tracking_number, "phone_last4": PHONE[-4:], "rating": 1},
        format="json",
    )
    assert rate.status_code == 400
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT


def test_the_tracking_api_is_post_only_with_nothing_secret_in_the_url(city):
    incident = anonymous(city)
    client = APIClient()
    query = {"no": incident.tracking_number, "code": incident.access_code}
    assert client.get(TRACK_API, query).status_code == 405
    ok = api_track(client, incident.tracking_number, incident.access_code)
    assert ok.status_code == 200 and ok.json()["tracking_number"] == incident.tracking_number


# --- budgets ----------------------------------------------------------------------------------


def test_failures_lock_the_number_for_page_and_api_alike_with_the_same_404(city, settings):
    settings.INCIDENT_TRACK_FAILURES_PER_NUMBER = 3
    incident = anonymous(city)
    browser, api = Client(), APIClient()
    for _ in range(2):
        assert page_track(browser, incident.tracking_number, "WRONG234").status_code == 200
    wrong = api_track(api, incident.tracking_number, "WRONG234")
    missing = api_track(api, "GGNOSUCH22", "WRONG234")
    assert wrong.status_code == missing.status_code == 404
    # Locked now: the right code gets exactly the answer of a wrong one, on both.
    locked = api_track(api, incident.tracking_number, incident.access_code)
    assert locked.status_code == 404 and locked.json() == wrong.json()
    page = page_track(Client(), incident.tracking_number, incident.access_code)
    assert page.status_code == 200 and 'id="track-state"' not in page.content.decode()
    # Another number is not affected, from the same client.
    other = anonymous(city)
    assert api_track(api, other.tracking_number, other.access_code).status_code == 200


def test_the_lock_ends_after_the_configured_period(city, settings):
    import time_machine
    from django.utils import timezone

    settings.INCIDENT_TRACK_FAILURES_PER_NUMBER = 1
    settings.INCIDENT_TRACK_LOCK_MINUTES = 30
    incident = anonymous(city)
    api = APIClient()
    assert api_track(api, incident.tracking_number, "WRONG234").status_code == 404
    assert api_track(api, incident.tracking_number, incident.access_code).status_code == 404
    with time_machine.travel(timezone.now() + timedelta_minutes(31)):
        assert api_track(api, incident.tracking_number, incident.access_code).status_code == 200


def timedelta_minutes(minutes):
    from datetime import timedelta

    return timedelta(minutes=minutes)


def test_the_page_and_the_api_share_one_budget_per_client(city, settings):
    settings.INCIDENT_TRACK_TRIES_PER_10_MINUTES = 3
    browser, api = Client(), APIClient()
    assert page_track(browser, "GGNOSUCH22", "WRONG234").status_code == 200
    assert page_track(browser, "GGNOSUCH23", "WRONG234").status_code == 200
    assert api_track(api, "GGNOSUCH24", "WRONG234").status_code == 404
    throttled = api_track(api, "GGNOSUCH25", "WRONG234")
    assert throttled.status_code == 429 and int(throttled["Retry-After"]) > 0
    assert page_track(browser, "GGNOSUCH26", "WRONG234").status_code == 429


# --- rating through tracking ------------------------------------------------------------------


def test_a_rating_through_tracking_records_the_channel_and_the_signed_in_user(
    city, django_capture_on_commit_callbacks
):
    mine = make_incident(city, state=S.FEEDBACK_SENT, result="done")  # city.resident's
    with django_capture_on_commit_callbacks(execute=True):
        rated = signed_in(city.resident, APIClient).post(
            RATE_API,
            {"no": mine.tracking_number, "code": mine.access_code, "rating": 5},
            format="json",
        )
    assert rated.status_code == 200, rated.json()
    event = IncidentEvent.objects.get(incident=mine, action="rate")
    assert event.actor == city.resident and event.data["channel"] == "tracking"
    theirs = anonymous(city, state=S.FEEDBACK_SENT, result="done")
    with django_capture_on_commit_callbacks(execute=True):
        APIClient().post(
            RATE_API,
            {"no": theirs.tracking_number, "code": theirs.access_code, "rating": 4},
            format="json",
        )
    event = IncidentEvent.objects.get(incident=theirs, action="rate")
    assert event.actor is None and event.data == {"rating": 4, "channel": "tracking"}


def test_staff_may_not_rate_through_tracking_a_case_they_can_see(city):
    incident = anonymous(city, state=S.FEEDBACK_SENT, result="done")
    body = {"no": incident.tracking_number, "code": incident.access_code, "rating": 1}
    refused = signed_in(city.dispatcher, APIClient).post(RATE_API, body, format="json")
    assert refused.status_code == 403
    with translation.override("zh-hans"):
        assert "工作人员" in refused.json()["detail"]
    # The page too (the session proved the code first).
    browser = signed_in(city.worker)
    assert page_track(browser, incident.tracking_number, incident.access_code).status_code == 302
    browser.post(
        reverse("incidents:track_rate"),
        {"no": incident.tracking_number, "rate-rating": "1", "rate-reopen": "False"},
    )
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT and incident.rating is None
    assert not IncidentEvent.objects.filter(incident=incident, action="rate").exists()


def test_the_residents_own_view_needs_no_code(city):
    incident = make_incident(city, state=S.FEEDBACK_SENT, result="done")
    client = signed_in(city.resident)
    assert client.get(reverse("incidents:my_reports")).status_code == 200
    detail = client.get(reverse("incidents:detail", args=[incident.pk]))
    assert detail.status_code == 200 and incident.tracking_number in detail.content.decode()


# --- resend my code ---------------------------------------------------------------------------


def test_resend_sends_a_new_code_to_the_reporters_phone_only(
    city, django_capture_on_commit_callbacks
):
    incident = anonymous(city)
    old_hash = incident.access_code_hash
    api = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        wrong = api.post(
            RESEND_API, {"no": incident.tracking_number, "phone": "13900000000"}, format="json"
        )
        missing = api.post(RESEND_API, {"no": "GGNOSUCH22", "phone": PHONE}, format="json")
    assert wrong.status_code == missing.status_code == 202 and wrong.json() == missing.json()
    incident.refresh_from_db()
    assert incident.access_code_hash == old_hash and not SmsMessage.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        right = api.post(
            RESEND_API, {"no": incident.tracking_number, "phone": "139 1111 2222"}, format="json"
        )
    assert right.status_code == 202 and right.json() == wrong.json()
    incident.refresh_from_db()
    assert incident.access_code_hash != old_hash
    sms = SmsMessage.objects.get()
    assert sms.phone == PHONE and incident.tracking_number in sms.text
    new_code = next(
        word
        for word in sms.text.replace("，", " ").replace("。", " ").split()
        if tracking.access_code_matches(incident.access_code_hash, word.split("码")[-1])
    ).split("码")[-1]
    assert api_track(api, incident.tracking_number, incident.access_code).status_code == 404
    assert api_track(api, incident.tracking_number, new_code).status_code == 200
    event = IncidentEvent.objects.get(incident=incident, action="access_code_sent")
    assert not event.public and new_code not in event.note


def test_resend_page_answers_the_same_and_is_limited(city, settings):
    settings.INCIDENT_CODE_RESENDS_PER_NUMBER = "1/h"
    settings.INCIDENT_CODE_RESENDS_PER_CLIENT = "3/h"
    incident = anonymous(city)
    url = reverse("incidents:track_resend")
    browser = Client()
    assert browser.get(url).status_code == 200
    first = browser.post(url, {"no": incident.tracking_number, "phone": PHONE})
    assert first.status_code == 302
    hash_after_first = Incident.objects.get(pk=incident.pk).access_code_hash
    assert hash_after_first != incident.access_code_hash
    # The number's share is used up: nothing more is sent, the answer is the same.
    second = browser.post(url, {"no": incident.tracking_number, "phone": PHONE})
    assert second.status_code == 302 and second.url == first.url
    assert Incident.objects.get(pk=incident.pk).access_code_hash == hash_after_first
    assert browser.post(url, {"no": "GGNOSUCH22", "phone": PHONE}).status_code == 302
    assert browser.post(url, {"no": "GGNOSUCH23", "phone": PHONE}).status_code == 429


# --- existing incidents -----------------------------------------------------------------------


def test_the_data_migration_gives_old_incidents_a_hashed_code_and_their_callers(city):
    migration = importlib.import_module(
        "incidents.migrations.0012_access_codes_and_external_callers"
    )
    old = make_incident(city, external_id="demo-1")
    Incident.objects.filter(pk=old.pk).update(access_code_hash="", external_caller="")
    IncidentEvent.objects.create(incident=old, action="report", actor=city.resident)
    migration.forward(django_apps, None)
    old.refresh_from_db()
    assert old.access_code_hash.startswith("hmac-sha256$")
    assert old.external_caller == f"u{city.resident.pk}"
