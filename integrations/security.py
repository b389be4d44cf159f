"""API keys, HMAC signatures and per-key rate limits.

Keys look like ``gg_<prefix>_<secret>``: the prefix finds the row, the SHA-256 of the whole key
is compared in constant time. Signed requests carry ``X-Timestamp`` (Unix seconds or
milliseconds) and ``X-Signature`` = hex HMAC-SHA256 of ``<timestamp>.<raw body>`` with the
partner's secret; a timestamp outside the window, or a signature seen before, is refused.
Rate limits are fixed windows counted in the Django cache (Redis in production).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import conf
from integrations.models import ApiKey

KEY_PATTERN = re.compile(r"^gg_([A-Za-z0-9]{4,16})_([A-Za-z0-9_\-]{16,128})$")
SIGNATURE_PREFIX = "sha256="


class SignatureError(Exception):
    """A signed request that must be refused; the message says why (safe to show)."""


@dataclass(frozen=True)
class NewKey:
    raw: str
    prefix: str
    key_hash: str


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def key_new(*, prefix: str | None = None, secret: str | None = None) -> NewKey:
    """A fresh key (or a fixed one, for the demo partner)."""
    prefix = prefix or secrets.token_hex(6)
    secret = secret or secrets.token_urlsafe(32)
    raw = f"gg_{prefix}_{secret}"
    if not KEY_PATTERN.match(raw):
        raise ValueError("malformed API key")
    return NewKey(raw=raw, prefix=prefix, key_hash=hash_key(raw))


def hmac_secret_new() -> str:
    return secrets.token_urlsafe(32)


def api_key_lookup(raw: str | None) -> ApiKey | None:
    """The active key (of an active partner) this raw key belongs to, else None."""
    match = KEY_PATTERN.match((raw or "").strip())
    if not match:
        return None
    key = (
        ApiKey.objects.select_related("partner")
        .filter(prefix=match.group(1), revoked_at__isnull=True, partner__active=True)
        .first()
    )
    if key is None or not hmac.compare_digest(key.key_hash, hash_key(match.group(0))):
        return None
    return key


def api_key_record_use(key: ApiKey) -> None:
    """Count the request (usage counts are shown in the admin)."""
    ApiKey.objects.filter(pk=key.pk).update(
        usage_count=F("usage_count") + 1, last_used_at=timezone.now()
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """hex HMAC-SHA256 of b"<timestamp>." + body (what partners send and what we send)."""
    message = timestamp.encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def _timestamp_seconds(value: str) -> float:
    if not re.fullmatch(r"\d{9,13}", value or ""):
        raise SignatureError(_("X-Timestamp must be Unix time in seconds or milliseconds."))
    number = int(value)
    return number / 1000 if number > 10**11 else float(number)


def signature_verify(*, secret: str, timestamp: str, signature: str, body: bytes) -> None:
    """Raise SignatureError unless the signature is right, fresh and not seen before."""
    if not timestamp or not signature:
        raise SignatureError(_("Signed requests need the X-Timestamp and X-Signature headers."))
    sent_at = _timestamp_seconds(timestamp)
    window = conf.signature_window_seconds()
    if abs(time.time() - sent_at) > window:
        raise SignatureError(
            _("The timestamp is outside the %(seconds)s-second window; sign the request again.")
            % {"seconds": window}
        )
    given = signature.strip().lower()
    if given.startswith(SIGNATURE_PREFIX):
        given = given[len(SIGNATURE_PREFIX) :]
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise SignatureError(_("The signature does not match the request."))
    # A replay within the window carries the same signature: each request is signed afresh.
    if not cache.add(f"integrations:signature:{expected}", 1, timeout=2 * window + 5):
        raise SignatureError(_("This signed request was already received (replay)."))


def rate_limit_retry_after(key: ApiKey, *, now: float | None = None) -> int | None:
    """Count one request against the key's fixed window. None if allowed, else the seconds
    until the window ends (for Retry-After)."""
    if not key.rate_limit:
        return None
    window = max(1, key.rate_window_seconds)
    now = time.time() if now is None else now
    start = int(now // window) * window
    cache_key = f"integrations:rate:{key.pk}:{start}"
    cache.add(cache_key, 0, timeout=window + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # the entry expired between add and incr
        cache.set(cache_key, 1, timeout=window + 5)
        count = 1
    if count > key.rate_limit:
        return max(1, int(start + window - now + 0.999))
    return None
