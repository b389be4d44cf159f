"""12345 / 110 intake: hotline_ticket_receive (idempotent on the partner's ticket id) files an
ordinary incident through incidents.services.incident_report, in one transaction with the
IncomingTicket: bad input writes nothing. The partner's deadline: ticket_deadline_apply and
the sweep's tickets_deadline_catch_up."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.calendar import add_limit, parse_limit
from core.exceptions import ValidationFailed
from incidents.models import Category, Channel, Incident, IncidentState
from integrations.models import ApiKey, IncomingTicket, KeyScope, Partner
from integrations.services._common import (
    _category_for_code,
    _engine_errors,
    _parse_moment,
    _require_scope,
    _resolve_location,
    _token_new,
)
from integrations.services.webhooks import _deliveries_for_existing_events

TICKET_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:\-]{0,39}$")
HOTLINE_CHANNELS = {"12345": Channel.HOTLINE_12345, "110": Channel.DIVERSION_110}


# --- hotline intake ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HotlineResult:
    ticket: IncomingTicket
    created: bool


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
    # No error: both were found (each failure above adds one). For mypy only:
    category, channel = cast(Category, category), cast(Channel, channel)

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
