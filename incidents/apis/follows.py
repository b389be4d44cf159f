"""API of 附议 and 办理公开 for staff: merge a duplicate, write the result for the public."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents.apis._common import ERRORS, TAGS
from incidents.services.follows import incident_merge, incident_public_result_set


class IncidentMergeApi(APIView):
    """Merge this (duplicate) incident into the open one named by its public id, with a
    reason: it closes with a pointer, both timelines show the link, its reporter follows the
    open one. Dispatchers, supervisors and admins who see both."""

    permission_classes = [IsAuthenticated]

    class IncidentMergeInput(serializers.Serializer):
        into = serializers.CharField(max_length=16, help_text="the open incident's public id")
        reason = serializers.CharField(max_length=2000)

    @extend_schema(
        tags=TAGS,
        request=IncidentMergeInput,
        responses={
            200: inline_serializer(
                "IncidentMerged",
                {"state": serializers.CharField(), "merged_into": serializers.CharField()},
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.IncidentMergeInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = incident_merge(
            actor=request.user,
            incident_id=pk,
            into_public_id=serializer.validated_data["into"],
            reason=serializer.validated_data["reason"],
        )
        return Response({"state": incident.state, "merged_into": incident.merged_into.public_id})


class IncidentPublicResultApi(APIView):
    """办理公开: the result written for the public, and which photos the public may see."""

    permission_classes = [IsAuthenticated]

    class IncidentPublicResultInput(serializers.Serializer):
        public_result = serializers.CharField(max_length=2000, allow_blank=True)
        public_photos = serializers.ListField(
            child=serializers.IntegerField(min_value=1, max_value=2**31 - 1),
            required=False,
            default=list,
        )

    @extend_schema(
        tags=TAGS,
        request=IncidentPublicResultInput,
        responses={
            200: inline_serializer(
                "IncidentPublicResult", {"public_result": serializers.CharField()}
            ),
            **ERRORS,
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = self.IncidentPublicResultInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        incident = incident_public_result_set(
            actor=request.user,
            incident_id=pk,
            public_result=serializer.validated_data["public_result"],
            public_photo_ids=serializer.validated_data["public_photos"],
        )
        return Response({"public_result": incident.public_result})
