"""REST API of the mediation app (mounted under /api/v1/mediation/).

One class per operation with nested Input serializers; every write calls one service, whose
ApplicationError becomes the JSON error of core.api.exception_handler.
"""

from datetime import datetime

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import generics, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from mediation import selectors, services
from mediation.models import (
    AgreementSignature,
    CaseParty,
    CaseSource,
    CaseState,
    MediationAgreement,
    MediationCase,
    MediationEvent,
    MediationRoom,
    MediationSession,
    Performance,
    RoomLevel,
    RoomType,
)

# --- output serializers -------------------------------------------------------------------


class RoomMediatorOutput(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField(source="user.__str__")
    title = serializers.CharField()
    speciality = serializers.CharField()


class RoomOutput(serializers.ModelSerializer):
    room_type_display = serializers.CharField(source="get_room_type_display")
    level_display = serializers.CharField(source="get_level_display")
    region_name = serializers.CharField(source="region.name")
    categories = serializers.SerializerMethodField()
    mediators = serializers.SerializerMethodField()

    class Meta:
        model = MediationRoom
        fields = [
            "id",
            "name",
            "room_type",
            "room_type_display",
            "level",
            "level_display",
            "region_code",
            "region_name",
            "categories",
            "address",
            "lat",
            "lng",
            "opening_hours",
            "phone",
            "capacity_per_day",
            "gold_rated",
            "active",
            "sort_order",
            "description",
            "mediators",
        ]

    def get_categories(self, room: MediationRoom) -> list[str]:
        return sorted(c.code for c in room.categories.all())

    @extend_schema_field(RoomMediatorOutput(many=True))
    def get_mediators(self, room: MediationRoom) -> list[dict]:
        memberships = getattr(room, "active_memberships", None)
        if memberships is None:
            memberships = room.memberships.select_related("user").filter(active=True)
        return RoomMediatorOutput(memberships, many=True).data


class CaseListOutput(serializers.ModelSerializer):
    room_name = serializers.CharField(source="room.name")
    mediator_name = serializers.SerializerMethodField()
    category_code = serializers.CharField(source="category.code", default=None)
    state_display = serializers.CharField(source="get_state_display")
    is_overdue = serializers.BooleanField()

    class Meta:
        model = MediationCase
        fields = [
            "id",
            "case_number",
            "room",
            "room_name",
            "mediator",
            "mediator_name",
            "category_code",
            "source",
            "state",
            "state_display",
            "outcome",
            "region_code",
            "incident",
            "petition_id",
            "created_at",
            "accepted_at",
            "due_at",
            "is_overdue",
            "concluded_at",
        ]

    def get_mediator_name(self, case: MediationCase) -> str:
        return str(case.mediator) if case.mediator_id else ""


class PartyOutput(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = CaseParty
        fields = ["id", "role", "name", "id_number", "phone", "address"]

    def _viewer(self):
        request = self.context.get("request")
        return getattr(request, "user", None)

    def get_id_number(self, party: CaseParty) -> str:
        return party.id_number_for(self._viewer())

    def get_phone(self, party: CaseParty) -> str:
        return party.phone_for(self._viewer())


class SessionOutput(serializers.ModelSerializer):
    case_number = serializers.CharField(source="case.case_number")
    mediator_name = serializers.CharField(source="mediator.__str__")

    class Meta:
        model = MediationSession
        fields = [
            "id",
            "case",
            "case_number",
            "room",
            "mediator",
            "mediator_name",
            "starts_at",
            "ends_at",
            "place",
            "state",
            "minutes",
            "attendees",
            "minutes_recorded_at",
        ]


class SignatureOutput(serializers.ModelSerializer):
    class Meta:
        model = AgreementSignature
        fields = ["id", "party", "signer_name", "method", "signed_at", "recorded_by"]


class AgreementOutput(serializers.ModelSerializer):
    signatures = SignatureOutput(many=True)
    is_sealed = serializers.BooleanField()
    is_effective = serializers.BooleanField()

    class Meta:
        model = MediationAgreement
        fields = [
            "id",
            "form",
            "parties_details",
            "facts",
            "disputed_matters",
            "responsibilities",
            "terms",
            "performance_method",
            "performance_deadline",
            "recorded_by",
            "sealed_at",
            "sealed_by",
            "is_sealed",
            "effective_at",
            "is_effective",
            "signatures",
        ]


class EventOutput(serializers.ModelSerializer):
    action_label = serializers.CharField()

    class Meta:
        model = MediationEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "action_label",
            "from_state",
            "to_state",
            "note",
            "data",
        ]


class CaseDetailOutput(CaseListOutput):
    parties = PartyOutput(many=True)
    sessions = SessionOutput(many=True)
    agreement = serializers.SerializerMethodField()
    events = EventOutput(many=True)
    actions = serializers.SerializerMethodField()

    class Meta(CaseListOutput.Meta):
        fields = [
            *CaseListOutput.Meta.fields,
            "facts",
            "requests",
            "court_reference",
            "decline_reason",
            "outcome_note",
            "extension_days",
            "confirmation_due_at",
            "confirmation_requested_at",
            "confirmation_court",
            "follow_up_due_at",
            "followed_up_at",
            "follow_up_performance",
            "follow_up_result",
            "closed_at",
            "parties",
            "sessions",
            "agreement",
            "events",
            "actions",
        ]

    @extend_schema_field(AgreementOutput(allow_null=True))
    def get_agreement(self, case: MediationCase) -> dict | None:
        agreement = MediationAgreement.objects.filter(case=case).first()
        return AgreementOutput(agreement).data if agreement else None

    def get_actions(self, case: MediationCase) -> list[str]:
        request = self.context.get("request")
        return sorted(selectors.case_actions_for(user=request.user, case=case))


def _case_response(request, case_id: int, status_code: int = status.HTTP_200_OK) -> Response:
    case = selectors.case_get_for_user(user=request.user, case_id=case_id)
    return Response(CaseDetailOutput(case, context={"request": request}).data, status=status_code)


# --- input serializers shared -------------------------------------------------------------


class PartyInput(serializers.Serializer):
    role = serializers.ChoiceField(choices=CaseParty.Role.choices)
    name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=11, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)


