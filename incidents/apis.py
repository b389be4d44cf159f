"""Incidents REST API (/api/v1/): report, list, detail, one endpoint per move of the loop,
categories, public tracking, my tasks, the dispatch queue, the overdue board, workload.

Thin: validate the input (400 with field messages), call one service or selector, render.
Services raise ApplicationError subclasses (403/404/409), rendered as JSON by
core.api.exception_handler.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import RoleCode, User
from core.exceptions import NotFoundError, PermissionDeniedError
from grids.models import Region
from incidents import category_cache, routing, selectors, services, tracking
from incidents import patrols as patrol_helpers
from incidents.filters import IncidentFilter
from incidents.models import Category, Channel, HandlingLevel, Incident
from incidents.photos import MAX_PHOTOS
from incidents.serializers import (
    CategorySerializer,
    ErrorSerializer,
    IncidentCreatedSerializer,
    IncidentDetailSerializer,
    IncidentListSerializer,
    TrackSerializer,
    WorkloadSerializer,
    incident_created_data,
    queue_rows_data,
)

TAGS = ["incidents"]
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}
QUEUE_ROLES = (RoleCode.DISPATCHER, RoleCode.SUPERVISOR, RoleCode.ADMIN)


def _context(request: Request, **extra: Any) -> dict:
    return {
        "request": request,
        "user": request.user,
        "staff": selectors.is_staff_viewer(request.user),
        **extra,
    }


def _detail(request: Request, incident: Incident) -> Response:
    """The incident as the caller may see it (after a move the caller may no longer see it:
    then only the id, the tracking number and the new state)."""
    user = request.user
    if not selectors.incident_is_visible(user, incident):
        return Response(
            {
                "id": incident.pk,
                "tracking_number": incident.tracking_number,
                "state": incident.state,
            }
        )
    incident = selectors.incident_get_for_user(user=user, incident_id=incident.pk)
    context = _context(
        request,
        staff=selectors.sees_as_staff(user, incident),
        timeline=selectors.incident_timeline_for(user, incident),
        actions=selectors.incident_actions_for(user, incident),
    )
    return Response(IncidentDetailSerializer(incident, context=context).data)


class PhotosField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FileField(allow_empty_file=False))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_PHOTOS)
        super().__init__(**kwargs)


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
        # A small answer: the detail (visibility, 10-table query, timeline, actions) was ~70 %
        # of the request's time and is one GET of `url` away (docs/performance.md).
        return Response(incident_created_data(incident), status=status.HTTP_201_CREATED)


_ROLE_CODES = routing.PreparedQuery(
    lambda user_id: User.roles.through.objects.filter(user_id=user_id).values_list("role_id")
)


def _load_role_codes(user) -> None:
    """Fill `user.role_codes` (a cached_property: the same set) with a query compiled once per
    process: the ORM's many-to-many query cost a report more to build than to run."""
    if not user.is_authenticated:
        return
    user = getattr(user, "_wrapped", user)  # the request's SimpleLazyObject, set up above
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


# --- one endpoint per move --------------------------------------------------------------------


class IncidentNoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class IncidentReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class IncidentReasonPhotosInput(IncidentReasonInput):
    photos = PhotosField()


class IncidentVerifyInput(IncidentNoteInput):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(active=True, parent__isnull=False),
        required=False,
    )
    photos = PhotosField()


class IncidentNotePhotosInput(IncidentNoteInput):
    photos = PhotosField()


class IncidentResolveInput(serializers.Serializer):
    result = serializers.CharField(max_length=2000)
    photos = PhotosField()


class IncidentFixOnSpotInput(IncidentResolveInput):
    photos = PhotosField(required=True, min_length=1)


class IncidentAssignVerifierInput(IncidentNoteInput):
    verifier = serializers.IntegerField()


class IncidentTargetInput(IncidentNoteInput):
    assignee = serializers.IntegerField(required=False, allow_null=True)
    level = serializers.ChoiceField(choices=HandlingLevel.choices, required=False)
    region = serializers.CharField(required=False, allow_blank=True, max_length=12)
    department = serializers.CharField(required=False, allow_blank=True, max_length=64)
    to_pool = serializers.BooleanField(required=False, default=False)

    def validate_region(self, value: str) -> int | None:
        if not value:
            return None
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise serializers.ValidationError(_("Unknown region code."))
        return region.pk


