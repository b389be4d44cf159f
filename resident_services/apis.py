"""Resident services REST API (/api/v1/services/...): the catalogue, requests (one endpoint per
move), consultation slots and bookings, providers' hours and the supervision figures. Scoped
like the pages (resident_services.selectors / policies); the resident's phone is masked."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError, PermissionDeniedError
from grids.models import Region
from resident_services import policies, selectors, services
from resident_services.models import (
    RATING_CHOICES,
    BookingState,
    HandlerKind,
    Reach,
    RequestState,
    ServiceRequest,
    Weekday,
)

TAGS = ["resident services"]


# --- catalogue ----------------------------------------------------------------------------------


class ServiceItemOutput(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    group = serializers.CharField(source="group.name")
    description = serializers.CharField()
    materials = serializers.ListField(child=serializers.CharField(), source="material_list")
    handler_kind = serializers.ChoiceField(choices=HandlerKind.choices)
    department = serializers.CharField()
    time_limit_days = serializers.IntegerField()
    reach = serializers.ChoiceField(choices=Reach.choices)


class ServiceItemListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="services_items_list", tags=TAGS, responses=ServiceItemOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        """The catalogue (public: no personal data)."""
        items = [item for _group, items in selectors.catalogue() for item in items]
        return Response(ServiceItemOutput(items, many=True).data)


# --- requests -----------------------------------------------------------------------------------


class ServiceRequestEventOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()


class ServiceRequestOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    item = serializers.CharField(source="item.name")
    item_id = serializers.IntegerField()
    community = serializers.CharField(source="community.code")
    community_name = serializers.CharField(source="community.name")
    state = serializers.ChoiceField(choices=RequestState.choices)
    state_label = serializers.CharField(source="get_state_display")
    details = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    clock_stopped = serializers.SerializerMethodField()
    overdue = serializers.BooleanField()
    missing_materials = serializers.CharField()
    result = serializers.CharField()
    decline_reason = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    closed_on_time = serializers.BooleanField(allow_null=True)
    rating = serializers.IntegerField(allow_null=True)
    rating_comment = serializers.CharField()

    def get_clock_stopped(self, obj: ServiceRequest) -> bool:
        return obj.paused_at is not None


class ServiceRequestDetailOutput(ServiceRequestOutput):
    attachments = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    def get_attachments(self, obj: ServiceRequest) -> list[str]:
        return [attachment.name for attachment in obj.attachments.all()]

    @extend_schema_field(ServiceRequestEventOutput(many=True))
    def get_timeline(self, obj: ServiceRequest) -> list[dict]:
        user = self.context["user"]
        events = selectors.events_for(user=user, request=obj)
        return ServiceRequestEventOutput(events, many=True).data


def _detail(request: ServiceRequest, user) -> dict:
    return ServiceRequestDetailOutput(request, context={"user": user}).data


class ServiceRequestCreateInput(serializers.Serializer):
    item = serializers.IntegerField()
    community = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.filter(level=Region.Level.COMMUNITY),
        required=False,
        allow_null=True,
        help_text="Division code of the community; empty: the resident's own.",
    )
    details = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ServiceRequestListCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="services_requests_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter("queue", bool, description="A handler's queue (deadline order)."),
            OpenApiParameter("state", str, enum=RequestState.values),
        ],
        responses=ServiceRequestOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        """Requests the user may see: their own; handlers their region's; supervisors their
        region's. With queue=true: the handler's open queue, nearest deadline first."""
        if request.query_params.get("queue") in ("1", "true", "True"):
            qs = selectors.handler_queue(request.user)
        else:
            qs = selectors.requests_visible(request.user)
        state = request.query_params.get("state")
        if state:
            if state not in RequestState.values:
                from core.exceptions import ValidationFailed

                raise ValidationFailed("Invalid filter.", extra={"state": ["Unknown state."]})
            qs = qs.filter(state=state)
        return Response(ServiceRequestOutput(qs[:200], many=True).data)

    @extend_schema(
        operation_id="services_requests_create",
        tags=TAGS,
        request={"multipart/form-data": ServiceRequestCreateInput},
        responses={201: ServiceRequestDetailOutput},
    )
    def post(self, request: Request) -> Response:
        """A signed-in resident asks for a service (multipart: attach the required materials)."""
        data = request.data.copy() if hasattr(request.data, "copy") else dict(request.data)
        if hasattr(request.data, "getlist"):
            data.setlist("attachments", request.FILES.getlist("attachments"))
        serializer = ServiceRequestCreateInput(data=data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        community = values.get("community")
        created = services.request_submit(
            actor=request.user,
            item_id=values["item"],
            community_id=community.pk if community else None,
            details=values["details"],
            attachments=values["attachments"],
        )
        return Response(_detail(created, request.user), status=status.HTTP_201_CREATED)


class ServiceRequestDetailApi(APIView):
    @extend_schema(
        operation_id="services_requests_retrieve", tags=TAGS, responses=ServiceRequestDetailOutput
    )
    def get(self, request: Request, request_id: int) -> Response:
        found = selectors.request_get_for_user(user=request.user, request_id=request_id)
        return Response(_detail(found, request.user))


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=1000)


class AskMaterialsInput(serializers.Serializer):
    missing = serializers.CharField(max_length=1000)


class CompleteInput(serializers.Serializer):
    result = serializers.CharField(max_length=2000)


class DeclineInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class SupplyInput(serializers.Serializer):
    attachments = serializers.ListField(child=serializers.FileField(), allow_empty=False)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=1000)


class RateInput(serializers.Serializer):
    rating = serializers.ChoiceField(choices=RATING_CHOICES)
    comment = serializers.CharField(required=False, default="", allow_blank=True, max_length=1000)


def _run(action: str, actor, request_id: int, data: dict) -> ServiceRequest:
    if action == "accept":
        return services.request_accept(actor=actor, request_id=request_id, note=data["note"])
    if action == "ask_materials":
        return services.request_ask_materials(
            actor=actor, request_id=request_id, missing=data["missing"]
        )
    if action == "complete":
        return services.request_complete(actor=actor, request_id=request_id, result=data["result"])
    if action == "decline":
        return services.request_decline(actor=actor, request_id=request_id, reason=data["reason"])
    if action == "supply":
        return services.request_supply(
            actor=actor, request_id=request_id, attachments=data["attachments"], note=data["note"]
        )
    return services.request_rate(
        actor=actor, request_id=request_id, rating=data["rating"], comment=data["comment"]
    )


ACTION_INPUTS: dict[str, type[serializers.Serializer]] = {
    "accept": NoteInput,
    "ask_materials": AskMaterialsInput,
    "complete": CompleteInput,
    "decline": DeclineInput,
    "supply": SupplyInput,
    "rate": RateInput,
}
ACTION_DOCS = {
    "accept": "A handler accepts a submitted request.",
    "ask_materials": "A handler asks for missing materials (补正): the clock stops.",
    "complete": "A handler completes an accepted request with the result.",
    "decline": "A handler declines an open request with the reason.",
    "supply": "The resident supplies the missing materials (multipart): the clock resumes.",
    "rate": "The resident rates a completed or declined request (once).",
}


def _action_api(action: str, input_class: type[serializers.Serializer]) -> type[APIView]:
    multipart = action == "supply"

    class ServiceRequestActionApi(APIView):
        parser_classes = [MultiPartParser, FormParser, JSONParser]

        @extend_schema(
            operation_id=f"services_requests_{action}",
            tags=TAGS,
            description=ACTION_DOCS[action],
            request={"multipart/form-data": input_class} if multipart else input_class,
            responses=ServiceRequestDetailOutput,
        )
        def post(self, request: Request, request_id: int) -> Response:
            found = selectors.request_get_for_user(user=request.user, request_id=request_id)
            data = request.data
            if multipart and hasattr(data, "getlist"):
                data = data.copy()
                data.setlist("attachments", request.FILES.getlist("attachments"))
            serializer = input_class(data=data)
            serializer.is_valid(raise_exception=True)
            moved = _run(action, request.user, found.pk, serializer.validated_data)
            return Response(_detail(moved, request.user))

    name = "ServiceRequest" + "".join(part.title() for part in action.split("_")) + "Api"
    ServiceRequestActionApi.__name__ = ServiceRequestActionApi.__qualname__ = name
    return ServiceRequestActionApi


ACTION_APIS = {action: _action_api(action, cls) for action, cls in ACTION_INPUTS.items()}


# --- consultations ------------------------------------------------------------------------------


class SlotOutput(serializers.Serializer):
    hours_id = serializers.IntegerField()
    provider_name = serializers.CharField()
    kind = serializers.CharField()
    place = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    free = serializers.BooleanField()


class SlotQueryInput(serializers.Serializer):
    community = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.filter(level=Region.Level.COMMUNITY)
    )


class SlotListApi(APIView):
    @extend_schema(
        operation_id="services_slots_list",
        tags=TAGS,
        parameters=[OpenApiParameter("community", str, required=True)],
        responses=SlotOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        """The consultation slots of a community for the coming days, free or taken."""
        query = SlotQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        slots = selectors.free_slots(community=query.validated_data["community"])
        return Response(SlotOutput(slots, many=True).data)


class BookingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.CharField(source="community.code")
    community_name = serializers.CharField(source="community.name")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    topic = serializers.CharField()
    state = serializers.ChoiceField(choices=BookingState.choices)


class BookingCreateInput(serializers.Serializer):
    hours = serializers.IntegerField()
    starts_at = serializers.DateTimeField()
    topic = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)


class BookingListCreateApi(APIView):
    @extend_schema(
        operation_id="services_bookings_list", tags=TAGS, responses=BookingOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        """The user's own bookings."""
        bookings = selectors.bookings_of_resident(request.user).order_by("-starts_at")[:100]
        return Response(BookingOutput(bookings, many=True).data)

    @extend_schema(
        operation_id="services_bookings_create",
        tags=TAGS,
        request=BookingCreateInput,
        responses={201: BookingOutput},
    )
    def post(self, request: Request) -> Response:
        """Book a free slot; a slot taken meanwhile answers 409 and nothing changes."""
        serializer = BookingCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        booking = services.booking_create(
            actor=request.user,
            hours_id=data["hours"],
            starts_at=data["starts_at"],
            topic=data["topic"],
        )
        return Response(BookingOutput(booking).data, status=status.HTTP_201_CREATED)


