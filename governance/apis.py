"""REST API of supervision (mounted under /api/v1/): the KPI table, its trend and heat map, the
definitions, and export jobs. The same definitions as the pages (governance.kpis)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from governance import exports, kpis
from governance.models import ExportFormat, ExportJob, ExportKind

QUERY_PARAMETERS = [
    OpenApiParameter("region", str, description="12-digit region code (default: your region)"),
    OpenApiParameter("start", OpenApiTypes.DATE, description="first day (default: 30 days ago)"),
    OpenApiParameter("end", OpenApiTypes.DATE, description="last day, included (default: today)"),
    OpenApiParameter("grid_cell", str, description="grid cell code"),
    OpenApiParameter("category", str, description="category code (a large class: all of it)"),
    OpenApiParameter("worker", int, description="user id of the assignee"),
    OpenApiParameter("unit", str, description="handling unit key level:region_id:department"),
]


def _query(request: Request, *, group_by: bool = True) -> kpis.KpiQuery:
    params = dict(request.query_params.items())
    if not group_by:
        params.pop("group_by", None)
    return kpis.kpi_query_build(user=request.user, params=params)


@extend_schema(
    tags=["supervision"],
    summary="KPIs of a region and period, optionally grouped",
    parameters=[
        *QUERY_PARAMETERS,
        OpenApiParameter("group_by", str, enum=list(kpis.GROUP_BYS)),
    ],
    responses={200: OpenApiTypes.OBJECT},
)
class KpiTableApi(APIView):
    """Every KPI (value, numerator, denominator; None when the denominator is 0) for the total
    and, with group_by, per group; with the definitions and each group's ledger filters."""

    def get(self, request: Request) -> Response:
        query = _query(request)
        data = kpis.kpi_table(query).as_dict()
        for row in [data["total"], *data["rows"]]:
            row["links"] = {
                key: kpis.ledger_url(query, kpi.numerator, row["filters"])
                for key, kpi in kpis.KPI_BY_KEY.items()
            }
        return Response(data)


@extend_schema(
    tags=["supervision"],
    summary="KPI definitions: name, formula and the sets counted",
    responses={200: OpenApiTypes.OBJECT},
)
class KpiDefinitionsApi(APIView):
    def get(self, request: Request) -> Response:
        if not kpis.can_view_kpis(request.user):
            from core.exceptions import PermissionDeniedError

            raise PermissionDeniedError("Only supervisors and dispatchers see the KPIs.")
        return Response({"definitions": kpis.kpi_definitions()})


@extend_schema(
    tags=["supervision"],
    summary="Reported, closed and closed-on-time per day, week or month",
    parameters=[*QUERY_PARAMETERS, OpenApiParameter("interval", str, enum=list(kpis.INTERVALS))],
    responses={200: OpenApiTypes.OBJECT},
)
class KpiTrendApi(APIView):
    def get(self, request: Request) -> Response:
        query = _query(request, group_by=False)
        interval = request.query_params.get("interval") or "day"
        return Response(
            {
                "interval": interval,
                "series": kpis.kpi_trend(query, interval=interval),
                "categories": kpis.reported_by_category(query),
            }
        )


@extend_schema(
    tags=["supervision"],
    summary="GeoJSON of the grid cells with incidents reported and overdue now",
    parameters=QUERY_PARAMETERS,
    responses={200: OpenApiTypes.OBJECT},
)
class KpiHeatmapApi(APIView):
    def get(self, request: Request) -> Response:
        query = _query(request, group_by=False)
        return Response(kpis.cell_heat(query, user=request.user))


class ExportJobOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "fmt",
            "params",
            "status",
            "progress",
            "row_count",
            "error",
            "created_at",
            "finished_at",
            "download_url",
        ]

    def get_download_url(self, job: ExportJob) -> str:
        if job.status != ExportJob.Status.DONE or not job.file:
            return ""
        return reverse("governance:export_download", args=[job.pk])


@extend_schema(
    tags=["supervision"],
    summary="Queue an export (incident ledger, mediation cases, petitions or a KPI table)",
    request=inline_serializer(
        "ExportCreateInput",
        {
            "kind": serializers.ChoiceField(choices=ExportKind.choices),
            "fmt": serializers.ChoiceField(choices=ExportFormat.choices),
            "params": serializers.DictField(required=False),
        },
    ),
    responses={202: ExportJobOutput},
)
class ExportCreateApi(APIView):
    """Always a job (the file is fetched from download_url once status is done)."""

    class Input(serializers.Serializer):
        kind = serializers.ChoiceField(choices=ExportKind.choices)
        fmt = serializers.ChoiceField(choices=ExportFormat.choices, default=ExportFormat.XLSX)
        params = serializers.DictField(required=False, default=dict)

    def post(self, request: Request) -> Response:
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        data: dict[str, Any] = serializer.validated_data
        result = exports.export_request(
            user=request.user,
            kind=data["kind"],
            fmt=data["fmt"],
            params=data["params"],
            inline=False,
        )
        result.job.refresh_from_db()
        return Response(ExportJobOutput(result.job).data, status=status.HTTP_202_ACCEPTED)


@extend_schema(tags=["supervision"], summary="An export job of yours", responses=ExportJobOutput)
class ExportJobApi(APIView):
    def get(self, request: Request, pk: int) -> Response:
        job = exports.export_job_get(user=request.user, job_id=pk)
        return Response(ExportJobOutput(job).data)
