"""The patrol log (巡查日志)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import patrols as patrol_helpers
from incidents import selectors, services
from incidents.apis._common import ERRORS

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
