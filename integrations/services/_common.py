"""Steps shared by the integrations services: the key's scope, the intake's field checks
(category, location, moments), the engine's error names, the Open311 status."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from incidents.models import Category, IncidentState
from integrations import geocoding
from integrations.models import ApiKey

CLOSED_STATES = {IncidentState.CLOSED, IncidentState.INVALID}


def _require_scope(api_key: ApiKey, scope: str) -> None:
    if not api_key.is_active or not api_key.partner.active:
        raise PermissionDeniedError(_("This API key is revoked."))
    if not api_key.has_scope(scope):
        raise PermissionDeniedError(
            _("This API key may not do this (it lacks the %(scope)s scope).") % {"scope": scope}
        )


# --- shared intake helpers --------------------------------------------------------------------


def _category_for_code(code: str, *, field: str, not_found_error: bool) -> Category:
    code = (code or "").strip()
    if not code:
        message = _("%(field)s was not provided.") % {"field": field}
        raise ValidationFailed(message, extra={field: [message]})
    category = (
        Category.objects.select_related("parent")
        .filter(code=code, active=True, parent__isnull=False, internal_only=False)
        .first()
    )
    if category is None:
        message = _("%(field)s %(code)s was not found.") % {"field": field, "code": code}
        if not_found_error:
            raise NotFoundError(message, extra={field: [message]})
        raise ValidationFailed(message, extra={field: [message]})
    return category


def _float_or_none(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return float("nan")
    return number


def _resolve_location(
    *,
    lat: Any,
    lng: Any,
    address: str,
    address_id: str = "",
    lat_field: str,
    lng_field: str,
    errors: dict[str, list[str]],
) -> tuple[float | None, float | None]:
    """lat/long as given, else a point for the address id or address (our gazetteer). Adds
    a field error when there is no usable location; the engine checks the jurisdiction."""
    lat_f, lng_f = _float_or_none(lat), _float_or_none(lng)
    if (lat_f is None) != (lng_f is None):
        message = _("%(lat)s and %(lng)s must be sent together.") % {
            "lat": lat_field,
            "lng": lng_field,
        }
        errors.setdefault(lat_field, []).append(message)
        return None, None
    if lat_f is not None and lng_f is not None:
        if not (-90 <= lat_f <= 90 and -180 <= lng_f <= 180):  # also false for NaN
            errors.setdefault(lat_field, []).append(
                _("%(lat)s / %(lng)s are not valid WGS-84 coordinates.")
                % {"lat": lat_field, "lng": lng_field}
            )
            return None, None
        return lat_f, lng_f
    point = geocoding.point_for_address_id(address_id) if address_id else None
    if point is None and address_id:
        errors.setdefault("address_id", []).append(
            _("address_id %(id)s is not a known grid cell code.") % {"id": address_id}
        )
        return None, None
    if point is None and address:
        point = geocoding.point_for_address(address)
        if point is None:
            errors.setdefault("address_string", []).append(
                _(
                    "The address could not be located; send %(lat)s and %(lng)s, or name a "
                    "community or grid cell."
                )
                % {"lat": lat_field, "lng": lng_field}
            )
            return None, None
    if point is None:
        errors.setdefault(lat_field, []).append(
            _("A location is required: %(lat)s and %(lng)s, or an address.")
            % {"lat": lat_field, "lng": lng_field}
        )
        return None, None
    return point


def _engine_errors(exc: ValidationFailed, mapping: Mapping[str, str]) -> ValidationFailed:
    """Rename the engine's field names to the names the caller sent."""
    extra = {mapping.get(field, field): messages for field, messages in exc.extra.items()}
    return ValidationFailed(exc.message, extra=extra)


def _token_new() -> str:
    return secrets.token_hex(12)


def _parse_moment(value: Any, *, field: str, errors: dict[str, list[str]]) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = parse_datetime(value) if isinstance(value, str) else value
    except ValueError:
        moment = None
    if not isinstance(moment, datetime):
        errors[field] = [_("Use an ISO 8601 date and time, e.g. 2026-03-12T09:30:00+08:00.")]
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"