# --- rooms --------------------------------------------------------------------------------


class RoomFilter(django_filters.FilterSet):
    room_type = django_filters.ChoiceFilter(choices=RoomType.choices)
    level = django_filters.ChoiceFilter(choices=RoomLevel.choices)
    active = django_filters.BooleanFilter()
    gold_rated = django_filters.BooleanFilter()
    region = django_filters.CharFilter(
        field_name="region_code", lookup_expr="startswith", label="region code prefix"
    )
    category = django_filters.CharFilter(method="filter_category", label="dispute category code")

    class Meta:
        model = MediationRoom
        fields = ["room_type", "level", "active", "gold_rated", "region", "category"]

    def filter_category(self, queryset, name, value):
        # A room with no category listed takes every dispute.
        from django.db.models import Q

        return queryset.filter(Q(categories__code=value) | Q(categories__isnull=True)).distinct()


class RoomInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    room_type = serializers.CharField()
    level = serializers.CharField()
    region_code = serializers.CharField(max_length=12)
    categories = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    address = serializers.CharField(required=False, allow_blank=True, default="")
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    opening_hours = serializers.CharField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, default="")
    capacity_per_day = serializers.IntegerField(required=False, default=4)
    gold_rated = serializers.BooleanField(required=False, default=False)
    active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")


def _room_data(data: dict) -> services.RoomData:
    return services.room_data_clean(
        name=data["name"],
        room_type=data["room_type"],
        level=data["level"],
        region_code=data["region_code"],
        category_codes=data.get("categories", []),
        address=data.get("address", ""),
        lat=data.get("lat"),
        lng=data.get("lng"),
        opening_hours=data.get("opening_hours", ""),
        phone=data.get("phone", ""),
        capacity_per_day=data.get("capacity_per_day", 4),
        gold_rated=data.get("gold_rated", False),
        active=data.get("active", True),
        description=data.get("description", ""),
    )


class RoomListCreateApi(generics.ListAPIView):
    """Mediation rooms (active ones; admins may ask for inactive ones with ?active=false)."""

    serializer_class = RoomOutput
    filterset_class = RoomFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MediationRoom.objects.none()
        return selectors.rooms_list(user=self.request.user, include_inactive=True).filter(
            **({} if self.request.user.is_portal_admin else {"active": True})
        )

    @extend_schema(request=RoomInput, responses={201: RoomOutput})
    def post(self, request):
        serializer = RoomInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not request.user.is_portal_admin:
            raise PermissionDeniedError(_("Only administrators configure mediation rooms."))
        room = services.room_create(actor=request.user, data=_room_data(serializer.validated_data))
        return Response(RoomOutput(room).data, status=status.HTTP_201_CREATED)


