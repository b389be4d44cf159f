"""Every write of the integrations app.

- Partners and keys: partner_create, partner_rotate_secret, api_key_create, api_key_revoke.
- Intake: open311_request_create (GeoReport v2 POST) and hotline_ticket_receive (12345 / 110,
  idempotent on the partner's ticket id). Both file an ordinary incident through
  incidents.services.incident_report, in one transaction with the IncomingTicket: bad input
  writes nothing.
- The partner's deadline: ticket_deadline_apply (after each dispatch; the engine sets the
  category's deadline, the ticket's own limit wins).
- Webhooks: webhook_deliveries_for_event (called by the IncidentEvent signal: one insert per
  matching subscription), webhook_deliver_pending (the task: oldest pending delivery first,
  HTTP outside any transaction, exponential backoff up to a day), webhook_delivery_replay,
  webhooks_due (the sweep), subscription_create / subscription_delete.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import random
import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from core.calendar import add_limit, parse_limit
from core.exceptions import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from grids.models import Region
from incidents.models import (
    Category,
    Channel,
    Incident,
    IncidentEvent,
    IncidentState,
)
from integrations import conf, geocoding, outbound, security
from integrations.models import (
    ApiKey,
    IncomingTicket,
    KeyScope,
    Partner,
    ServiceAttribute,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)

TICKET_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,39}$")
DESCRIPTION_MAX = 4000  # GeoReport v2; the incident engine may accept less (it says so)
HOTLINE_CHANNELS = {"12345": Channel.HOTLINE_12345, "110": Channel.DIVERSION_110}
CLOSED_STATES = {IncidentState.CLOSED, IncidentState.INVALID}
USER_AGENT = "GridGov-Webhooks/1.0"


# --- partners and keys ------------------------------------------------------------------------


def partner_create(
    *,
    name: str,
    code: str,
    kind: str,
    region: Region | None = None,
    default_time_limit: str = "5wd",
    contact: str = "",
    hmac_secret: str | None = None,
) -> tuple[Partner, str]:
    """Create a partner with a fresh HMAC secret (or the given one). Returns the partner and
    the secret, to be shown once."""
    secret = hmac_secret or security.hmac_secret_new()
    partner = Partner(
        name=name,
        code=code,
        kind=kind,
        region=region,
        default_time_limit=default_time_limit,
        contact=contact,
        hmac_secret=secret,
    )
    try:
        partner.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(_("The partner is not valid."), extra=exc.message_dict) from exc
    partner.save()
    return partner, secret


def partner_rotate_secret(*, partner_id: int) -> str:
    """Give the partner a new HMAC secret (the old one stops working at once)."""
    with transaction.atomic():
        partner = Partner.objects.select_for_update().filter(pk=partner_id).first()
        if partner is None:
            raise NotFoundError(_("Partner not found."))
        partner.hmac_secret = security.hmac_secret_new()
        partner.save(update_fields=["hmac_secret", "updated_at"])
        return partner.hmac_secret


def api_key_create(
    *,
    partner: Partner,
    name: str,
    scopes: Sequence[str],
    rate_limit: int = 120,
    rate_window_seconds: int = 60,
    created_by: User | None = None,
    fixed_prefix: str | None = None,
    fixed_secret: str | None = None,
) -> tuple[ApiKey, str]:
    """Make a key; returns it with the raw key, which is never stored and shown only once."""
    unknown = sorted(set(scopes) - set(KeyScope.values))
    if unknown:
        message = _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}
        raise ValidationFailed(message, extra={"scopes": [message]})
    if rate_window_seconds < 1:
        message = _("The window is at least one second.")
        raise ValidationFailed(message, extra={"rate_window_seconds": [message]})
    new = security.key_new(prefix=fixed_prefix, secret=fixed_secret)
    key = ApiKey.objects.create(
        partner=partner,
        name=name.strip() or "key",
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=sorted(set(scopes)),
        rate_limit=rate_limit,
        rate_window_seconds=rate_window_seconds,
        created_by=created_by,
    )
    return key, new.raw


def api_key_revoke(*, key_id: int) -> ApiKey:
    """Revoke a key: it is refused from the next request on. Idempotent."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
        if key is None:
            raise NotFoundError(_("API key not found."))
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at", "updated_at"])
        return key


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


