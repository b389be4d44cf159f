"""REST API of the grids app (mounted under /api/v1/). Every list is scoped by grids.selectors."""

import math

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ROLES_SEEING_CONTACTS
from core.exceptions import ValidationFailed
from core.masking import mask_phone
from grids import locator, selectors
from grids.models import GridCell, GridWorker, Region


def contact_for(viewer, phone: str) -> str:
    """A third party's phone (e.g. the paired police officer) as `viewer` may see it."""
    if viewer.is_superuser or viewer.role_codes & ROLES_SEEING_CONTACTS:
        return phone
    return mask_phone(phone)


# --------------------------------------------------------------------------- regions


class GridRegionSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", allow_null=True, read_only=True)
    boundary = serializers.SerializerMethodField()

    class Meta:
        model = Region
        fields = ["id", "code", "name", "name_en", "level", "parent_code", "boundary"]

    # GeoJSON, or null for a region drawn without a boundary (a city, a district ...).
    @extend_schema_field({"type": "object", "nullable": True})
    def get_boundary(self, region: Region) -> dict | None:
        return region.boundary


class RegionFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(choices=Region.Level.choices)
    parent = django_filters.CharFilter(field_name="parent__code", label=_("parent code"))
    code_prefix = django_filters.CharFilter(
        field_name="code", lookup_expr="startswith", label=_("code prefix")
    )

    class Meta:
        model = Region
        fields = ["level", "parent", "code_prefix"]


@extend_schema(tags=["grids"], summary="Regions inside the user's scope")
class RegionListApi(ListAPIView):
    serializer_class = GridRegionSerializer
    filterset_class = RegionFilter

    def get_queryset(self):
        return selectors.region_list(user=self.request.user)


# --------------------------------------------------------------------------- grid cells


class GridCellSerializer(serializers.ModelSerializer):
    community_code = serializers.CharField(source="community.code", read_only=True)
    community_name = serializers.CharField(source="community.name", read_only=True)
    geometry = serializers.SerializerMethodField()

    class Meta:
        model = GridCell
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "community_code",
            "community_name",
            "area_m2",
            "active",
            "geometry",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_geometry(self, cell: GridCell) -> dict:
        """The GeoJSON polygon (WGS-84, [lng, lat])."""
        return cell.geometry


class GridCellFilter(django_filters.FilterSet):
    community = django_filters.CharFilter(field_name="community__code", label=_("community code"))
    code_prefix = django_filters.CharFilter(
        field_name="code", lookup_expr="startswith", label=_("code prefix")
    )
    kind = django_filters.ChoiceFilter(choices=GridCell.Kind.choices)
    active = django_filters.BooleanFilter()

    class Meta:
        model = GridCell
        fields = ["community", "code_prefix", "kind", "active"]


@extend_schema(tags=["grids"], summary="Grid cells the user may see, with their polygons")
class GridCellListApi(ListAPIView):
    serializer_class = GridCellSerializer
    filterset_class = GridCellFilter

    def get_queryset(self):
        return selectors.grid_cells_visible(user=self.request.user).order_by("code")


# --------------------------------------------------------------------------- grid workers


class GridWorkerSerializer(serializers.ModelSerializer):
    user_id = serializers.IntegerField(read_only=True)
    name = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    cell_codes = serializers.SerializerMethodField()
    police_officer_phone = serializers.SerializerMethodField()

    class Meta:
        model = GridWorker
        fields = [
            "id",
            "user_id",
            "name",
            "phone",
            "kind",
            "on_duty",
            "cell_codes",
            "police_officer_name",
            "police_officer_phone",
        ]

    def get_name(self, worker: GridWorker) -> str:
        return str(worker.user)

    def get_phone(self, worker: GridWorker) -> str:
        """Masked (138****1234) unless the viewer may see contacts."""
        return worker.user.phone_for(self.context["request"].user)

    def get_cell_codes(self, worker: GridWorker) -> list[str]:
        return sorted(cell.code for cell in worker.cells.all())

    def get_police_officer_phone(self, worker: GridWorker) -> str:
        return contact_for(self.context["request"].user, worker.police_officer_phone)


class GridWorkerFilter(django_filters.FilterSet):
    on_duty = django_filters.BooleanFilter()
    cell = django_filters.CharFilter(field_name="cells__code", label=_("grid code"))
    community = django_filters.CharFilter(
        field_name="cells__community__code", label=_("community code")
    )

    class Meta:
        model = GridWorker
        fields = ["on_duty", "cell", "community"]

    def filter_queryset(self, queryset):
        return super().filter_queryset(queryset).distinct()


@extend_schema(tags=["grids"], summary="Grid workers inside the user's scope (phones masked)")
class GridWorkerListApi(ListAPIView):
    serializer_class = GridWorkerSerializer
    filterset_class = GridWorkerFilter

    def get_queryset(self):
        return selectors.grid_workers_visible(user=self.request.user).order_by("user__username")


# --------------------------------------------------------------------------- locate


class GridLocateQuerySerializer(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90, help_text="WGS-84 latitude")
    lng = serializers.FloatField(min_value=-180, max_value=180, help_text="WGS-84 longitude")

    def validate(self, attrs: dict) -> dict:
        for name in ("lat", "lng"):
            if not math.isfinite(attrs[name]):
                raise serializers.ValidationError({name: [_("A valid number is required.")]})
        return attrs


class GridLocationSerializer(serializers.Serializer):
    inside = serializers.BooleanField(help_text="False: outside the jurisdiction")
    cell_id = serializers.IntegerField(allow_null=True)
    cell_code = serializers.CharField(allow_null=True)
    cell_name = serializers.CharField(allow_null=True)
    community_id = serializers.IntegerField(allow_null=True)
    community_code = serializers.CharField(allow_null=True)
    community_name = serializers.CharField(allow_null=True)


class LocateApi(APIView):
    """The grid cell (or community, 属地兜底) of a WGS-84 point. Any signed-in user."""

    @extend_schema(
        tags=["grids"],
        summary="Locate a point: grid cell and community",
        parameters=[GridLocateQuerySerializer],
        responses=GridLocationSerializer,
    )
    def get(self, request: Request) -> Response:
        query = GridLocateQuerySerializer(data=request.query_params)
        if not query.is_valid():
            errors = query.errors
            raise ValidationFailed(
                str(_("lat and lng must be WGS-84 numbers (lat -90..90, lng -180..180).")),
                extra={k: [str(m) for m in v] for k, v in errors.items()},
            )
        location = locator.locate(query.validated_data["lat"], query.validated_data["lng"])
        cell_name = community_name = None
        if location.cell_id is not None:
            cell_name = (
                GridCell.objects.filter(pk=location.cell_id).values_list("name", flat=True).first()
            )
        if location.community_id is not None:
            community_name = (
                Region.objects.filter(pk=location.community_id)
                .values_list("name", flat=True)
                .first()
            )
        return Response(
            GridLocationSerializer(
                {
                    "inside": location.inside,
                    "cell_id": location.cell_id,
                    "cell_code": location.cell_code,
                    "cell_name": cell_name,
                    "community_id": location.community_id,
                    "community_code": location.community_code,
                    "community_name": community_name,
                }
            ).data
        )