class RoomDetailApi(APIView):
    @extend_schema(responses=RoomOutput)
    def get(self, request, pk: int):
        room = selectors.room_get(user=request.user, room_id=pk)
        if not room.active and not request.user.is_portal_admin:
            raise NotFoundError(_("Mediation room not found."))
        return Response(RoomOutput(room).data)

    @extend_schema(request=RoomInput, responses=RoomOutput)
    def put(self, request, pk: int):
        return self._update(request, pk, partial=False)

    @extend_schema(request=RoomInput, responses=RoomOutput)
    def patch(self, request, pk: int):
        return self._update(request, pk, partial=True)

    def _update(self, request, pk: int, *, partial: bool) -> Response:
        if not request.user.is_portal_admin:
            raise PermissionDeniedError(_("Only administrators configure mediation rooms."))
        room = selectors.room_get(user=request.user, room_id=pk)
        current = {
            "name": room.name,
            "room_type": room.room_type,
            "level": room.level,
            "region_code": room.region_code,
            "categories": [c.code for c in room.categories.all()],
            "address": room.address,
            "lat": room.lat,
            "lng": room.lng,
            "opening_hours": room.opening_hours,
            "phone": room.phone,
            "capacity_per_day": room.capacity_per_day,
            "gold_rated": room.gold_rated,
            "active": room.active,
            "description": room.description,
        }
        serializer = RoomInput(data={**current, **request.data} if partial else request.data)
        serializer.is_valid(raise_exception=True)
        room = services.room_update(
            actor=request.user, room_id=pk, data=_room_data(serializer.validated_data)
        )
        return Response(RoomOutput(room).data)


class RoomActiveApi(APIView):
    class RoomActiveInput(serializers.Serializer):
        active = serializers.BooleanField()

    Input = RoomActiveInput

    @extend_schema(request=Input, responses=RoomOutput)
    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        room = services.room_set_active(
            actor=request.user, room_id=pk, active=serializer.validated_data["active"]
        )
        return Response(RoomOutput(room).data)


class RoomReorderApi(APIView):
    class RoomReorderInput(serializers.Serializer):
        room_ids = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)

    Input = RoomReorderInput

    @extend_schema(request=Input, responses=RoomOutput(many=True))
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.room_reorder(actor=request.user, room_ids=serializer.validated_data["room_ids"])
        rooms = selectors.rooms_list(user=request.user, include_inactive=True)
        return Response(RoomOutput(rooms, many=True).data)


class RoomImportApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class RoomImportInput(serializers.Serializer):
        file = serializers.FileField()

    Input = RoomImportInput

    @extend_schema(
        request={"multipart/form-data": Input},
        responses=inline_serializer(
            "RoomImportResult",
            {"created": serializers.IntegerField(), "updated": serializers.IntegerField()},
        ),
    )
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        if upload.size > services.CSV_MAX_BYTES:
            raise ValidationFailed(_("The file is larger than 1 MB."))
        result = services.rooms_import_csv(actor=request.user, content=upload.read())
        return Response({"created": result.created, "updated": result.updated})


class RoomMediatorAddApi(APIView):
    class RoomMediatorAddInput(serializers.Serializer):
        user_id = serializers.IntegerField()
        title = serializers.CharField(required=False, allow_blank=True, default="")
        speciality = serializers.CharField(required=False, allow_blank=True, default="")

    Input = RoomMediatorAddInput

    @extend_schema(request=Input, responses=RoomOutput)
    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.room_mediator_add(actor=request.user, room_id=pk, **serializer.validated_data)
        return Response(RoomOutput(MediationRoom.objects.get(pk=pk)).data)


class RoomMediatorRemoveApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request, pk: int, user_id: int):
        services.room_mediator_remove(actor=request.user, room_id=pk, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- cases --------------------------------------------------------------------------------


class CaseFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=CaseState.choices)
    source = django_filters.ChoiceFilter(choices=CaseSource.choices)
    room = django_filters.NumberFilter(field_name="room_id")
    mediator = django_filters.NumberFilter(field_name="mediator_id")
    category = django_filters.CharFilter(field_name="category__code")
    incident = django_filters.NumberFilter(field_name="incident_id")
    petition = django_filters.NumberFilter(field_name="petition_id")
    region = django_filters.CharFilter(field_name="region_code", lookup_expr="startswith")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    created_from = django_filters.DateFilter(field_name="created_at", lookup_expr="date__gte")
    created_to = django_filters.DateFilter(field_name="created_at", lookup_expr="date__lte")

    class Meta:
        model = MediationCase
        fields = ["state", "source", "room", "mediator", "category", "incident", "petition"]

    def filter_overdue(self, queryset, name, value):
        now = timezone.now()
        overdue = queryset.filter(
            state__in=[CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION],
            due_at__lt=now,
        )
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))


