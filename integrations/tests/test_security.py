"""Keys (hashed at rest, shown once, revocable), HMAC signatures and fixed-window rate limits."""

from __future__ import annotations

import time

import pytest

from integrations import security
from integrations.models import ApiKey
from integrations.services import api_key_create, api_key_revoke, partner_rotate_secret
from integrations.tests.conftest import make_partner_kit

pytestmark = pytest.mark.django_db


def test_only_the_hash_and_prefix_of_a_key_are_stored(city):
    kit = make_partner_kit()
    assert kit.raw_key.startswith(f"gg_{kit.key.prefix}_")
    row = ApiKey.objects.get(pk=kit.key.pk)
    stored = " ".join(str(getattr(row, f.attname)) for f in ApiKey._meta.fields)
    assert kit.raw_key not in stored
    assert kit.raw_key.split("_", 2)[2] not in stored
    assert row.key_hash == security.hash_key(kit.raw_key)
    assert security.api_key_lookup(kit.raw_key) == row


@pytest.mark.parametrize(
    "mangle",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # wrong secret part
        lambda raw: raw.replace("gg_", "xx_", 1),
        lambda raw: "",
        lambda raw: None,
        lambda raw: "gg_short_x",
    ],
)
def test_wrong_keys_are_not_found(city, mangle):
    kit = make_partner_kit()
    assert security.api_key_lookup(mangle(kit.raw_key)) is None


def test_revoked_keys_and_inactive_partners_are_refused(city):
    kit = make_partner_kit()
    api_key_revoke(key_id=kit.key.pk)
    api_key_revoke(key_id=kit.key.pk)  # idempotent
    assert security.api_key_lookup(kit.raw_key) is None
    other = make_partner_kit("other")
    other.partner.active = False
    other.partner.save()
    assert security.api_key_lookup(other.raw_key) is None


def test_unknown_scopes_are_refused(city):
    from core.exceptions import ValidationFailed

    kit = make_partner_kit()
    with pytest.raises(ValidationFailed):
        api_key_create(partner=kit.partner, name="x", scopes=["admin"])


def test_signature_round_trip_and_failures(city):
    secret = "s3cret"
    body = b'{"a": 1}'
    timestamp = str(int(time.time()))
    signature = security.sign(secret, timestamp, body)
    security.signature_verify(secret=secret, timestamp=timestamp, signature=signature, body=body)
    with pytest.raises(security.SignatureError, match="replay"):
        security.signature_verify(
            secret=secret, timestamp=timestamp, signature=signature, body=body
        )
    ms = str(int(time.time() * 1000))
    security.signature_verify(
        secret=secret, timestamp=ms, signature=security.sign(secret, ms, body), body=body
    )
    with pytest.raises(security.SignatureError, match="does not match"):
        fresh = str(int(time.time()) + 1)
        security.signature_verify(
            secret=secret, timestamp=fresh, signature=security.sign(secret, fresh, b"{}"), body=body
        )
    with pytest.raises(security.SignatureError, match="window"):
        old = str(int(time.time()) - 3600)
        security.signature_verify(
            secret=secret, timestamp=old, signature=security.sign(secret, old, body), body=body
        )
    with pytest.raises(security.SignatureError):
        security.signature_verify(secret=secret, timestamp="", signature="", body=body)


def test_rotating_the_secret_invalidates_old_signatures(city):
    kit = make_partner_kit()
    new = partner_rotate_secret(partner_id=kit.partner.pk)
    kit.partner.refresh_from_db()
    assert new != kit.secret and kit.partner.hmac_secret == new


def test_fixed_window_rate_limit(city):
    kit = make_partner_kit(rate_limit=3)
    kit.key.rate_window_seconds = 60
    start = 1_800_000_000.0  # the start of a window (divisible by 60)
    results = [security.rate_limit_retry_after(kit.key, now=start + i) for i in range(4)]
    assert results[:3] == [None, None, None]
    assert results[3] == 57  # seconds until the window ends
    assert security.rate_limit_retry_after(kit.key, now=start + 60) is None  # a new window
    kit.key.rate_limit = 0  # no limit
    assert all(security.rate_limit_retry_after(kit.key, now=start) is None for _ in range(10))