class EmptyInput(serializers.Serializer):
    pass


class BookingCancelApi(APIView):
    @extend_schema(
        operation_id="services_bookings_cancel",
        tags=TAGS,
        request=EmptyInput,
        responses=BookingOutput,
    )
    def post(self, request: Request, booking_id: int) -> Response:
        """Cancel an own booking (up to the admins' limits)."""
        booking = services.booking_cancel(actor=request.user, booking_id=booking_id)
        return Response(BookingOutput(booking).data)


class HoursOutput(serializers.Serializer):
    id = serializers.IntegerField()
    community = serializers.CharField(source="community.code")
    weekday = serializers.ChoiceField(choices=Weekday.choices)
    start = serializers.TimeField()
    end = serializers.TimeField()
    slot_minutes = serializers.IntegerField()
    place = serializers.CharField()
    active = serializers.BooleanField()


class HoursCreateInput(serializers.Serializer):
    community = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.filter(level=Region.Level.COMMUNITY)
    )
    weekday = serializers.ChoiceField(choices=Weekday.choices)
    start = serializers.TimeField()
    end = serializers.TimeField()
    slot_minutes = serializers.IntegerField(min_value=10, max_value=240, default=30)
    place = serializers.CharField(required=False, default="", allow_blank=True, max_length=128)