class CaseCreateInput(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=[CaseSource.ONLINE, CaseSource.WALK_IN, CaseSource.COURT],
        default=CaseSource.ONLINE,
    )
    room = serializers.IntegerField()
    category = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    facts = serializers.CharField()
    requests = serializers.CharField(required=False, allow_blank=True, default="")
    court_reference = serializers.CharField(required=False, allow_blank=True, default="")
    parties = PartyInput(many=True)


class CaseListCreateApi(generics.ListAPIView):
    """Cases the user sees; POST applies online (residents) or registers a walk-in or court
    referral (the room's mediators)."""

    serializer_class = CaseListOutput
    filterset_class = CaseFilter

    def get_queryset(self):
        return selectors.cases_visible(self.request.user)

    @extend_schema(request=CaseCreateInput, responses={201: CaseDetailOutput})
    def post(self, request):
        serializer = CaseCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        parties = [dict(p) for p in data["parties"]]
        if data["source"] == CaseSource.ONLINE:
            case = services.case_apply_online(
                actor=request.user,
                room_id=data["room"],
                category_code=data.get("category") or "",
                facts=data["facts"],
                requests=data["requests"],
                parties=parties,
            )
        else:
            case = services.case_register(
                actor=request.user,
                room_id=data["room"],
                source=data["source"],
                category_code=data.get("category") or None,
                facts=data["facts"],
                requests=data["requests"],
                parties=parties,
                court_reference=data["court_reference"],
            )
        return _case_response(request, case.pk, status.HTTP_201_CREATED)


class CaseDetailApi(APIView):
    @extend_schema(responses=CaseDetailOutput)
    def get(self, request, pk: int):
        return _case_response(request, pk)


class _CaseActionApi(APIView):
    """POST an action on a case; answers with the case as it is afterwards."""

    Input: type[serializers.Serializer] = serializers.Serializer
    status_code = status.HTTP_200_OK

    def perform(self, request, pk: int, data: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform(request, pk, serializer.validated_data)
        return _case_response(request, pk, self.status_code)


def _action(input_serializer, summary: str):
    return extend_schema(request=input_serializer, responses=CaseDetailOutput, summary=summary)


class CaseAcceptApi(_CaseActionApi):
    class CaseAcceptInput(serializers.Serializer):
        mediator = serializers.IntegerField(required=False, allow_null=True, default=None)

    Input = CaseAcceptInput

    @_action(Input, "Accept an application (starts the 30-day settle clock)")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_accept(actor=request.user, case_id=pk, mediator_id=data["mediator"])


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField()


class CaseDeclineApi(_CaseActionApi):
    Input = ReasonInput

    @_action(ReasonInput, "Decline an application, with the reason")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_decline(actor=request.user, case_id=pk, reason=data["reason"])


class CaseAssignApi(_CaseActionApi):
    class CaseAssignInput(serializers.Serializer):
        mediator = serializers.IntegerField()

    Input = CaseAssignInput

    @_action(Input, "Assign a mediator of the room")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_assign_mediator(actor=request.user, case_id=pk, mediator_id=data["mediator"])


class CaseScheduleApi(_CaseActionApi):
    status_code = status.HTTP_201_CREATED

    class CaseScheduleInput(serializers.Serializer):
        starts_at = serializers.DateTimeField()
        duration_minutes = serializers.IntegerField(default=60)
        place = serializers.CharField(required=False, allow_blank=True, default="")
        mediator = serializers.IntegerField(required=False, allow_null=True, default=None)

    Input = CaseScheduleInput

    @extend_schema(request=Input, responses={201: CaseDetailOutput}, summary="Book a session")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.session_schedule(
            actor=request.user,
            case_id=pk,
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            place=data["place"],
            mediator_id=data["mediator"],
        )


class CaseAgreementApi(_CaseActionApi):
    class CaseAgreementInput(serializers.Serializer):
        form = serializers.ChoiceField(choices=MediationAgreement.Form.choices)
        facts = serializers.CharField()
        disputed_matters = serializers.CharField()
        responsibilities = serializers.CharField(required=False, allow_blank=True, default="")
        terms = serializers.CharField()
        performance_method = serializers.CharField()
        performance_deadline = serializers.DateField(required=False, allow_null=True, default=None)

    Input = CaseAgreementInput

    @_action(Input, "Record the agreement (written: waits for signatures; oral: in effect)")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.agreement_record(actor=request.user, case_id=pk, **data)


class CaseSignApi(_CaseActionApi):
    class CaseSignInput(serializers.Serializer):
        party = serializers.IntegerField(
            required=False, allow_null=True, default=None, help_text="empty: the mediator"
        )
        method = serializers.ChoiceField(
            choices=AgreementSignature.Method.choices, default=AgreementSignature.Method.SIGNATURE
        )
        signed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    Input = CaseSignInput

    @_action(Input, "Record a signature (signed_at may be back-dated)")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.agreement_sign(
            actor=request.user,
            case_id=pk,
            party_id=data["party"],
            method=data["method"],
            signed_at=data["signed_at"],
        )


class CaseSealApi(_CaseActionApi):
    class CaseSealInput(serializers.Serializer):
        sealed_at = serializers.DateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="when the committee's seal was applied (empty: now)",
        )

    Input = CaseSealInput

    @_action(
        Input,
        "Record the committee's seal; with every signature there the agreement is in effect",
    )
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.agreement_seal(actor=request.user, case_id=pk, sealed_at=data["sealed_at"])


