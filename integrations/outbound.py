"""Outbound HTTP to partners (webhooks) without server-side request forgery (security review M4).

A partner chooses the URL we POST to, so the URL must never reach our own network: the cloud
metadata service (100.100.100.200, 169.254.169.254), the intranet, loopback. Rules:

- Only **global** addresses (``ipaddress``'s ``is_global``, and not multicast): private,
  loopback, link-local, CGNAT 100.64.0.0/10, reserved, unspecified, IPv6 ULA and site-local
  are refused, and so is an IPv6 address that embeds one (IPv4-mapped, NAT64 64:ff9b::/96,
  6to4, Teredo).
- Checked when a subscription is created **and at every delivery**, against the addresses the
  name resolves to at that moment. The connection then goes to a vetted address itself (the
  Host header and TLS SNI/certificate check still use the name): the name is resolved once per
  delivery, so a DNS answer that changes between the check and the connection (rebinding)
  cannot reach a private address.
- ``WEBHOOK_ALLOW_PRIVATE_URLS`` (default False; production refuses to start with it on, see
  integrations.apps) lifts the address rule for tests and local development only; the
  connection is still pinned.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from integrations import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


class UnsafeTarget(Exception):
    """The URL cannot be resolved, or resolves to an address we must not connect to."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    embedded = []
    if address.ipv4_mapped is not None:
        embedded.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        embedded.append(address.sixtofour)
    if address.teredo is not None:
        embedded.extend(address.teredo)
    if address in NAT64:
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return embedded


def address_is_public(address: IPAddress | str) -> bool:
    """Whether we may connect to this address: global unicast, also what it embeds."""
    try:
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    except ValueError:
        return False
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL:
            return False
        return all(address_is_public(inner) for inner in _embedded_ipv4(ip))
    return True


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to now (TCP), in the resolver's order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise UnsafeTarget(f"cannot resolve {host}") from exc
    addresses: list[str] = []
    for info in infos:
        value = str(info[4][0]).split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) is never global
        if value not in addresses:
            addresses.append(value)
    if not addresses:
        raise UnsafeTarget(f"{host} has no address")
    return addresses


def vetted_addresses(host: str, port: int) -> list[str]:
    """The addresses of `host` we may connect to: all of them, or UnsafeTarget if any is not
    public (a name with one private address is refused whole) unless private targets are
    allowed (WEBHOOK_ALLOW_PRIVATE_URLS, tests and development only)."""
    if not host:
        raise UnsafeTarget("no host")
    addresses = resolve(host, port)
    if conf.webhook_allow_private_urls():
        return addresses
    refused = [a for a in addresses if not address_is_public(a)]
    if refused:
        raise UnsafeTarget(f"{host} resolves to a non-public address")
    return addresses


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target:
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("unsupported URL scheme")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:
        raise UnsafeTarget("bad port") from exc
    host = parts.hostname or ""
    if not host:
        raise UnsafeTarget("no host")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=scheme, host=host, port=port, path=path)


def url_is_public(url: str) -> bool:
    """Whether a subscription URL resolves now to public addresses only."""
    try:
        target = parse_target(url)
        vetted_addresses(target.host, target.port)
    except UnsafeTarget:
        return False
    return True


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to `address` (already vetted), with `host` in the Host header."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address` (already vetted); SNI and the certificate check use `host`."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.pinned_address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.pinned_address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


@dataclass(frozen=True)
class Answer:
    status: int
    reason: str


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST `body` to `url` through a vetted, pinned connection; redirects are not followed
    (a 3xx is an answer like any other). UnsafeTarget if the target is refused; OSError or
    http.client.HTTPException if the connection fails."""
    target = parse_target(url)
    addresses = vetted_addresses(target.host, target.port)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    last_error: OSError | None = None
    for address in addresses:
        connection = connection_class(target.host, target.port, address=address, timeout=timeout)
        try:
            try:
                connection.connect()
            except OSError as exc:  # this address does not answer: try the next vetted one
                last_error = exc
                continue
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(1024)
            return Answer(status=response.status, reason=response.reason or "")
        finally:
            connection.close()
    raise last_error or OSError("no address answered")
