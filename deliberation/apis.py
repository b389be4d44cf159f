"""deliberation REST API (/api/v1/deliberation/...): public reads (no personal data: nicknames
only), resident writes (propose, support, comment, submit a budget project, vote, rate) and the
staff's moves (review, convert, round phases, project review). One class per operation; bad
input is a 400 with field messages (core.api turns ApplicationError into its status)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from deliberation import limits, selectors, services
from deliberation.models import (
    BudgetProjectState,
    ProposalCategory,
    ProposalState,
    RoundPhase,
    VotingRule,
)
from grids.models import Region

TAGS = ["deliberation"]


def _viewer(request: Request):  # type: ignore[no-untyped-def]
    return request.user if request.user.is_authenticated else None


# --- proposals ----------------------------------------------------------------------------


class DeliberationProposalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    community = serializers.CharField(source="community.code")
    community_name = serializers.CharField(source="community.name")
    category = serializers.CharField(source="category.code")
    state = serializers.CharField(help_text="One of: " + ", ".join(ProposalState.values))
    state_label = serializers.CharField(source="get_state_display")
    author = serializers.SerializerMethodField(help_text="A nickname: the first character, masked.")
    lat = serializers.FloatField(allow_null=True)
    lng = serializers.FloatField(allow_null=True)
    address = serializers.CharField()
    supports_area = serializers.IntegerField(help_text="Supports from residents of the community.")
    supports_all = serializers.IntegerField()
    review_due_at = serializers.DateTimeField(allow_null=True)
    public_reply = serializers.CharField()
    merged_into = serializers.IntegerField(source="merged_into_id", allow_null=True)
    converted_kind = serializers.CharField()
    converted_reference = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_author(self, proposal) -> str:  # type: ignore[no-untyped-def]
        return selectors.public_name(proposal.author)


class DeliberationProposalPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DeliberationProposalOutput(many=True)


class DeliberationProposalCreateInput(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=4000)
    category = serializers.SlugRelatedField(
        slug_field="code", queryset=ProposalCategory.objects.filter(active=True)
    )
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    address = serializers.CharField(max_length=255, required=False, default="", allow_blank=True)


class ProposalListCreateApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_proposals_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "region", str, description="A region's division code (everything under it)."
            ),
            OpenApiParameter("state", str, enum=ProposalState.values),
            OpenApiParameter("page", int),
        ],
        responses=DeliberationProposalPageOutput,
    )
    def get(self, request: Request) -> Response:
        """Public proposals (anybody, signed in or not)."""
        from rest_framework.pagination import PageNumberPagination

        region = Region.objects.filter(code=request.query_params.get("region", "")).first()
        state = request.query_params.get("state", "")
        qs = selectors.proposals_public(
            prefix=region.prefix if region else "",
            state=state if state in ProposalState.values else "",
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(DeliberationProposalOutput(page, many=True).data)

    @extend_schema(
        operation_id="deliberation_proposals_create",
        tags=TAGS,
        request=DeliberationProposalCreateInput,
        responses={201: DeliberationProposalOutput},
    )
    def post(self, request: Request) -> Response:
        """A verified resident proposes a matter for their home community (photos: the page)."""
        if not request.user.is_authenticated:
            from rest_framework.exceptions import NotAuthenticated

            raise NotAuthenticated
        over = limits.proposal_limit_hit(request)
        if over.limited:
            raise Throttled(wait=over.retry_after)
        data = DeliberationProposalCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_submit(actor=request.user, **data.validated_data)
        return Response(DeliberationProposalOutput(proposal).data, status=status.HTTP_201_CREATED)


class DeliberationCommentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.CharField()
    created_at = serializers.DateTimeField()
    hidden = serializers.BooleanField()
    body = serializers.CharField(
        help_text="Empty for a hidden comment unless the viewer moderates."
    )


class DeliberationEventOutput(serializers.Serializer):
    created_at = serializers.DateTimeField()
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()


class DeliberationProposalDetailOutput(DeliberationProposalOutput):
    comments = DeliberationCommentOutput(many=True)
    events = DeliberationEventOutput(many=True)
    supported = serializers.BooleanField(help_text="The viewer supports it.")


class ProposalDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_proposal_detail",
        tags=TAGS,
        responses=DeliberationProposalDetailOutput,
    )
    def get(self, request: Request, proposal_id: int) -> Response:
        proposal = selectors.proposal_get(proposal_id=proposal_id)
        viewer = _viewer(request)
        proposal.comments_for_viewer = selectors.comments_for(proposal=proposal, viewer=viewer)
        data = DeliberationProposalOutput(proposal).data
        data["description"] = selectors.public_text(
            proposal.description, viewer=viewer, region_code=proposal.region_code
        )
        data["comments"] = DeliberationCommentOutput(proposal.comments_for_viewer, many=True).data
        data["events"] = DeliberationEventOutput(
            proposal.events.filter(public=True), many=True
        ).data
        data["supported"] = selectors.has_supported(proposal=proposal, user=viewer)
        return Response(data)


class DeliberationEmptyInput(serializers.Serializer):
    pass


class ProposalSupportApi(APIView):
    @extend_schema(
        operation_id="deliberation_proposal_support",
        tags=TAGS,
        request=DeliberationEmptyInput,
        responses={201: DeliberationProposalOutput},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        """Support (one per verified resident: a second is 409)."""
        services.proposal_support(proposal_id=proposal_id, actor=request.user)
        return Response(
            DeliberationProposalOutput(selectors.proposal_get(proposal_id=proposal_id)).data,
            status=status.HTTP_201_CREATED,
        )


class DeliberationCommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=1000)


class ProposalCommentApi(APIView):
    @extend_schema(
        operation_id="deliberation_proposal_comment",
        tags=TAGS,
        request=DeliberationCommentInput,
        responses={201: DeliberationCommentOutput},
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        over = limits.comment_limit_hit(request)
        if over.limited:
            raise Throttled(wait=over.retry_after)
        data = DeliberationCommentInput(data=request.data)
        data.is_valid(raise_exception=True)
        comment = services.proposal_comment(
            proposal_id=proposal_id, actor=request.user, body=data.validated_data["body"]
        )
        return Response(
            {
                "id": comment.pk,
                "author": selectors.public_name(request.user),
                "created_at": comment.created_at,
                "hidden": False,
                "body": comment.body,
            },
            status=status.HTTP_201_CREATED,
        )


class DeliberationReviewInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["accept", "merge", "answer", "decline"])
    reply = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    merge_into = serializers.IntegerField(required=False, allow_null=True, default=None)


class ProposalReviewApi(APIView):
    @extend_schema(
        operation_id="deliberation_proposal_review",
        tags=TAGS,
        request=DeliberationReviewInput,
        responses=DeliberationProposalOutput,
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        """The community's review (staff of the community)."""
        data = DeliberationReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_review(
            proposal_id=proposal_id,
            actor=request.user,
            decision=data.validated_data["decision"],
            reply=data.validated_data["reply"],
            merge_into_id=data.validated_data["merge_into"],
        )
        return Response(DeliberationProposalOutput(proposal).data)


