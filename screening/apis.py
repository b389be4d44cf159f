"""Screening REST API (/api/v1/screening/...): scoped list and detail of disputes, logging one,
one endpoint per move, the warning board, the monthly reports and the figures. Parties are
masked unless `reveal=true` is asked by a role that may see them (an audited unmasking). None
of this is public: every operation needs a screening role (404 otherwise)."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.exceptions import NotFoundError
from screening import moves, policies, selectors, services
from screening.models import (
    Dispute,
    DisputeKind,
    DisputeOutcome,
    DisputeSource,
    DisputeState,
    PartySide,
    ReportState,
    RiskFactor,
    RiskLevel,
    RouteTarget,
    ScreeningReport,
)

TAGS = ["screening"]


def _require_user(user: User) -> None:
    if not policies.is_screening_user(user):
        raise NotFoundError("Not found.")


class ScreeningCodeNameOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField(source="display_name")


class ScreeningRegionOutput(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class DisputeListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    source = serializers.ChoiceField(choices=DisputeSource.choices)
    kind = ScreeningCodeNameOutput()
    region = ScreeningRegionOutput()
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    level_label = serializers.CharField(source="get_level_display")
    state = serializers.ChoiceField(choices=DisputeState.choices)
    state_label = serializers.CharField(source="get_state_display")
    registered_at = serializers.DateTimeField()
    follow_up_due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.BooleanField()


class DisputePageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = DisputeListOutput(many=True)


class DisputePartyOutput(serializers.Serializer):
    side = serializers.ChoiceField(choices=PartySide.choices)
    name = serializers.CharField(help_text="Masked unless revealed (audited).")
    phone = serializers.CharField(help_text="Masked unless revealed (audited).")
    vulnerable = serializers.BooleanField()
    person_id = serializers.IntegerField(allow_null=True)


class DisputeEventOutput(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    action = serializers.CharField()
    label = serializers.CharField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    note = serializers.CharField()
    actor = serializers.CharField(allow_null=True)


class DisputeDetailOutput(DisputeListOutput):
    place = serializers.CharField()
    story = serializers.CharField()
    factors = serializers.ListField(child=serializers.CharField())
    computed_level = serializers.ChoiceField(choices=RiskLevel.choices)
    level_reason = serializers.CharField()
    grid_cell = serializers.CharField(allow_null=True)
    incident = serializers.CharField(allow_null=True)
    petition = serializers.CharField(allow_null=True)
    route_target = serializers.CharField()
    route_unit = serializers.CharField()
    mediation_case = serializers.CharField(allow_null=True)
    follow_ups = serializers.IntegerField()
    follow_ups_on_time = serializers.IntegerField()
    outcome = serializers.CharField()
    outcome_note = serializers.CharField()
    closed_at = serializers.DateTimeField(allow_null=True)
    visit_due_at = serializers.DateTimeField(allow_null=True)
    visited_at = serializers.DateTimeField(allow_null=True)
    escalated_incident = serializers.CharField(allow_null=True)
    parties = DisputePartyOutput(many=True)
    actions = serializers.ListField(child=serializers.CharField())
    timeline = DisputeEventOutput(many=True)


def detail_data(dispute: Dispute, user: User, *, reveal: bool = False) -> dict:
    dispute = Dispute.objects.select_related(
        "kind",
        "region",
        "grid_cell",
        "incident",
        "petition",
        "mediation_case",
        "escalated_incident",
    ).get(pk=dispute.pk)
    parties = selectors.parties_for_viewer(dispute=dispute, viewer=user, reveal=reveal)
    data = DisputeListOutput(dispute).data
    data.update(
        {
            "place": dispute.place,
            "story": dispute.story,
            "factors": list(dispute.factors.values_list("code", flat=True)),
            "computed_level": dispute.computed_level,
            "level_reason": dispute.level_reason,
            "grid_cell": dispute.grid_cell.name if dispute.grid_cell else None,
            "incident": dispute.incident.tracking_number if dispute.incident else None,
            "petition": dispute.petition.tracking_number if dispute.petition else None,
            "route_target": dispute.route_target,
            "route_unit": dispute.route_unit,
            "mediation_case": (
                dispute.mediation_case.case_number if dispute.mediation_case else None
            ),
            "follow_ups": dispute.follow_ups,
            "follow_ups_on_time": dispute.follow_ups_on_time,
            "outcome": dispute.outcome,
            "outcome_note": dispute.outcome_note,
            "closed_at": dispute.closed_at,
            "visit_due_at": dispute.visit_due_at,
            "visited_at": dispute.visited_at,
            "escalated_incident": (
                dispute.escalated_incident.tracking_number if dispute.escalated_incident else None
            ),
            "parties": [DisputePartyOutput(p).data for p in parties],
            "actions": moves.actions_for(user, dispute),
            "timeline": [
                {
                    "at": e.created_at,
                    "action": e.action,
                    "label": e.label,
                    "from_state": e.from_state,
                    "to_state": e.to_state,
                    "note": e.note,
                    "actor": str(e.actor) if e.actor else None,
                }
                for e in selectors.dispute_timeline(dispute)
            ],
        }
    )
    return data  # already serialised field by field; DisputeDetailOutput documents it


class DisputePartyInput(serializers.Serializer):
    side = serializers.ChoiceField(choices=PartySide.choices)
    name = serializers.CharField(max_length=64, required=False, default="", allow_blank=True)
    phone = serializers.CharField(max_length=20, required=False, default="", allow_blank=True)
    vulnerable = serializers.BooleanField(required=False, default=False)
    person_id = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A registry person the caller sees; name and phone may then be left empty.",
    )


class DisputeCreateInput(serializers.Serializer):
    kind = serializers.SlugRelatedField(
        slug_field="code", queryset=DisputeKind.objects.filter(active=True)
    )
    source = serializers.ChoiceField(choices=DisputeSource.choices, default="screening")
    region = serializers.CharField(
        required=False, default="", allow_blank=True, help_text="Community division code."
    )
    grid_cell = serializers.IntegerField(required=False, allow_null=True, default=None)
    place = serializers.CharField(max_length=255)
    story = serializers.CharField()
    factors = serializers.ListField(
        child=serializers.SlugRelatedField(
            slug_field="code", queryset=RiskFactor.objects.filter(active=True)
        ),
        required=False,
        default=list,
    )
    level = serializers.ChoiceField(
        choices=RiskLevel.choices,
        required=False,
        default="",
        allow_blank=True,
        help_text="Raise the level by hand (with level_reason); never lower than the rules.",
    )
    level_reason = serializers.CharField(required=False, default="", allow_blank=True)
    incident = serializers.IntegerField(required=False, allow_null=True, default=None)
    petition = serializers.IntegerField(required=False, allow_null=True, default=None)
    parties = DisputePartyInput(many=True)


class DisputeListCreateApi(APIView):
    @extend_schema(
        operation_id="screening_disputes_list",
        tags=TAGS,
        parameters=[
            OpenApiParameter("level", str, enum=RiskLevel.values),
            OpenApiParameter("state", str, enum=DisputeState.values),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("page", int),
        ],
        responses=DisputePageOutput,
    )
    def get(self, request: Request) -> Response:
        """Disputes the user sees (their region; a grid worker's cells; a police officer's
        paired cells)."""
        _require_user(request.user)
        level = request.query_params.get("level", "")
        state = request.query_params.get("state", "")
        qs = selectors.disputes_list(
            request.user,
            level=level if level in RiskLevel.values else "",
            state=state if state in DisputeState.values else "",
            overdue=request.query_params.get("overdue") in ("1", "true"),
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(DisputeListOutput(page, many=True).data)

    @extend_schema(
        operation_id="screening_disputes_create",
        tags=TAGS,
        request=DisputeCreateInput,
        responses={201: DisputeDetailOutput},
    )
    def post(self, request: Request) -> Response:
        """Log a dispute (grid workers, mediators, dispatchers). The colour follows from the
        factors; a red or orange one alerts the community, the street and the police at once."""
        _require_user(request.user)
        serializer = DisputeCreateInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dispute = services.dispute_register(
            actor=request.user,
            kind_code=data["kind"].code,
            place=data["place"],
            story=data["story"],
            parties=[dict(p) for p in data["parties"]],
            factor_codes=[f.code for f in data["factors"]],
            region_code=data["region"],
            grid_cell_id=data["grid_cell"],
            source=data["source"],
            incident_id=data["incident"],
            petition_id=data["petition"],
            level=data["level"],
            level_reason=data["level_reason"],
        )
        return Response(detail_data(dispute, request.user), status=status.HTTP_201_CREATED)


class DisputeDetailApi(APIView):
    @extend_schema(
        operation_id="screening_disputes_detail",
        tags=TAGS,
        parameters=[OpenApiParameter("reveal", bool, description="Unmask parties (audited).")],
        responses=DisputeDetailOutput,
    )
    def get(self, request: Request, dispute_id: int) -> Response:
        _require_user(request.user)
        dispute = selectors.dispute_get_for_user(user=request.user, dispute_id=dispute_id)
        reveal = request.query_params.get("reveal") in ("1", "true")
        return Response(detail_data(dispute, request.user, reveal=reveal))


class DisputeNoteInput(serializers.Serializer):
    note = serializers.CharField()


class DisputeAssessInput(serializers.Serializer):
    factors = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text="Risk factor codes (the checklist).",
    )
    note = serializers.CharField()
    lower_reason = serializers.CharField(required=False, default="", allow_blank=True)


class DisputeRaiseLevelInput(serializers.Serializer):
    level = serializers.ChoiceField(choices=RiskLevel.choices)
    reason = serializers.CharField()


class DisputeRouteInput(serializers.Serializer):
    target = serializers.ChoiceField(choices=RouteTarget.choices)
    unit = serializers.CharField(required=False, default="", allow_blank=True, max_length=128)
    room = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Mediation room id; empty: the nearest that takes the kind.",
    )
    note = serializers.CharField(required=False, default="", allow_blank=True)


class DisputeCloseInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DisputeOutcome.choices)
    note = serializers.CharField()


class DisputeEscalationInput(serializers.Serializer):
    incident = serializers.IntegerField(help_text="Id of the later criminal incident.")
    note = serializers.CharField(required=False, default="", allow_blank=True)


ACTION_INPUTS: dict[str, type[serializers.Serializer]] = {
    "mediate_on_spot": DisputeNoteInput,
    "assess": DisputeAssessInput,
    "raise_level": DisputeRaiseLevelInput,
    "route": DisputeRouteInput,
    "follow_up": DisputeNoteInput,
    "close": DisputeCloseInput,
    "visit": DisputeNoteInput,
    "link_escalation": DisputeEscalationInput,
}


def _action_api(action: str, input_class: type[serializers.Serializer]) -> type[APIView]:
    class DisputeActionApi(APIView):
        @extend_schema(
            operation_id=f"screening_disputes_{action}",
            tags=TAGS,
            request=input_class,
            responses=DisputeDetailOutput,
        )
        def post(self, request: Request, dispute_id: int) -> Response:
            _require_user(request.user)
            dispute = selectors.dispute_get_for_user(user=request.user, dispute_id=dispute_id)
            serializer = input_class(data=request.data)
            serializer.is_valid(raise_exception=True)
            dispute = moves.run(
                action, actor=request.user, dispute=dispute, data=dict(serializer.validated_data)
            )
            return Response(detail_data(dispute, request.user))

    name = "Dispute" + "".join(p.title() for p in action.split("_")) + "Api"
    DisputeActionApi.__name__ = DisputeActionApi.__qualname__ = name
    return DisputeActionApi


if ACTION_INPUTS.keys() != moves.MOVES.keys():  # pragma: no cover - a programming error
    raise ImproperlyConfigured("screening.moves.MOVES and apis.ACTION_INPUTS disagree")
ACTION_APIS = {action: _action_api(action, cls) for action, cls in ACTION_INPUTS.items()}


class WarningBoardApi(APIView):
    @extend_schema(
        operation_id="screening_board", tags=TAGS, responses=DisputeListOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        """Open red and orange disputes the user sees, most serious and oldest first."""
        _require_user(request.user)
        return Response(DisputeListOutput(selectors.warning_board(request.user), many=True).data)


class ScreeningChecklistOutput(serializers.Serializer):
    kinds = ScreeningCodeNameOutput(many=True)
    factors = ScreeningCodeNameOutput(many=True)
    levels = serializers.ListField(child=serializers.DictField())


class ChecklistApi(APIView):
    @extend_schema(
        operation_id="screening_checklist", tags=TAGS, responses=ScreeningChecklistOutput
    )
    def get(self, request: Request) -> Response:
        """The admin-edited lists: kinds of dispute, risk factors, the four colours."""
        _require_user(request.user)
        return Response(
            ScreeningChecklistOutput(
                {
                    "kinds": DisputeKind.objects.filter(active=True),
                    "factors": RiskFactor.objects.filter(active=True),
                    "levels": [{"code": c, "name": str(n)} for c, n in RiskLevel.choices],
                }
            ).data
        )


class ScreeningReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    region = ScreeningRegionOutput()
    month = serializers.DateField()
    state = serializers.ChoiceField(choices=ReportState.choices)
    zero_report = serializers.BooleanField()
    disputes_found = serializers.IntegerField()
    note = serializers.CharField()
    reported_at = serializers.DateTimeField(allow_null=True)
    flagged_at = serializers.DateTimeField(allow_null=True)


class ScreeningReportInput(serializers.Serializer):
    region = serializers.CharField(help_text="Community division code.")
    month = serializers.DateField(help_text="Any day of the month reported.")
    zero_report = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, default="", allow_blank=True)


class ScreeningReportQueryInput(serializers.Serializer):
    month = serializers.DateField(required=False, allow_null=True, default=None)


class ReportListCreateApi(APIView):
    @extend_schema(
        operation_id="screening_reports_list",
        tags=TAGS,
        parameters=[OpenApiParameter("month", str, description="YYYY-MM-DD, any day")],
        responses=ScreeningReportOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        """The monthly reports of the communities the user sees (missing ones flagged)."""
        _require_user(request.user)
        qs = selectors.reports_visible(request.user)
        query = ScreeningReportQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        month = query.validated_data["month"]
        if month:
            qs = qs.filter(month=selectors.month_start(month))
        return Response(ScreeningReportOutput(qs[:500], many=True).data)

    @extend_schema(
        operation_id="screening_reports_create",
        tags=TAGS,
        request=ScreeningReportInput,
        responses={201: ScreeningReportOutput},
    )
    def post(self, request: Request) -> Response:
        """A community's monthly report (零报告: zero_report=true when nothing was logged)."""
        _require_user(request.user)
        serializer = ScreeningReportInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        region = selectors.communities_visible(request.user).filter(code=data["region"]).first()
        if region is None:
            raise serializers.ValidationError({"region": ["Choose a community in your region."]})
        report: ScreeningReport = services.report_submit(
            actor=request.user,
            region_id=region.pk,
            month=data["month"],
            zero_report=data["zero_report"],
            note=data["note"],
        )
        return Response(ScreeningReportOutput(report).data, status=status.HTTP_201_CREATED)


