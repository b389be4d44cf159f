"""Petitions REST API (/api/v1/petitions/...): scoped list and detail, online filing (residents)
and registration (officers), one endpoint per action, and the analysis. Personal data follows
the masking rule of the pages (petitions.selectors.petitioners_for_viewer)."""

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError, ValidationFailed
from grids.models import Region
from petitions import policies, selectors, services
from petitions.forms import PETITION_REGION_LEVELS, PetitionFilter
from petitions.limits import filing_limit_hit
from petitions.models import (
    DeliveryManner,
    OpinionKind,
    Outcome,
    Petition,
    PetitionCategory,
    PetitionChannel,
    PetitionKind,
    PetitionLevel,
    PetitionState,
    Satisfaction,
)
from petitions.moves import MOVES, run_action

TAGS = ["petitions"]


class PetitionCodeNameOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PetitionListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    channel = serializers.ChoiceField(choices=PetitionChannel.choices)
    kind = serializers.ChoiceField(choices=PetitionKind.choices)
    state = serializers.ChoiceField(choices=PetitionState.choices)
    state_label = serializers.CharField(source="get_state_display")
    matter = serializers.CharField()
    category = PetitionCodeNameOutput()
    region = PetitionCodeNameOutput()
    level = serializers.ChoiceField(choices=PetitionLevel.choices)
    received_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()
    backlog = serializers.BooleanField()
    repeat_count = serializers.IntegerField()
    merged_into = serializers.SerializerMethodField(
        help_text="The petition it was merged into: staff in scope, or the same account only."
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_merged_into(self, petition: Petition) -> str | None:
        primary = petition.merged_into
        if primary is None:
            return None
        user = self.context.get("user")
        if policies.same_account(petition, primary) or (
            user is not None
            and selectors.is_petition_staff(user)
            and policies.covers(user, primary)
        ):
            return primary.tracking_number
        return None


class PetitionPageOutput(serializers.Serializer):
    """One page of the list (PageNumberPagination)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = PetitionListOutput(many=True)


class PetitionPetitionerOutput(serializers.Serializer):
    name = serializers.CharField()
    id_number = serializers.CharField(
        help_text="Masked unless the viewer is a petition officer in scope."
    )
    phone = serializers.CharField(
        help_text="Masked unless the viewer is the owner or staff in scope."
    )
    address = serializers.CharField()
    is_representative = serializers.BooleanField()


class PetitionOpinionOutput(serializers.Serializer):
    kind = serializers.CharField()
    unit = serializers.CharField()
    request = serializers.CharField()
    facts_and_reasons = serializers.CharField()
    decision = serializers.CharField()
    legal_basis = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    issued_at = serializers.DateTimeField()
    delivery_manner = serializers.CharField()
    delivered_at = serializers.DateTimeField(
        allow_null=True, help_text="When the petitioner received it (Art. 35/36 windows)."
    )


class PetitionMergeSuggestionOutput(serializers.Serializer):
    """A possible repeat (officers in scope only)."""

    id = serializers.IntegerField()
    candidate_id = serializers.IntegerField()
    candidate_tracking_number = serializers.CharField(source="candidate.tracking_number")
    candidate_state = serializers.CharField(source="candidate.state")
    matter = serializers.CharField(source="candidate.matter")
    score = serializers.FloatField()
    matched_by = serializers.CharField()
    reasons = serializers.ListField(child=serializers.CharField(), source="reason_texts")


class PetitionEventOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()
    public = serializers.BooleanField()


class PetitionDetailOutput(PetitionListOutput):
    request = serializers.CharField()
    facts_and_reasons = serializers.CharField()
    addressed_to = serializers.CharField()
    is_joint = serializers.BooleanField()
    headcount = serializers.IntegerField()
    handling_unit = serializers.CharField()
    accept_due_at = serializers.DateTimeField(allow_null=True)
    objection_due_at = serializers.DateTimeField(allow_null=True)
    reply_due_at = serializers.DateTimeField(allow_null=True)
    review_request_due_at = serializers.DateTimeField(allow_null=True)
    review_due_at = serializers.DateTimeField(allow_null=True)
    reexam_request_due_at = serializers.DateTimeField(allow_null=True)
    reexam_due_at = serializers.DateTimeField(allow_null=True)
    told_at = serializers.DateTimeField(allow_null=True)
    accepted_at = serializers.DateTimeField(allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)
    extension_days = serializers.IntegerField()
    extension_reason = serializers.CharField()
    decision_note = serializers.CharField()
    satisfaction = serializers.CharField()
    incident_id = serializers.IntegerField(allow_null=True)
    mediation_case_id = serializers.IntegerField(allow_null=True)
    mediation_requested_at = serializers.DateTimeField(allow_null=True)
    petitioners = PetitionPetitionerOutput(many=True, source="viewer_petitioners")
    opinions = PetitionOpinionOutput(many=True, source="opinions.all")
    events = PetitionEventOutput(many=True, source="viewer_events")
    actions = serializers.ListField(child=serializers.CharField(), source="viewer_actions")
    merge_suggestions = PetitionMergeSuggestionOutput(
        many=True,
        source="viewer_suggestions",
        help_text="Possible repeats for the officer to decide; empty for everybody else.",
    )


def detail_data(petition: Petition, user) -> dict:
    """The detail as `user` may see it (masked personal data, public events for petitioners)."""
    petition = Petition.objects.select_related("category", "region", "merged_into").get(
        pk=petition.pk
    )
    petition.viewer_petitioners = selectors.petitioners_for_viewer(petition=petition, viewer=user)
    petition.viewer_events = list(selectors.petition_timeline(petition=petition, viewer=user))
    petition.viewer_actions = selectors.petition_actions(petition=petition, user=user)
    petition.viewer_suggestions = selectors.merge_suggestions_for(petition=petition, viewer=user)
    return PetitionDetailOutput(petition, context={"user": user}).data


class PetitionPetitionerInput(serializers.Serializer):
    name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=18, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    address = serializers.CharField(max_length=255, required=False, allow_blank=True)
    is_representative = serializers.BooleanField(required=False, default=True)


class PetitionCreateInput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=PetitionChannel.choices, default="web")
    kind = serializers.ChoiceField(choices=PetitionKind.choices)
    matter = serializers.CharField(max_length=200)
    request = serializers.CharField()
    facts_and_reasons = serializers.CharField()
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=PetitionCategory.objects.filter(active=True)
    )
    region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.filter(level__in=PETITION_REGION_LEVELS)
    )
    addressed_to = serializers.CharField(max_length=128, required=False, default="")
    is_joint = serializers.BooleanField(required=False, default=False)
    headcount = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    level = serializers.ChoiceField(choices=PetitionLevel.choices, required=False, allow_null=True)
    received_at = serializers.DateTimeField(required=False, allow_null=True)
    petitioners = PetitionPetitionerInput(many=True, allow_empty=False)


class PetitionListCreateApi(APIView):
    @extend_schema(
        operation_id="petitions_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter("q", str),
            OpenApiParameter("state", str, enum=PetitionState.values),
            OpenApiParameter("kind", str, enum=PetitionKind.values),
            OpenApiParameter("channel", str, enum=PetitionChannel.values),
            OpenApiParameter("level", str, enum=PetitionLevel.values),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("backlog", bool),
            OpenApiParameter("page", int),
        ],
        responses=PetitionPageOutput,
    )
    def get(self, request: Request) -> Response:
        """Petitions the user may see: officers and supervisors their region's, anybody else
        their own. Merged submissions are left out unless `state=merged`."""
        qs = selectors.petitions_visible(user=request.user).select_related("merged_into")
        petition_filter = PetitionFilter(request.query_params, queryset=qs)
        if not petition_filter.is_valid():
            raise ValidationFailed(
                "Invalid filter.", extra={k: list(v) for k, v in petition_filter.errors.items()}
            )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(petition_filter.qs, request, view=self)
        return paginator.get_paginated_response(
            PetitionListOutput(page, many=True, context={"user": request.user}).data
        )

    @extend_schema(
        operation_id="petitions_create",
        tags=TAGS,
        request=PetitionCreateInput,
        responses={201: PetitionDetailOutput},
    )
    def post(self, request: Request) -> Response:
        """File a petition: residents online (channel web, for themselves; `level` and
        `headcount` are ignored), petition officers letters, calls, faxes and visits. A repeat
        of an open matter of the same account is merged (state merged); the same matter after
        its re-examination is not taken (state not_taken, Art. 36). A match by ID number or
        phone only is left to an officer (never shown to the filer). Online filing is
        rate-limited per account (429)."""
        if request.data.get("channel", PetitionChannel.WEB) == PetitionChannel.WEB:
            over = filing_limit_hit(request)
            if over.limited:
                raise Throttled(wait=over.retry_after)
        serializer = PetitionCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        people = [services.PetitionerInput(**person) for person in data["petitioners"]]
        petition = services.petition_file(
            actor=request.user,
            channel=data["channel"],
            kind=data["kind"],
            matter=data["matter"],
            request=data["request"],
            facts_and_reasons=data["facts_and_reasons"],
            category=data["category"],
            region=data["region"],
            addressed_to=data.get("addressed_to", ""),
            petitioners=people,
            is_joint=data.get("is_joint", False),
            headcount=data.get("headcount"),
            level=data.get("level"),
            received_at=data.get("received_at"),
        )
        return Response(detail_data(petition, request.user), status=status.HTTP_201_CREATED)


class PetitionDetailApi(APIView):
    @extend_schema(operation_id="petitions_retrieve", tags=TAGS, responses=PetitionDetailOutput)
    def get(self, request: Request, petition_id: int) -> Response:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=petition_id)
        return Response(detail_data(petition, request.user))


# --- One endpoint per action ---------------------------------------------------------------


class PetitionReasonInput(serializers.Serializer):
    reason = serializers.CharField()


class PetitionNoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, default="", allow_blank=True)


class PetitionEmptyInput(serializers.Serializer):
    pass


class PetitionAcceptInput(PetitionNoteInput):
    handling_unit = serializers.CharField(required=False, default="", allow_blank=True)


class PetitionTransferInput(PetitionNoteInput):
    to_region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.filter(level__in=PETITION_REGION_LEVELS)
    )
    unit_name = serializers.CharField(max_length=128)


class PetitionDeclineInput(PetitionReasonInput):
    legal_basis = serializers.CharField(required=False, default="", allow_blank=True)


class PetitionExtensionRequestInput(PetitionReasonInput):
    days = serializers.IntegerField()


class PetitionExtensionDecideInput(PetitionNoteInput):
    approve = serializers.BooleanField()


class PetitionOpinionInput(serializers.Serializer):
    request = serializers.CharField()
    facts_and_reasons = serializers.CharField()
    decision = serializers.CharField()
    legal_basis = serializers.CharField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    unit = serializers.CharField(required=False, default="", allow_blank=True)
    delivery_manner = serializers.ChoiceField(
        choices=DeliveryManner.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Empty: online when the petitioner has an account, else by post.",
    )


class PetitionMergeDecisionInput(PetitionNoteInput):
    suggestion = serializers.IntegerField()


class PetitionDeliveryInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=OpinionKind.choices)
    manner = serializers.ChoiceField(
        choices=[c for c in DeliveryManner.choices if c[0] != DeliveryManner.ONLINE]
    )
    delivered_on = serializers.DateField()


class PetitionRateInput(serializers.Serializer):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    comment = serializers.CharField(required=False, default="", allow_blank=True)


class PetitionHearingInput(PetitionNoteInput):
    days = serializers.IntegerField()


class PetitionMediationInput(PetitionNoteInput):
    room = serializers.IntegerField(required=False, allow_null=True, default=None)
    room_name = serializers.CharField(required=False, default="", allow_blank=True)
    respondent_name = serializers.CharField(required=False, default="", allow_blank=True)
    respondent_phone = serializers.CharField(required=False, default="", allow_blank=True)
    respondent_address = serializers.CharField(required=False, default="", allow_blank=True)


@extend_schema_field(OpenApiTypes.STR)
class IncidentCategoryField(serializers.SlugRelatedField):
    def get_queryset(self):
        from incidents.models import Category

        return Category.objects.filter(active=True)


class PetitionIncidentInput(PetitionNoteInput):
    category = IncidentCategoryField(slug_field="code")
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    address = serializers.CharField(required=False, default="", allow_blank=True)


ACTION_INPUTS: dict[str, type[serializers.Serializer]] = {
    "accept": PetitionAcceptInput,
    "transfer": PetitionTransferInput,
    "decline": PetitionDeclineInput,
    "object": PetitionReasonInput,
    "start": PetitionEmptyInput,
    "extension_request": PetitionExtensionRequestInput,
    "extension_decide": PetitionExtensionDecideInput,
    "reply": PetitionOpinionInput,
    "rate": PetitionRateInput,
    "review_request": PetitionReasonInput,
    "review": PetitionOpinionInput,
    "reexam_request": PetitionReasonInput,
    "hearing": PetitionHearingInput,
    "reexamine": PetitionOpinionInput,
    "close": PetitionNoteInput,
    "refer_mediation": PetitionMediationInput,
    "to_incident": PetitionIncidentInput,
    "undo_merge": PetitionReasonInput,
    "merge_confirm": PetitionMergeDecisionInput,
    "merge_dismiss": PetitionMergeDecisionInput,
    "delivery": PetitionDeliveryInput,
}


def _action_api(action: str, input_class: type[serializers.Serializer]) -> type[APIView]:
    class PetitionActionApi(APIView):
        @extend_schema(
            operation_id=f"petitions_{action}",
            tags=TAGS,
            request=input_class,
            responses=PetitionDetailOutput,
        )
        def post(self, request: Request, petition_id: int) -> Response:
            petition = selectors.petition_get_for_user(user=request.user, petition_id=petition_id)
            serializer = input_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            run_action(
                action, actor=request.user, petition=petition, data=serializer.validated_data
            )
            return Response(detail_data(petition, request.user))

    PetitionActionApi.__name__ = "Petition" + "".join(p.title() for p in action.split("_")) + "Api"
    PetitionActionApi.__qualname__ = PetitionActionApi.__name__
    return PetitionActionApi


# One endpoint per move of petitions.moves (the same keys): the serializer is its input.
if ACTION_INPUTS.keys() != MOVES.keys():  # pragma: no cover - a programming error
    raise ImproperlyConfigured("petitions.moves.MOVES and apis.ACTION_INPUTS disagree")
ACTION_APIS = {action: _action_api(action, cls) for action, cls in ACTION_INPUTS.items()}


class PetitionAnalysisOutput(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    by_category = serializers.ListField(child=serializers.DictField())
    by_kind = serializers.ListField(child=serializers.DictField())
    by_channel = serializers.ListField(child=serializers.DictField())
    by_region = serializers.ListField(child=serializers.DictField())
    by_level = serializers.ListField(child=serializers.DictField())
    by_state = serializers.ListField(child=serializers.DictField())
    by_month = serializers.ListField(child=serializers.DictField())
    repeated = serializers.DictField()
    backlog = serializers.DictField()
    kpis = serializers.DictField()


class PetitionAnalysisPeriodInput(serializers.Serializer):
    date_from = serializers.DateField(required=False)
    date_to = serializers.DateField(required=False)


class PetitionAnalysisApi(APIView):
    @extend_schema(
        operation_id="petitions_analysis",
        tags=TAGS,
        parameters=[OpenApiParameter("date_from", str), OpenApiParameter("date_to", str)],
        responses=PetitionAnalysisOutput,
    )
    def get(self, request: Request) -> Response:
        """Counts, repeats, backlog and KPIs of the petitions in the user's region (petition
        officers, supervisors, admins)."""
        if not selectors.is_petition_staff(request.user):
            raise NotFoundError("Not found.")
        period = PetitionAnalysisPeriodInput(data=request.query_params)
        period.is_valid(raise_exception=True)
        analysis = selectors.petition_analysis(
            user=request.user,
            date_from=period.validated_data.get("date_from"),
            date_to=period.validated_data.get("date_to"),
        )
        return Response(PetitionAnalysisOutput(analysis).data)
