"""Categories, report and list, one incident, 随手办."""

from __future__ import annotations

from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import RoleCode, User
from core.prepared_query import PreparedQuery
from incidents import category_cache, selectors, services
from incidents.apis._common import ERRORS, TAGS, PhotosField, _context, _detail
from incidents.filters import IncidentFilter
from incidents.models import Category, Channel
from incidents.serializers import (
    CategorySerializer,
    IncidentCreatedSerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    incident_created_data,
)

# --- categories -------------------------------------------------------------------------------


class CategoryListApi(APIView):
    """Active categories (large classes and subclasses) with their levels and time limits."""

    permission_classes = [AllowAny]

    @extend_schema(tags=TAGS, responses={200: CategorySerializer(many=True)})
    def get(self, request: Request) -> Response:
        categories = Category.objects.filter(active=True).select_related("parent")
        if not selectors.is_staff_viewer(request.user):
            categories = categories.filter(internal_only=False)
        return Response(CategorySerializer(categories, many=True).data)


# --- report and list --------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class CategoryCodeField(serializers.Field):
    """An active subclass by its code, from the per-process copy (incidents.category_cache):
    no query per report."""

    default_error_messages = {
        # DRF's own (translated) messages, as the SlugRelatedField used before gave.
        "does_not_exist": serializers.SlugRelatedField.default_error_messages["does_not_exist"],
        "invalid": serializers.SlugRelatedField.default_error_messages["invalid"],
    }

    def to_internal_value(self, data) -> Category:
        if not isinstance(data, str | int) or isinstance(data, bool):
            self.fail("invalid")
        code = str(data).strip()
        category = category_cache.active_subcategory(code)
        if category is None:
            self.fail("does_not_exist", slug_name="code", value=code)
        return category

    def to_representation(self, value: Category) -> str:
        return value.code


class IncidentReportInput(serializers.Serializer):
    category = CategoryCodeField(help_text="An active category subclass, by code (0102 ...).")
    description = serializers.CharField(max_length=2000)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=64)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    use_photo_location = serializers.BooleanField(required=False, default=False)
    external_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    photos = PhotosField()


class IncidentListCreateApi(GenericAPIView):
    """GET: the incidents the caller may see (filters, pagination). POST: report one (JSON, or
    multipart with photos)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filterset_class = IncidentFilter
    serializer_class = IncidentListSerializer
    InputSerializer = IncidentReportInput

    def get_queryset(self):
        return (
            selectors.incidents_visible(self.request.user)
            .select_related(*selectors.LIST_RELATED)
            .order_by("-created_at", "-id")
        )

    def get_serializer_context(self) -> dict:
        return _context(self.request)

    @extend_schema(tags=TAGS, responses={200: IncidentListSerializer(many=True)})
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        data = IncidentListSerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(
        tags=TAGS,
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        responses={201: IncidentCreatedSerializer, **ERRORS},
        description=(
            "Report an incident. Answers 201 with its id, tracking number, state and `url` "
            "(GET it for the detail: timeline, photos, actions)."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = request.user
        _load_role_codes(user)
        channel = data.get("channel") or _default_channel(user)
        if channel not in _allowed_channels(user):
            message = _("You may not report on this channel.")
            raise serializers.ValidationError({"channel": [message]})
        incident = services.incident_report(
            actor=user,
            category=data["category"],
            description=data["description"],
            channel=channel,
            lat=data.get("lat"),
            lng=data.get("lng"),
            address=data.get("address", ""),
            reporter_name=data.get("reporter_name", ""),
            reporter_phone=data.get("reporter_phone", ""),
            photos=data.get("photos", []),
            use_photo_location=data.get("use_photo_location", False),
            external_id=data.get("external_id", ""),
        )
        # A small answer: the detail costs most of a report's time and is one GET of `url`
        # away (docs/performance.md, "Incidents web").
        return Response(incident_created_data(incident), status=status.HTTP_201_CREATED)


_ROLE_CODES = PreparedQuery(
    lambda user_id: User.roles.through.objects.filter(user_id=user_id).values_list("role_id")
)


def _load_role_codes(user) -> None:
    """Fill `user.role_codes` (a cached_property: the same set) with a query compiled once per
    process: the ORM's many-to-many query cost a report more to build than to run."""
    if not user.is_authenticated:
        return
    # The request's user is a SimpleLazyObject, possibly around another one (django-otp's
    # OTPMiddleware wraps the auth middleware's): fill the User itself.
    while isinstance(user, LazyObject):
        if user._wrapped is empty:
            user._setup()
        user = user._wrapped
    if "role_codes" not in user.__dict__:
        user.__dict__["role_codes"] = {code for (code,) in _ROLE_CODES.rows(user.pk)}


def _default_channel(user) -> str:
    if user.has_role(RoleCode.GRID_WORKER):
        return Channel.PATROL
    return Channel.RESIDENT_WEB


def _allowed_channels(user) -> set[str]:
    allowed = {Channel.RESIDENT_WEB, Channel.API}
    if user.has_role(RoleCode.GRID_WORKER):
        allowed.add(Channel.PATROL)
    if user.is_portal_admin or user.has_role(RoleCode.DISPATCHER):
        allowed |= {Channel.HOTLINE_12345, Channel.DIVERSION_110, Channel.OPEN311}
    if user.is_portal_admin or user.has_role(RoleCode.PETITION_OFFICER):
        allowed.add(Channel.PETITION)
    return allowed


class IncidentDetailApi(APIView):
    """One incident with its timeline (public events only for residents) and the actions the
    caller may take now."""

    @extend_schema(tags=TAGS, responses={200: IncidentDetailSerializer, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        incident = selectors.incident_get_for_user(user=request.user, incident_id=pk)
        return _detail(request, incident)


class IncidentFixOnSpotNewInput(serializers.Serializer):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(active=True, parent__isnull=False),
    )
    description = serializers.CharField(max_length=2000)
    result = serializers.CharField(max_length=2000)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(required=False, allow_blank=True, max_length=255)
    use_photo_location = serializers.BooleanField(required=False, default=False)
    photos = PhotosField(required=True, min_length=1)


class FixOnSpotApi(APIView):
    """随手办: a grid worker records a matter fixed on the spot (multipart, evidence photo
    required)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    InputSerializer = IncidentFixOnSpotNewInput

    @extend_schema(
        tags=TAGS,
        request={"multipart/form-data": InputSerializer},
        responses={201: IncidentCreatedSerializer, **ERRORS},
        description=(
            "Report an incident. Answers 201 with its id, tracking number, state and `url` "
            "(GET it for the detail: timeline, photos, actions)."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = services.incident_fix_on_spot(
            actor=request.user,
            category=data["category"],
            description=data["description"],
            result=data["result"],
            photos=data["photos"],
            lat=data.get("lat"),
            lng=data.get("lng"),
            address=data.get("address", ""),
            use_photo_location=data.get("use_photo_location", False),
        )
        response = _detail(request, incident)
        response.status_code = status.HTTP_201_CREATED
        return response
