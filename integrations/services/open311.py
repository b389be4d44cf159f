"""Open311 intake: open311_request_create (GeoReport v2 POST) files an ordinary incident
through incidents.services.incident_report, in one transaction with the IncomingTicket: bad
input writes nothing."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from core.exceptions import ValidationFailed
from incidents.models import Category, Channel
from integrations.models import ApiKey, IncomingTicket, KeyScope, ServiceAttribute
from integrations.services._common import (
    _category_for_code,
    _engine_errors,
    _float_or_none,
    _parse_moment,
    _require_scope,
    _resolve_location,
    _token_new,
)
from integrations.services.webhooks import _deliveries_for_existing_events

DESCRIPTION_MAX = 4000  # GeoReport v2; the incident engine may accept less (it says so)


# --- Open311 ----------------------------------------------------------------------------------


def _attribute_errors(
    category: Category, attributes: Mapping[str, Any]
) -> tuple[dict[str, list[str]], dict[str, Any], list[str]]:
    """Check attribute[code] values against the category's definition. Returns (errors,
    clean values, description lines for the handlers)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    lines: list[str] = []
    definitions = list(ServiceAttribute.objects.filter(category=category, variable=True))
    for definition in definitions:
        field = f"attribute[{definition.code}]"
        raw = attributes.get(definition.code)
        values = [str(v).strip() for v in (raw if isinstance(raw, list) else [raw]) if v]
        values = [v for v in values if v]
        if not values:
            if definition.required:
                errors[field] = [_("%(field)s is required.") % {"field": field}]
            continue
        datatype = definition.datatype
        if datatype == ServiceAttribute.Datatype.MULTIVALUELIST:
            bad = [v for v in values if v not in definition.value_keys()]
            if bad:
                errors[field] = [_("%(field)s: unknown value.") % {"field": field}]
                continue
            clean[definition.code] = values
            shown = "、".join(definition.value_name(v) for v in values)
        else:
            if len(values) > 1:
                errors[field] = [_("%(field)s takes one value.") % {"field": field}]
                continue
            value = values[0]
            if datatype == ServiceAttribute.Datatype.SINGLEVALUELIST:
                if value not in definition.value_keys():
                    errors[field] = [_("%(field)s: unknown value.") % {"field": field}]
                    continue
                shown = definition.value_name(value)
            elif datatype == ServiceAttribute.Datatype.NUMBER:
                number = _float_or_none(value)
                if number is None or number != number:
                    errors[field] = [_("%(field)s must be a number.") % {"field": field}]
                    continue
                shown = value
            elif datatype == ServiceAttribute.Datatype.DATETIME:
                if _parse_moment(value, field=field, errors={}) is None:
                    errors[field] = [
                        _("%(field)s must be an ISO 8601 date and time.") % {"field": field}
                    ]
                    continue
                shown = value
            else:
                if len(value) > 1000:
                    errors[field] = [_("%(field)s is too long.") % {"field": field}]
                    continue
                shown = value
            clean[definition.code] = value
        lines.append(f"{definition.description}：{shown}")
    return errors, clean, lines


def _reporter_name(first_name: str, last_name: str) -> str:
    first, last = (first_name or "").strip(), (last_name or "").strip()
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"[:64]  # Chinese order: family name first
    return " ".join(part for part in (first, last) if part)[:64]


def open311_request_create(
    *,
    api_key: ApiKey,
    service_code: str,
    lat: Any = None,
    long: Any = None,
    address_string: str = "",
    address_id: str = "",
    attributes: Mapping[str, Any] | None = None,
    email: str = "",
    device_id: str = "",
    account_id: str = "",
    first_name: str = "",
    last_name: str = "",
    phone: str = "",
    description: str = "",
    media_url: str = "",
    photos: Sequence = (),
) -> IncomingTicket:
    """GeoReport v2 POST: file an incident (channel Open311) for the key's partner.

    Requires the open311-post scope (PermissionDeniedError). Unknown service_code:
    NotFoundError; a category not published on Open311 (Category.publish_open311):
    ValidationFailed; every other problem: ValidationFailed with one message per field (all at
    once). Nothing is written unless everything is valid (one transaction with the engine's
    incident_report, which enqueues the loop's first task on commit)."""
    _require_scope(api_key, KeyScope.OPEN311_POST)
    category = _category_for_code(service_code, field="service_code", not_found_error=True)
    if not category.publish_open311 or category.is_dispute:
        # Disputes and personal matters are not public services: the resident reports them
        # on the portal or through 12345, where the report is never published.
        message = _("service_code %(code)s is not offered through Open311.") % {
            "code": category.code
        }
        raise ValidationFailed(message, extra={"service_code": [message]})
    errors, clean_attributes, attribute_lines = _attribute_errors(category, attributes or {})
    point = _resolve_location(
        lat=lat,
        lng=long,
        address=address_string,
        address_id=address_id,
        lat_field="lat",
        lng_field="long",
        errors=errors,
    )
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    media_url = (media_url or "").strip()
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 500:
                raise ValidationError("too long")
        except ValidationError:
            errors["media_url"] = [_("media_url must be an http(s) URL of at most 500 characters.")]
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX:
        errors["description"] = [_("At most %(n)s characters.") % {"n": DESCRIPTION_MAX}]
    for field, value, limit in (
        ("device_id", device_id, 128),
        ("account_id", account_id, 128),
        ("address_string", address_string, 255),
    ):
        if len((value or "").strip()) > limit:
            errors.setdefault(field, []).append(_("At most %(n)s characters.") % {"n": limit})
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    if not text:
        text = category.name  # description is optional in GeoReport v2
    if attribute_lines:
        text = text + "\n\n" + "\n".join(attribute_lines)

    from incidents.services import incident_report

    try:
        with transaction.atomic():
            incident = incident_report(
                actor=None,
                category=category,
                description=text,
                channel=Channel.OPEN311,
                lat=point[0],
                lng=point[1],
                address=(address_string or "").strip(),
                reporter_name=_reporter_name(first_name, last_name),
                reporter_phone=(phone or "").strip(),
                photos=photos,
            )
            ticket = IncomingTicket.objects.create(
                partner=api_key.partner,
                api_key=api_key,
                channel=Channel.OPEN311,
                incident=incident,
                token=_token_new(),
                email=email,
                device_id=(device_id or "").strip(),
                account_id=(account_id or "").strip(),
                media_url=media_url,
                attributes=clean_attributes,
            )
            _deliveries_for_existing_events(incident)
    except ValidationFailed as exc:
        raise _engine_errors(
            exc,
            {
                "category": "service_code",
                "location": "lat",
                "reporter_phone": "phone",
                "address": "address_string",
                "photos": "media",
            },
        ) from exc
    return ticket
