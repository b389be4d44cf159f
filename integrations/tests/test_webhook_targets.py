"""Security review M4: webhooks never reach our own network. Only global addresses, whatever
DEBUG says; checked when subscribing and again at every delivery, against the address the
connection actually goes to (pinned: DNS rebinding between the check and the connection is
impossible); the test-only opt-in is refused in production."""

from __future__ import annotations

import socket

import pytest
from django.core.exceptions import ImproperlyConfigured

from integrations import conf, outbound
from integrations.models import WebhookDelivery, WebhookSubscription
from integrations.tests.test_apis import SUBS
from integrations.tests.test_webhooks import hotline, subscribe

pytestmark = pytest.mark.django_db

INTERNAL = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "100.100.100.200",  # Alibaba Cloud metadata (CGNAT 100.64.0.0/10)
    "100.64.0.1",
    "169.254.169.254",  # link-local metadata
    "0.0.0.0",  # noqa: S104 - an address under test, nothing binds to it
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "ff02::1",
]
PUBLIC_IP = "93.184.216.34"


def _url(address: str, path: str = "/hook") -> str:
    host = f"[{address}]" if ":" in address else address
    return f"http://{host}{path}"


@pytest.mark.parametrize("address", INTERNAL)
def test_non_global_addresses_are_not_public(address):
    assert outbound.address_is_public(address) is False


@pytest.mark.parametrize("address", [PUBLIC_IP, "8.8.8.8", "2606:4700:4700::1111"])
def test_global_addresses_are_public(address):
    assert outbound.address_is_public(address) is True


@pytest.mark.parametrize("address", INTERNAL)
def test_subscribing_to_an_internal_address_is_refused_even_with_debug(
    kit, signed_post, settings, address
):
    settings.DEBUG = True  # the old default allowed private targets whenever DEBUG was on
    assert conf.webhook_allow_private_urls() is False
    response = signed_post(kit, SUBS, {"url": _url(address)})
    assert response.status_code == 400, response.content
    assert "url" in response.json()["errors"]
    assert not WebhookSubscription.objects.exists()


@pytest.fixture
def connections(monkeypatch):
    """Every address a connection is opened to (none is actually opened)."""
    opened: list[tuple] = []

    def fake_create_connection(address, *args, **kwargs):
        opened.append(address)
        raise ConnectionRefusedError("test: no connection")

    monkeypatch.setattr(outbound.socket, "create_connection", fake_create_connection)
    return opened


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "100.100.100.200",
        "169.254.169.254",
        "::1",
        "fc00::1",
        "::ffff:127.0.0.1",
    ],
)
def test_delivery_to_an_internal_address_is_refused_and_nothing_is_sent(
    kit, signed_post, django_capture_on_commit_callbacks, connections, address
):
    # an admin-made (or older) subscription: the delivery checks again
    subscribe(kit, _url(address))
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first.attempts == 1 and first.status == WebhookDelivery.Status.PENDING
    assert first.last_error.startswith("refused"), first.last_error
    assert connections == []


@pytest.fixture
def dns(monkeypatch):
    """A resolver for hooks.partner.example: answers what `dns.answers` holds (the first
    answer at subscription, the next ones later); other names resolve as usual."""
    real = socket.getaddrinfo

    class Resolver:
        answers: list[str] = []
        asked = 0

        def __call__(self, host, port, *args, **kwargs):
            if host != "hooks.partner.example":
                return real(host, port, *args, **kwargs)
            answer = self.answers[min(self.asked, len(self.answers) - 1)]
            self.asked += 1
            family = socket.AF_INET6 if ":" in answer else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (answer, port))]

    resolver = Resolver()
    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolver)
    return resolver


def test_dns_rebinding_after_subscribing_is_refused_at_delivery(
    kit, signed_post, settings, partner_server, dns, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False  # partner_server turned the test opt-in on
    port = partner_server.url.split(":")[2].split("/")[0]
    url = f"http://hooks.partner.example:{port}/hooks/gridgov"
    dns.answers = [PUBLIC_IP, "127.0.0.1"]  # public when checked, ours when delivering
    response = signed_post(kit, SUBS, {"url": url})
    assert response.status_code == 201, response.content
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    first = WebhookDelivery.objects.order_by("event_id").first()
    assert first.status == WebhookDelivery.Status.PENDING
    assert first.last_error.startswith("refused"), first.last_error
    assert partner_server.received == []  # the listener on 127.0.0.1 got nothing


def test_the_connection_goes_to_the_address_that_was_checked(
    kit, signed_post, partner_server, dns, django_capture_on_commit_callbacks
):
    """Pinned: the name is resolved once per delivery and the socket goes to that address,
    while the Host header keeps the name (test opt-in on: the vetted address is 127.0.0.1)."""
    port = partner_server.url.split(":")[2].split("/")[0]
    subscribe(kit, f"http://hooks.partner.example:{port}/hooks/gridgov")
    dns.answers = ["127.0.0.1"]
    hotline(kit, signed_post, django_capture_on_commit_callbacks)
    assert len(partner_server.delivered) == 2  # reported, verifying
    assert dns.asked == 2  # once per delivery
    request = partner_server.delivered[0]
    assert request.headers["host"] == f"hooks.partner.example:{port}"
    assert request.path == "/hooks/gridgov"


def test_a_name_with_one_internal_address_among_public_ones_is_refused(monkeypatch):
    def resolver(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.5", port)),
        ]

    monkeypatch.setattr(outbound.socket, "getaddrinfo", resolver)
    assert outbound.url_is_public("https://mixed.partner.example/hook") is False
    with pytest.raises(outbound.UnsafeTarget):
        outbound.post("https://mixed.partner.example/hook", body=b"{}", headers={}, timeout=1)


def test_the_opt_in_is_off_by_default_and_refused_in_production(settings):
    del settings.WEBHOOK_ALLOW_PRIVATE_URLS
    settings.DEBUG = True
    assert conf.webhook_allow_private_urls() is False
    settings.PRODUCTION = True
    conf.check_production_safety()  # off: fine
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    with pytest.raises(ImproperlyConfigured, match="WEBHOOK_ALLOW_PRIVATE_URLS"):
        conf.check_production_safety()
    settings.PRODUCTION = False
    conf.check_production_safety()  # tests and development may opt in
