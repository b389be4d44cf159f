"""Referral of a dispute incident (proposed rooms, the referral itself) and the statistics."""

from datetime import datetime

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import PermissionDeniedError, ValidationFailed
from mediation import selectors, services
from mediation.apis.serializers import (
    CaseDetailOutput,
    PartyInput,
    RoomOutput,
    _case_response,
)

# --- referral -----------------------------------------------------------------------------


class ProposalOutput(serializers.Serializer):
    tier = serializers.IntegerField()
    free_slots = serializers.IntegerField()
    room = RoomOutput()


class ReferralProposalsApi(APIView):
    """Rooms for a dispute incident, nearest first (village, township, county, city)."""

    @extend_schema(
        parameters=[OpenApiParameter("incident", OpenApiTypes.INT, required=True)],
        responses=ProposalOutput(many=True),
    )
    def get(self, request):
        from incidents.selectors import incident_get_for_user

        incident_id = request.query_params.get("incident", "")
        if not str(incident_id).isdigit():
            message = _("Give the incident's id.")
            raise ValidationFailed(message, extra={"incident": [message]})
        incident = incident_get_for_user(user=request.user, incident_id=int(incident_id))
        proposals = selectors.rooms_proposed_for_incident(incident=incident)
        return Response(ProposalOutput(proposals, many=True).data)


class ReferralCreateApi(APIView):
    class ReferralCreateInput(serializers.Serializer):
        incident = serializers.IntegerField()
        room = serializers.IntegerField()
        facts = serializers.CharField(required=False, allow_blank=True, default="")
        requests = serializers.CharField(required=False, allow_blank=True, default="")
        parties = PartyInput(many=True)

    Input = ReferralCreateInput

    @extend_schema(request=Input, responses={201: CaseDetailOutput})
    def post(self, request):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = services.case_create_from_incident(
            actor=request.user,
            incident_id=data["incident"],
            room_id=data["room"],
            parties=[dict(p) for p in data["parties"]],
            facts=data["facts"],
            requests=data["requests"],
        )
        return _case_response(request, case.pk, status.HTTP_201_CREATED)


# --- statistics ---------------------------------------------------------------------------


class StatsRowOutput(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    concluded = serializers.IntegerField()
    agreements = serializers.IntegerField()
    success_rate = serializers.FloatField()
    average_days_to_settle = serializers.FloatField(allow_null=True)


class StatsApi(APIView):
    """Success rate (agreements / cases concluded) and average days to settle."""

    @extend_schema(
        parameters=[
            OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(selectors.STAT_GROUPS)),
            OpenApiParameter("concluded_from", OpenApiTypes.DATE),
            OpenApiParameter("concluded_to", OpenApiTypes.DATE),
        ],
        responses=StatsRowOutput(many=True),
    )
    def get(self, request):
        user = request.user
        if not (user.is_portal_admin or user.has_role("supervisor", "mediator")):
            raise PermissionDeniedError(_("Only supervisors, mediators and admins see statistics."))
        group_by = request.query_params.get("group_by", "room")
        if group_by not in selectors.STAT_GROUPS:
            message = _("Group by one of: %(groups)s.") % {
                "groups": ", ".join(selectors.STAT_GROUPS)
            }
            raise ValidationFailed(message, extra={"group_by": [message]})
        dates = {}
        for name in ("concluded_from", "concluded_to"):
            value = request.query_params.get(name)
            if value:
                try:
                    dates[name] = datetime.strptime(value, "%Y-%m-%d").date()
                except ValueError as exc:
                    message = _("Dates are written YYYY-MM-DD.")
                    raise ValidationFailed(message, extra={name: [message]}) from exc
        rows = selectors.case_stats(user=user, group_by=group_by, **dates)
        return Response(StatsRowOutput(rows, many=True).data)
