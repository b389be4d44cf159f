"""The public tracking secret (查询码) and the tracking budget shared by the page and the API.

A report gets a random access code from an unambiguous alphabet with its tracking number. Only
a salted HMAC of it is stored (`Incident.access_code_hash`); the code is shown once (the done
page, the report's API answer) and sent by SMS to a reporter known by phone. Tracking needs the
number and the code (never a phone fragment).

Budgets (core.ratelimit, cache keys shared by /incidents/track/ and the API):
- per client address, every attempt: INCIDENT_TRACK_TRIES_PER_10_MINUTES (429);
- per tracking number, failures: INCIDENT_TRACK_FAILURES_PER_NUMBER within
  INCIDENT_TRACK_LOCK_MINUTES; once reached the number is locked for the rest of that period
  and answers the same 404 as a wrong number or a wrong code (no oracle);
- "resend my code": INCIDENT_CODE_RESENDS_PER_NUMBER and INCIDENT_CODE_RESENDS_PER_CLIENT.
"""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy

from core.ratelimit import Limit, client_ip, rate_hit, rate_peek

ACCESS_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
ACCESS_CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes
_HASH_PREFIX = "hmac-sha256"
_KEY_SALT = "incidents.tracking.access_code"
# Compared against when the number does not exist: the same work either way.
_DUMMY_HASH = f"{_HASH_PREFIX}$0000000000000000${'0' * 64}"

# Defaults of the settings named in the module docstring.
TRACK_TRIES_PER_10_MINUTES = 20
TRACK_FAILURES_PER_NUMBER = 5
TRACK_LOCK_MINUTES = 60
CODE_RESENDS_PER_NUMBER = "3/h"
CODE_RESENDS_PER_CLIENT = "10/h"

CLIENT_SCOPE = "incidents:track"
NUMBER_SCOPE = "incidents:track-number"
RESEND_NUMBER_SCOPE = "incidents:code-resend-number"
RESEND_CLIENT_SCOPE = "incidents:code-resend"


# --- the code ---------------------------------------------------------------------------------


def access_code_new() -> str:
    """A fresh random access code, e.g. K7M3Q9XP."""
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def access_code_normalize(code: str) -> str:
    """What a person typed: case, spaces and dashes do not matter."""
    return "".join(str(code or "").split()).replace("-", "").upper()[:32]


def _digest(salt: str, code: str) -> str:
    return salted_hmac(f"{_KEY_SALT}:{salt}", code, algorithm="sha256").hexdigest()


def access_code_hash(code: str) -> str:
    """The stored form: "hmac-sha256$<salt>$<hex>" (salted, keyed with the SECRET_KEY)."""
    salt = secrets.token_hex(8)
    return f"{_HASH_PREFIX}${salt}${_digest(salt, access_code_normalize(code))}"


def access_code_matches(stored: str, code: str) -> bool:
    """Constant-time check of a typed code against the stored hash (False for an empty one);
    the same work whether or not there is a stored hash."""
    typed = access_code_normalize(code)
    parts = (stored or "").split("$")
    valid = len(parts) == 3 and parts[0] == _HASH_PREFIX
    _prefix, salt, expected = parts if valid else _DUMMY_HASH.split("$")
    same = hmac.compare_digest(_digest(salt, typed).encode(), expected.encode())
    return valid and bool(typed) and same


def tracking_proof(stored: str) -> str:
    """What the session keeps once a browser proved the code (never the code itself): it stops
    working when a new code is issued."""
    return salted_hmac(f"{_KEY_SALT}:proof", stored or "-", algorithm="sha256").hexdigest()[:32]


def tracking_proof_matches(stored: str, proof: str) -> bool:
    return bool(stored) and hmac.compare_digest(tracking_proof(stored), str(proof or ""))


# --- budgets ----------------------------------------------------------------------------------


def _client(request: HttpRequest) -> str:
    """The client address (INCIDENT_CLIENT_IP_META, else core.ratelimit.client_ip)."""
    meta = getattr(settings, "INCIDENT_CLIENT_IP_META", None)
    address = (request.META.get(meta) or "").split(",")[0].strip() if meta else ""
    return address or client_ip(request)


def _number_rate() -> str:
    failures = getattr(settings, "INCIDENT_TRACK_FAILURES_PER_NUMBER", TRACK_FAILURES_PER_NUMBER)
    minutes = getattr(settings, "INCIDENT_TRACK_LOCK_MINUTES", TRACK_LOCK_MINUTES)
    return f"{int(failures)}/{int(minutes)}m"


def client_attempt(request: HttpRequest) -> Limit:
    """Count one tracking attempt (page or API) from this client; `limited` past the budget."""
    tries = getattr(settings, "INCIDENT_TRACK_TRIES_PER_10_MINUTES", TRACK_TRIES_PER_10_MINUTES)
    return rate_hit(CLIENT_SCOPE, _client(request), f"{int(tries)}/10m")


def number_locked(number: str) -> bool:
    return rate_peek(NUMBER_SCOPE, number, _number_rate()).limited


def number_failed(number: str) -> None:
    rate_hit(NUMBER_SCOPE, number, _number_rate())


def resend_client_attempt(request: HttpRequest) -> Limit:
    rate = getattr(settings, "INCIDENT_CODE_RESENDS_PER_CLIENT", CODE_RESENDS_PER_CLIENT)
    return rate_hit(RESEND_CLIENT_SCOPE, _client(request), rate)


def resend_number_attempt(number: str) -> Limit:
    rate = getattr(settings, "INCIDENT_CODE_RESENDS_PER_NUMBER", CODE_RESENDS_PER_NUMBER)
    return rate_hit(RESEND_NUMBER_SCOPE, number, rate)


RESEND_ANSWER = gettext_lazy(
    "If the number and the phone match a report, a new access code is on its way by text "
    "message. The old code no longer works."
)


# The page and the API unlock and resend through incidents.tracking_requests (it reads and
# writes incidents; this module stays below the selectors and the services).
