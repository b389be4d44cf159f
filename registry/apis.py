"""REST API of registry (mounted under /api/v1/registry/). One class per operation; scoped
like the pages (registry.selectors): nothing outside the user's area, key persons only to
those who may see them (404 otherwise)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import ValidationFailed
from registry import selectors, services
from registry.models import Visit
from registry.views import parse_bbox


class SuggestionOutput(serializers.Serializer):
    type = serializers.ChoiceField(choices=["building", "place"])
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    distance_m = serializers.IntegerField()


class SuggestApi(APIView):
    """Buildings and places near a point (within 150 m, nearest first): what the incident
    report form offers as the place of the matter."""

    class Input(serializers.Serializer):
        lat = serializers.FloatField(min_value=-90, max_value=90)
        lng = serializers.FloatField(min_value=-180, max_value=180)

    @extend_schema(
        parameters=[
            OpenApiParameter("lat", OpenApiTypes.DOUBLE, required=True),
            OpenApiParameter("lng", OpenApiTypes.DOUBLE, required=True),
        ],
        responses=SuggestionOutput(many=True),
    )
    def get(self, request):
        data = self.Input(data=request.query_params)
        data.is_valid(raise_exception=True)
        found = selectors.suggest(
            request.user, data.validated_data["lat"], data.validated_data["lng"]
        )
        return Response(SuggestionOutput(found, many=True).data)


class LayersApi(APIView):
    """Buildings and places as GeoJSON points for the grid map (the user's area only)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("bbox", OpenApiTypes.STR, description="south,west,north,east")
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        bbox_value = request.query_params.get("bbox")
        bbox = parse_bbox(bbox_value)
        if bbox_value and bbox is None:
            message = _("Give the box as south,west,north,east.")
            raise ValidationFailed(message, extra={"bbox": [message]})
        return Response(selectors.map_layer(request.user, bbox))


class VisitOutput(serializers.Serializer):
    id = serializers.IntegerField()
    key_person = serializers.IntegerField(source="key_person_id")
    visited_at = serializers.DateTimeField()
    method = serializers.CharField()
    risk_before = serializers.IntegerField()
    risk_after = serializers.IntegerField()
    next_visit_due = serializers.DateField(source="key_person.next_visit_due", allow_null=True)


class VisitCreateApi(APIView):
    """Log a key-person visit from the phone (GPS, what was seen, the re-assessed risk)."""

    class Input(serializers.Serializer):
        # A plain string (validated below), not an enum: mediation's signature "method" owns
        # the MethodEnum name in the schema.
        method = serializers.CharField(
            default="in_person", help_text="in_person | phone | joint", max_length=16
        )
        visited_at = serializers.DateTimeField(required=False, allow_null=True)
        observations = serializers.CharField(max_length=4000)
        risk_after = serializers.IntegerField(min_value=0, max_value=9)
        lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
        lng = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
        accuracy_m = serializers.FloatField(required=False, allow_null=True, min_value=0)
        place = serializers.CharField(required=False, allow_blank=True, max_length=200)

        def validate_method(self, value: str) -> str:
            if value not in Visit.Method.values:
                raise serializers.ValidationError(_("Choose in_person, phone or joint."))
            return value

    @extend_schema(request=Input, responses={201: VisitOutput})
    def post(self, request, pk: int):
        kp = selectors.key_person_for(request.user, pk)
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        visit = services.visit_log(
            actor=request.user,
            key_person=kp,
            observations=values["observations"],
            risk_after=values["risk_after"],
            visited_at=values.get("visited_at"),
            method=values["method"],
            lat=values.get("lat"),
            lng=values.get("lng"),
            accuracy_m=values.get("accuracy_m"),
            place=values.get("place", ""),
        )
        visit.refresh_from_db()
        return Response(VisitOutput(visit).data, status=status.HTTP_201_CREATED)
