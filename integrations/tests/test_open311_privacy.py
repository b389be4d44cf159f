"""Security review M3 and L5 (Open311 part): the public feed shows only published categories,
by a public id, at the cell's centroid, with numbers hidden whole, a page at a time and
rate-limited per client; the api_key never travels in the URL."""

from __future__ import annotations

import logging

import pytest

from incidents.models import Incident
from integrations.models import IncomingTicket
from integrations.services import hotline_ticket_receive
from integrations.tests.conftest import IN_A1_1
from integrations.tests.test_open311 import BASE, as_json, json_errors, post_form, report

pytestmark = pytest.mark.django_db


def hotline_report(kit, code: str, ticket_id: str, description: str = "邻里争执") -> Incident:
    """12345 may file any category (disputes too): they just never reach Open311."""
    result = hotline_ticket_receive(
        api_key=kit.key,
        ticket_id=ticket_id,
        category_code=code,
        description=description,
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
        caller_phone="13912345678",
    )
    return result.ticket.incident


# --- published categories only ----------------------------------------------------------------


def test_disputes_personal_and_internal_categories_are_not_services(client, categories):
    codes = {s["service_code"] for s in as_json(client.get(f"{BASE}/services.json"))}
    assert {"0101", "0102", "0603", "1101"} <= codes
    for unpublished in ("1001", "1002", "1007", "1202", "1301", "1302", "1401"):
        assert unpublished not in codes, unpublished
        assert client.get(f"{BASE}/services/{unpublished}.json").status_code == 404


def test_incidents_of_unpublished_categories_are_not_listed_or_found(client, kit, categories):
    shown = report(kit, code="0101")
    dispute = hotline_report(kit, "1001", "ZZ-D1")  # 邻里纠纷
    errand = hotline_report(kit, "1401", "ZZ-E1", description="帮独居老人代办")
    listed = {e["service_request_id"] for e in as_json(client.get(f"{BASE}/requests.json"))}
    assert listed == {shown.public_id}
    for hidden in (dispute, errand):
        response = client.get(f"{BASE}/requests/{hidden.public_id}.json")
        assert response.status_code == 404
        ids = client.get(f"{BASE}/requests.json?service_request_id={hidden.public_id}")
        assert as_json(ids) == []
    # an admin may publish a category (and unpublish it again)
    categories["1401"].publish_open311 = True
    categories["1401"].save()
    assert client.get(f"{BASE}/requests/{errand.public_id}.json").status_code == 200
    categories["0101"].publish_open311 = False
    categories["0101"].save()
    assert client.get(f"{BASE}/requests/{shown.public_id}.json").status_code == 404
    assert "0101" not in {s["service_code"] for s in as_json(client.get(f"{BASE}/services.json"))}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_posting_in_an_unpublished_category_is_refused(client, kit, categories, fmt):
    response = post_form(
        client,
        fmt,
        {"api_key": kit.raw_key, "service_code": "1001", "lat": IN_A1_1[0], "long": IN_A1_1[1]},
    )
    assert response.status_code == 400
    if fmt == "json":
        assert json_errors(response) == [(400, "service_code 1001 is not offered through Open311.")]
    assert not Incident.objects.exists() and not IncomingTicket.objects.exists()


# --- public id, never the tracking number -----------------------------------------------------


def test_the_public_id_replaces_the_tracking_number_everywhere(client, kit, categories):
    response = post_form(
        client,
        "json",
        {"api_key": kit.raw_key, "service_code": "0101", "lat": IN_A1_1[0], "long": IN_A1_1[1]},
    )
    assert response.status_code == 200
    (answer,) = as_json(response)
    incident = Incident.objects.get()
    assert answer["service_request_id"] == incident.public_id
    assert incident.public_id.startswith("R") and len(incident.public_id) == 11
    assert incident.public_id != incident.tracking_number
    for path in ("requests.json", "requests.xml", f"requests/{incident.public_id}.json"):
        text = client.get(f"{BASE}/{path}").content.decode()
        assert incident.public_id in text
        assert incident.tracking_number not in text, path
    # the tracking number does not open a request, alone or in the list filter
    assert client.get(f"{BASE}/requests/{incident.tracking_number}.json").status_code == 404
    by_number = client.get(f"{BASE}/requests.json?service_request_id={incident.tracking_number}")
    assert as_json(by_number) == []


