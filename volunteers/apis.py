"""Volunteers REST API (/api/v1/volunteers/...): one class per operation, serializers with field
errors (400), services' refusals through core.api's handler (403/404/409). GPS tracks are only
in the claim's own answer (the volunteer) — never in lists or the supervision figures."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import user_scope
from core.exceptions import NotFoundError, PermissionDeniedError
from grids.models import Region
from volunteers import kpis, policies, selectors, services
from volunteers.models import Claim, ClaimState, PatrolTask, ServiceRecord, TaskLevel, Volunteer

TAGS = ["volunteers"]


# --- outputs ---------------------------------------------------------------------------------


class VolunteerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    real_name = serializers.CharField()
    community = serializers.CharField(source="community.code")
    state = serializers.CharField()
    number = serializers.CharField(allow_null=True)
    skills = serializers.CharField()
    availability = serializers.CharField()
    decline_reason = serializers.CharField()
    reliability = serializers.IntegerField()


class VolunteerTaskOutput(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    level = serializers.ChoiceField(choices=TaskLevel.choices)
    region = serializers.CharField(source="region.code")
    cells = serializers.SerializerMethodField()
    route = serializers.JSONField(allow_null=True)
    duty_post = serializers.CharField(source="post.name", allow_null=True, default=None)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    withdraw_until = serializers.DateTimeField()
    places = serializers.IntegerField()
    taken = serializers.IntegerField()
    required_checkins = serializers.IntegerField()
    state = serializers.CharField()
    organiser_name = serializers.CharField()

    def get_cells(self, task: PatrolTask) -> list[str]:
        return [cell.code for cell in task.cells.all()]


class VolunteerClaimOutput(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.IntegerField(source="task_id")
    task_title = serializers.CharField(source="task.title")
    state = serializers.ChoiceField(choices=ClaimState.choices)
    claimed_at = serializers.DateTimeField()
    checked_in_at = serializers.DateTimeField(allow_null=True)
    checked_out_at = serializers.DateTimeField(allow_null=True)
    checkins = serializers.IntegerField()


class VolunteerRecordOutput(serializers.Serializer):
    id = serializers.IntegerField()
    volunteer = serializers.CharField(source="volunteer.real_name")
    content = serializers.CharField()
    place = serializers.CharField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    hours = serializers.DecimalField(max_digits=6, decimal_places=2)
    organiser_name = serializers.CharField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)


class VolunteerHazardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField(source="incident.tracking_number")
    claim = serializers.IntegerField(source="claim_id")


class VolunteerPointsOutput(serializers.Serializer):
    balance = serializers.DecimalField(max_digits=10, decimal_places=1)
    hours = serializers.DecimalField(max_digits=10, decimal_places=2)
    ledger = serializers.ListField(child=serializers.DictField())
    leaderboard = serializers.ListField(child=serializers.DictField())


class VolunteerCoverageOutput(serializers.Serializer):
    region = serializers.CharField()
    cells = serializers.IntegerField()
    coverage_24h = serializers.FloatField()
    coverage_7d = serializers.FloatField()
    volunteers = serializers.IntegerField()
    volunteers_active = serializers.IntegerField()
    hours_month = serializers.DecimalField(max_digits=10, decimal_places=2)
    hazards_month = serializers.IntegerField()
    fill_rate = serializers.FloatField()
    children = serializers.ListField(child=serializers.DictField())
    map = serializers.DictField()


# --- inputs ----------------------------------------------------------------------------------


class VolunteerApplyInput(serializers.Serializer):
    community = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.filter(level=Region.Level.COMMUNITY)
    )
    real_name = serializers.CharField(max_length=64)
    id_number = serializers.CharField(max_length=18, required=False, default="", allow_blank=True)
    skills = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)
    availability = serializers.CharField(
        max_length=200, required=False, default="", allow_blank=True
    )


class VolunteerReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class VolunteerEmptyInput(serializers.Serializer):
    pass


class VolunteerTaskInput(serializers.Serializer):
    title = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, default="", allow_blank=True)
    level = serializers.ChoiceField(choices=TaskLevel.choices)
    region = serializers.SlugRelatedField(slug_field="code", queryset=Region.objects.all())
    cells = serializers.ListField(
        child=serializers.CharField(max_length=15), required=False, default=list
    )
    route = serializers.JSONField(required=False, allow_null=True, default=None)
    route_buffer_m = serializers.IntegerField(required=False, default=100)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    withdraw_until = serializers.DateTimeField(required=False, allow_null=True, default=None)
    places = serializers.IntegerField()
    required_checkins = serializers.IntegerField(required=False, default=2)


class VolunteerClaimInput(serializers.Serializer):
    team = serializers.IntegerField(required=False, allow_null=True, default=None)


class VolunteerPositionInput(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    lng = serializers.FloatField(min_value=-180, max_value=180)


class VolunteerTrackInput(serializers.Serializer):
    points = serializers.ListField(child=serializers.JSONField(), max_length=200)


class VolunteerHazardInput(VolunteerPositionInput):
    category = serializers.CharField(max_length=8)
    description = serializers.CharField(max_length=2000)


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- people ---------------------------------------------------------------------------------


class VolunteerApplyApi(APIView):
    @extend_schema(
        operation_id="volunteers_apply",
        tags=TAGS,
        request=VolunteerApplyInput,
        responses={201: VolunteerOutput},
    )
    def post(self, request: Request) -> Response:
        data = _valid(VolunteerApplyInput, request)
        volunteer = services.volunteer_apply(
            actor=request.user,
            community_id=data["community"].pk,
            real_name=data["real_name"],
            id_number=data["id_number"],
            skills=data["skills"],
            availability=data["availability"],
        )
        return Response(VolunteerOutput(volunteer).data, status=status.HTTP_201_CREATED)


class VolunteerMeApi(APIView):
    @extend_schema(operation_id="volunteers_me", tags=TAGS, responses=VolunteerOutput)
    def get(self, request: Request) -> Response:
        volunteer = selectors.volunteer_of(request.user)
        if volunteer is None:
            raise NotFoundError(_("You have not applied to volunteer."))
        return Response(VolunteerOutput(volunteer).data)


class ApplicationListApi(APIView):
    @extend_schema(
        operation_id="volunteers_applications", tags=TAGS, responses=VolunteerOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        if not policies.is_organiser(request.user):
            raise PermissionDeniedError(_("Only the community's organisers decide applications."))
        rows = selectors.applications_for(request.user).order_by("-created_at")[:500]
        return Response(VolunteerOutput(rows, many=True).data)


class ApplicationApproveApi(APIView):
    @extend_schema(
        operation_id="volunteers_approve",
        tags=TAGS,
        request=VolunteerEmptyInput,
        responses=VolunteerOutput,
    )
    def post(self, request: Request, volunteer_id: int) -> Response:
        volunteer = services.volunteer_approve(actor=request.user, volunteer_id=volunteer_id)
        return Response(VolunteerOutput(volunteer).data)


class ApplicationDeclineApi(APIView):
    @extend_schema(
        operation_id="volunteers_decline",
        tags=TAGS,
        request=VolunteerReasonInput,
        responses=VolunteerOutput,
    )
    def post(self, request: Request, volunteer_id: int) -> Response:
        selectors.volunteer_get_for_staff(request.user, volunteer_id)
        data = _valid(VolunteerReasonInput, request)
        volunteer = services.volunteer_decline(
            actor=request.user, volunteer_id=volunteer_id, reason=data["reason"]
        )
        return Response(VolunteerOutput(volunteer).data)


# --- tasks -----------------------------------------------------------------------------------


class TaskListCreateApi(APIView):
    @extend_schema(
        operation_id="volunteers_tasks_list", tags=TAGS, responses=VolunteerTaskOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        user = request.user
        if policies.is_organiser(user) or policies.reads_supervision(user):
            rows = selectors.tasks_visible(user).order_by("-starts_at")[:500]
        else:
            rows = selectors.tasks_open_for_volunteer(user).order_by("starts_at")[:500]
        return Response(VolunteerTaskOutput(rows.prefetch_related("cells"), many=True).data)

    @extend_schema(
        operation_id="volunteers_tasks_create",
        tags=TAGS,
        request=VolunteerTaskInput,
        responses={201: VolunteerTaskOutput},
    )
    def post(self, request: Request) -> Response:
        if not policies.is_organiser(request.user):
            raise PermissionDeniedError(_("Only the community's organisers post tasks."))
        data = _valid(VolunteerTaskInput, request)
        from grids.models import GridCell

        codes = data["cells"]
        found = dict(GridCell.objects.filter(code__in=codes).values_list("code", "pk"))
        task = services.task_post(
            actor=request.user,
            title=data["title"],
            description=data["description"],
            level=data["level"],
            region_id=data["region"].pk,
            cell_ids=[found.get(code, 0) for code in codes],
            route=data["route"],
            route_buffer_m=data["route_buffer_m"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            withdraw_until=data["withdraw_until"],
            places=data["places"],
            required_checkins=data["required_checkins"],
        )
        return Response(VolunteerTaskOutput(task).data, status=status.HTTP_201_CREATED)


class TaskDetailApi(APIView):
    @extend_schema(
        operation_id="volunteers_tasks_retrieve", tags=TAGS, responses=VolunteerTaskOutput
    )
    def get(self, request: Request, task_id: int) -> Response:
        return Response(VolunteerTaskOutput(selectors.task_get(request.user, task_id)).data)


class TaskClaimApi(APIView):
    @extend_schema(
        operation_id="volunteers_tasks_claim",
        tags=TAGS,
        request=VolunteerClaimInput,
        responses={201: VolunteerClaimOutput},
    )
    def post(self, request: Request, task_id: int) -> Response:
        data = _valid(VolunteerClaimInput, request)
        claim = services.task_claim(actor=request.user, task_id=task_id, team_id=data["team"])
        return Response(VolunteerClaimOutput(claim).data, status=status.HTTP_201_CREATED)


# --- claims ------------------------------------------------------------------------------------


class ClaimListApi(APIView):
    @extend_schema(
        operation_id="volunteers_claims_mine", tags=TAGS, responses=VolunteerClaimOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        rows = selectors.claims_of(request.user).order_by("-claimed_at")[:500]
        return Response(VolunteerClaimOutput(rows, many=True).data)


def _claim_action(name: str, service, input_class) -> type[APIView]:
    class ClaimActionApi(APIView):
        @extend_schema(
            operation_id=f"volunteers_claims_{name.replace('-', '_')}",
            tags=TAGS,
            request=input_class,
            responses=VolunteerClaimOutput,
        )
        def post(self, request: Request, claim_id: int) -> Response:
            selectors.claim_get_own(request.user, claim_id)
            data = _valid(input_class, request)
            claim = service(actor=request.user, claim_id=claim_id, **data)
            return Response(VolunteerClaimOutput(claim).data)

    ClaimActionApi.__name__ = ClaimActionApi.__qualname__ = (
        "Claim" + "".join(p.title() for p in name.split("-")) + "Api"
    )
    return ClaimActionApi


CLAIM_ACTION_APIS = {
    "withdraw": _claim_action("withdraw", services.claim_withdraw, VolunteerEmptyInput),
    "check-in": _claim_action("check-in", services.claim_check_in, VolunteerPositionInput),
    "checkpoint": _claim_action("checkpoint", services.claim_checkpoint, VolunteerPositionInput),
    "track": _claim_action("track", services.claim_track, VolunteerTrackInput),
    "check-out": _claim_action("check-out", services.claim_check_out, VolunteerPositionInput),
}


class ClaimHazardApi(APIView):
    @extend_schema(
        operation_id="volunteers_claims_hazard",
        tags=TAGS,
        request=VolunteerHazardInput,
        responses={201: VolunteerHazardOutput},
    )
    def post(self, request: Request, claim_id: int) -> Response:
        from incidents.models import Category

        selectors.claim_get_own(request.user, claim_id)
        data = _valid(VolunteerHazardInput, request)
        category = Category.objects.filter(code=data["category"]).first()
        hazard = services.claim_report_hazard(
            actor=request.user,
            claim_id=claim_id,
            category=category,
            description=data["description"],
            lat=data["lat"],
            lng=data["lng"],
        )
        return Response(VolunteerHazardOutput(hazard).data, status=status.HTTP_201_CREATED)


# --- records and points ----------------------------------------------------------------------


class RecordListApi(APIView):
    @extend_schema(
        operation_id="volunteers_records", tags=TAGS, responses=VolunteerRecordOutput(many=True)
    )
    def get(self, request: Request) -> Response:
        user = request.user
        if policies.is_organiser(user):
            rows = selectors.records_for_staff(user)[:500]
        else:
            volunteer = selectors.volunteer_of(user)
            rows = (
                selectors.records_counting(volunteer)[:500]
                if volunteer
                else ServiceRecord.objects.none()
            )
        return Response(VolunteerRecordOutput(rows, many=True).data)


class RecordConfirmApi(APIView):
    @extend_schema(
        operation_id="volunteers_records_confirm",
        tags=TAGS,
        request=VolunteerEmptyInput,
        responses=VolunteerRecordOutput,
    )
    def post(self, request: Request, record_id: int) -> Response:
        return Response(
            VolunteerRecordOutput(
                services.record_confirm(actor=request.user, record_id=record_id)
            ).data
        )


class PointsApi(APIView):
    @extend_schema(operation_id="volunteers_points", tags=TAGS, responses=VolunteerPointsOutput)
    def get(self, request: Request) -> Response:
        volunteer = selectors.volunteer_of(request.user)
        if volunteer is None:
            raise NotFoundError(_("You have not applied to volunteer."))
        ledger = [
            {
                "at": e.created_at.isoformat(),
                "kind": e.kind,
                "points": str(e.points),
                "reason": e.reason,
            }
            for e in volunteer.points.all()[:200]
        ]
        board = [
            {"name": row["name"], "points": str(row["points"])}
            for row in selectors.leaderboard(volunteer.region_code)
        ]
        return Response(
            VolunteerPointsOutput(
                {
                    "balance": selectors.points_balance(volunteer),
                    "hours": selectors.hours_total(volunteer),
                    "ledger": ledger,
                    "leaderboard": board,
                }
            ).data
        )


class CoverageApi(APIView):
    @extend_schema(
        operation_id="volunteers_coverage",
        tags=TAGS,
        parameters=[OpenApiParameter("region", str, required=False)],
        responses=VolunteerCoverageOutput,
    )
    def get(self, request: Request) -> Response:
        user = request.user
        if not policies.reads_supervision(user):
            raise PermissionDeniedError(_("Only supervisors and organisers read the coverage."))
        scope = user_scope(user)
        code = request.query_params.get("region", "")
        if code:
            region = Region.objects.filter(code=code).first()
            if region is None or not scope.covers_code(region.code):
                raise NotFoundError(_("Region not found."))
        elif scope.everything:
            region = Region.objects.filter(parent__isnull=True).order_by("code").first()
        else:
            region = user.scope_region
        if region is None:
            raise NotFoundError(_("Region not found."))
        total = kpis.figures(region.prefix, region=region)
        children = [
            {
                "region": row.region.code,
                "name": row.region.name,
                "coverage_24h": row.coverage_24h,
                "coverage_7d": row.coverage_7d,
                "volunteers": row.volunteers,
                "hours_month": str(row.hours_month),
                "hazards_month": row.hazards_month,
                "fill_rate": row.fill_rate,
            }
            for row in kpis.drill_down(region)
        ]
        return Response(
            VolunteerCoverageOutput(
                {
                    "region": region.code,
                    "cells": total.cells,
                    "coverage_24h": total.coverage_24h,
                    "coverage_7d": total.coverage_7d,
                    "volunteers": total.volunteers,
                    "volunteers_active": total.volunteers_active,
                    "hours_month": total.hours_month,
                    "hazards_month": total.hazards_month,
                    "fill_rate": total.fill_rate,
                    "children": children,
                    "map": kpis.coverage_map(region.prefix),
                }
            ).data
        )


__all__ = ["Claim", "Volunteer"]