class IncidentExtensionInput(IncidentReasonInput):
    until = serializers.DateTimeField()


class IncidentUnparkInput(IncidentNoteInput):
    resolve_by = serializers.DateTimeField(required=False, allow_null=True)


class IncidentRateInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


def _target(data: dict) -> dict:
    return {
        "assignee_id": data.get("assignee"),
        "level": data.get("level", ""),
        "region_id": data.get("region"),
        "department": data.get("department", ""),
        "to_pool": data.get("to_pool", False),
        "note": data.get("note", ""),
    }


Perform = Callable[[Any, int, dict], Incident]
# url segment -> (input serializer, service call, summary)
MOVES: dict[str, tuple[type[serializers.Serializer], Perform, str]] = {
    "assign-verifier": (
        IncidentAssignVerifierInput,
        lambda user, pk, d: services.incident_assign_verifier(
            incident_id=pk, actor=user, verifier_id=d["verifier"], note=d.get("note", "")
        ),
        "Name who verifies the incident on site.",
    ),
    "verify": (
        IncidentVerifyInput,
        lambda user, pk, d: services.incident_verify(
            incident_id=pk,
            actor=user,
            note=d.get("note", ""),
            category_id=d["category"].pk if d.get("category") else None,
            photos=d.get("photos", []),
        ),
        "Confirm the matter on site (may correct the category).",
    ),
    "invalid": (
        IncidentReasonInput,
        lambda user, pk, d: services.incident_mark_invalid(
            incident_id=pk, actor=user, reason=d["reason"]
        ),
        "Cancel a report that does not qualify, with a reason.",
    ),
    "dispatch": (
        IncidentTargetInput,
        lambda user, pk, d: services.incident_dispatch(incident_id=pk, actor=user, **_target(d)),
        "Send to a person, a unit (level, region code, department) or the claim pool.",
    ),
    "claim": (
        IncidentNoteInput,
        lambda user, pk, d: services.incident_claim(incident_id=pk, actor=user),
        "Take the incident from the claim pool (one claimer wins).",
    ),
    "accept": (
        IncidentNoteInput,
        lambda user, pk, d: services.incident_accept(
            incident_id=pk, actor=user, note=d.get("note", "")
        ),
        "Accept the task.",
    ),
    "return": (
        IncidentReasonInput,
        lambda user, pk, d: services.incident_return(
            incident_id=pk, actor=user, reason=d["reason"]
        ),
        "Return a wrongly routed task, with the reason.",
    ),
    "reassign": (
        IncidentTargetInput,
        lambda user, pk, d: services.incident_reassign(incident_id=pk, actor=user, **_target(d)),
        "Move the task to another person, unit or the claim pool.",
    ),
    "escalate": (
        IncidentReasonInput,
        lambda user, pk, d: services.incident_escalate(
            incident_id=pk, actor=user, reason=d["reason"]
        ),
        "Escalate one level up.",
    ),
    "request-extension": (
        IncidentExtensionInput,
        lambda user, pk, d: services.incident_request_extension(
            incident_id=pk, actor=user, until=d["until"], reason=d["reason"]
        ),
        "Ask for a later resolve deadline, with the reason.",
    ),
    "approve-extension": (
        IncidentNoteInput,
        lambda user, pk, d: services.incident_approve_extension(
            incident_id=pk, actor=user, note=d.get("note", "")
        ),
        "Grant the requested extension.",
    ),
    "reject-extension": (
        IncidentReasonInput,
        lambda user, pk, d: services.incident_reject_extension(
            incident_id=pk, actor=user, reason=d["reason"]
        ),
        "Refuse the requested extension.",
    ),
    "park": (
        IncidentReasonInput,
        lambda user, pk, d: services.incident_park(incident_id=pk, actor=user, reason=d["reason"]),
        "Park (挂账) with a written explanation.",
    ),
    "unpark": (
        IncidentUnparkInput,
        lambda user, pk, d: services.incident_unpark(
            incident_id=pk, actor=user, resolve_by=d.get("resolve_by"), note=d.get("note", "")
        ),
        "Take a parked incident up again with a new deadline.",
    ),
    "resolve": (
        IncidentResolveInput,
        lambda user, pk, d: services.incident_resolve(
            incident_id=pk, actor=user, result=d["result"], photos=d.get("photos", [])
        ),
        "Report the result with evidence photos.",
    ),
    "check": (
        IncidentNotePhotosInput,
        lambda user, pk, d: services.incident_check(
            incident_id=pk, actor=user, note=d.get("note", ""), photos=d.get("photos", [])
        ),
        "Confirm the result on site.",
    ),
    "rework": (
        IncidentReasonPhotosInput,
        lambda user, pk, d: services.incident_rework(
            incident_id=pk, actor=user, reason=d["reason"], photos=d.get("photos", [])
        ),
        "Not fixed: send it back to the handler.",
    ),
    "send-feedback": (
        IncidentNoteInput,
        lambda user, pk, d: services.incident_send_feedback(incident_id=pk, actor=user),
        "Send the result to the reporter now.",
    ),
    "rate": (
        IncidentRateInput,
        lambda user, pk, d: services.incident_rate(
            actor=user, incident_id=pk, rating=d["rating"], comment=d.get("comment", "")
        ),
        "Rate the result (the reporter): 1–5 stars.",
    ),
    "reopen": (
        IncidentNoteInput,
        lambda user, pk, d: services.incident_reopen(
            incident_id=pk, actor=user, note=d.get("note", "")
        ),
        "Reopen a rated incident.",
    ),
    "close": (
        IncidentNoteInput,
        lambda user, pk, d: services.incident_close(
            incident_id=pk, actor=user, note=d.get("note", "")
        ),
        "Close a rated incident.",
    ),
    "fix-on-spot": (
        IncidentFixOnSpotInput,
        lambda user, pk, d: services.incident_fix_on_spot(
            incident_id=pk, actor=user, result=d["result"], photos=d["photos"]
        ),
        "随手办 on an incident being verified: verified and resolved in one step.",
    ),
}