def _deliveries_for_existing_events(incident: Incident) -> None:
    """The ticket is linked after the report event was written: give its subscribers the
    changes they missed (idempotent)."""
    last = incident.events.exclude(from_state=F("to_state")).order_by("-pk").first()
    if last is not None:
        webhook_offer(event=last, incident=incident)


def _token_new() -> str:
    return secrets.token_hex(12)


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


# --- hotline intake ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HotlineResult:
    ticket: IncomingTicket
    created: bool


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


ENGINE_EXTERNAL_ID_MAX = 64  # incidents.Incident.external_id


def engine_external_id(partner: Partner, ticket_id: str) -> str:
    """The incident's external id for a partner's ticket: "<partner code>:<ticket id>". The
    partner code (a slug, no colon) scopes it to the partner (security review L1; the engine
    is called with actor=None, i.e. as the partner). One that would not fit the engine's 64
    characters (and be cut, so that two tickets could meet) carries a digest of the ticket id
    instead."""
    value = f"{partner.code}:{ticket_id}"
    if len(value) <= ENGINE_EXTERNAL_ID_MAX:
        return value
    digest = hashlib.sha256(ticket_id.encode()).hexdigest()
    return f"{partner.code}:#{digest}"[:ENGINE_EXTERNAL_ID_MAX]


def _existing_ticket(partner: Partner, external_id: str) -> IncomingTicket | None:
    return (
        IncomingTicket.objects.select_related("incident", "partner")
        .filter(partner=partner, external_id=external_id, incident__isnull=False)
        .first()
    )


