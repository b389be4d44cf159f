"""What the supervision pages share: the KPI query of a page and its errors as pages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, QueryDict
from django.utils.translation import gettext as _

from core.exceptions import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from governance import kpis
from grids.models import Region

DEFAULT_GROUP_BY = {
    Region.Level.PROVINCE: "district",
    Region.Level.CITY: "district",
    Region.Level.DISTRICT: "street",
    Region.Level.STREET: "community",
    Region.Level.COMMUNITY: "grid",
}


def _group_by_choices() -> list[tuple[str, str]]:
    return [
        ("district", _("District")),
        ("street", _("Street")),
        ("community", _("Community")),
        ("grid", _("Grid cell")),
        ("worker", _("Worker")),
        ("category", _("Category")),
        ("unit", _("Handling unit")),
    ]


def _interval_choices() -> list[tuple[str, str]]:
    return [("day", _("by day")), ("week", _("by week")), ("month", _("by month"))]


def _raise_for_page(exc: ApplicationError) -> None:
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(exc.message)
    if isinstance(exc, NotFoundError):
        raise Http404(exc.message)


def _build_query(request: HttpRequest, params: QueryDict | dict) -> kpis.KpiQuery:
    """The KPI query of a page: 403/404 as pages; bad values are reported and the defaults
    used instead (a page never fails on a mistyped date)."""
    try:
        query = kpis.kpi_query_build(user=request.user, params=params)
    except ValidationFailed as exc:
        for field_name, errors in exc.extra.items():
            for error in errors:
                messages.error(request, f"{field_name}: {error}")
        region = params.get("region") or ""
        try:
            query = kpis.kpi_query_build(user=request.user, params={"region": region})
        except ApplicationError as again:
            _raise_for_page(again)
            raise
    except ApplicationError as exc:
        _raise_for_page(exc)
        raise
    if not query.group_by:
        level = query.region.level if query.region else Region.Level.CITY
        query = kpis.KpiQuery(**{**query.__dict__, "group_by": DEFAULT_GROUP_BY[level]})
    return query
