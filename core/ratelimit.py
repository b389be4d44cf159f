"""Small cache-backed rate limits for pages (the API uses DRF throttles).

A rate is written ``"N/period"``: ``"5/h"``, ``"20/10m"``, ``"30/15m"``, ``"100/d"``. A window
opens with the first attempt and lasts the period; the answer past the limit says when the
window ends (``Retry-After``). Client addresses and user names
are hashed with the SECRET_KEY before they become cache keys: the cache never holds them in clear.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import time
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")


@dataclass(frozen=True)
class Limit:
    limited: bool
    count: int
    limit: int
    retry_after: int  # seconds until the current window ends


def rate_parse(rate: str) -> tuple[int, int]:
    """``"20/10m"`` -> (20, 600). A malformed rate is a configuration error."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"Malformed rate {rate!r}: use N/period, e.g. 5/h or 20/10m")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _UNITS[unit]


def _trusted_networks() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """settings.TRUSTED_PROXIES as networks (an address is a /32 or /128). Parsed per call: the
    list is a handful of entries, and tests change the setting."""
    entries = getattr(settings, "TRUSTED_PROXIES", ()) or ()
    if isinstance(entries, str):
        entries = entries.split(",")
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry)


def _is_trusted_proxy(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _trusted_networks())


def client_address(request: HttpRequest, meta: str | None = None) -> str | None:
    """The client's IP address, or None when the request has none (a test request, a Unix
    socket).

    REMOTE_ADDR is the peer that opened the connection. Only when that peer is one of
    settings.TRUSTED_PROXIES (the reverse proxy) is the header named by settings.CLIENT_IP_META
    (or `meta`), e.g. HTTP_X_REAL_IP, read instead: anyone else could write any address into it
    and so dodge the per-address limits. The header's first address is used, and only if it is
    an IP address. django-axes' AXES_CLIENT_IP_CALLABLE and the audit log use this."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    meta = meta or cast(str, getattr(settings, "CLIENT_IP_META", "REMOTE_ADDR"))
    if meta != "REMOTE_ADDR" and remote and _is_trusted_proxy(remote):
        forwarded = (request.META.get(meta) or "").split(",")[0].strip()
        try:
            return str(ipaddress.ip_address(forwarded))
        except ValueError:
            pass  # absent or not an address: the proxy itself
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


def client_ip(request: HttpRequest, meta: str | None = None) -> str:
    """client_address() for the rate limits: "unknown" when there is none."""
    return client_address(request, meta) or "unknown"


def _key(scope: str, ident: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{ident}".encode()).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}"


def _state(
    count: int, limit: int, start: float, window: int, now: float, *, limited: bool
) -> Limit:
    retry_after = max(1, int(start + window - now + 0.999))
    return Limit(limited=limited, count=count, limit=limit, retry_after=retry_after)


def rate_hit(scope: str, ident: str, rate: str) -> Limit:
    """Count one attempt; ``limited`` once the attempts in this window exceed the rate. A window
    opens with the first attempt and lasts the period of the rate."""
    limit, window = rate_parse(rate)
    now = time.time()
    key = _key(scope, ident)
    started = cache.get(f"{key}:start")
    if started is not None and now - float(started) >= window:
        # Over, even if the cache has not dropped it yet (our clock decides, not the cache's).
        cache.delete_many([key, f"{key}:start"])
    if cache.add(key, 0, timeout=window):
        cache.set(f"{key}:start", now, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        cache.set(f"{key}:start", now, timeout=window)
        count = 1
    start = float(cache.get(f"{key}:start", now))
    return _state(count, limit, start, window, now, limited=count > limit)


def rate_peek(scope: str, ident: str, rate: str) -> Limit:
    """Whether the next attempt would be refused, without counting one."""
    limit, window = rate_parse(rate)
    now = time.time()
    key = _key(scope, ident)
    start = float(cache.get(f"{key}:start", now))
    count = int(cache.get(key, 0) or 0) if now - start < window else 0
    return _state(count, limit, start, window, now, limited=count >= limit)


def with_retry_after(response: HttpResponse, limit: Limit) -> HttpResponse:
    """Mark a page answer as 429 Too Many Requests with a Retry-After header."""
    response.status_code = 429
    response["Retry-After"] = str(limit.retry_after)
    return response
