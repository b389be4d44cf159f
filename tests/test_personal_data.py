"""No personal data in URLs or application logs (PIPL).

Typical flows run through the real pages and API (a hotline report with the reporter's phone,
a web petition with an ID number, logins with a phone, the tracking lookups); afterwards the log
file of the whole test session (root conftest.py: every record the application logged, through
the configured personal-data filter) and every URL used or linked are searched for a mobile
number or an 18-character ID number."""

import logging
import re

import pytest
from django.test import Client
from django.urls import reverse

from core.logging import PersonalDataFilter
from incidents.loaders import load_categories
from incidents.models import Category, Incident
from incidents.tests.factories import build_city
from petitions.models import Petition
from petitions.tests import factories as pf
from tests.builders import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.django_db

# A phone or ID number standing alone (a random token's digits inside letters are not one).
PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
REPORTER_PHONE = "13912340001"
LOGIN_PHONE = "13812340002"
PETITIONER_PHONE = "13712340003"


class RecordingClient(Client):
    """A test client that remembers every URL it asked for, was sent to, or saw in a page."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls: list[str] = []

    def request(self, **request):
        response = super().request(**request)
        query = request.get("QUERY_STRING", "")
        self.urls.append(request["PATH_INFO"] + (f"?{query}" if query else ""))
        if response.get("Location"):
            self.urls.append(response["Location"])
        content_type = response.get("Content-Type", "")
        if content_type.startswith("text/html") and not getattr(response, "streaming", False):
            html = response.content.decode()
            self.urls.extend(re.findall(r'(?:href|action|src|hx-get|hx-post)="([^"]*)"', html))
        return response


def personal_data_in(text: str) -> list[str]:
    return PHONE.findall(text) + ID_NUMBER.findall(text)


def test_the_filter_masks_what_any_module_logs(application_log_file):
    logger = logging.getLogger("gridgov.test_personal_data")
    logger.warning("reporter %s, id %s", "13900001111", "350602199001011235")
    try:
        raise ValueError("bad phone 13900002222")
    except ValueError:
        logger.exception("failed for 350602198505051236")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = application_log_file.read_text(encoding="utf-8")
    assert "139****1111" in text and "3506**********1235" in text
    assert "139****2222" in text  # the traceback too
    for value in ("13900001111", "350602199001011235", "13900002222", "350602198505051236"):
        assert value not in text


def test_every_configured_handler_masks_personal_data():
    handlers = logging.getLogger().handlers
    configured = [h for h in handlers if not type(h).__module__.startswith(("_pytest", "pytest"))]
    assert configured
    for handler in configured:
        assert any(isinstance(f, PersonalDataFilter) for f in handler.filters), handler


def test_typical_flows_leave_no_personal_data_in_urls_or_logs(
    region_tree, application_log_file, django_capture_on_commit_callbacks
):
    load_categories()
    city = build_city(region_tree, {c.code: c for c in Category.objects.all()})
    client = RecordingClient()

    # Logins with a phone: a wrong password first, then the right one.
    make_user("login_phone", roles=["resident"], phone=LOGIN_PHONE)
    login = reverse("accounts:login")
    assert client.post(login, {"username": LOGIN_PHONE, "password": "nope"}).status_code == 200
    assert (
        client.post(login, {"username": LOGIN_PHONE, "password": DEFAULT_PASSWORD}).status_code
        == 302
    )

    # A web petition with an ID number and a phone; the petitioner reads it back.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("petitions:file"),
            {
                "kind": "request",
                "category": pf.category("07").pk,
                "region": region_tree["a1"].pk,
                "matter": "楼下餐馆油烟扰民",
                "request": "请求整改",
                "facts_and_reasons": "油烟直排",
                "name": "张三",
                "id_number": pf.ID_A,
                "phone": PETITIONER_PHONE,
                "address": "西桥社区1号",
            },
        )
    assert response.status_code == 302
    petition = Petition.objects.get()
    assert client.get(response["Location"]).status_code == 200
    client.post(reverse("accounts:logout"))

    # A hotline report with the reporter's phone, through the API, read by the dispatcher.
    client.force_login(city.dispatcher)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/incidents",
            {
                "category": "0102",
                "description": "垃圾堆积",
                "lat": 24.505,
                "lng": 117.605,
                "channel": "hotline_12345",
                "reporter_phone": REPORTER_PHONE,
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert client.get(reverse("incidents:detail", args=[incident.pk])).status_code == 200
    client.logout()

    # Anonymous tracking lookups use POST and the access code (no phone digits at all).
    response = client.post(
        reverse("incidents:track"),
        {"no": incident.tracking_number, "code": response.json()["access_code"]},
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        client.get(response["Location"])
    response = client.post(
        reverse("petitions:track"),
        {"tracking_number": petition.tracking_number, "phone_last4": PETITIONER_PHONE[-4:]},
    )
    assert response.status_code in (200, 302)

    # The URLs: none carries a phone or an ID number.
    assert len(client.urls) > 10
    leaks = {url: personal_data_in(url) for url in client.urls if personal_data_in(url)}
    assert leaks == {}
    assert not any("phone=" in url for url in client.urls)

    # The logs of the whole session so far (these flows included): no phone, no ID number.
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = application_log_file.read_text(encoding="utf-8")
    for value in (REPORTER_PHONE, LOGIN_PHONE, PETITIONER_PHONE, pf.ID_A):
        assert value not in text
    leaked = [line for line in text.splitlines() if personal_data_in(line)]
    assert leaked == []
