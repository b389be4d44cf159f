"""GeoReport v2 representation: what our categories and incidents look like to an Open311
client, and the two formats (XML, required by the spec, and JSON, its Spark mapping).

Nothing here reads the database on its own; views pass in what the selectors returned.
Personal data never appears: no reporter, phone, email, device or account, no tracking number
(a request is known by its random public id); phone and ID numbers typed into descriptions,
notes or addresses are replaced whole (core.masking.scrub_public_text); the place is the
centroid of the incident's grid cell (or rounded to about 100 m), never the exact point.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from functools import lru_cache
from typing import Any
from xml.etree import ElementTree  # nosec B405 # builds XML answers, never parses input

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from shapely.geometry import shape

from core.calendar import parse_limit
from core.exceptions import ValidationFailed
from core.masking import scrub_public_text
from incidents.models import Category, HandlingLevel, Incident, IncidentState
from integrations import conf
from integrations.models import IncomingTicket, ServiceAttribute

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MIME_TYPES = ["text/xml", "application/json"]
FIRST_CHANGESET = "2026-01-01 00:00"  # before any service attribute was edited
# XML element of each item of a list-valued field (the Spark convention, reversed).
LIST_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
CLOSED_STATES = {IncidentState.CLOSED, IncidentState.INVALID}
RESULT_STATES = {IncidentState.FEEDBACK_SENT, IncidentState.RATED, IncidentState.CLOSED}
ROUNDED_DIGITS = 3  # a point without a grid cell: 0.001° is about 100 m
CENTROID_DIGITS = 5


class Open311Error(Exception):
    """An error answered as the spec says: HTTP status + a list of {code, description}."""

    def __init__(
        self, status: int, errors: Iterable[tuple[int, str]], headers: dict | None = None
    ) -> None:
        super().__init__(status)
        self.status = status
        self.errors = list(errors)
        self.headers = headers or {}


# --- formats ----------------------------------------------------------------------------------


def w3(moment: datetime | None) -> str | None:
    """W3C date-time with the offset, e.g. 2026-03-12T09:30:00+08:00."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


def _xml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fill(element: ElementTree.Element, name: str, value: Any) -> None:
    child = ElementTree.SubElement(element, name)
    if isinstance(value, dict):
        for key, item in value.items():
            _xml_fill(child, key, item)
    elif isinstance(value, list):
        item_name = LIST_ITEMS.get(name, "item")
        for item in value:
            _xml_fill(child, item_name, item)
    else:
        child.text = _xml_text(value)


def to_xml(root: str, data: Any) -> bytes:
    """<root> with one child per list item (or per dict key), as in the spec's examples."""
    element = ElementTree.Element(root)
    if isinstance(data, list):
        item_name = LIST_ITEMS[root]
        for item in data:
            _xml_fill(element, item_name, item)
    else:
        for key, value in data.items():
            _xml_fill(element, key, value)
    body = ElementTree.tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def render(
    data: Any, fmt: str, *, root: str, status: int = 200, headers: dict | None = None
) -> HttpResponse:
    body = to_xml(root, data) if fmt == "xml" else json.dumps(data, ensure_ascii=False).encode()
    response = HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def render_errors(error: Open311Error, fmt: str) -> HttpResponse:
    data = [{"code": code, "description": description} for code, description in error.errors]
    return render(data, fmt, root="errors", status=error.status, headers=error.headers)


def errors_from_validation(exc: ValidationFailed) -> list[tuple[int, str]]:
    """One {code: 400, description} per field message ("field: message")."""
    if not exc.extra:
        return [(400, exc.message)]
    errors = []
    for field, messages in exc.extra.items():
        for message in messages if isinstance(messages, list) else [messages]:
            text = str(message)
            errors.append((400, text if field in text else f"{field}: {text}"))
    return errors


# --- privacy ----------------------------------------------------------------------------------


def scrub(text: str | None) -> str:
    """Phone and ID numbers someone typed into free text, replaced whole."""
    return scrub_public_text(text)


def cell_centroid(geometry: Any) -> tuple[float, float] | None:
    """(lat, lng) of a grid cell polygon's centroid, or None if the geometry is unusable."""
    try:
        centre = shape(geometry).centroid
        if centre.is_empty:
            return None
        return round(centre.y, CENTROID_DIGITS), round(centre.x, CENTROID_DIGITS)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError):
        return None