def hotline_ticket_receive(
    *,
    api_key: ApiKey,
    ticket_id: str,
    category_code: str,
    description: str,
    source: str = "",
    lat: Any = None,
    lng: Any = None,
    address: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    urgent: bool = False,
    time_limit: str = "",
    due_at: Any = None,
    received_at: Any = None,
    police_reference: str = "",
) -> HotlineResult:
    """A 12345 ticket or a 110 non-police diversion becomes an incident, exactly once.

    Idempotent on (partner, ticket_id): a ticket already received (sequentially or
    concurrently) returns the incident filed the first time, unchanged (`created` False).
    The partner's time limit (`due_at`, or `time_limit` from `received_at`, default the
    partner's, 12345 practice 5wd) is handed to the engine as `resolve_by`: it becomes the
    incident's resolve deadline at every dispatch. `urgent` marks the incident urgent (the
    engine's `urgent` argument; False keeps the category's urgency). 110 diversions need the
    police reference. The caller's phone is stored on the incident (shown masked).
    Requires the hotline scope. Bad input raises ValidationFailed and writes nothing."""
    _require_scope(api_key, KeyScope.HOTLINE)
    partner = api_key.partner
    ticket_id = (ticket_id or "").strip()
    errors: dict[str, list[str]] = {}
    if not TICKET_ID_PATTERN.match(ticket_id):
        errors["ticket_id"] = [
            _("ticket_id: 1–40 letters, digits and . _ : - (the partner's ticket number).")
        ]
    else:
        existing = _existing_ticket(partner, ticket_id)
        if existing is not None:
            return HotlineResult(ticket=existing, created=False)

    source = (source or "").strip() or (
        "110" if partner.kind == Partner.Kind.DIVERSION_110 else "12345"
    )
    channel = HOTLINE_CHANNELS.get(source)
    if channel is None:
        errors["source"] = [_("source is 12345 or 110.")]
    police_reference = (police_reference or "").strip()
    if channel == Channel.DIVERSION_110 and not police_reference:
        errors["police_reference"] = [_("A 110 diversion carries the police reference.")]
    if len(police_reference) > 64:
        errors["police_reference"] = [_("At most %(n)s characters.") % {"n": 64}]
    try:
        category = _category_for_code(category_code, field="category_code", not_found_error=False)
    except ValidationFailed as exc:
        errors.update(exc.extra)
        category = None
    now = timezone.now()
    received = _parse_moment(received_at, field="received_at", errors=errors) or now
    if received > now + timedelta(minutes=5):
        errors["received_at"] = [_("received_at lies in the future.")]
    limit = (time_limit or "").strip()
    deadline = _parse_moment(due_at, field="due_at", errors=errors)
    if deadline is not None and deadline <= received:
        errors["due_at"] = [_("due_at must be after the time the ticket was received.")]
    if deadline is None and "due_at" not in errors:
        limit = limit or partner.default_time_limit or "5wd"
        try:
            parse_limit(limit)
            deadline = add_limit(received, limit)
        except ValidationFailed:
            errors["time_limit"] = [_("time_limit: a number and m, h, d, wh or wd, e.g. 5wd.")]
    point = _resolve_location(
        lat=lat,
        lng=lng,
        address=address,
        lat_field="lat",
        lng_field="lng",
        errors=errors,
    )
    if not isinstance(urgent, bool):
        errors["urgent"] = [_("urgent is true or false.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)

    from incidents.services import incident_report

    try:
        with transaction.atomic():
            # The ticket row first: a concurrent duplicate waits on its unique index and then
            # fails, and is answered with the incident this transaction files.
            ticket = IncomingTicket.objects.create(
                partner=partner,
                api_key=api_key,
                channel=channel,
                external_id=ticket_id,
                token=_token_new(),
                police_reference=police_reference,
                urgent=urgent,
                received_at=received,
                time_limit=limit,
                due_at=deadline,
                deadline_applied_at=now if deadline is not None else None,
            )
            try:
                incident = incident_report(
                    actor=None,
                    category=category,
                    description=description,
                    channel=channel,
                    lat=point[0],
                    lng=point[1],
                    address=(address or "").strip(),
                    reporter_name=(caller_name or "").strip(),
                    reporter_phone=(caller_phone or "").strip(),
                    external_id=engine_external_id(partner, ticket_id),
                    # The partner's urgent flag (an urgent 12345 work order) beats the
                    # category's; not urgent leaves the category's urgency.
                    urgent=True if urgent else None,
                    resolve_by=deadline,
                )
            except ValidationFailed as exc:
                raise _engine_errors(
                    exc,
                    {
                        "category": "category_code",
                        "location": "lat",
                        "reporter_phone": "caller_phone",
                    },
                ) from exc
            ticket.incident = incident
            ticket.save(update_fields=["incident", "updated_at"])
            _deliveries_for_existing_events(incident)
    except IntegrityError:
        existing = _existing_ticket(partner, ticket_id)
        if existing is None:
            raise
        return HotlineResult(ticket=existing, created=False)
    return HotlineResult(ticket=ticket, created=True)


def ticket_deadline_apply(*, incident_id: int) -> bool:
    """Give an incident in handling its partner's deadline back (a repair after a bulk write;
    the engine applies the deadline itself at every dispatch: incident_report(resolve_by=...)).
    Delegates to incidents.services.incident_partner_deadline_restore (idempotent; an approved
    extension or a deadline already missed wins). Returns whether the deadline moved."""
    from incidents.services import incident_partner_deadline_restore

    moved = incident_partner_deadline_restore(incident_id=incident_id)
    if moved:
        IncomingTicket.objects.filter(incident_id=incident_id).update(
            deadline_applied_at=timezone.now()
        )
    return moved


# --- webhooks ---------------------------------------------------------------------------------


def webhook_deliveries_for_event(*, event: IncidentEvent, incident: Incident | None = None) -> int:
    """Pending deliveries of this status change for every active subscription that follows
    the incident (a partner's own ticket, or a region containing it); the sending task is
    enqueued on commit. Earlier state changes of the incident that have no delivery yet (a
    bulk write sends no signal) are added too, so the stream stays complete and in order;
    history older than a subscription is not. Called from the IncidentEvent post_save signal
    inside the engine's transaction, so it stays small: a few indexed reads and at most one
    INSERT. Idempotent (unique per subscription and event). Returns the rows added."""
    subscriptions = list(
        WebhookSubscription.objects.filter(active=True, partner__active=True).select_related(
            "region"
        )
    )
    if not subscriptions:
        return 0
    incident = incident or event.incident
    own_partner_id = None
    if any(s.scope == WebhookSubscription.Scope.OWN for s in subscriptions):
        own_partner_id = (
            IncomingTicket.objects.filter(incident_id=incident.pk)
            .values_list("partner_id", flat=True)
            .first()
        )
    code = incident.region_code or ""
    matching = [
        s
        for s in subscriptions
        if (s.scope == WebhookSubscription.Scope.OWN and s.partner_id == own_partner_id)
        or (
            s.scope == WebhookSubscription.Scope.REGION
            and s.region is not None
            and code
            and s.region.contains_code(code)
        )
    ]
    if not matching:
        return 0
    since = min(s.created_at for s in matching)
    events = {
        e.pk: e
        for e in IncidentEvent.objects.filter(
            incident_id=incident.pk, pk__lt=event.pk, created_at__gte=since
        )
        .exclude(from_state=F("to_state"))
        .only("pk", "created_at")
    }
    events[event.pk] = event
    existing = set(
        WebhookDelivery.objects.filter(
            subscription__in=matching, event_id__in=list(events)
        ).values_list("subscription_id", "event_id")
    )
    now = timezone.now()
    give_up = now + timedelta(hours=conf.webhook_retry_window_hours())
    rows = [
        WebhookDelivery(
            subscription=s,
            incident_id=incident.pk,
            event_id=e.pk,
            created_at=now,
            next_attempt_at=max(now, s.paused_until or now),
            give_up_at=give_up,
        )
        for s in matching
        for e in events.values()
        if (s.pk, e.pk) not in existing and (e.pk == event.pk or e.created_at >= s.created_at)
    ]
    if not rows:
        return 0
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    from integrations.tasks import webhook_deliver

    incident_id = incident.pk
    for subscription_id in {row.subscription_id for row in rows}:
        transaction.on_commit(lambda sid=subscription_id: webhook_deliver.delay(sid, incident_id))
    return len(rows)


WEBHOOKS_ACTIVE_KEY = "integrations:webhooks:active"
WEBHOOKS_ACTIVE_SECONDS = 60
# How long a process trusts its own copy of the flag before reading the shared one again (like
# incidents.category_cache): a Redis read on every timeline row was ~4 % of a report's CPU.
WEBHOOKS_ACTIVE_LOCAL_SECONDS = 2.0
_local_flag: dict[str, tuple[bool, float]] = {}  # database name -> (flag, trusted until)


def _webhooks_active_key() -> str:
    # Per database: test processes running in parallel share a file cache, not a database.
    from django.db import connection

    return f"{WEBHOOKS_ACTIVE_KEY}:{connection.settings_dict.get('NAME')}"


def webhooks_active() -> bool:
    """Whether any active subscription of an active partner exists, from the shared cache
    (one cache read instead of a savepoint and a query on every state change), kept in the
    process for WEBHOOKS_ACTIVE_LOCAL_SECONDS. Saving or deleting a subscription or a partner
    clears it (integrations.signals), now and on commit, in the shared cache and in the saving
    process; other processes see the change within WEBHOOKS_ACTIVE_LOCAL_SECONDS. The shared
    flag also expires after a minute, and the sweep's webhooks_catch_up adds what a stale
    answer missed. A cache outage answers True (the database decides)."""
    from django.core.cache import cache

    key = _webhooks_active_key()
    now = time.monotonic()
    local = _local_flag.get(key)
    if local is not None and now < local[1]:
        return local[0]
    try:
        active = cache.get(key)
    except Exception:
        logger.warning("integrations: cache unavailable; reading subscriptions", exc_info=True)
        return True
    if active is None:
        active = WebhookSubscription.objects.filter(active=True, partner__active=True).exists()
        try:
            cache.set(key, active, WEBHOOKS_ACTIVE_SECONDS)
        except Exception:
            logger.warning("integrations: could not cache the subscription flag")
    _local_flag[key] = (bool(active), now + WEBHOOKS_ACTIVE_LOCAL_SECONDS)
    return bool(active)


def webhooks_active_forget() -> None:
    """A subscription or partner changed: drop the cached flag now and after commit."""
    from django.core.cache import cache

    key = _webhooks_active_key()

    def forget() -> None:
        _local_flag.pop(key, None)
        try:
            cache.delete(key)
        except Exception:
            logger.warning("integrations: could not clear the subscription flag")

    forget()
    transaction.on_commit(forget)


def webhooks_active_clear_local() -> None:
    """Forget this process's copies of the flag (tests: a rolled-back transaction)."""
    _local_flag.clear()


def webhook_offer(*, event: IncidentEvent, incident: Incident | None = None) -> int:
    """webhook_deliveries_for_event in a savepoint: a database error is logged, never raised,
    so the move it follows (the engine's, or an intake) never fails because of a webhook.
    Nothing at all (no savepoint, no query) while no partner subscribes (webhooks_active)."""
    if not webhooks_active():
        return 0
    try:
        with transaction.atomic():
            return webhook_deliveries_for_event(event=event, incident=incident)
    except DatabaseError:
        logger.exception("integrations: event %s not offered to webhooks", event.pk)
        return 0


def webhooks_catch_up(*, now: datetime | None = None, minutes: int = 15) -> int:
    """The sweep's safety net: state changes of the last minutes written without a signal
    (bulk updates of the engine's sweep) get their deliveries. Only events of incidents some
    subscription follows, and that have no delivery yet, are looked at. Returns rows added."""
    now = now or timezone.now()
    subscriptions = list(
        WebhookSubscription.objects.filter(active=True, partner__active=True).select_related(
            "region"
        )
    )
    followed = Q(pk__in=[])
    own = {s.partner_id for s in subscriptions if s.scope == WebhookSubscription.Scope.OWN}
    if own:
        followed |= Q(incident__incoming_ticket__partner_id__in=own)
    for s in subscriptions:
        if s.scope == WebhookSubscription.Scope.REGION and s.region is not None:
            followed |= Q(incident__region_code__startswith=s.region.prefix)
    if not subscriptions:
        return 0
    latest = (
        IncidentEvent.objects.filter(followed, created_at__gte=now - timedelta(minutes=minutes))
        .exclude(from_state=F("to_state"))
        .exclude(Exists(WebhookDelivery.objects.filter(event_id=OuterRef("pk"))))
        .values("incident_id")
        .annotate(last=Max("pk"))
        .order_by()
    )
    added = 0
    for row in latest[:1000]:
        event = IncidentEvent.objects.select_related("incident").get(pk=row["last"])
        with transaction.atomic():
            added += webhook_deliveries_for_event(event=event, incident=event.incident)
    return added


def tickets_deadline_catch_up(*, limit: int = 500) -> int:
    """The sweep's safety net for partners' deadlines: an incident in handling whose resolve
    deadline is not its partner's (a bulk write that bypassed the engine) gets it back."""
    incident_ids = list(
        Incident.objects.filter(
            external_due_at__gt=timezone.now(),
            state__in=[IncidentState.DISPATCHED, IncidentState.ACCEPTED],
            extension_count=0,
            incoming_ticket__isnull=False,
        )
        .exclude(resolve_due_at=F("external_due_at"))
        .values_list("pk", flat=True)[:limit]
    )
    return sum(ticket_deadline_apply(incident_id=pk) for pk in incident_ids)


def open311_status(state: str) -> str:
    return "closed" if state in CLOSED_STATES else "open"


def webhook_payload(delivery: WebhookDelivery) -> dict[str, Any]:
    """What a subscriber receives. Built from the (append-only) timeline event only, so a
    retry or a replay sends the same content."""
    event = delivery.event
    incident = delivery.incident
    ticket = getattr(incident, "incoming_ticket", None)
    own = ticket is not None and ticket.partner_id == delivery.subscription.partner_id
    return {
        "event_id": str(delivery.uuid),
        "type": "incident.status_changed",
        "sequence": event.pk,
        "occurred_at": timezone.localtime(event.created_at).isoformat(),
        "incident": {
            # The tracking number lets its holder follow and rate the report: only the partner
            # that sent the incident gets it; everybody gets the Open311 public id.
            "tracking_number": incident.tracking_number if own else None,
            "service_request_id": incident.public_id,
            "category_code": incident.category.code,
            "region_code": incident.region_code,
        },
        "change": {
            "action": event.action,
            "from_state": event.from_state,
            "to_state": event.to_state,
            "status": open311_status(event.to_state),
            "note": event.note if event.public else "",
        },
        "ticket": {
            "ticket_id": ticket.external_id or None,
            "police_reference": ticket.police_reference or None,
        }
        if own
        else None,
    }


@dataclass(frozen=True)
class PostResult:
    ok: bool
    status_code: int | None
    error: str


def webhook_http_post(*, url: str, body: bytes, headers: Mapping[str, str]) -> PostResult:
    """POST outside any transaction, with a short timeout; 2xx = delivered. The target is
    resolved and vetted now, and the connection goes to the vetted address (integrations.
    outbound): a URL that resolves to a non-public address is refused and nothing is sent."""
    try:
        answer = outbound.post(
            url, body=body, headers=dict(headers), timeout=conf.webhook_timeout_seconds()
        )
    except outbound.UnsafeTarget as exc:
        logger.warning("webhook target refused: %s", exc)
        return PostResult(False, None, f"refused: {exc}"[:500])
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return PostResult(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= answer.status < 300:
        return PostResult(True, answer.status, "")
    return PostResult(False, answer.status, f"HTTP {answer.status} {answer.reason}".strip()[:500])


def retry_delay_seconds(attempts: int) -> float:
    """Exponential backoff: base, 2×base, 4×base ... capped (30 s … 1 h by default)."""
    base = conf.webhook_retry_base_seconds()
    return min(base * (2 ** max(0, attempts - 1)), conf.webhook_retry_max_seconds())


def retry_delay_jittered(attempts: int) -> float:
    """The backoff step drawn between half and all of it (jitter): streams that failed together
    (a partner down for minutes) do not all come back at the same second."""
    step = retry_delay_seconds(attempts)
    return round(random.uniform(step / 2, step), 1)  # nosec B311 # spreading load, not secrecy


@dataclass(frozen=True)
class _Claim:
    delivery_id: int
    url: str
    secret: str
    body: bytes
    event_id: str


def _hold_pair(head: WebhookDelivery, until: datetime) -> None:
    """The head of a (subscription, incident) stream waits until `until`: so do the
    deliveries behind it (the sweep then leaves the stream alone until it is due)."""
    WebhookDelivery.objects.filter(
        subscription_id=head.subscription_id,
        incident_id=head.incident_id,
        status=WebhookDelivery.Status.PENDING,
        next_attempt_at__lt=until,
    ).update(next_attempt_at=until)


def _claim_head(subscription_id: int, incident_id: int, now: datetime) -> _Claim | datetime | None:
    """Lease the oldest pending delivery of the pair if it is due. Returns the claim, the time
    it will be due (nothing to send yet), or None (nothing pending, or somebody is sending)."""
    with transaction.atomic():
        pending = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("subscription__partner", "event", "incident__category")
            .filter(
                subscription_id=subscription_id,
                incident_id=incident_id,
                status=WebhookDelivery.Status.PENDING,
            )
            .order_by("event_id", "pk")
        )
        head = pending.first()
        if head is None:
            return None
        subscription = head.subscription
        if not subscription.active or not subscription.partner.active:
            return None
        if head.leased_until and head.leased_until > now:
            return None
        if subscription.paused_until and subscription.paused_until > now:
            _hold_pair(head, subscription.paused_until)
            return subscription.paused_until
        if head.next_attempt_at > now:
            return head.next_attempt_at
        head.leased_until = now + timedelta(seconds=conf.webhook_timeout_seconds() + 60)
        head.attempts += 1
        head.last_attempt_at = now
        head.save(update_fields=["leased_until", "attempts", "last_attempt_at"])
        body = json.dumps(webhook_payload(head), ensure_ascii=False, sort_keys=True).encode()
        return _Claim(
            delivery_id=head.pk,
            url=subscription.url,
            secret=subscription.partner.hmac_secret,
            body=body,
            event_id=str(head.uuid),
        )


def _record_result(claim: _Claim, result: PostResult, now: datetime) -> tuple[str, float]:
    """Store the attempt; returns the delivery's new status and the retry delay."""
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=claim.delivery_id)
        subscription = WebhookSubscription.objects.select_for_update().get(
            pk=delivery.subscription_id
        )
        if result.ok:
            subscription.failures_in_a_row = 0
            subscription.paused_until = None
        else:
            subscription.failures_in_a_row += 1
            subscription.paused_until = now + timedelta(
                seconds=retry_delay_jittered(subscription.failures_in_a_row)
            )
        subscription.save(update_fields=["failures_in_a_row", "paused_until"])
        delivery.leased_until = None
        delivery.last_status_code = result.status_code
        delay = 0.0
        if result.ok:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            delivery.last_error = ""
        else:
            delivery.last_error = result.error[:500]
            delay = retry_delay_jittered(delivery.attempts)
            # Given up when even the full step would end past the retry window.
            if (
                now + timedelta(seconds=retry_delay_seconds(delivery.attempts))
                > delivery.give_up_at
            ):
                delivery.status = WebhookDelivery.Status.FAILED
            else:
                delivery.next_attempt_at = now + timedelta(seconds=delay)
                _hold_pair(delivery, delivery.next_attempt_at)
        delivery.save(
            update_fields=[
                "leased_until",
                "last_status_code",
                "status",
                "delivered_at",
                "last_error",
                "next_attempt_at",
            ]
        )
        return delivery.status, delay


def webhook_deliver_pending(
    *, subscription_id: int, incident_id: int, max_deliveries: int = 100
) -> int:
    """Send the pair's pending deliveries in order (the task). Stops at the first failure and
    schedules a retry with backoff; a delivery that failed past its retry window is given up
    and the next one goes. Returns how many were delivered. Safe to run concurrently: the
    head is leased, and only the lease holder sends it."""
    from integrations.tasks import webhook_deliver

    delivered = 0
    for _round in range(max_deliveries):
        now = timezone.now()
        claim = _claim_head(subscription_id, incident_id, now)
        if not isinstance(claim, _Claim):
            return delivered  # nothing due now: the scheduled retry or the sweep comes back
        timestamp = str(int(now.timestamp()))
        result = webhook_http_post(
            url=claim.url,
            body=claim.body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": USER_AGENT,
                "X-GridGov-Event-Id": claim.event_id,
                "X-GridGov-Timestamp": timestamp,
                "X-GridGov-Signature": security.SIGNATURE_PREFIX
                + security.sign(claim.secret, timestamp, claim.body),
            },
        )
        status, delay = _record_result(claim, result, timezone.now())
        if status == WebhookDelivery.Status.DELIVERED:
            delivered += 1
            continue
        if status == WebhookDelivery.Status.FAILED:
            logger.warning("webhook delivery %s given up: %s", claim.event_id, result.error)
            continue
        logger.info("webhook delivery %s failed, retry in %.0f s", claim.event_id, delay)
        webhook_deliver.apply_async((subscription_id, incident_id), countdown=delay)
        return delivered
    webhook_deliver.delay(subscription_id, incident_id)  # more than one batch: carry on
    return delivered