class CaseExtendApi(_CaseActionApi):
    class CaseExtendInput(serializers.Serializer):
        days = serializers.IntegerField()
        parties_consent = serializers.BooleanField()
        note = serializers.CharField()

    Input = CaseExtendInput

    @_action(Input, "Extend the settle deadline with the parties' consent")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_extend(actor=request.user, case_id=pk, **data)


class CaseWithdrawApi(_CaseActionApi):
    class CaseWithdrawInput(serializers.Serializer):
        reason = serializers.CharField()
        party = serializers.IntegerField(
            required=False, allow_null=True, default=None, help_text="the party who refuses"
        )

    Input = CaseWithdrawInput

    @_action(Input, "A party refuses mediation, or the applicant withdraws (Art. 17)")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_withdraw(
            actor=request.user, case_id=pk, reason=data["reason"], party_id=data["party"]
        )


class CaseFailApi(_CaseActionApi):
    Input = ReasonInput

    @_action(ReasonInput, "End the mediation without agreement")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_fail(actor=request.user, case_id=pk, reason=data["reason"])


class CaseConfirmationApi(_CaseActionApi):
    class CaseConfirmationInput(serializers.Serializer):
        court = serializers.CharField()
        note = serializers.CharField(required=False, allow_blank=True, default="")

    Input = CaseConfirmationInput

    @_action(Input, "Record the joint application for judicial confirmation (within 30 days)")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_request_confirmation(actor=request.user, case_id=pk, **data)


class CaseFollowUpApi(_CaseActionApi):
    class CaseFollowUpInput(serializers.Serializer):
        performance = serializers.ChoiceField(choices=Performance.choices)
        result = serializers.CharField()

    Input = CaseFollowUpInput

    @_action(Input, "Record the follow-up visit on performance")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_follow_up(actor=request.user, case_id=pk, **data)


class CaseCloseApi(_CaseActionApi):
    class CaseCloseInput(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="")

    Input = CaseCloseInput

    @_action(Input, "Close (archive) the case")
    def post(self, request, pk: int):
        return super().post(request, pk)

    def perform(self, request, pk, data):
        services.case_close(actor=request.user, case_id=pk, note=data["note"])


# --- sessions -----------------------------------------------------------------------------


class SessionFilter(django_filters.FilterSet):
    starts_from = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_to = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    room = django_filters.NumberFilter(field_name="room_id")
    mediator = django_filters.NumberFilter(field_name="mediator_id")
    state = django_filters.ChoiceFilter(choices=MediationSession.State.choices)

    class Meta:
        model = MediationSession
        fields = ["room", "mediator", "state"]


class SessionListApi(generics.ListAPIView):
    """The calendar: sessions of the cases the user sees."""

    serializer_class = SessionOutput
    filterset_class = SessionFilter

    def get_queryset(self):
        return selectors.sessions_visible(self.request.user).order_by("starts_at")


