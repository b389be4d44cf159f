"""Filters of the dispatch queue and the incident list (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from incidents.models import OPEN_STATES, HandlingLevel, Incident, IncidentState


class IncidentFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=IncidentState.choices, label=_("state"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("open"))
    category = django_filters.CharFilter(
        method="filter_category", label=_("category code (a large class includes its subclasses)")
    )
    grid_cell = django_filters.CharFilter(method="filter_grid_cell", label=_("grid cell code"))
    community = django_filters.CharFilter(
        method="filter_community", label=_("region code (community, street or district)")
    )
    handling_level = django_filters.ChoiceFilter(
        choices=HandlingLevel.choices, label=_("handling level")
    )
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("overdue"))
    urgent = django_filters.BooleanFilter(field_name="urgent", label=_("urgent"))
    parked = django_filters.BooleanFilter(field_name="parked", label=_("parked"))
    claimable = django_filters.BooleanFilter(field_name="claimable", label=_("open for claiming"))
    reported_from = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("reported from")
    )
    reported_to = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("reported until")
    )
    q = django_filters.CharFilter(method="filter_text", label=pgettext_lazy("search", "text"))

    class Meta:
        model = Incident
        fields: list[str] = []

    def filter_open(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(state__in=OPEN_STATES) if value else qs.exclude(state__in=OPEN_STATES)

    def filter_category(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(category__code=value) | Q(category__parent__code=value))

    def filter_grid_cell(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        return qs.filter(grid_cell__code=value) if value else qs

    def filter_community(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        from grids.models import Region

        value = value.strip()
        if not value:
            return qs
        region = Region.objects.filter(code=value).first()
        if region is None:
            return qs.none()
        return qs.filter(region_code__startswith=region.prefix)

    def filter_overdue(self, qs: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        late = Q(due_at__lt=timezone.now(), state__in=OPEN_STATES)
        return qs.filter(late) if value else qs.exclude(late)

    def filter_text(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(
            Q(tracking_number__iexact=value)
            | Q(description__icontains=value)
            | Q(address__icontains=value)
        )
