"""Reads of the integrations app.

Open311 GETs are public (the spec needs no key for them): they see the incidents of the
categories an admin published (Category.publish_open311: never disputes, internal-only or
personal matters), a page at a time, and only the fields open311.py shows.
Partner reads (tickets, subscriptions) are scoped to the partner of the API key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import NotFoundError, ValidationFailed
from incidents.models import Category, Incident, IncidentState
from integrations import conf
from integrations.models import (
    ApiKey,
    IncomingTicket,
    ServiceAttribute,
    WebhookDelivery,
    WebhookSubscription,
)

DEFAULT_WINDOW = timedelta(days=90)
DEFAULT_PAGE_SIZE = 50  # GET requests: page_size when not given
MAX_PAGE_SIZE = 100  # and at most this
CLOSED_STATES = [IncidentState.CLOSED, IncidentState.INVALID]


def _published_categories() -> QuerySet[Category]:
    return Category.objects.filter(publish_open311=True, internal_only=False, is_dispute=False)


def open311_categories() -> QuerySet[Category]:
    """The service list: active, published subclasses a client may report, with their
    attribute count."""
    return (
        _published_categories()
        .filter(active=True, parent__isnull=False)
        .select_related("parent")
        .annotate(attribute_count=Count("open311_attributes"))
        .order_by("code")
    )


def open311_category_get(service_code: str) -> Category:
    category = open311_categories().filter(code=service_code).first()
    if category is None:
        raise NotFoundError(_("service_code %(code)s was not found.") % {"code": service_code})
    return category


def open311_attributes(category: Category) -> QuerySet[ServiceAttribute]:
    return ServiceAttribute.objects.filter(category=category).order_by("order", "code")


def open311_changeset() -> datetime | None:
    """When a service definition last changed (discovery's changeset). Categories carry no
    time stamp; the attributes do."""
    return ServiceAttribute.objects.aggregate(latest=Max("updated_at"))["latest"]


def _public_incidents() -> QuerySet[Incident]:
    related = ["category", "category__parent", "handling_region", "region", "grid_cell"]
    qs = (
        Incident.objects.filter(category__in=_published_categories())
        .select_related(*related, "incoming_ticket")
        .order_by("-created_at", "-pk")
    )
    if conf.open311_publish_photos():
        qs = qs.prefetch_related("photos")
    return qs


# The columns integrations.open311.request_entry reads (GET requests lists up to 1,000).
LIST_FIELDS = [
    "public_id",
    "state",
    "created_at",
    "updated_at",
    "closed_at",
    "resolve_due_at",
    "address",
    "description",
    "lat",
    "lng",
    "invalid_reason",
    "result",
    "handling_department",
    "handling_region__name",
    "region__name",
    "grid_cell__code",
    "grid_cell__geometry",
    "category__code",
    "category__name",
    "category__name_en",
    "category__resolve_within",
    "category__department",
    "category__handled_at",
    "incoming_ticket__due_at",
    "incoming_ticket__media_url",
    "incoming_ticket__incident",
]


@dataclass(frozen=True)
class RequestFilters:
    service_request_ids: Sequence[str] = ()
    service_codes: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: Sequence[str] = ()
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE

    @property
    def window(self) -> slice:
        """The rows of the page asked for (page_size at most MAX_PAGE_SIZE)."""
        size = max(1, min(self.page_size, MAX_PAGE_SIZE))
        start = (max(1, self.page) - 1) * size
        return slice(start, start + size)


# The same columns as plain values (open311.request_entries): the list without model instances.
LIST_VALUES = [
    *(f for f in LIST_FIELDS if f != "incoming_ticket__incident"),
    "region_id",
    "handling_region_id",
    "grid_cell_id",
    "incoming_ticket__id",
]


def open311_request_rows(filters: RequestFilters, *, now: datetime | None = None) -> list[dict]:
    """open311_requests as dicts of LIST_VALUES (one query, no model instances), for
    open311.request_entries. Not with OPEN311_PUBLISH_PHOTOS (the photos need the instances)."""
    qs = _requests_queryset(filters, now=now)
    rows = qs.select_related(None).prefetch_related(None).values(*LIST_VALUES)
    return list(rows[filters.window])


def open311_requests(filters: RequestFilters, *, now: datetime | None = None) -> list[Incident]:
    """GET requests: the ids given (which override everything else), or the requests made in
    the window (default: the last 90 days; at most 90 days) of the codes and statuses given.
    Newest first, one page (filters.page, filters.page_size: at most MAX_PAGE_SIZE)."""
    qs = _requests_queryset(filters, now=now)
    if filters.service_request_ids:
        return list(qs[filters.window])
    # Only the columns integrations.open311.request_entry reads: full rows with their related
    # rows cost most of the answer's time (docs/performance.md).
    qs = (
        qs.select_related(None)
        .select_related("category", "handling_region", "region", "grid_cell", "incoming_ticket")
        .only(*LIST_FIELDS)
    )
    return list(qs[filters.window])


def _requests_queryset(filters: RequestFilters, *, now: datetime | None = None) -> QuerySet:
    qs = _public_incidents()
    if filters.service_request_ids:
        ids = [i.strip().upper() for i in filters.service_request_ids if i.strip()]
        return qs.filter(public_id__in=ids)
    now = now or timezone.now()
    start, end = filters.start, filters.end
    if start is None:  # from the end given, or now, back by the default window
        end = now if end is None else end
        start = end - DEFAULT_WINDOW
    elif end is None:
        end = start + DEFAULT_WINDOW
    if end < start:
        raise ValidationFailed(
            _("end_date is before start_date."),
            extra={"end_date": [_("end_date is before start_date.")]},
        )
    if end - start > DEFAULT_WINDOW:
        message = _("start_date and end_date may not span more than 90 days.")
        raise ValidationFailed(message, extra={"start_date": [message]})
    qs = qs.filter(created_at__gte=start, created_at__lte=end)
    if filters.service_codes:
        qs = qs.filter(category__code__in=list(filters.service_codes))
    statuses = set(filters.statuses)
    if statuses == {"open"}:
        qs = qs.exclude(state__in=CLOSED_STATES)
    elif statuses == {"closed"}:
        qs = qs.filter(state__in=CLOSED_STATES)
    return qs


def open311_request_get(service_request_id: str) -> Incident:
    """One published request by its public id (never by the tracking number)."""
    incident = (
        _public_incidents().filter(public_id=(service_request_id or "").strip().upper()).first()
    )
    if incident is None:
        raise NotFoundError(
            _("service_request_id %(id)s was not found.") % {"id": service_request_id}
        )
    return incident


def open311_ticket_for_token(token: str) -> IncomingTicket:
    ticket = (
        IncomingTicket.objects.select_related("incident__category")
        .filter(token=(token or "").strip(), incident__isnull=False)
        .first()
    )
    published = _published_categories()
    if (
        ticket is None
        or ticket.incident is None  # never, with incident__isnull=False (for mypy)
        or not published.filter(pk=ticket.incident.category_id).exists()
    ):
        raise NotFoundError(_("token %(token)s was not found.") % {"token": token})
    return ticket


def partner_ticket_get(*, api_key: ApiKey, ticket_id: str) -> IncomingTicket:
    """A ticket the key's partner sent (NotFoundError otherwise)."""
    ticket = (
        IncomingTicket.objects.select_related("incident__category", "partner")
        .filter(
            partner=api_key.partner, external_id=(ticket_id or "").strip(), incident__isnull=False
        )
        .first()
    )
    if ticket is None:
        raise NotFoundError(_("Ticket not found."))
    return ticket


def partner_subscriptions(*, api_key: ApiKey) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(partner=api_key.partner).select_related("region")


def deliveries_for_incident(*, subscription_id: int, incident_id: int) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(
        subscription_id=subscription_id, incident_id=incident_id
    ).order_by("event_id", "pk")