def public_point(
    lat: float | None, lng: float | None, centroid: tuple[float, float] | None
) -> tuple[float | None, float | None]:
    """Where the public sees a request: its cell's centroid, else the point rounded to about
    100 m; never the exact point."""
    if lat is None or lng is None:
        return None, None
    if centroid is not None:
        return centroid
    return round(lat, ROUNDED_DIGITS), round(lng, ROUNDED_DIGITS)


# --- services ---------------------------------------------------------------------------------


def limit_text(limit: str) -> str:
    try:
        amount, unit = parse_limit(limit)
    except ValidationFailed:
        return limit
    texts = {
        "m": ngettext("%(n)s minute", "%(n)s minutes", amount),
        "h": ngettext("%(n)s hour", "%(n)s hours", amount),
        "d": ngettext("%(n)s day", "%(n)s days", amount),
        "wh": ngettext("%(n)s working hour", "%(n)s working hours", amount),
        "wd": ngettext("%(n)s working day", "%(n)s working days", amount),
    }
    return texts[unit] % {"n": amount}


def service_notice(category: Category) -> str:
    """What happens to a request of this kind: who handles it and within what time."""
    # Memoised on what the text depends on: a list of 1,000 requests has a few dozen kinds.
    return _service_notice(
        category.resolve_within or "5wd",
        category.department,
        category.handled_at or HandlingLevel.GRID,
        get_language(),
    )


@lru_cache(maxsize=1024)
def _service_notice(resolve_within: str, department: str, level: str, _language: str) -> str:
    limit = limit_text(resolve_within)
    if department:
        return _(
            "Verified on site, then handled by %(unit)s; to be resolved within %(limit)s of "
            "dispatch."
        ) % {"unit": department, "limit": limit}
    return _(
        "Verified on site, then handled at %(level)s level; to be resolved within %(limit)s of "
        "dispatch."
    ) % {"level": HandlingLevel(level).label, "limit": limit}


def service_entry(category: Category, *, has_attributes: bool) -> dict[str, Any]:
    parent = category.parent
    keywords = []
    for word in (
        category.name,
        category.name_en,
        parent.name if parent else "",
        parent.name_en if parent else "",
    ):
        if word and word not in keywords:
            keywords.append(word)
    return {
        "service_code": category.code,
        "service_name": category.display_name,
        "description": service_notice(category),
        "metadata": has_attributes,
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": parent.display_name if parent else "",
    }


def service_definition(category: Category, attributes: Iterable[ServiceAttribute]) -> dict:
    return {
        "service_code": category.code,
        "attributes": [
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description or None,
                "order": attribute.order,
                "description": attribute.display_description,
                "values": [
                    {"key": value.get("key"), "name": value.get("name")}
                    for value in attribute.values or []
                ],
            }
            for attribute in attributes
        ],
    }


# --- service requests -------------------------------------------------------------------------


def _ticket(incident: Incident) -> IncomingTicket | None:
    return getattr(incident, "incoming_ticket", None)


def status_notes(incident: Incident) -> str | None:
    if incident.state == IncidentState.INVALID:
        return scrub(incident.invalid_reason) or str(IncidentState(incident.state).label)
    if incident.state in RESULT_STATES and incident.result:
        return scrub(incident.result)
    return str(IncidentState(incident.state).label)


def agency_responsible(incident: Incident) -> str | None:
    if incident.handling_department:
        return incident.handling_department
    if incident.handling_region_id:
        return incident.handling_region.name
    return None


def media_url(incident: Incident, *, absolute: Any) -> str | None:
    ticket = _ticket(incident)
    if ticket is not None and ticket.media_url:
        return ticket.media_url
    if conf.open311_publish_photos():
        photo = next(iter(incident.photos.all()), None)
        if photo is not None:
            return absolute(photo.image.url)
    return None


def request_entry(incident: Incident, *, absolute: Any) -> dict[str, Any]:
    """One service request as GET requests shows it (no personal data)."""
    category = incident.category
    closed = incident.state in CLOSED_STATES
    updated = (incident.closed_at or incident.updated_at) if closed else incident.updated_at
    ticket = _ticket(incident)
    expected = incident.resolve_due_at or (ticket.due_at if ticket is not None else None)
    address = incident.address or (incident.region.name if incident.region_id else "")
    centroid = cell_centroid(incident.grid_cell.geometry) if incident.grid_cell_id else None
    lat, lng = public_point(incident.lat, incident.lng, centroid)
    return {
        "service_request_id": incident.public_id,
        "status": "closed" if closed else "open",
        "status_notes": status_notes(incident),
        "service_name": category.display_name,
        "service_code": category.code,
        "description": scrub(incident.description),
        "agency_responsible": agency_responsible(incident),
        "service_notice": service_notice(category),
        "requested_datetime": w3(incident.created_at),
        "updated_datetime": w3(updated),
        "expected_datetime": w3(expected),
        "address": scrub(address) or None,
        "address_id": incident.grid_cell.code if incident.grid_cell_id else None,
        "zipcode": None,
        "lat": lat,
        "long": lng,
        "media_url": media_url(incident, absolute=absolute),
    }


