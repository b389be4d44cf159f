"""Builders for the integrations tests: a small city with staff and categories, a partner with
a key, signed requests, and a tiny HTTP server standing in for a partner's webhook receiver."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

# Points of tests.builders.make_region_tree (lat, lng).
IN_A1_1 = (24.505, 117.605)  # cell 西桥1网格 (community 西桥社区, street A)
IN_B1_1 = (24.505, 117.645)  # cell 东铺头1网格 (street B)
OUTSIDE = (25.5, 118.5)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit windows and seen signatures live in the cache: each test starts clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _english():
    """Assertions read English messages; one test checks the Chinese ones on purpose."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def categories(db):
    from incidents.loaders import load_categories
    from incidents.models import Category

    load_categories()
    return {c.code: c for c in Category.objects.all()}


@pytest.fixture
def city(region_tree, categories):
    from tests.builders import make_grid_worker, make_user

    t = region_tree
    return SimpleNamespace(
        **t,
        categories=categories,
        worker=make_grid_worker("worker_a1", cells=[t["cell_a1_1"]], phone="13700000001"),
        worker_b=make_grid_worker("worker_b", cells=[t["cell_b1_1"]], phone="13700000003"),
        dispatcher=make_user(
            "dispatcher_a", roles=["dispatcher"], region=t["street_a"], phone="13700000004"
        ),
        admin=make_user("admin", roles=["admin"], phone="13700000009"),
    )


@dataclass
class PartnerKit:
    partner: object
    key: object
    raw_key: str
    secret: str

    def headers(self, body: bytes = b"", *, timestamp: str | None = None) -> dict[str, str]:
        from integrations.security import sign

        timestamp = timestamp or str(int(time.time() * 1000))
        return {
            "X-Api-Key": self.raw_key,
            "X-Timestamp": timestamp,
            "X-Signature": sign(self.secret, timestamp, body),
        }


def make_partner_kit(
    code: str = "zz12345",
    *,
    kind: str = "hotline_12345",
    scopes=("open311-post", "hotline", "webhooks"),
    region=None,
    rate_limit: int = 1000,
) -> PartnerKit:
    from integrations.services import api_key_create, partner_create

    partner, secret = partner_create(name=f"Partner {code}", code=code, kind=kind, region=region)
    key, raw = api_key_create(
        partner=partner, name="main", scopes=list(scopes), rate_limit=rate_limit
    )
    return PartnerKit(partner=partner, key=key, raw_key=raw, secret=secret)


@pytest.fixture
def kit(city) -> PartnerKit:
    return make_partner_kit(region=city.city)


@pytest.fixture
def signed_post(client):
    """POST a JSON body signed with the kit's key and secret."""

    def post(kit: PartnerKit, url: str, payload, **headers):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        all_headers = {**kit.headers(body), **headers}
        return client.generic(
            "POST", url, data=body, content_type="application/json", headers=all_headers
        )

    return post


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    status: int

    @property
    def json(self):
        return json.loads(self.body)


@dataclass
class PartnerServer:
    """Answers `fail_first` requests with 500, then 200; records every request."""

    fail_first: int = 0
    received: list[Received] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def delivered(self) -> list[Received]:
        return [r for r in self.received if r.status == 200]


@pytest.fixture
def partner_server(settings):
    """A tiny HTTP server on 127.0.0.1 (threading http.server), stopped after the test.
    Deliveries to it need the explicit test-only opt-in WEBHOOK_ALLOW_PRIVATE_URLS (never on
    by default, never tied to DEBUG; a test may turn it off again)."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    state = PartnerServer()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                failing = len(state.received) < state.fail_first
                status = 500 if failing else 200
                headers = {name.lower(): value for name, value in self.headers.items()}
                state.received.append(Received(self.path, headers, body, status))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/gridgov"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
