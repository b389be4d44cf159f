"""Public tracking: read, rate, resend my code (POST only: nothing secret in URLs)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors, services, tracking, tracking_requests
from incidents.apis._common import ERRORS, TAGS
from incidents.apis.actions import IncidentRateInput
from incidents.serializers import ErrorSerializer, TrackSerializer

# --- public tracking --------------------------------------------------------------------------


def _track_attempt(request: Request) -> None:
    """One tracking attempt from this client, on the tracking page's budget (the same cache
    keys: incidents.tracking); 429 with Retry-After past it."""
    over = tracking.client_attempt(request)
    if over.limited:
        raise exceptions.Throttled(wait=over.retry_after)


class IncidentTrackInput(serializers.Serializer):
    no = serializers.CharField(max_length=16, help_text="The tracking number (GG…).")
    code = serializers.CharField(
        max_length=16, help_text="The access code (查询码) given with the tracking number."
    )


class IncidentTrackApi(APIView):
    """POST the tracking number and its access code (JSON body: nothing secret in the URL) to
    read the public view. Limited per client address (shared with the tracking page) and per
    number (after too many failures it is locked); a wrong number, a wrong code and a locked
    number get the same 404."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    InputSerializer = IncidentTrackInput

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={200: TrackSerializer, 400: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        _track_attempt(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = tracking_requests.incident_unlock(data["no"], data["code"])
        return Response(TrackSerializer(selectors.incident_track_for(incident)).data)


class IncidentTrackRateInput(IncidentRateInput, IncidentTrackInput):
    pass


class IncidentTrackRateApi(APIView):
    """The reporter rates with the tracking number and the access code (anonymously, or signed
    in: the rating event records the user; staff may not rate a case they can see)."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    InputSerializer = IncidentTrackRateInput

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={200: TrackSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        _track_attempt(request)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        incident = tracking_requests.incident_unlock(data["no"], data["code"])
        services.incident_rate(
            actor=request.user if request.user.is_authenticated else None,
            rating=data["rating"],
            comment=data.get("comment", ""),
            tracking_number=incident.tracking_number,
            access_code=data["code"],
        )
        track = selectors.incident_track(incident.tracking_number, data["code"])
        return Response(TrackSerializer(track).data)


class IncidentTrackResendInput(serializers.Serializer):
    no = serializers.CharField(max_length=16, help_text="The tracking number (GG…).")
    phone = serializers.RegexField(
        r"^\+?[0-9][0-9\- ]{4,19}$", help_text="The full mobile number the report was made with."
    )


class IncidentTrackResendApi(APIView):
    """ "Resend my code": when the phone is the reporter's, a new access code goes to it by SMS
    (the old one stops working). The answer is the same 202 whether or not it matched; limited
    per client address (429) and per number (silently)."""

    permission_classes = [AllowAny]
    throttle_classes: list = []

    InputSerializer = IncidentTrackResendInput

    @extend_schema(
        tags=TAGS,
        request=InputSerializer,
        responses={
            202: inline_serializer("TrackResendAnswer", {"detail": serializers.CharField()}),
            400: ErrorSerializer,
            429: ErrorSerializer,
        },
    )
    def post(self, request: Request) -> Response:
        over = tracking.resend_client_attempt(request)
        if over.limited:
            raise exceptions.Throttled(wait=over.retry_after)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        tracking_requests.access_code_resend(data["no"], data["phone"])
        return Response({"detail": str(tracking.RESEND_ANSWER)}, status=status.HTTP_202_ACCEPTED)