def _move_api(segment: str) -> type[APIView]:
    input_serializer, perform, summary = MOVES[segment]

    class MoveApi(APIView):
        parser_classes = [JSONParser, MultiPartParser, FormParser]

        @extend_schema(
            tags=TAGS,
            summary=summary,
            operation_id=f"incidents_{segment.replace('-', '_')}",
            request={
                "application/json": input_serializer,
                "multipart/form-data": input_serializer,
            },
            responses={200: IncidentDetailSerializer, **ERRORS},
        )
        def post(self, request: Request, pk: int) -> Response:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            incident = perform(request.user, pk, serializer.validated_data)
            return _detail(request, incident)

    name = "".join(part.capitalize() for part in segment.split("-"))
    MoveApi.__name__ = MoveApi.__qualname__ = f"Incident{name}Api"
    MoveApi.__doc__ = summary
    return MoveApi


MOVE_APIS: dict[str, type[APIView]] = {segment: _move_api(segment) for segment in MOVES}


# --- public tracking --------------------------------------------------------------------------


def _track_attempt(request: Request) -> None:
    """One tracking attempt from this client, on the tracking page's budget (the same cache
    keys: incidents.tracking); 429 with Retry-After past it."""
    over = tracking.client_attempt(request)
    if over.limited:
        raise exceptions.Throttled(wait=over.retry_after)


class IncidentTrackInput(serializers.Serializer):
    no = serializers.CharField(max_length=16, help_text="The tracking number (GG…).")
    code = serializers.CharField(
        max_length=16, help_text="The access code (查询码) given with the tracking number."
    )


