"""Hostile text in every free-text field renders inert.

Scripts (`<script>`, `"><img onerror>`), SQL (`'; DROP TABLE …`) and control characters (ESC,
the right-to-left override U+202E) typed into incident descriptions, addresses, reporter names,
notes, results and rating comments, mediation facts and requests, petition matters and requests:

- are stored and returned as the very same text in the API's JSON (nothing executed, nothing
  lost, the tables still there);
- are HTML-escaped in every page that shows them;
- never run as formulas in CSV/xlsx exports (cells starting with = + - @ get a leading ');
- and a NUL byte (which PostgreSQL refuses in text) is a 400 with a field message, never a 500.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from openpyxl import load_workbook

from mediation.tests.conftest import cats, city, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'
SQL = "'; DROP TABLE incidents_incident; --"
CONTROL = "\x1b[2J\u202etxt.exe"
PAYLOAD = f"{SCRIPT}{IMG}{SQL}{CONTROL}"
SHORT = f"{IMG}\u202e\x1b"  # fits a 64-character name
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "@SUM(1+1)", "+1-2+cmd|' /C calc'!A0"]
RAW_MARKUP = ("<script>alert(1)", "<img src=x onerror")


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


def signed_in(user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(user, backend=BACKEND)
    return client


def assert_inert(html: str, *texts: str) -> None:
    for raw in RAW_MARKUP:
        assert raw not in html
    for text in texts:
        assert escape(text) in html


@pytest.fixture
def town(region_tree):
    """incidents' test city (the mediation tests' own fixtures are imported below)."""
    from incidents.tests.factories import build_city

    return build_city(region_tree)


# --- incidents -----------------------------------------------------------------------------------


def test_incident_texts_round_trip_in_json_and_are_escaped_in_pages(town):
    from incidents.models import Incident
    from incidents.tests.conftest import IN_A1_1

    resident = signed_in(town.resident)
    response = resident.post(
        "/api/v1/incidents",
        {
            "category": "0102",
            "description": PAYLOAD,
            "address": PAYLOAD,
            "reporter_name": SHORT,
            "lat": IN_A1_1[0],
            "lng": IN_A1_1[1],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content[:300]
    assert response["Content-Type"] == "application/json"
    incident = Incident.objects.get()  # the table is still there
    assert (incident.description, incident.address, incident.reporter_name) == (
        PAYLOAD,
        PAYLOAD,
        SHORT,
    )
    dispatcher = signed_in(town.dispatcher)
    detail = dispatcher.get(f"/api/v1/incidents/{incident.pk}").json()
    assert detail["description"] == PAYLOAD and detail["address"] == PAYLOAD
    for page in (
        reverse("incidents:detail", args=[incident.pk]),
        reverse("incidents:queue"),
        reverse("incidents:index"),
    ):
        html = dispatcher.get(page).content.decode()
        assert_inert(html)
    assert_inert(
        dispatcher.get(reverse("incidents:detail", args=[incident.pk])).content.decode(), PAYLOAD
    )
    assert_inert(
        resident.get(reverse("incidents:detail", args=[incident.pk])).content.decode(), PAYLOAD
    )


def test_results_notes_and_rating_comments_are_inert(town):
    from incidents import services
    from incidents.models import Incident, IncidentState
    from incidents.tests.factories import make_incident

    incident = make_incident(town, state=IncidentState.ACCEPTED, result="")
    worker = signed_in(town.worker)
    response = worker.post(
        f"/api/v1/incidents/{incident.pk}/resolve",
        {"result": PAYLOAD},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content[:300]
    incident.refresh_from_db()
    assert incident.result == PAYLOAD
    services.incident_send_feedback(incident_id=incident.pk)
    resident = signed_in(town.resident)
    rated = resident.post(
        f"/api/v1/incidents/{incident.pk}/rate",
        {"rating": 2, "comment": PAYLOAD},
        content_type="application/json",
    )
    assert rated.status_code == 200, rated.content[:300]
    assert Incident.objects.get(pk=incident.pk).rating_comment == PAYLOAD
    timeline = signed_in(town.dispatcher).get(f"/api/v1/incidents/{incident.pk}").json()
    assert PAYLOAD in [row.get("note") for row in timeline["timeline"]]
    for client in (resident, signed_in(town.dispatcher)):
        html = client.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
        assert_inert(html, PAYLOAD)


def test_nul_bytes_are_a_400_not_a_500(town):
    from incidents.models import Incident
    from incidents.tests.conftest import IN_A1_1
    from incidents.tests.factories import make_incident

    resident = signed_in(town.resident)
    fields = {"category": "0102", "lat": IN_A1_1[0], "lng": IN_A1_1[1]}
    for field in ("description", "address", "reporter_name"):
        data = {"description": "垃圾", **fields, field: "垃圾\x00堆积"}
        response = resident.post("/api/v1/incidents", data, content_type="application/json")
        assert response.status_code == 400, (field, response.content[:200])
        assert field in response.json()["errors"]
    page = Client(HTTP_ACCEPT_LANGUAGE="zh-hans").post(
        reverse("incidents:report"),
        {**fields, "description": "垃圾\x00堆积", "reporter_phone": "13911112222"},
    )
    assert page.status_code == 400
    assert not Incident.objects.exists()
    incident = make_incident(town, state="accepted")
    response = signed_in(town.worker).post(
        f"/api/v1/incidents/{incident.pk}/resolve",
        {"result": "\x00"},
        content_type="application/json",
    )
    assert response.status_code == 400 and "result" in response.json()["errors"]


def test_incident_exports_never_run_formulas(town):
    from governance.exports import export_table, write_table
    from incidents.tests.factories import make_incident

    for text in FORMULAS:
        make_incident(town, description=text, address=text, reporter_name=text[:64])
    for fmt in ("csv", "xlsx"):
        stream = io.BytesIO()
        write_table(export_table(user=town.admin, kind="incidents", params={}), fmt, stream)
        cells = rows_of(stream.getvalue(), fmt)
        texts = [cell for row in cells[1:] for cell in row if isinstance(cell, str)]
        for text in FORMULAS:
            assert "'" + text in texts, (fmt, text)
        assert not [t for t in texts if t and t[0] in "=+@"], fmt


def rows_of(data: bytes, fmt: str) -> list[list]:
    if fmt == "csv":
        return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_spreadsheet_guard():
    from core.spreadsheets import formula_safe

    assert formula_safe("=1+1") == "'=1+1"
    assert formula_safe("-2+3") == "'-2+3"
    assert formula_safe("@cmd") == "'@cmd"
    assert formula_safe("\t=1") == "'\t=1"
    assert formula_safe("-12.5") == "-12.5" and formula_safe("-3%") == "-3%"
    assert formula_safe("正常文本") == "正常文本" and formula_safe(-5) == -5
    assert formula_safe("-") == "-"


# --- petitions -----------------------------------------------------------------------------------


def test_petition_texts_are_inert_in_pages_json_and_the_export(region_tree):
    from petitions.tests import factories as f

    officer = f.officer("officer", region=region_tree["district"])
    petition = f.file_letter(officer, region=region_tree["a1"], matter=FORMULAS[0], request=PAYLOAD)
    client = signed_in(officer)
    html = client.get(reverse("petitions:detail", args=[petition.pk])).content.decode()
    assert_inert(html, PAYLOAD)
    detail = client.get(f"/api/v1/petitions/{petition.pk}/").json()
    assert detail["request"] == PAYLOAD and detail["matter"] == FORMULAS[0]
    export = client.get(reverse("petitions:export"))
    assert export.status_code == 200
    cells = rows_of(export.content, "xlsx")
    texts = [cell for row in cells[1:] for cell in row if isinstance(cell, str)]
    assert "'" + FORMULAS[0] in texts and FORMULAS[0] not in texts


def test_petition_nul_bytes_are_a_400(region_tree):
    from petitions.tests import factories as f

    resident = f.resident()
    response = signed_in(resident).post(
        "/api/v1/petitions/",
        {"matter": "油烟\x00扰民", "request": "整改", "facts_and_reasons": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    errors = response.json()["errors"]
    assert "matter" in errors and "request" not in errors


# --- mediation -----------------------------------------------------------------------------------


def test_mediation_texts_are_inert_and_nul_is_a_400(world):  # noqa: F811 (the fixture)
    from mediation.tests import builders

    case = builders.walk_in(world, facts=PAYLOAD, requests=PAYLOAD)
    client = signed_in(world.mediator)
    html = client.get(reverse("mediation:case_detail", args=[case.pk])).content.decode()
    assert_inert(html, PAYLOAD)
    detail = client.get(f"/api/v1/mediation/cases/{case.pk}/").json()
    assert detail["facts"] == PAYLOAD and detail["requests"] == PAYLOAD
    response = client.post(
        "/api/v1/mediation/cases/",
        {
            "source": "walk_in",
            "room": world.rooms["village_a1"].pk,
            "facts": "楼道\x00堆放杂物",
            "parties": builders.parties(),
        },
        content_type="application/json",
    )
    assert response.status_code == 400, response.content[:300]
    assert "facts" in response.json()["errors"]