class HoursListCreateApi(APIView):
    @extend_schema(operation_id="services_hours_list", tags=TAGS, responses=HoursOutput(many=True))
    def get(self, request: Request) -> Response:
        """A legal adviser's or family doctor's own weekly hours."""
        if not policies.is_consultant(request.user):
            raise PermissionDeniedError("Only legal advisers and family doctors publish hours.")
        return Response(HoursOutput(selectors.hours_of_provider(request.user), many=True).data)

    @extend_schema(
        operation_id="services_hours_create",
        tags=TAGS,
        request=HoursCreateInput,
        responses={201: HoursOutput},
    )
    def post(self, request: Request) -> Response:
        if not policies.is_consultant(request.user):
            raise PermissionDeniedError("Only legal advisers and family doctors publish hours.")
        serializer = HoursCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        hours = services.hours_publish(
            actor=request.user,
            community_id=data["community"].pk,
            weekday=data["weekday"],
            start=data["start"],
            end=data["end"],
            slot_minutes=data["slot_minutes"],
            place=data["place"],
        )
        return Response(HoursOutput(hours).data, status=status.HTTP_201_CREATED)


class HoursWithdrawApi(APIView):
    @extend_schema(
        operation_id="services_hours_withdraw", tags=TAGS, request=EmptyInput, responses=HoursOutput
    )
    def post(self, request: Request, hours_id: int) -> Response:
        hours = services.hours_withdraw(actor=request.user, hours_id=hours_id)
        return Response(HoursOutput(hours).data)


# --- supervision ----------------------------------------------------------------------------------


class FiguresOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()
    total = serializers.IntegerField()
    closed = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()
    rated = serializers.IntegerField()
    satisfied = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed_rate = serializers.FloatField(allow_null=True, help_text="办结率")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按时办结率")
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意率")


class SupervisionOutput(FiguresOutput):
    children = FiguresOutput(many=True)


class SupervisionQueryInput(serializers.Serializer):
    region = serializers.CharField(required=False, max_length=12)
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class SupervisionApi(APIView):
    @extend_schema(
        operation_id="services_supervision",
        tags=TAGS,
        parameters=[
            OpenApiParameter("region", str),
            OpenApiParameter("date_from", str),
            OpenApiParameter("date_to", str),
        ],
        responses=SupervisionOutput,
    )
    def get(self, request: Request) -> Response:
        """办结率, 按时办结率, 满意率 for the supervisor's region and one level down."""
        if not policies.is_supervisor(request.user):
            raise NotFoundError("Not found.")
        query = SupervisionQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        figures = selectors.supervision(
            user=request.user,
            code=data.get("region") or None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
        return Response(SupervisionOutput(figures).data)
