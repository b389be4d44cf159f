"""Open311 GeoReport v2 endpoints (/open311/v2/), in XML and JSON.

Thin views: parse the spec's parameters, call a selector or the service, render. Every error is
answered as the spec says, in the requested format: an HTTP 4xx with a list of
{code, description}. GETs need no key and are rate-limited per client address
(OPEN311_GET_RATE); POST requests needs an api_key with the open311-post scope (rate-limited
per key), sent in the body or the X-Api-Key header, never in the URL. Plain Django views (not
DRF): the spec fixes the wire format, and they stay out of the OpenAPI schema (documented in
docs/api.md).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime, time
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from core.exceptions import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.ratelimit import client_ip, rate_hit
from integrations import conf, open311, security, selectors, services
from integrations.models import ApiKey
from integrations.open311 import CONTENT_TYPES, Open311Error

ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
POST_FIELDS = (
    "service_code",
    "lat",
    "long",
    "address_string",
    "address_id",
    "email",
    "device_id",
    "account_id",
    "first_name",
    "last_name",
    "phone",
    "description",
    "media_url",
)
View = Callable[..., HttpResponse]


def _post_params(request: HttpRequest) -> QueryDict | dict[str, Any]:
    """Form-encoded (the spec), multipart (with a `media` file) or, as a courtesy, JSON."""
    if (request.content_type or "").startswith("application/json"):
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as exc:
            raise Open311Error(400, [(400, _("The JSON body is not valid."))]) from exc
        if not isinstance(data, dict):
            raise Open311Error(400, [(400, _("The JSON body must be an object."))])
        return data
    return request.POST


def _refuse_key_in_url(request: HttpRequest) -> None:
    """A key in the query string ends up in access logs, proxies and browser histories: it is
    refused on every resource (and never echoed or logged)."""
    if "api_key" in request.GET:
        raise Open311Error(
            400,
            [
                (
                    400,
                    _(
                        "Send api_key in the request body or the X-Api-Key header, never in "
                        "the URL; a key that was sent in a URL should be replaced."
                    ),
                )
            ],
        )


def _check_rate(request: HttpRequest) -> None:
    """Anonymous GETs: at most OPEN311_GET_RATE per client address (429 with Retry-After)."""
    limit = rate_hit("open311:get", client_ip(request), conf.open311_get_rate())
    if limit.limited:
        raise Open311Error(
            429,
            [
                (
                    429,
                    _("Too many requests from this address; retry in %(s)s s.")
                    % {"s": limit.retry_after},
                )
            ],
            headers={"Retry-After": str(limit.retry_after)},
        )


def _check_jurisdiction(request: HttpRequest, params: Any) -> None:
    given = (params.get("jurisdiction_id") or request.GET.get("jurisdiction_id") or "").strip()
    if given and given != conf.jurisdiction_id():
        raise Open311Error(
            404,
            [(404, _("jurisdiction_id %(id)s was not found.") % {"id": given})],
        )


def _application_error(exc: ApplicationError) -> Open311Error:
    if isinstance(exc, ValidationFailed):
        return Open311Error(400, open311.errors_from_validation(exc))
    if isinstance(exc, NotFoundError):
        return Open311Error(404, [(404, exc.message)])
    if isinstance(exc, PermissionDeniedError):
        return Open311Error(403, [(403, exc.message)])
    return Open311Error(exc.status_code, [(exc.status_code, exc.message)])


def open311_endpoint(*methods: str) -> Callable[[View], View]:
    """Format check, method check, jurisdiction check and error rendering for one endpoint."""

    def decorator(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = (fmt or "").lower()
            if fmt not in CONTENT_TYPES:
                return open311.render_errors(
                    Open311Error(
                        404,
                        [
                            (
                                404,
                                _("Format %(fmt)s is not supported: use xml or json.")
                                % {"fmt": fmt},
                            )
                        ],
                    ),
                    "json",
                )
            try:
                if request.method not in methods:
                    raise Open311Error(
                        405,
                        [
                            (
                                405,
                                _("Method %(method)s is not allowed here.")
                                % {"method": request.method},
                            )
                        ],
                        headers={"Allow": ", ".join(methods)},
                    )
                _refuse_key_in_url(request)
                if request.method == "GET":
                    _check_rate(request)
                params = request.GET if request.method == "GET" else _post_params(request)
                _check_jurisdiction(request, params)
                return view(request, fmt, params, **kwargs)
            except Open311Error as exc:
                return open311.render_errors(exc, fmt)
            except ApplicationError as exc:
                return open311.render_errors(_application_error(exc), fmt)

        return wrapper

    return decorator


def root(request: HttpRequest) -> HttpResponse:
    return HttpResponseRedirect(reverse("open311:discovery", kwargs={"fmt": "json"}))


@open311_endpoint("GET")
def discovery(request: HttpRequest, fmt: str, params: Any) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:root")).rstrip("/")
    data = open311.discovery(base_url=base, changeset=selectors.open311_changeset())
    return open311.render(data, fmt, root="discovery")


@open311_endpoint("GET")
def service_list(request: HttpRequest, fmt: str, params: Any) -> HttpResponse:
    data = [
        open311.service_entry(category, has_attributes=bool(category.attribute_count))
        for category in selectors.open311_categories()
    ]
    return open311.render(data, fmt, root="services")


@open311_endpoint("GET")
def service_definition(
    request: HttpRequest, fmt: str, params: Any, service_code: str
) -> HttpResponse:
    category = selectors.open311_category_get(service_code)
    data = open311.service_definition(category, selectors.open311_attributes(category))
    return open311.render(data, fmt, root="service_definition")


def _split(params: Any, name: str) -> list[str]:
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name) or ""]
    return [item.strip() for value in values for item in (value or "").split(",") if item.strip()]


def _moment(params: Any, name: str) -> datetime | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    moment = None
    try:
        if "T" in value:
            moment = parse_datetime(value.replace(" ", "+"))
        else:
            day = parse_date(value)
            moment = datetime.combine(day, time.min) if day else None
    except ValueError:  # well formed, impossible (month 13)
        moment = None
    if moment is None:
        message = _("%(name)s must be a W3C date-time, e.g. 2010-01-01T00:00:00Z.") % {"name": name}
        raise ValidationFailed(message, extra={name: [message]})
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _positive_int(params: Any, name: str, default: int) -> int:
    value = (params.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        message = _("%(name)s must be a whole number of at least 1.") % {"name": name}
        raise ValidationFailed(message, extra={name: [message]})
    return int(value)


def _request_list(request: HttpRequest, fmt: str, params: Any) -> HttpResponse:
    statuses = [s.lower() for s in _split(params, "status")]
    unknown = [s for s in statuses if s not in ("open", "closed")]
    if unknown:
        raise Open311Error(400, [(400, _("status is open or closed."))])
    filters = selectors.RequestFilters(
        service_request_ids=_split(params, "service_request_id"),
        service_codes=_split(params, "service_code"),
        start=_moment(params, "start_date"),
        end=_moment(params, "end_date"),
        statuses=statuses,
        page=_positive_int(params, "page", 1),
        page_size=min(
            _positive_int(params, "page_size", selectors.DEFAULT_PAGE_SIZE),
            selectors.MAX_PAGE_SIZE,
        ),
    )
    if conf.open311_publish_photos():  # media_url may be one of our photos: the instances
        incidents = selectors.open311_requests(filters)
        absolute = request.build_absolute_uri
        data = [open311.request_entry(incident, absolute=absolute) for incident in incidents]
    else:  # plain values, one page of them (docs/performance.md)
        data = open311.request_entries(selectors.open311_request_rows(filters))
    return open311.render(data, fmt, root="service_requests")


def _api_key(request: HttpRequest, params: Any) -> ApiKey:
    """The key from the body (the spec) or the X-Api-Key header; never from the URL."""
    raw = str(params.get("api_key") or "").strip()
    raw = raw or request.headers.get("X-Api-Key", "").strip()
    if not raw:
        raise Open311Error(403, [(403, _("api_key was not provided."))])
    key = security.api_key_lookup(raw)
    if key is None:
        raise Open311Error(
            403, [(403, _("Invalid api_key received -- can't proceed with create_request."))]
        )
    security.api_key_record_use(key)
    retry_after = security.rate_limit_retry_after(key)
    if retry_after is not None:
        raise Open311Error(
            429,
            [
                (
                    429,
                    _("Too many requests for this api_key; retry in %(s)s s.") % {"s": retry_after},
                )
            ],
            headers={"Retry-After": str(retry_after)},
        )
    return key


def _attributes(params: Any) -> dict[str, Any]:
    if not isinstance(params, QueryDict):  # JSON body: {"attribute": {"CODE": "value" | [...]}}
        given = params.get("attribute") or {}
        return {str(k): v for k, v in given.items()} if isinstance(given, dict) else {}
    attributes: dict[str, Any] = {}
    for key in params:
        match = ATTRIBUTE_KEY.match(key)
        if not match:
            continue
        values = params.getlist(key)
        attributes[match.group(1)] = values if match.group(2) else (values[-1] if values else "")
    return attributes


def _request_create(request: HttpRequest, fmt: str, params: Any) -> HttpResponse:
    key = _api_key(request, params)
    values = {name: params.get(name) for name in POST_FIELDS}
    clean = {
        name: (str(value) if value is not None else "")
        for name, value in values.items()
        if name not in ("lat", "long")
    }
    ticket = services.open311_request_create(
        api_key=key,
        lat=values["lat"],
        long=values["long"],
        attributes=_attributes(params),
        photos=request.FILES.getlist("media"),
        **clean,
    )
    data = [open311.post_entry(ticket, as_token=key.partner.open311_token_responses)]
    return open311.render(data, fmt, root="service_requests")


@open311_endpoint("GET", "POST")
def requests_collection(request: HttpRequest, fmt: str, params: Any) -> HttpResponse:
    if request.method == "POST":
        return _request_create(request, fmt, params)
    return _request_list(request, fmt, params)


@open311_endpoint("GET")
def request_detail(
    request: HttpRequest, fmt: str, params: Any, service_request_id: str
) -> HttpResponse:
    incident = selectors.open311_request_get(service_request_id)
    data = [open311.request_entry(incident, absolute=request.build_absolute_uri)]
    return open311.render(data, fmt, root="service_requests")


@open311_endpoint("GET")
def token_detail(request: HttpRequest, fmt: str, params: Any, token: str) -> HttpResponse:
    ticket = selectors.open311_ticket_for_token(token)
    data = [{"service_request_id": ticket.incident.public_id, "token": ticket.token}]
    return open311.render(data, fmt, root="service_requests")