def webhooks_due(*, now: datetime | None = None, limit: int = 500) -> list[tuple[int, int]]:
    """(subscription, incident) pairs with a pending delivery that is due and not being sent:
    the sweep re-enqueues them (a retry whose broker message was lost is not lost)."""
    now = now or timezone.now()
    rows = (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lte=now,
            subscription__active=True,
        )
        .exclude(leased_until__gt=now)
        .values_list("subscription_id", "incident_id")
        .distinct()
        .order_by()[:limit]
    )
    return list(rows)


def webhook_delivery_replay(*, delivery_id: int, actor: User) -> WebhookDelivery:
    """An admin sends a delivery again (delivered or given up): it becomes pending with a new
    retry window, and goes out in order with its incident's other deliveries."""
    if not (actor.is_superuser or actor.is_portal_admin):
        raise PermissionDeniedError(_("Only administrators replay webhook deliveries."))
    from integrations.tasks import webhook_deliver

    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            raise NotFoundError(_("Delivery not found."))
        if delivery.status == WebhookDelivery.Status.PENDING and delivery.leased_until:
            raise ConflictError(_("This delivery is being sent right now."))
        now = timezone.now()
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now
        delivery.give_up_at = now + timedelta(hours=conf.webhook_retry_window_hours())
        delivery.leased_until = None
        delivery.delivered_at = None
        delivery.save(
            update_fields=[
                "status",
                "next_attempt_at",
                "give_up_at",
                "leased_until",
                "delivered_at",
            ]
        )
        subscription_id, incident_id = delivery.subscription_id, delivery.incident_id
        transaction.on_commit(lambda: webhook_deliver.delay(subscription_id, incident_id))
        return delivery


