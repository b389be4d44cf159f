"""Shared steps of the volunteers services: the clock, text checks, errors."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotFoundError, ValidationFailed


def now() -> datetime:
    return timezone.now()


def fail(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, extra={field: [message]})


def text(value: str | None, field: str, *, required: bool = False, limit: int = 200) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise fail(field, _("This field is required."))
    if len(cleaned) > limit:
        raise fail(field, _("At most %(n)s characters.") % {"n": limit})
    return cleaned


def not_found(what: str = "") -> NotFoundError:
    return NotFoundError(what or _("Not found."))
