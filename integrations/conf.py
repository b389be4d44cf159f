"""Settings of the integrations app, each with a default (override in governance/settings.py
or, for the jurisdiction, with the OPEN311_JURISDICTION_ID environment variable)."""

import os

from django.conf import settings


def jurisdiction_id() -> str:
    """The Open311 jurisdiction_id this endpoint serves (the city's web domain, by convention)."""
    return getattr(settings, "OPEN311_JURISDICTION_ID", "") or os.environ.get(
        "OPEN311_JURISDICTION_ID", "gridgov.local"
    )


def open311_publish_photos() -> bool:
    """Whether GET requests show our own photos as media_url (off: photos may show people)."""
    return bool(getattr(settings, "OPEN311_PUBLISH_PHOTOS", False))


def open311_get_rate() -> str:
    """Anonymous Open311 GETs per client address (core.ratelimit rate, e.g. "60/m"); the
    setting, else the OPEN311_GET_RATE environment variable."""
    return str(
        getattr(settings, "OPEN311_GET_RATE", "") or os.environ.get("OPEN311_GET_RATE", "60/m")
    )


def signature_window_seconds() -> int:
    """How far a signed request's timestamp may be from our clock (replay window)."""
    return int(getattr(settings, "INTEGRATIONS_SIGNATURE_WINDOW_SECONDS", 300))


def webhook_timeout_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 5))


def webhook_retry_base_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30))


def webhook_retry_max_seconds() -> float:
    return float(getattr(settings, "WEBHOOK_RETRY_MAX_SECONDS", 3600))


def webhook_retry_window_hours() -> float:
    return float(getattr(settings, "WEBHOOK_RETRY_WINDOW_HOURS", 24))


def webhook_allow_private_urls() -> bool:
    """Whether webhooks may target non-public addresses (loopback, intranet, metadata
    services): an explicit opt-in for tests and local development only, whatever DEBUG says.
    Default off; production refuses to start with it on (check_production_safety)."""
    return getattr(settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False) is True


def check_production_safety() -> None:
    """Refuse to start a production deployment (settings.PRODUCTION) whose webhooks could
    reach our own network (security review M4)."""
    from django.core.exceptions import ImproperlyConfigured

    if getattr(settings, "PRODUCTION", False) and getattr(
        settings, "WEBHOOK_ALLOW_PRIVATE_URLS", False
    ):
        raise ImproperlyConfigured(
            "WEBHOOK_ALLOW_PRIVATE_URLS must be off in production: partners' webhooks must "
            "never reach internal addresses."
        )