def subscription_create(
    *, api_key: ApiKey, url: str, scope: str = WebhookSubscription.Scope.OWN, region_code: str = ""
) -> WebhookSubscription:
    """A partner subscribes (webhooks scope) to its own incidents or to a region inside the
    region the admin allowed it. A URL that does not resolve, or resolves to any non-public
    address (integrations.outbound), is refused; deliveries check again."""
    _require_scope(api_key, KeyScope.WEBHOOKS)
    partner = api_key.partner
    errors: dict[str, list[str]] = {}
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
        if len(url) > 500:
            raise ValidationError("too long")
    except ValidationError:
        errors["url"] = [_("An http(s) URL of at most 500 characters.")]
    else:
        if not outbound.url_is_public(url):
            errors["url"] = [_("The URL must point to a public address.")]
    region = None
    if scope not in WebhookSubscription.Scope.values:
        errors["scope"] = [_("scope is own or region.")]
    elif scope == WebhookSubscription.Scope.REGION:
        region = Region.objects.filter(code=(region_code or "").strip()).first()
        if region is None:
            errors["region_code"] = [_("Unknown region code.")]
        elif partner.region is None or not partner.region.contains_code(region.code):
            errors["region_code"] = [_("This partner may not follow that region.")]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, extra=errors)
    return WebhookSubscription.objects.create(partner=partner, url=url, scope=scope, region=region)


def subscription_delete(*, api_key: ApiKey, subscription_id: int) -> None:
    """A partner ends one of its subscriptions; pending deliveries are dropped with it."""
    _require_scope(api_key, KeyScope.WEBHOOKS)
    deleted, _rows = WebhookSubscription.objects.filter(
        pk=subscription_id, partner=api_key.partner
    ).delete()
    if not deleted:
        raise NotFoundError(_("Subscription not found."))


__all__ = [
    "ApplicationError",
    "HotlineResult",
    "api_key_create",
    "api_key_revoke",
    "hotline_ticket_receive",
    "open311_request_create",
    "partner_create",
    "partner_rotate_secret",
    "subscription_create",
    "subscription_delete",
    "ticket_deadline_apply",
    "webhook_deliver_pending",
    "webhook_deliveries_for_event",
    "webhook_delivery_replay",
    "webhooks_due",
]
