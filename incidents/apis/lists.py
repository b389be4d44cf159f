"""Work lists: my tasks, the dispatch queue, the overdue board, workload."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError, PermissionDeniedError
from incidents import policies, selectors
from incidents.apis._common import ERRORS, TAGS, _context
from incidents.filters import IncidentFilter
from incidents.serializers import IncidentListSerializer, WorkloadSerializer, queue_rows_data

# --- work lists -------------------------------------------------------------------------------


class MyTasksApi(APIView):
    """The caller's work: to verify, to check, claimable, assigned, sent to their unit."""

    LIMIT = 200

    @extend_schema(
        tags=TAGS,
        responses={
            200: inline_serializer(
                "MyTasks",
                {
                    key: IncidentListSerializer(many=True)
                    for key in ("to_verify", "to_check", "claimable", "assigned", "unit")
                },
            )
        },
    )
    def get(self, request: Request) -> Response:
        context = _context(request)
        lists = selectors.my_tasks(request.user)
        return Response(
            {
                key: IncidentListSerializer(qs[: self.LIMIT], many=True, context=context).data
                for key, qs in lists.items()
            }
        )


def _require_queue_role(user) -> None:
    if not policies.can_use_queue(user):
        raise PermissionDeniedError(_("Only dispatchers and supervisors use the queue."))


class DispatchQueueApi(GenericAPIView):
    """The dispatch queue: visible incidents filtered (state, category, grid_cell, community,
    overdue, urgent, reported_from/to, q ...) and ordered by deadline."""

    filterset_class = IncidentFilter
    serializer_class = IncidentListSerializer

    def get_queryset(self):
        return selectors.incidents_visible(self.request.user)

    @extend_schema(tags=TAGS, responses={200: IncidentListSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        _require_queue_role(request.user)
        # Narrow rows (selectors.QUEUE_COLUMNS), written like IncidentListSerializer.
        queryset = selectors.dispatch_queue_values(request.user, request.query_params)
        rows = selectors.queue_rows(self.paginate_queryset(queryset))
        data = queue_rows_data(rows, staff=selectors.is_staff_viewer(request.user))
        return self.get_paginated_response(data)


class OverdueBoardApi(GenericAPIView):
    """Open incidents past their deadline, most overdue first."""

    serializer_class = IncidentListSerializer

    def get_queryset(self):
        return selectors.overdue_board(self.request.user)

    @extend_schema(tags=TAGS, responses={200: IncidentListSerializer(many=True), **ERRORS})
    def get(self, request: Request) -> Response:
        _require_queue_role(request.user)
        page = self.paginate_queryset(selectors.overdue_board(request.user))
        data = IncidentListSerializer(page, many=True, context=_context(request)).data
        return self.get_paginated_response(data)


class WorkloadApi(APIView):
    """Open work per grid worker in a region (default: the caller's region)."""

    @extend_schema(
        tags=TAGS,
        parameters=[OpenApiParameter("region", OpenApiTypes.STR, required=False)],
        responses={200: WorkloadSerializer(many=True), **ERRORS},
    )
    def get(self, request: Request) -> Response:
        from accounts.selectors import regions_visible

        user = request.user
        _require_queue_role(user)
        code = request.query_params.get("region") or (
            user.scope_region.code if user.scope_region_id else ""
        )
        region = regions_visible(user).filter(code=code).first() if code else None
        if region is None:
            raise NotFoundError(_("Region not found."))
        loads = selectors.workload_per_worker(region)
        return Response(
            WorkloadSerializer(
                [{**load.__dict__, "total": load.total} for load in loads], many=True
            ).data
        )