class DeliberationConvertInput(serializers.Serializer):
    kind = serializers.CharField(
        max_length=32, help_text="incident, project, service_request (when registered)"
    )
    option = serializers.CharField(max_length=32, required=False, default="", allow_blank=True)


class ProposalConvertApi(APIView):
    @extend_schema(
        operation_id="deliberation_proposal_convert",
        tags=TAGS,
        request=DeliberationConvertInput,
        responses=DeliberationProposalOutput,
    )
    def post(self, request: Request, proposal_id: int) -> Response:
        data = DeliberationConvertInput(data=request.data)
        data.is_valid(raise_exception=True)
        proposal = services.proposal_convert(
            proposal_id=proposal_id, actor=request.user, **data.validated_data
        )
        return Response(DeliberationProposalOutput(proposal).data)


# --- meetings and decisions ------------------------------------------------------------------


class DeliberationDecisionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    meeting = serializers.IntegerField(source="meeting_id")
    proposal = serializers.IntegerField(source="proposal_id", allow_null=True)
    text = serializers.CharField()
    carried_by = serializers.CharField()
    due_date = serializers.DateField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    done_at = serializers.DateTimeField(allow_null=True)
    done_on_time = serializers.BooleanField()
    overdue = serializers.SerializerMethodField()
    ratings_count = serializers.IntegerField()
    rating_average = serializers.FloatField(allow_null=True)

    def get_overdue(self, decision) -> bool:  # type: ignore[no-untyped-def]
        return decision.overdue_at is not None and decision.state != "done"


class DeliberationMeetingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    community = serializers.CharField(source="community.code")
    place = serializers.CharField()
    starts_at = serializers.DateTimeField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    agenda = serializers.CharField()
    minutes = serializers.CharField()
    options_discussed = serializers.CharField()
    topics = serializers.SerializerMethodField(help_text="The ids of the proposals discussed.")
    decisions = DeliberationDecisionOutput(many=True, source="decisions.all")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_topics(self, meeting) -> list[int]:  # type: ignore[no-untyped-def]
        return [topic.pk for topic in meeting.topics.all()]


class MeetingListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_meetings_list",
        tags=TAGS,
        responses=DeliberationMeetingOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        """Published meetings (and, for staff, their region's meetings being prepared)."""
        meetings = selectors.meetings_visible(user=_viewer(request))[:200]
        return Response(DeliberationMeetingOutput(meetings, many=True).data)


class MeetingDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_meeting_detail", tags=TAGS, responses=DeliberationMeetingOutput
    )
    def get(self, request: Request, meeting_id: int) -> Response:
        return Response(
            DeliberationMeetingOutput(
                selectors.meeting_get(meeting_id=meeting_id, user=_viewer(request))
            ).data
        )


class DecisionDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_decision_detail", tags=TAGS, responses=DeliberationDecisionOutput
    )
    def get(self, request: Request, decision_id: int) -> Response:
        return Response(
            DeliberationDecisionOutput(selectors.decision_get(decision_id=decision_id)).data
        )


class DeliberationProgressInput(serializers.Serializer):
    note = serializers.CharField(max_length=4000)
    complete = serializers.BooleanField(required=False, default=False)


class DecisionProgressApi(APIView):
    @extend_schema(
        operation_id="deliberation_decision_progress",
        tags=TAGS,
        request=DeliberationProgressInput,
        responses=DeliberationDecisionOutput,
    )
    def post(self, request: Request, decision_id: int) -> Response:
        """Progress or completion (the responsible account or staff of the community)."""
        data = DeliberationProgressInput(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.decision_progress(
            decision_id=decision_id, actor=request.user, **data.validated_data
        )
        return Response(DeliberationDecisionOutput(decision).data)


class DeliberationRatingInput(serializers.Serializer):
    score = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)


class DecisionRateApi(APIView):
    @extend_schema(
        operation_id="deliberation_decision_rate",
        tags=TAGS,
        request=DeliberationRatingInput,
        responses={201: DeliberationDecisionOutput},
    )
    def post(self, request: Request, decision_id: int) -> Response:
        """A verified resident of the community rates a done decision, once."""
        data = DeliberationRatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.decision_rate(decision_id=decision_id, actor=request.user, **data.validated_data)
        return Response(
            DeliberationDecisionOutput(selectors.decision_get(decision_id=decision_id)).data,
            status=status.HTTP_201_CREATED,
        )


# --- budgets -------------------------------------------------------------------------------


class DeliberationBudgetProjectOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    estimated_cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    corrected_cost = serializers.DecimalField(max_digits=12, decimal_places=2, allow_null=True)
    cost = serializers.DecimalField(max_digits=12, decimal_places=2)
    state = serializers.CharField(help_text="One of: " + ", ".join(BudgetProjectState.values))
    review_reason = serializers.CharField()
    votes = serializers.SerializerMethodField(help_text="Null until the results are published.")
    rank = serializers.IntegerField(allow_null=True)

    def get_votes(self, project) -> int | None:  # type: ignore[no-untyped-def]
        return project.votes if project.rank is not None else None


class DeliberationRoundOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    region = serializers.CharField(source="region.code")
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    rule = serializers.ChoiceField(choices=VotingRule.choices)
    votes_per_voter = serializers.IntegerField()
    phase = serializers.ChoiceField(choices=RoundPhase.choices)
    collect_opens_at = serializers.DateTimeField()
    collect_closes_at = serializers.DateTimeField()
    review_closes_at = serializers.DateTimeField()
    vote_opens_at = serializers.DateTimeField()
    vote_closes_at = serializers.DateTimeField()
    results_published_at = serializers.DateTimeField(allow_null=True)
    ballots_count = serializers.IntegerField()
    projects = DeliberationBudgetProjectOutput(many=True, source="projects.all")


class RoundListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_rounds_list",
        tags=TAGS,
        responses=DeliberationRoundOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(
            DeliberationRoundOutput(
                selectors.rounds_visible(user=_viewer(request))[:100], many=True
            ).data
        )


class RoundDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_round_detail", tags=TAGS, responses=DeliberationRoundOutput
    )
    def get(self, request: Request, round_id: int) -> Response:
        return Response(
            DeliberationRoundOutput(
                selectors.round_get(round_id=round_id, user=_viewer(request))
            ).data
        )