class SessionStartApi(APIView):
    @extend_schema(request=None, responses=SessionOutput)
    def post(self, request, pk: int):
        session = services.session_start(actor=request.user, session_id=pk)
        return Response(SessionOutput(session).data)


class SessionCancelApi(APIView):
    @extend_schema(request=ReasonInput, responses=SessionOutput)
    def post(self, request, pk: int):
        serializer = ReasonInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_cancel(
            actor=request.user, session_id=pk, reason=serializer.validated_data["reason"]
        )
        return Response(SessionOutput(session).data)


class SessionMinutesApi(APIView):
    class SessionMinutesInput(serializers.Serializer):
        minutes = serializers.CharField()
        attendees = serializers.CharField(required=False, allow_blank=True, default="")

    Input = SessionMinutesInput

    @extend_schema(request=Input, responses=SessionOutput)
    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_record_minutes(
            actor=request.user, session_id=pk, **serializer.validated_data
        )
        return Response(SessionOutput(session).data)


# --- referral -----------------------------------------------------------------------------


class ProposalOutput(serializers.Serializer):
    tier = serializers.IntegerField()
    free_slots = serializers.IntegerField()
    room = RoomOutput()


class ReferralProposalsApi(APIView):
    """Rooms for a dispute incident, nearest first (village, township, county, city)."""

    @extend_schema(
        parameters=[OpenApiParameter("incident", OpenApiTypes.INT, required=True)],
        responses=ProposalOutput(many=True),
    )
    def get(self, request):
        from incidents.selectors import incident_get_for_user

        incident_id = request.query_params.get("incident", "")
        if not str(incident_id).isdigit():
            message = _("Give the incident's id.")
            raise ValidationFailed(message, extra={"incident": [message]})
        incident = incident_get_for_user(user=request.user, incident_id=int(incident_id))
        proposals = selectors.rooms_proposed_for_incident(incident=incident)
        return Response(ProposalOutput(proposals, many=True).data)


class ReferralCreateApi(APIView):
    class ReferralCreateInput(serializers.Serializer):
        incident = serializers.IntegerField()
        room = serializers.IntegerField()
        facts = serializers.CharField(required=False, allow_blank=True, default="")
        requests = serializers.CharField(required=False, allow_blank=True, default="")
        parties = PartyInput(many=True)

    Input = ReferralCreateInput

    @extend_schema(request=Input, responses={201: CaseDetailOutput})
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = services.case_create_from_incident(
            actor=request.user,
            incident_id=data["incident"],
            room_id=data["room"],
            parties=[dict(p) for p in data["parties"]],
            facts=data["facts"],
            requests=data["requests"],
        )
        return _case_response(request, case.pk, status.HTTP_201_CREATED)


# --- statistics ---------------------------------------------------------------------------


class StatsRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    concluded = serializers.IntegerField()
    agreements = serializers.IntegerField()
    success_rate = serializers.FloatField()
    average_days_to_settle = serializers.FloatField(allow_null=True)


class StatsApi(APIView):
    """Success rate (agreements / cases concluded) and average days to settle."""

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(selectors.STAT_GROUPS)),
            OpenApiParameter("concluded_from", OpenApiTypes.DATE),
            OpenApiParameter("concluded_to", OpenApiTypes.DATE),
        ],
        responses=StatsRowOutput(many=True),
    )
    def get(self, request):
        user = request.user
        if not (user.is_portal_admin or user.has_role("supervisor", "mediator")):
            raise PermissionDeniedError(_("Only supervisors, mediators and admins see statistics."))
        group_by = request.query_params.get("group_by", "room")
        if group_by not in selectors.STAT_GROUPS:
            message = _("Group by one of: %(groups)s.") % {
                "groups": ", ".join(selectors.STAT_GROUPS)
            }
            raise ValidationFailed(message, extra={"group_by": [message]})
        dates = {}
        for name in ("concluded_from", "concluded_to"):
            value = request.query_params.get(name)
            if value:
                try:
                    dates[name] = datetime.strptime(value, "%Y-%m-%d").date()
                except ValueError as exc:
                    message = _("Dates are written YYYY-MM-DD.")
                    raise ValidationFailed(message, extra={name: [message]}) from exc
        rows = selectors.case_stats(user=user, group_by=group_by, **dates)
        return Response(StatsRowOutput(rows, many=True).data)
