"""Open311 GeoReport v2 (/open311/v2/): every method in both formats, the spec's filters and
errors, the spec's own examples, and no personal data in GET answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode
from xml.etree import ElementTree

import pytest
import time_machine
from django.utils import timezone

from incidents.models import Channel, Incident, IncidentState
from integrations import open311
from integrations.models import IncomingTicket, ServiceAttribute
from integrations.services import open311_request_create
from integrations.tests.conftest import IN_A1_1, IN_B1_1, OUTSIDE, make_partner_kit

pytestmark = pytest.mark.django_db
BASE = "/open311/v2"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
EXACT = (24.50731, 117.60268)  # inside cell 西桥1网格 (centroid 24.505, 117.605), off its centre


def xml(response) -> ElementTree.Element:
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314 - our own output


def as_json(response):
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content)


def post_form(client, fmt: str, fields: dict | str):
    body = fields if isinstance(fields, str) else urlencode(fields, doseq=True)
    return client.generic("POST", f"{BASE}/requests.{fmt}", data=body, content_type=FORM)


def json_errors(response) -> list[tuple[int, str]]:
    return [(e["code"], e["description"]) for e in as_json(response)]


def xml_errors(response) -> list[tuple[int, str]]:
    root = xml(response)
    assert root.tag == "errors"
    return [(int(e.findtext("code")), e.findtext("description")) for e in root.findall("error")]


@pytest.fixture
def attributes(categories):
    amount = ServiceAttribute.objects.create(
        category=categories["0102"],
        code="amount",
        description="垃圾量",
        description_en="How much?",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values=[{"key": "small", "name": "少量"}, {"key": "large", "name": "大量"}],
    )
    kinds = ServiceAttribute.objects.create(
        category=categories["0102"],
        code="kinds",
        description="垃圾种类",
        datatype="multivaluelist",
        required=False,
        order=2,
        values=[{"key": "food", "name": "厨余"}, {"key": "build", "name": "建筑垃圾"}],
    )
    return amount, kinds


def report(kit, *, code="0102", at=IN_A1_1, **fields):
    ticket = open311_request_create(
        api_key=kit.key,
        service_code=code,
        lat=at[0],
        long=at[1],
        description=fields.pop("description", "路边有垃圾"),
        attributes=fields.pop("attributes", {"amount": "small"} if code == "0102" else {}),
        **fields,
    )
    return ticket.incident


# --- discovery and services -------------------------------------------------------------------


def test_discovery_in_both_formats(client):
    data = as_json(client.get(f"{BASE}/discovery.json"))
    assert set(data) == {"changeset", "contact", "key_service", "endpoints"}
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["type"] == "production"
    assert endpoint["formats"] == ["text/xml", "application/json"]

    root = xml(client.get(f"{BASE}/discovery.xml"))
    assert root.tag == "discovery"
    formats = [f.text for f in root.find("endpoints/endpoint/formats").findall("format")]
    assert formats == ["text/xml", "application/json"]
    assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"


def test_root_redirects_to_discovery(client):
    response = client.get(f"{BASE}/")
    assert response.status_code == 302
    assert response["Location"].endswith("/open311/v2/discovery.json")


def test_service_list_in_both_formats(client, categories, attributes):
    categories["1202"].internal_only = True  # crime leads are never offered publicly
    categories["1202"].save()
    data = as_json(client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="en"))
    by_code = {s["service_code"]: s for s in data}
    assert "01" not in by_code and "1202" not in by_code  # large classes are groups only
    rubbish = by_code["0102"]
    assert rubbish == {
        "service_code": "0102",
        "service_name": "Exposed rubbish",
        "description": rubbish["description"],
        "metadata": True,
        "type": "realtime",
        "keywords": "暴露垃圾, Exposed rubbish, 市容环境, City appearance and environment",
        "group": "City appearance and environment",
    }
    assert "1 working day" in rubbish["description"]
    assert by_code["0101"]["metadata"] is False
    assert "城管执法" in by_code["0101"]["description"]

    root = xml(client.get(f"{BASE}/services.xml", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert set(services) == set(by_code)
    assert services["0102"].findtext("metadata") == "true"
    assert services["0101"].findtext("metadata") == "false"
    assert services["0102"].findtext("group") == "市容环境"  # Chinese by default


def test_service_definition_in_both_formats(client, attributes):
    data = as_json(client.get(f"{BASE}/services/0102.json", HTTP_ACCEPT_LANGUAGE="en"))
    assert data["service_code"] == "0102"
    first, second = data["attributes"]
    assert first == {
        "variable": True,
        "code": "amount",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "How much?",
        "values": [{"key": "small", "name": "少量"}, {"key": "large", "name": "大量"}],
    }
    assert second["datatype"] == "multivaluelist" and second["required"] is False

    root = xml(client.get(f"{BASE}/services/0102.xml"))
    assert root.tag == "service_definition"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("code") == "amount"
    assert attribute.findtext("datatype_description") == ""
    keys = [v.findtext("key") for v in attribute.find("values").findall("value")]
    assert keys == ["small", "large"]


def test_service_definition_without_attributes(client, categories):
    assert as_json(client.get(f"{BASE}/services/0101.json")) == {
        "service_code": "0101",
        "attributes": [],
    }


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_404(client, categories, fmt):
    response = client.get(f"{BASE}/services/9999.{fmt}")
    assert response.status_code == 404
    errors = json_errors(response) if fmt == "json" else xml_errors(response)
    assert errors[0][0] == 404 and "9999" in errors[0][1]


# --- jurisdiction, formats, methods -----------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_wrong_jurisdiction_is_404_and_the_right_one_works(client, categories, fmt):
    response = client.get(f"{BASE}/services.{fmt}?jurisdiction_id=sfgov.org")
    assert response.status_code == 404
    errors = json_errors(response) if fmt == "json" else xml_errors(response)
    assert errors == [(404, "jurisdiction_id sfgov.org was not found.")]
    assert client.get(f"{BASE}/services.{fmt}?jurisdiction_id=gridgov.local").status_code == 200
    assert client.get(f"{BASE}/services.{fmt}?jurisdiction_id=").status_code == 200  # optional


def test_unsupported_format_and_method(client, categories):
    response = client.get(f"{BASE}/services.csv")
    assert response.status_code == 404
    assert "xml or json" in json_errors(response)[0][1]
    response = client.post(f"{BASE}/services.xml")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert xml_errors(response)[0][0] == 405


# --- POST requests ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_request_files_an_open311_incident(client, kit, attributes, fmt):
    response = post_form(
        client,
        fmt,
        {
            "api_key": kit.raw_key,
            "jurisdiction_id": "gridgov.local",
            "service_code": "0102",
            "lat": IN_A1_1[0],
            "long": IN_A1_1[1],
            "address_string": "西桥社区 胜利路12号",
            "email": "li@example.cn",
            "device_id": "dev-1",
            "account_id": "acc-9",
            "first_name": "小明",
            "last_name": "李",
            "phone": "13912345678",
            "description": "路边一大堆垃圾",
            "media_url": "https://img.example.cn/a.jpg",
            "attribute[amount]": "large",
            "attribute[kinds][]": ["food", "build"],
        },
    )
    assert response.status_code == 200, response.content
    if fmt == "json":
        (entry,) = as_json(response)
    else:
        root = xml(response)
        assert root.tag == "service_requests"
        request = root.find("request")
        entry = {child.tag: child.text for child in request}
    incident = Incident.objects.get()
    assert entry["service_request_id"] == incident.public_id
    assert entry["account_id"] == "acc-9"
    assert "token" not in entry
    assert entry["service_notice"]
    assert incident.channel == Channel.OPEN311
    assert incident.state == IncidentState.REPORTED
    assert incident.reporter_name == "李小明"
    assert incident.reporter_phone == "13912345678"
    assert incident.address == "西桥社区 胜利路12号"
    assert "大量" in incident.description and "厨余、建筑垃圾" in incident.description
    ticket = IncomingTicket.objects.get()
    assert ticket.incident == incident and ticket.partner == kit.partner
    assert (ticket.email, ticket.device_id, ticket.media_url) == (
        "li@example.cn",
        "dev-1",
        "https://img.example.cn/a.jpg",
    )
    assert ticket.attributes == {"amount": "large", "kinds": ["food", "build"]}
    kit.key.refresh_from_db()
    assert kit.key.usage_count == 1 and kit.key.last_used_at is not None


def test_post_request_runs_the_same_loop(
    client, kit, categories, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_form(
            client,
            "json",
            {"api_key": kit.raw_key, "service_code": "0101", "lat": IN_A1_1[0], "long": IN_A1_1[1]},
        )
    assert response.status_code == 200
    incident = Incident.objects.get()
    assert incident.state == IncidentState.VERIFYING  # located and a verifier chosen
    assert incident.grid_cell.code == "350602001001001"
    assert incident.description == "私搭乱建"  # description is optional: the service name


def test_the_spec_example_post_works_unchanged(client, kit, categories):
    """The example request of the spec, with our key, jurisdiction, code and a point here."""
    body = (
        f"api_key={kit.raw_key}&jurisdiction_id=gridgov.local&service_code=0101"
        f"&lat={IN_A1_1[0]}&long={IN_A1_1[1]}&address_string=1234+5th+street"
        "&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456&first_name=john"
        "&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
        "&media_url=http%3A%2F%2Ffarm3.static.flickr.com%2F2002%2F2212426634_5ed477a060.jpg"
        "&attribute[WHISPAWN]=123456&attribute[WHISDORN]=COISL001"
    )
    response = post_form(client, "xml", body)
    assert response.status_code == 200, response.content
    request = xml(response).find("request")
    assert request.findtext("account_id") == "123456"
    incident = Incident.objects.get(public_id=request.findtext("service_request_id"))
    assert incident.description == "A large sinkhole is destroying the street"
    assert incident.reporter_name == "john smith"
    assert IncomingTicket.objects.get().email == "smit333@sfgov.edu"


def test_post_by_address_string_or_address_id(client, kit, categories):
    by_name = post_form(
        client,
        "json",
        {"api_key": kit.raw_key, "service_code": "0101", "address_string": "西桥2网格 菜市场门口"},
    )
    assert by_name.status_code == 200, by_name.content
    by_id = post_form(
        client,
        "json",
        {"api_key": kit.raw_key, "service_code": "0101", "address_id": "350602002001001"},
    )
    assert by_id.status_code == 200, by_id.content
    from grids.locator import locate

    first, second = Incident.objects.order_by("pk")
    assert locate(first.lat, first.lng).cell_code == "350602001001002"
    assert locate(second.lat, second.lng).cell_code == "350602002001001"


def test_post_with_a_photo_upload(client, kit, categories):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (100, 120, 140)).save(buffer, format="JPEG")
    photo = SimpleUploadedFile("p.jpg", buffer.getvalue(), content_type="image/jpeg")
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": kit.raw_key,
            "service_code": "0101",
            "lat": IN_A1_1[0],
            "long": IN_A1_1[1],
            "media": photo,
        },
    )
    assert response.status_code == 200, response.content
    assert Incident.objects.get().photos.count() == 1


def test_post_json_body_is_accepted_too(client, kit, attributes):
    response = client.post(
        f"{BASE}/requests.json",
        data=json.dumps(
            {
                "api_key": kit.raw_key,
                "service_code": "0102",
                "lat": IN_A1_1[0],
                "long": IN_A1_1[1],
                "attribute": {"amount": "small"},
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def _nothing_written():
    assert Incident.objects.count() == 0
    assert IncomingTicket.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("fields", "status", "needle"),
    [
        ({"service_code": ""}, 400, "service_code was not provided"),
        ({"service_code": "9999"}, 404, "service_code 9999 was not found"),
        ({"service_code": "1202"}, 404, "service_code 1202 was not found"),  # internal only
        ({"lat": "", "long": ""}, 400, "A location is required"),
        ({"long": ""}, 400, "must be sent together"),
        ({"lat": "abc"}, 400, "not valid WGS-84"),
        ({"lat": OUTSIDE[0], "long": OUTSIDE[1]}, 400, "outside the city"),
        ({"lat": "", "long": "", "address_string": "火星基地"}, 400, "could not be located"),
        ({"lat": "", "long": "", "address_id": "999"}, 400, "not a known grid cell"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"media_url": "ftp://x/y.jpg"}, 400, "media_url"),
        ({"phone": "call me"}, 400, "phone"),
        ({"description": "x" * 4001}, 400, "4000"),
        ({"description": "x" * 2500}, 400, "2000"),  # the engine's own limit
        ({"attribute[amount]": ""}, 400, "attribute[amount] is required"),
        ({"attribute[amount]": "huge"}, 400, "attribute[amount]: unknown value"),
        ({"attribute[kinds][]": ["food", "gold"]}, 400, "attribute[kinds]: unknown value"),
    ],
)
def test_post_with_bad_or_missing_fields_writes_nothing(
    client, kit, attributes, categories, fmt, fields, status, needle
):
    categories["1202"].internal_only = True
    categories["1202"].save()
    form = {
        "api_key": kit.raw_key,
        "service_code": "0102",
        "lat": IN_A1_1[0],
        "long": IN_A1_1[1],
        "attribute[amount]": "small",
        **fields,
    }
    response = post_form(client, fmt, form)
    assert response.status_code == status, response.content
    errors = json_errors(response) if fmt == "json" else xml_errors(response)
    assert all(code == status for code, _ in errors)
    assert any(needle in description for _, description in errors), errors
    _nothing_written()


def test_post_lists_every_problem_at_once(client, kit, attributes):
    response = post_form(
        client,
        "json",
        {"api_key": kit.raw_key, "service_code": "0102", "email": "bad", "lat": "1"},
    )
    assert response.status_code == 400
    descriptions = " | ".join(d for _, d in json_errors(response))
    for field in ("attribute[amount]", "lat", "email"):
        assert field in descriptions
    _nothing_written()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_needs_a_valid_api_key(client, kit, categories, fmt):
    form = {"service_code": "0101", "lat": IN_A1_1[0], "long": IN_A1_1[1]}
    missing = post_form(client, fmt, form)
    assert missing.status_code == 403
    errors = json_errors(missing) if fmt == "json" else xml_errors(missing)
    assert errors == [(403, "api_key was not provided.")]

    wrong = post_form(client, fmt, {**form, "api_key": kit.raw_key[:-3] + "xyz"})
    assert wrong.status_code == 403
    errors = json_errors(wrong) if fmt == "json" else xml_errors(wrong)
    assert errors == [(403, "Invalid api_key received -- can't proceed with create_request.")]

    from integrations.services import api_key_revoke

    api_key_revoke(key_id=kit.key.pk)
    assert post_form(client, fmt, {**form, "api_key": kit.raw_key}).status_code == 403
    _nothing_written()


def test_post_needs_the_open311_scope(client, city):
    hotline_only = make_partner_kit("only12345", scopes=["hotline"])
    response = post_form(
        client,
        "json",
        {
            "api_key": hotline_only.raw_key,
            "service_code": "0101",
            "lat": IN_A1_1[0],
            "long": IN_A1_1[1],
        },
    )
    assert response.status_code == 403
    assert "open311-post" in json_errors(response)[0][1]
    _nothing_written()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_rate_limit_answers_429_with_retry_after(client, city, fmt):
    limited = make_partner_kit("slow", rate_limit=2)
    form = {
        "api_key": limited.raw_key,
        "service_code": "0101",
        "lat": IN_A1_1[0],
        "long": IN_A1_1[1],
    }
    assert post_form(client, fmt, form).status_code == 200
    assert post_form(client, fmt, form).status_code == 200
    third = post_form(client, fmt, form)
    assert third.status_code == 429
    assert 1 <= int(third["Retry-After"]) <= 60
    errors = json_errors(third) if fmt == "json" else xml_errors(third)
    assert errors[0][0] == 429
    assert Incident.objects.count() == 2
    limited.key.refresh_from_db()
    assert limited.key.usage_count == 3


# --- tokens -----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_batch_partner_gets_a_token_and_resolves_it(client, city, fmt):
    batch = make_partner_kit("batch311", kind="open311_client")
    batch.partner.open311_token_responses = True
    batch.partner.save()
    response = post_form(
        client,
        fmt,
        {"api_key": batch.raw_key, "service_code": "0101", "lat": IN_A1_1[0], "long": IN_A1_1[1]},
    )
    assert response.status_code == 200
    if fmt == "json":
        (entry,) = as_json(response)
    else:
        entry = {c.tag: c.text for c in xml(response).find("request")}
    assert "service_request_id" not in entry
    token = entry["token"]
    incident = Incident.objects.get()

    resolved = client.get(f"{BASE}/tokens/{token}.{fmt}")
    assert resolved.status_code == 200
    if fmt == "json":
        assert as_json(resolved) == [{"service_request_id": incident.public_id, "token": token}]
    else:
        request = xml(resolved).find("request")
        assert request.findtext("service_request_id") == incident.public_id
        assert request.findtext("token") == token

    unknown = client.get(f"{BASE}/tokens/nope.{fmt}")
    assert unknown.status_code == 404
    errors = json_errors(unknown) if fmt == "json" else xml_errors(unknown)
    assert errors[0][0] == 404


# --- GET requests -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_requests_fields_and_no_personal_data(client, kit, categories, fmt):
    incident = report(
        kit,
        code="0101",
        at=EXACT,
        description="违建，联系 13912345678，身份证 350602199001011234，座机 0596-2345678",
        first_name="john",
        last_name="smith",
        email="smit333@sfgov.edu",
        phone="13800138000",
        device_id="tt222111",
        account_id="acct-777",
        address_string="西桥社区 胜利路12号",
    )
    response = client.get(f"{BASE}/requests.{fmt}")
    assert response.status_code == 200
    text = response.content.decode()
    for secret in (
        "13912345678",
        "350602199001011234",
        "2345678",
        "john",
        "smith",
        "smit333",
        "13800138000",
        "tt222111",
        "acct-777",
    ):
        assert secret not in text, secret
    if fmt == "json":
        (entry,) = as_json(response)
    else:
        (request,) = xml(response).findall("request")
        entry = {child.tag: child.text for child in request}
    assert set(entry) == {
        "service_request_id",
        "status",
        "status_notes",
        "service_name",
        "service_code",
        "description",
        "agency_responsible",
        "service_notice",
        "requested_datetime",
        "updated_datetime",
        "expected_datetime",
        "address",
        "address_id",
        "zipcode",
        "lat",
        "long",
        "media_url",
    }
    assert entry["service_request_id"] == incident.public_id
    assert incident.tracking_number not in text  # the tracking number is a credential (M2/M3)
    assert entry["status"] == "open"
    assert entry["service_code"] == "0101"
    # phone and ID numbers replaced whole (security review M3): no last digits left
    assert entry["description"] == (
        "违建，联系 [phone number hidden]，身份证 [ID number hidden]，座机 [phone number hidden]"
    )
    for kept in ("5678", "1234"):
        assert kept not in text
    assert entry["address"] == "西桥社区 胜利路12号"
    # the grid cell's centroid, never the exact point
    centroid = open311.cell_centroid(incident.grid_cell.geometry)
    assert (float(entry["lat"]), float(entry["long"])) == centroid == (24.505, 117.605)
    assert "24.50731" not in text and "117.60268" not in text


def test_get_requests_round_a_point_without_a_cell_to_about_100_m(client, kit, categories):
    incident = report(kit, code="0101", at=EXACT)
    Incident.objects.filter(pk=incident.pk).update(grid_cell=None)
    for path in ("requests.json", f"requests/{incident.public_id}.json"):
        (entry,) = as_json(client.get(f"{BASE}/{path}"))
        assert (entry["lat"], entry["long"]) == (24.507, 117.603)
    assert entry["requested_datetime"].endswith("+08:00")


def test_get_requests_status_deadline_and_agency(client, kit, categories):
    incident = report(kit, code="0101")
    due = timezone.now() + timedelta(days=20)
    Incident.objects.filter(pk=incident.pk).update(
        state=IncidentState.DISPATCHED, resolve_due_at=due, handling_department="城管执法"
    )
    (entry,) = as_json(client.get(f"{BASE}/requests/{incident.public_id}.json"))
    assert entry["status"] == "open"
    assert entry["agency_responsible"] == "城管执法"
    assert datetime.fromisoformat(entry["expected_datetime"]) == due.replace(microsecond=0)

    closed_at = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(
        state=IncidentState.CLOSED, result="已拆除", closed_at=closed_at
    )
    (entry,) = as_json(client.get(f"{BASE}/requests/{incident.public_id}.json"))
    assert entry["status"] == "closed"
    assert entry["status_notes"] == "已拆除"
    assert datetime.fromisoformat(entry["updated_datetime"]) == closed_at.replace(microsecond=0)


def test_get_requests_shows_the_posted_media_url_not_our_photos(client, kit, categories, settings):
    incident = report(kit, code="0101", media_url="https://img.example.cn/x.jpg")
    (entry,) = as_json(client.get(f"{BASE}/requests/{incident.public_id}.json"))
    assert entry["media_url"] == "https://img.example.cn/x.jpg"
    other = report(kit, code="0101")
    (entry,) = as_json(client.get(f"{BASE}/requests/{other.public_id}.json"))
    assert entry["media_url"] is None


def test_get_requests_filters(client, kit, categories):
    rubbish = report(kit, code="0101")
    flyer = report(kit, code="0201")
    road = report(kit, code="0603", at=IN_B1_1)
    Incident.objects.filter(pk=road.pk).update(state=IncidentState.CLOSED)

    def ids(query: str) -> set[str]:
        response = client.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, response.content
        return {e["service_request_id"] for e in as_json(response)}

    everything = {rubbish.public_id, flyer.public_id, road.public_id}
    assert ids("") == everything
    assert ids("service_code=0101,0603") == {rubbish.public_id, road.public_id}
    assert ids("service_code=0101&service_code=0201") == {
        rubbish.public_id,
        flyer.public_id,
    }
    assert ids("status=closed") == {road.public_id}
    assert ids("status=open") == {rubbish.public_id, flyer.public_id}
    assert ids("status=open,closed") == everything
    # service_request_id overrides every other argument
    assert ids(
        f"service_request_id={rubbish.public_id},{road.public_id}&status=open&service_code=0201"
    ) == {rubbish.public_id, road.public_id}


def test_get_requests_date_window(client, kit, categories):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=100), tick=False):
        old = report(kit, code="0101")
    with time_machine.travel(now - timedelta(days=10), tick=False):
        recent = report(kit, code="0101")

    def ids(query: str) -> set[str]:
        response = client.get(f"{BASE}/requests.xml?{query}")
        assert response.status_code == 200, response.content
        return {r.findtext("service_request_id") for r in xml(response).findall("request")}

    assert ids("") == {recent.public_id}  # the default window: the last 90 days
    start = (now - timedelta(days=120)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (now - timedelta(days=50)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"start_date={start}&end_date={end}") == {old.public_id}
    assert ids(f"start_date={start}") == {old.public_id}  # start + 90 days
    assert ids(f"end_date={end}") == {old.public_id}  # end - 90 days
    # an offset written as +08:00 (its + arrives as a space when not encoded)
    local_start = timezone.localtime(now - timedelta(days=20)).isoformat(timespec="seconds")
    assert ids(f"start_date={local_start}") == {recent.public_id}
    assert ids(urlencode({"start_date": local_start})) == {recent.public_id}


def test_get_requests_the_spec_example_query(client, kit, categories):
    """requests.xml?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open"""
    with time_machine.travel(datetime(2010, 6, 1, 9, 0, tzinfo=UTC), tick=False):
        inside = report(kit, code="0101")
        closed = report(kit, code="0101")
        Incident.objects.filter(pk=closed.pk).update(state=IncidentState.INVALID)
    with time_machine.travel(datetime(2010, 7, 1, 9, 0, tzinfo=UTC), tick=False):
        report(kit, code="0101")
    response = client.get(
        f"{BASE}/requests.xml?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z"
        "&status=open&jurisdiction_id=gridgov.local"
    )
    assert response.status_code == 200
    found = [r.findtext("service_request_id") for r in xml(response).findall("request")]
    assert found == [inside.public_id]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("start_date=yesterday", "start_date must be a W3C date-time"),
        ("end_date=2010-13-45T00:00:00Z", "end_date must be a W3C date-time"),
        ("start_date=2010-01-01T00:00:00Z&end_date=2010-06-01T00:00:00Z", "90 days"),
        ("start_date=2010-06-01T00:00:00Z&end_date=2010-01-01T00:00:00Z", "before start_date"),
        ("status=pending", "status is open or closed"),
    ],
)
def test_get_requests_bad_filters_are_400(client, categories, fmt, query, needle):
    response = client.get(f"{BASE}/requests.{fmt}?{query}")
    assert response.status_code == 400
    errors = json_errors(response) if fmt == "json" else xml_errors(response)
    assert errors[0][0] == 400
    assert any(needle in d for _, d in errors), errors


def test_get_requests_are_paged_50_by_default_at_most_100(client, kit, categories):
    """Security review M3: one answer lists at most 100 requests (page, page_size)."""
    from incidents.services import tracking_number_new

    Incident.objects.bulk_create(
        [
            Incident(
                tracking_number=tracking_number_new(),
                category=categories["0101"],
                description="x",
                lat=IN_A1_1[0],
                lng=IN_A1_1[1],
                channel=Channel.API,
            )
            for _ in range(120)
        ]
    )

    def count(query: str = "") -> int:
        response = client.get(f"{BASE}/requests.json?{query}")
        assert response.status_code == 200, response.content
        return len(as_json(response))

    assert count() == 50
    assert count("page_size=100") == 100
    assert count("page_size=1000") == 100  # capped
    assert count("page=3") == 20
    assert count("page=2&page_size=100") == 20
    assert count("page=9") == 0
    pages = [
        {e["service_request_id"] for e in as_json(client.get(f"{BASE}/requests.json?page={n}"))}
        for n in (1, 2, 3)
    ]
    assert len(set().union(*pages)) == 120  # no overlap, nothing lost
    for bad in ("page=0", "page_size=0", "page_size=abc", "page=-1"):
        response = client.get(f"{BASE}/requests.json?{bad}")
        assert response.status_code == 400, bad


def test_internal_categories_never_appear(client, kit, categories):
    incident = report(kit, code="1201")
    categories["1201"].internal_only = True
    categories["1201"].save()
    assert as_json(client.get(f"{BASE}/requests.json")) == []
    response = client.get(f"{BASE}/requests/{incident.public_id}.json")
    assert response.status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_get_one_request(client, kit, categories, fmt):
    incident = report(kit, code="0101")
    response = client.get(f"{BASE}/requests/{incident.public_id.lower()}.{fmt}")
    assert response.status_code == 200
    if fmt == "json":
        (entry,) = as_json(response)
        assert entry["service_request_id"] == incident.public_id
    else:
        (request,) = xml(response).findall("request")
        assert request.findtext("service_request_id") == incident.public_id

    missing = client.get(f"{BASE}/requests/GG2222222222.{fmt}")
    assert missing.status_code == 404
    errors = json_errors(missing) if fmt == "json" else xml_errors(missing)
    assert errors == [(404, "service_request_id GG2222222222 was not found.")]


def test_errors_speak_chinese_by_default(client, categories):
    response = client.get(
        f"{BASE}/services.json?jurisdiction_id=sfgov.org", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert json_errors(response) == [(404, "未找到 jurisdiction_id sfgov.org。")]
    (service,) = [
        s
        for s in as_json(client.get(f"{BASE}/services.json", HTTP_ACCEPT_LANGUAGE="zh-hans"))
        if s["service_code"] == "0101"
    ]
    assert service["description"] == "经现场核实后由城管执法处置，派遣后20个工作日内办结。"
