"""Sessions: the calendar list and the session actions (through mediation.moves)."""

import django_filters
from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from mediation import moves, selectors
from mediation.apis.serializers import (
    ReasonInput,
    SessionOutput,
)
from mediation.models import (
    MediationSession,
)

# --- sessions -----------------------------------------------------------------------------


class SessionFilter(django_filters.FilterSet):
    starts_from = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="gte")
    starts_to = django_filters.IsoDateTimeFilter(field_name="starts_at", lookup_expr="lt")
    room = django_filters.NumberFilter(field_name="room_id")
    mediator = django_filters.NumberFilter(field_name="mediator_id")
    state = django_filters.ChoiceFilter(choices=MediationSession.State.choices)

    class Meta:
        model = MediationSession
        fields = ["room", "mediator", "state"]


class SessionListApi(generics.ListAPIView):
    """The calendar: sessions of the cases the user sees."""

    serializer_class = SessionOutput
    filterset_class = SessionFilter

    def get_queryset(self):
        return selectors.sessions_visible(self.request.user).order_by("starts_at")


class SessionStartApi(APIView):
    @extend_schema(request=None, responses=SessionOutput)
    def post(self, request, pk: int):
        session = moves.SESSION_MOVES["start"](request.user, pk, {})
        return Response(SessionOutput(session).data)


class SessionCancelApi(APIView):
    @extend_schema(request=ReasonInput, responses=SessionOutput)
    def post(self, request, pk: int):
        serializer = ReasonInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = moves.SESSION_MOVES["cancel"](request.user, pk, serializer.validated_data)
        return Response(SessionOutput(session).data)


class SessionMinutesApi(APIView):
    class SessionMinutesInput(serializers.Serializer):
        minutes = serializers.CharField()
        attendees = serializers.CharField(required=False, allow_blank=True, default="")

    Input = SessionMinutesInput

    @extend_schema(request=Input, responses=SessionOutput)
    def post(self, request, pk: int):
        serializer = self.Input(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = moves.SESSION_MOVES["minutes"](request.user, pk, serializer.validated_data)
        return Response(SessionOutput(session).data)