class ScreeningFiguresOutput(serializers.Serializer):
    found = serializers.IntegerField()
    by_level = serializers.DictField(child=serializers.IntegerField())
    resolved = serializers.IntegerField()
    resolution_rate = serializers.FloatField(allow_null=True)
    escalated = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    follow_ups = serializers.IntegerField()
    follow_ups_on_time = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)


class ScreeningRegionFiguresOutput(ScreeningFiguresOutput):
    region = ScreeningRegionOutput()


class ScreeningKpisOutput(serializers.Serializer):
    region = ScreeningRegionOutput()
    month = serializers.DateField(allow_null=True)
    totals = ScreeningFiguresOutput()
    rows = ScreeningRegionFiguresOutput(many=True)
    reports_missing = serializers.IntegerField()
    reports_late = serializers.IntegerField()


class ScreeningKpisInput(serializers.Serializer):
    region = serializers.CharField(required=False, default="", allow_blank=True)
    month = serializers.DateField(required=False, allow_null=True, default=None)


class KpisApi(APIView):
    @extend_schema(
        operation_id="screening_kpis",
        tags=TAGS,
        parameters=[OpenApiParameter("region", str), OpenApiParameter("month", str)],
        responses=ScreeningKpisOutput,
    )
    def get(self, request: Request) -> Response:
        """Found, by colour, 化解率, escalated (民转刑), on-time follow-up: of the region (the
        user's own by default; a region inside it to drill down) and each region under it."""
        if not policies.is_supervising(request.user):
            raise NotFoundError("Not found.")
        query = ScreeningKpisInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        region = selectors.supervised_region(request.user, query.validated_data["region"])
        if region is None:
            raise NotFoundError("Not found.")
        month = query.validated_data["month"]
        figures = selectors.dispute_kpis(
            request.user, region=region, month=selectors.month_start(month) if month else None
        )
        return Response(ScreeningKpisOutput(figures).data)