def test_public_ids_are_random_and_unique(kit, categories):
    incidents = [report(kit, code="0101") for _ in range(5)]
    ids = {incident.public_id for incident in incidents}
    assert len(ids) == 5
    assert all(len(i) == 11 and i[0] == "R" for i in ids)


# --- free text: numbers replaced whole -----------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "138 1234 5678",
        "138-1234-5678",
        "138.1234.5678",
        "(+86) 138 1234 5678",
        "+86 13812345678",
        "１３８１２３４５６７８",
        "（0596）234 5678",
        "0596-2345678",
        "35060219900101123X",
    ],
)
def test_numbers_in_description_result_and_address_are_hidden_whole(client, kit, categories, typed):
    incident = report(
        kit,
        code="0101",
        description=f"违建，业主电话 {typed}",
        address_string=f"胜利路，联系 {typed}",
    )
    Incident.objects.filter(pk=incident.pk).update(
        state="feedback_sent", result=f"已处理，回访 {typed}"
    )
    (entry,) = as_json(client.get(f"{BASE}/requests/{incident.public_id}.json"))
    for field in ("description", "status_notes", "address"):
        value = entry[field]
        assert "hidden]" in value, (field, value)
        assert not any(c.isdigit() for c in value), (field, value)
    (listed,) = as_json(client.get(f"{BASE}/requests.json"))
    assert {k: listed[k] for k in ("description", "status_notes", "address")} == {
        k: entry[k] for k in ("description", "status_notes", "address")
    }


# --- rate limit --------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_anonymous_gets_are_rate_limited_per_client(client, categories, settings, fmt):
    settings.OPEN311_GET_RATE = "3/m"
    for path in ("services", "requests", "discovery"):
        assert client.get(f"{BASE}/{path}.{fmt}").status_code == 200
    refused = client.get(f"{BASE}/requests.{fmt}")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    errors = json_errors(refused) if fmt == "json" else None
    if errors is not None:
        assert errors[0][0] == 429
    other = client.get(f"{BASE}/requests.{fmt}", REMOTE_ADDR="198.51.100.7")
    assert other.status_code == 200  # another client has its own budget


# --- L5: the key is never read from the URL -------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_api_key_in_the_query_string_is_refused_and_not_logged(
    client, kit, categories, caplog, fmt
):
    form = {"service_code": "0101", "lat": IN_A1_1[0], "long": IN_A1_1[1]}
    with caplog.at_level(logging.DEBUG):
        response = post_form(client, f"{fmt}?api_key={kit.raw_key}", form)
        listed = client.get(f"{BASE}/requests.{fmt}?api_key={kit.raw_key}")
    assert response.status_code == 400
    assert listed.status_code == 400
    assert b"X-Api-Key" in response.content
    assert kit.raw_key.encode() not in response.content
    assert kit.raw_key not in caplog.text
    assert not Incident.objects.exists()
    kit.key.refresh_from_db()
    assert kit.key.usage_count == 0  # the key was not even looked up


def test_api_key_in_the_body_or_header_still_works(client, kit, categories):
    form = {"service_code": "0101", "lat": IN_A1_1[0], "long": IN_A1_1[1]}
    assert post_form(client, "json", {**form, "api_key": kit.raw_key}).status_code == 200
    from urllib.parse import urlencode

    by_header = client.generic(
        "POST",
        f"{BASE}/requests.json",
        data=urlencode(form),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Api-Key": kit.raw_key},
    )
    assert by_header.status_code == 200
    assert Incident.objects.count() == 2
