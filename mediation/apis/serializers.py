"""The output serializers of the mediation API and the input serializers several operations
share."""

from drf_spectacular.utils import (
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from mediation import selectors
from mediation.models import (
    AgreementSignature,
    CaseParty,
    MediationAgreement,
    MediationCase,
    MediationEvent,
    MediationRoom,
    MediationSession,
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


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField()