class _RowCategory:
    """What service_notice reads of a category, from a values() row."""

    __slots__ = ("department", "handled_at", "resolve_within")

    def __init__(self, row: dict[str, Any]) -> None:
        self.resolve_within = row["category__resolve_within"]
        self.department = row["category__department"]
        self.handled_at = row["category__handled_at"]


def request_entries(rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """request_entry for many rows of integrations.selectors.open311_request_rows (plain
    values, no model instances; the same entry, key for key). The per-request constants
    (time zone, language, state labels, the service notice of each category) are worked out
    once. Without our photos only: with OPEN311_PUBLISH_PHOTOS use request_entry."""
    zone = timezone.get_current_timezone()
    english = (get_language() or "").startswith("en")
    labels = {value: str(label) for value, label in IncidentState.choices}
    notices: dict[str, str] = {}
    names: dict[str, str] = {}
    centroids: dict[int, tuple[float, float] | None] = {}

    def moment(value: datetime | None) -> str | None:
        return None if value is None else value.astimezone(zone).isoformat(timespec="seconds")

    entries = []
    for row in rows:
        code = row["category__code"]
        if code not in notices:
            notices[code] = service_notice(_RowCategory(row))  # type: ignore[arg-type]
            name_en = row["category__name_en"]
            names[code] = name_en if english and name_en else row["category__name"]
        state = row["state"]
        closed = state in CLOSED_STATES
        updated = (row["closed_at"] or row["updated_at"]) if closed else row["updated_at"]
        has_ticket = row["incoming_ticket__id"] is not None
        expected = row["resolve_due_at"] or (row["incoming_ticket__due_at"] if has_ticket else None)
        address = row["address"] or (row["region__name"] if row["region_id"] is not None else "")
        if state == IncidentState.INVALID:
            notes = scrub(row["invalid_reason"]) or labels[state]
        elif state in RESULT_STATES and row["result"]:
            notes = scrub(row["result"])
        else:
            notes = labels.get(state, state)
        agency = row["handling_department"]
        if not agency:
            agency = row["handling_region__name"] if row["handling_region_id"] is not None else None
        cell_id = row["grid_cell_id"]
        if cell_id is not None and cell_id not in centroids:
            centroids[cell_id] = cell_centroid(row["grid_cell__geometry"])
        lat, lng = public_point(
            row["lat"], row["lng"], centroids[cell_id] if cell_id is not None else None
        )
        entries.append(
            {
                "service_request_id": row["public_id"],
                "status": "closed" if closed else "open",
                "status_notes": notes,
                "service_name": names[code],
                "service_code": code,
                "description": scrub(row["description"]),
                "agency_responsible": agency,
                "service_notice": notices[code],
                "requested_datetime": moment(row["created_at"]),
                "updated_datetime": moment(updated),
                "expected_datetime": moment(expected),
                "address": scrub(address) or None,
                "address_id": row["grid_cell__code"] if row["grid_cell_id"] is not None else None,
                "zipcode": None,
                "lat": lat,
                "long": lng,
                "media_url": (row["incoming_ticket__media_url"] or None) if has_ticket else None,
            }
        )
    return entries


def post_entry(ticket: IncomingTicket, *, as_token: bool) -> dict[str, Any]:
    """The answer to POST requests: the request's public id, or (batch partners) a token."""
    incident = ticket.incident
    entry: dict[str, Any] = (
        {"token": ticket.token}
        if as_token
        else {"service_request_id": incident.public_id if incident else None}
    )
    entry["service_notice"] = service_notice(incident.category) if incident else None
    entry["account_id"] = ticket.account_id or None
    return entry


def discovery(*, base_url: str, changeset: datetime | None) -> dict[str, Any]:
    stamp = (
        timezone.localtime(changeset).strftime("%Y-%m-%d %H:%M") if changeset else FIRST_CHANGESET
    )
    return {
        "changeset": stamp,
        "contact": _("Write to the city's grid governance office (see the portal's contact page)."),
        "key_service": _("Partner systems get an API key from the portal administrators."),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base_url,
                "changeset": stamp,
                "type": "production",
                "formats": MIME_TYPES,
            }
        ],
    }