class DeliberationAdvanceInput(serializers.Serializer):
    phase = serializers.ChoiceField(
        choices=RoundPhase.choices, help_text="The phase the caller saw (409 if it moved)."
    )


class RoundAdvanceApi(APIView):
    @extend_schema(
        operation_id="deliberation_round_advance",
        tags=TAGS,
        request=DeliberationAdvanceInput,
        responses=DeliberationRoundOutput,
    )
    def post(self, request: Request, round_id: int) -> Response:
        """Move the round to its next phase (staff; refused before the phase's dates)."""
        data = DeliberationAdvanceInput(data=request.data)
        data.is_valid(raise_exception=True)
        budget_round = services.round_advance(
            round_id=round_id, actor=request.user, expected_phase=data.validated_data["phase"]
        )
        return Response(DeliberationRoundOutput(budget_round).data)


class DeliberationBudgetProjectInput(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=4000)
    estimated_cost = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class RoundProjectSubmitApi(APIView):
    @extend_schema(
        operation_id="deliberation_round_project_submit",
        tags=TAGS,
        request=DeliberationBudgetProjectInput,
        responses={201: DeliberationBudgetProjectOutput},
    )
    def post(self, request: Request, round_id: int) -> Response:
        data = DeliberationBudgetProjectInput(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_submit(
            round_id=round_id, actor=request.user, **data.validated_data
        )
        return Response(
            DeliberationBudgetProjectOutput(project).data, status=status.HTTP_201_CREATED
        )


class DeliberationBallotInput(serializers.Serializer):
    projects = serializers.ListField(
        child=serializers.IntegerField(), allow_empty=False, max_length=200
    )


class DeliberationBallotOutput(serializers.Serializer):
    round = serializers.IntegerField(source="round_id")
    projects = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_projects(self, ballot) -> list[int]:  # type: ignore[no-untyped-def]
        return sorted(project.pk for project in ballot.projects.all())


class RoundBallotApi(APIView):
    @extend_schema(
        operation_id="deliberation_round_ballot",
        tags=TAGS,
        request=DeliberationBallotInput,
        responses=DeliberationBallotOutput,
    )
    def post(self, request: Request, round_id: int) -> Response:
        """Cast or change the caller's one ballot while the vote is open."""
        data = DeliberationBallotInput(data=request.data)
        data.is_valid(raise_exception=True)
        ballot = services.ballot_cast(
            round_id=round_id, actor=request.user, project_ids=data.validated_data["projects"]
        )
        return Response(DeliberationBallotOutput(ballot).data)


class DeliberationProjectReviewInput(serializers.Serializer):
    feasible = serializers.BooleanField()
    reason = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    corrected_cost = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, allow_null=True, default=None
    )


class BudgetProjectReviewApi(APIView):
    @extend_schema(
        operation_id="deliberation_budget_project_review",
        tags=TAGS,
        request=DeliberationProjectReviewInput,
        responses=DeliberationBudgetProjectOutput,
    )
    def post(self, request: Request, project_id: int) -> Response:
        data = DeliberationProjectReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        project = services.project_review(
            project_id=project_id, actor=request.user, **data.validated_data
        )
        return Response(DeliberationBudgetProjectOutput(project).data)


# --- library -----------------------------------------------------------------------------


class DeliberationMilestoneOutput(serializers.Serializer):
    title = serializers.CharField()
    due_date = serializers.DateField()
    done_at = serializers.DateTimeField(allow_null=True)


class DeliberationLibraryProjectOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    title = serializers.CharField()
    region = serializers.CharField(source="region.code")
    source = serializers.CharField()
    state = serializers.CharField()
    budget = serializers.DecimalField(max_digits=12, decimal_places=2)
    spent = serializers.DecimalField(max_digits=12, decimal_places=2)
    milestones = DeliberationMilestoneOutput(many=True, source="milestones.all")


class LibraryListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_projects_list",
        tags=TAGS,
        responses=DeliberationLibraryProjectOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        return Response(
            DeliberationLibraryProjectOutput(selectors.projects_public()[:200], many=True).data
        )


class LibraryDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="deliberation_project_detail",
        tags=TAGS,
        responses=DeliberationLibraryProjectOutput,
    )
    def get(self, request: Request, project_id: int) -> Response:
        return Response(
            DeliberationLibraryProjectOutput(selectors.project_get(project_id=project_id)).data
        )
