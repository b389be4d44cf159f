"""Open311 over raw HTTP against a live server: what a GeoReport v2 client sends on the wire
(form-encoded POST, format by extension) and reads back, in XML and in JSON."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit
from xml.etree import ElementTree

import pytest

from incidents.models import Channel, Incident
from integrations.tests.conftest import IN_A1_1, make_partner_kit

pytestmark = pytest.mark.django_db(transaction=True)


def raw(live_server, request_bytes: bytes) -> tuple[int, dict, bytes]:
    parts = urlsplit(live_server.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        connection.connect()
        connection.sock.sendall(request_bytes)
        response = http.client.HTTPResponse(connection.sock, method="POST")
        response.begin()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def request_bytes(method: str, path: str, host: str, body: str = "") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
    if method == "POST":
        lines += [
            "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
            f"Content-Length: {len(body.encode())}",
        ]
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


def test_raw_http_round_trip_in_xml_and_json(live_server, region_tree):
    from incidents.loaders import load_categories

    load_categories()
    kit = make_partner_kit()
    host = urlsplit(live_server.url).netloc

    status, headers, body = raw(live_server, request_bytes("GET", "/open311/v2/services.xml", host))
    assert status == 200
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    services = ElementTree.fromstring(body)  # noqa: S314 - our own output
    assert "0101" in [s.findtext("service_code") for s in services.findall("service")]

    form = (
        f"api_key={kit.raw_key}&jurisdiction_id=gridgov.local&service_code=0101"
        f"&lat={IN_A1_1[0]}&long={IN_A1_1[1]}&description=%E8%BF%9D%E5%BB%BA"
        "&first_name=john&last_name=smith&phone=13912345678"
    )
    status, headers, body = raw(
        live_server, request_bytes("POST", "/open311/v2/requests.xml", host, form)
    )
    assert status == 200, body
    created = ElementTree.fromstring(body)  # noqa: S314 - our own output
    request_id = created.findtext("request/service_request_id")
    incident = Incident.objects.get(public_id=request_id)
    assert incident.channel == Channel.OPEN311 and incident.description == "违建"

    status, headers, body = raw(
        live_server, request_bytes("GET", f"/open311/v2/requests/{request_id}.json", host)
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    (entry,) = json.loads(body)
    assert entry["service_request_id"] == request_id
    assert "john" not in body.decode() and "13912345678" not in body.decode()

    status, headers, body = raw(
        live_server,
        request_bytes("POST", "/open311/v2/requests.json", host, "api_key=wrong&service_code=0101"),
    )
    assert status == 403
    assert json.loads(body)[0]["code"] == 403