class IncidentTrackApi(APIView):
    """POST the tracking number and its access code (JSON body: nothing secret in the URL) to
    read the public view. Limited per client address (shared with the tracking page) and per
    number (after too many failures it is locked); a wrong number, a wrong code and a locked
    number get the same 404."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    InputSerializer = IncidentTrackInput

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={200: TrackSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        _track_attempt(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = tracking.incident_unlock(data["no"], data["code"])
        return Response(TrackSerializer(selectors.incident_track_for(incident)).data)


class IncidentTrackRateInput(IncidentRateInput, IncidentTrackInput):
    pass


class IncidentTrackRateApi(APIView):
    """The reporter rates with the tracking number and the access code (anonymously, or signed
    in: the rating event records the user; staff may not rate a case they can see)."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    InputSerializer = IncidentTrackRateInput

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={200: TrackSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _track_attempt(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = tracking.incident_unlock(data["no"], data["code"])
        services.incident_rate(
            actor=request.user if request.user.is_authenticated else None,
            rating=data["rating"],
            comment=data.get("comment", ""),
            tracking_number=incident.tracking_number,
            access_code=data["code"],
        )
        track = selectors.incident_track(incident.tracking_number, data["code"])
        return Response(TrackSerializer(track).data)


class IncidentTrackResendInput(serializers.Serializer):
    no = serializers.CharField(max_length=16, help_text="The tracking number (GG…).")
    phone = serializers.RegexField(
        r"^\+?[0-9][0-9\- ]{4,19}$", help_text="The full mobile number the report was made with."
    )


class IncidentTrackResendApi(APIView):
    """ "Resend my code": when the phone is the reporter's, a new access code goes to it by SMS
    (the old one stops working). The answer is the same 202 whether or not it matched; limited
    per client address (429) and per number (silently)."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    InputSerializer = IncidentTrackResendInput

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={
            202: inline_serializer("TrackResendAnswer", {"detail": serializers.CharField()}),
            400: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        over = tracking.resend_client_attempt(request)
        if over.limited:
            raise exceptions.Throttled(wait=over.retry_after)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tracking.access_code_resend(data["no"], data["phone"])
        return Response({"detail": str(tracking.RESEND_ANSWER)}, status=status.HTTP_202_ACCEPTED)


# --- work lists -------------------------------------------------------------------------------


class MyTasksApi(APIView):
    """The caller's work: to verify, to check, claimable, assigned, sent to their unit."""

    LIMIT = 200

    @extend_schema(
        tags=TAGS,
        responses={
            200: inline_serializer(
                "MyTasks",
                {
                    key: IncidentListSerializer(many=True)
                    for key in ("to_verify", "to_check", "claimable", "assigned", "unit")
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        context = _context(request)
        lists = selectors.my_tasks(request.user)
        return Response(
            {
                key: IncidentListSerializer(qs[: self.LIMIT], many=True, context=context).data
                for key, qs in lists.items()
            }
        )


def _require_queue_role(user) -> None:
    if not (user.is_portal_admin or user.has_role(*QUEUE_ROLES)):
        raise PermissionDeniedError(_("Only dispatchers and supervisors use the queue."))


class DispatchQueueApi(GenericAPIView):
    """The dispatch queue: visible incidents filtered (state, category, grid_cell, community,
    overdue, urgent, reported_from/to, q ...) and ordered by deadline."""

    filterset_class = IncidentFilter
    serializer_class = IncidentListSerializer

    def get_queryset(self):
        return selectors.incidents_visible(self.request.user)

    @extend_schema(tags=TAGS, responses={200: IncidentListSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        _require_queue_role(request.user)
        # Narrow rows (selectors.QUEUE_COLUMNS), written like IncidentListSerializer.
        queryset = selectors.dispatch_queue_values(request.user, request.query_params)
        rows = selectors.queue_rows(self.paginate_queryset(queryset))
        data = queue_rows_data(rows, staff=selectors.is_staff_viewer(request.user))
        return self.get_paginated_response(data)


class OverdueBoardApi(GenericAPIView):
    """Open incidents past their deadline, most overdue first."""

    serializer_class = IncidentListSerializer

    def get_queryset(self):
        return selectors.overdue_board(self.request.user)

    @extend_schema(tags=TAGS, responses={200: IncidentListSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        _require_queue_role(request.user)
        page = self.paginate_queryset(selectors.overdue_board(request.user))
        data = IncidentListSerializer(page, many=True, context=_context(request)).data
        return self.get_paginated_response(data)


class WorkloadApi(APIView):
    """Open work per grid worker in a region (default: the caller's region)."""

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("region", OpenApiTypes.STR, required=False)],
        responses={200: WorkloadSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        from accounts.selectors import regions_visible

        user = request.user
        _require_queue_role(user)
        code = request.query_params.get("region") or (
            user.scope_region.code if user.scope_region_id else ""
        )
        region = regions_visible(user).filter(code=code).first() if code else None
        if region is None:
            raise NotFoundError(_("Region not found."))
        loads = selectors.workload_per_worker(region)
        return Response(
            WorkloadSerializer(
                [{**load.__dict__, "total": load.total} for load in loads], many=True
            ).data
        )


# --- patrol log -------------------------------------------------------------------------------

PATROL_TAGS = ["patrols"]


def _valid(input_class: type[serializers.Serializer], request: Request) -> dict:
    serializer = input_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PatrolOutput(serializers.Serializer):
    id = serializers.IntegerField()
    worker = serializers.SerializerMethodField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True)
    is_open = serializers.BooleanField()
    distance_m = serializers.FloatField()
    duration_seconds = serializers.SerializerMethodField()
    cells = serializers.SerializerMethodField()
    notes = serializers.CharField()
    incidents = serializers.SerializerMethodField()

    def get_worker(self, patrol) -> dict:
        return {"id": patrol.worker_id, "name": str(patrol.worker)}

    def get_duration_seconds(self, patrol) -> int:
        return int(
            patrol_helpers.duration(
                patrol.started_at, patrol.ended_at, now=timezone.now()
            ).total_seconds()
        )

    def get_cells(self, patrol) -> list[str]:
        return [cell.code for cell in patrol.cells.all()]

    def get_incidents(self, patrol) -> list[str]:
        user = self.context["request"].user
        return list(
            selectors.patrol_incidents(user, patrol).values_list("tracking_number", flat=True)
        )


class PatrolDetailOutput(PatrolOutput):
    track = serializers.ListField(child=serializers.ListField())


class PatrolPointsInput(serializers.Serializer):
    points = serializers.ListField(
        child=serializers.ListField(min_length=2, max_length=3),
        max_length=patrol_helpers.MAX_POINTS_PER_CALL,
        help_text="[[lat, lng, time], ...]; time ISO 8601 or epoch seconds/milliseconds.",
    )


class PatrolStartInput(serializers.Serializer):
    cells = serializers.ListField(child=serializers.IntegerField(), required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    points = serializers.ListField(child=serializers.ListField(), required=False, default=list)


class PatrolEndInput(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None)
    points = serializers.ListField(child=serializers.ListField(), required=False, default=list)


def _patrol_response(request: Request, patrol, *, code: int = status.HTTP_200_OK) -> Response:
    patrol = selectors.patrol_get_for_user(user=request.user, patrol_id=patrol.pk)
    return Response(PatrolDetailOutput(patrol, context={"request": request}).data, status=code)


class PatrolListCreateApi(GenericAPIView):
    """GET: the patrols the caller may read (own; dispatchers and supervisors those of the
    workers in their region), newest first. POST: a grid worker starts a patrol (409 when one
    is open)."""

    serializer_class = PatrolOutput

    def get_queryset(self):
        return selectors.patrols_visible(self.request.user).prefetch_related("cells")

    @extend_schema(tags=PATROL_TAGS, responses={200: PatrolOutput(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        queryset = self.get_queryset()
        page = self.paginate_queryset(queryset)
        rows = page if page is not None else queryset[:200]
        data = PatrolOutput(rows, many=True, context={"request": request}).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    @extend_schema(
        tags=PATROL_TAGS, request=PatrolStartInput, responses={201: PatrolDetailOutput, **ERRORS}
    )
    def post(self, request: Request) -> Response:
        data = _valid(PatrolStartInput, request)
        patrol = services.patrol_start(
            actor=request.user,
            cell_ids=data.get("cells"),
            notes=data["notes"],
            points=data["points"],
        )
        return _patrol_response(request, patrol, code=status.HTTP_201_CREATED)


class PatrolDetailApi(APIView):
    """One patrol with its GPS track."""

    @extend_schema(tags=PATROL_TAGS, responses={200: PatrolDetailOutput, **ERRORS})
    def get(self, request: Request, pk: int) -> Response:
        patrol = selectors.patrol_get_for_user(user=request.user, patrol_id=pk)
        return Response(PatrolDetailOutput(patrol, context={"request": request}).data)


class PatrolPointsApi(APIView):
    """The worker's page sends GPS points of the open patrol (every ~30 s)."""

    @extend_schema(
        tags=PATROL_TAGS, request=PatrolPointsInput, responses={200: PatrolDetailOutput, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(PatrolPointsInput, request)
        patrol = services.patrol_add_points(patrol_id=pk, actor=request.user, points=data["points"])
        return _patrol_response(request, patrol)


class PatrolEndApi(APIView):
    """The worker ends the patrol (notes, last points)."""

    @extend_schema(
        tags=PATROL_TAGS, request=PatrolEndInput, responses={200: PatrolDetailOutput, **ERRORS}
    )
    def post(self, request: Request, pk: int) -> Response:
        data = _valid(PatrolEndInput, request)
        patrol = services.patrol_end(
            patrol_id=pk, actor=request.user, notes=data["notes"], points=data["points"]
        )
        return _patrol_response(request, patrol)
