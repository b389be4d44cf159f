"""Cases: list and create (apply online, register), the case, and one class per action, each
calling its move in mediation.moves."""

import django_filters
from django.utils import timezone
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import generics, serializers, status
from rest_framework.views import APIView

from mediation import moves, selectors, services
from mediation.apis.serializers import (
    CaseDetailOutput,
    CaseListOutput,
    PartyInput,
    ReasonInput,
    _case_response,
)
from mediation.models import (
    AgreementSignature,
    CaseSource,
    CaseState,
    MediationAgreement,
    MediationCase,
    Performance,
)

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

    move: str = ""  # the key of mediation.moves.CASE_MOVES

    def perform(self, request, pk: int, data: dict) -> None:
        moves.CASE_MOVES[self.move](request.user, pk, data)

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
    move = "accept"

    @_action(Input, "Accept an application (starts the 30-day settle clock)")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseDeclineApi(_CaseActionApi):
    Input = ReasonInput
    move = "decline"

    @_action(ReasonInput, "Decline an application, with the reason")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseAssignApi(_CaseActionApi):
    class CaseAssignInput(serializers.Serializer):
        mediator = serializers.IntegerField()

    Input = CaseAssignInput
    move = "assign"

    @_action(Input, "Assign a mediator of the room")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseScheduleApi(_CaseActionApi):
    status_code = status.HTTP_201_CREATED

    class CaseScheduleInput(serializers.Serializer):
        starts_at = serializers.DateTimeField()
        duration_minutes = serializers.IntegerField(default=60)
        place = serializers.CharField(required=False, allow_blank=True, default="")
        mediator = serializers.IntegerField(required=False, allow_null=True, default=None)

    Input = CaseScheduleInput
    move = "schedule"

    @extend_schema(request=Input, responses={201: CaseDetailOutput}, summary="Book a session")
    def post(self, request, pk: int):
        return super().post(request, pk)


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
    move = "agreement"

    @_action(Input, "Record the agreement (written: waits for signatures; oral: in effect)")
    def post(self, request, pk: int):
        return super().post(request, pk)


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
    move = "sign"

    @_action(Input, "Record a signature (signed_at may be back-dated)")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseSealApi(_CaseActionApi):
    class CaseSealInput(serializers.Serializer):
        sealed_at = serializers.DateTimeField(
            required=False,
            allow_null=True,
            default=None,
            help_text="when the committee's seal was applied (empty: now)",
        )

    Input = CaseSealInput
    move = "seal"

    @_action(
        Input,
        "Record the committee's seal; with every signature there the agreement is in effect",
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseExtendApi(_CaseActionApi):
    class CaseExtendInput(serializers.Serializer):
        days = serializers.IntegerField()
        parties_consent = serializers.BooleanField()
        note = serializers.CharField()

    Input = CaseExtendInput
    move = "extend"

    @_action(Input, "Extend the settle deadline with the parties' consent")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseWithdrawApi(_CaseActionApi):
    class CaseWithdrawInput(serializers.Serializer):
        reason = serializers.CharField()
        party = serializers.IntegerField(
            required=False, allow_null=True, default=None, help_text="the party who refuses"
        )

    Input = CaseWithdrawInput
    move = "withdraw"

    @_action(Input, "A party refuses mediation, or the applicant withdraws (Art. 17)")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseFailApi(_CaseActionApi):
    Input = ReasonInput
    move = "fail"

    @_action(ReasonInput, "End the mediation without agreement")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseConfirmationApi(_CaseActionApi):
    class CaseConfirmationInput(serializers.Serializer):
        court = serializers.CharField()
        note = serializers.CharField(required=False, allow_blank=True, default="")

    Input = CaseConfirmationInput
    move = "confirmation"

    @_action(Input, "Record the joint application for judicial confirmation (within 30 days)")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseFollowUpApi(_CaseActionApi):
    class CaseFollowUpInput(serializers.Serializer):
        performance = serializers.ChoiceField(choices=Performance.choices)
        result = serializers.CharField()

    Input = CaseFollowUpInput
    move = "follow_up"

    @_action(Input, "Record the follow-up visit on performance")
    def post(self, request, pk: int):
        return super().post(request, pk)


class CaseCloseApi(_CaseActionApi):
    class CaseCloseInput(serializers.Serializer):
        note = serializers.CharField(required=False, allow_blank=True, default="")

    Input = CaseCloseInput
    move = "close"

    @_action(Input, "Close (archive) the case")
    def post(self, request, pk: int):
        return super().post(request, pk)
