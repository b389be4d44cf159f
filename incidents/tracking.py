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

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy

from core.ratelimit import Limit, client_ip, rate_hit, rate_peek

# The code itself lives in incidents.access_codes (no imports above core: the services use it);
# these names stay here for the pages, the API and old imports.
from incidents.access_codes import (  # noqa: F401
    ACCESS_CODE_ALPHABET,
    ACCESS_CODE_LENGTH,
    access_code_hash,
    access_code_matches,
    access_code_new,
    access_code_normalize,
    tracking_proof,
    tracking_proof_matches,
)

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
