"""Partner REST API under /api/v1/: hotline intake (12345 / 110) and webhook subscriptions.

Every call is signed (integrations.authentication): X-Api-Key, X-Timestamp, X-Signature.
One class per operation, nested Input/Output serializers, services do the work.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.masking import mask_phone
from incidents.models import IncidentState
from incidents.services import track_url
from integrations import selectors, services
from integrations.authentication import (
    ApiKeyRateThrottle,
    HasKeyScope,
    PartnerSignatureAuthentication,
)
from integrations.models import IncomingTicket, KeyScope, WebhookSubscription

SIGNATURE_HEADERS = [
    OpenApiParameter(
        "X-Timestamp",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix time of the request, in seconds or milliseconds.",
    ),
    OpenApiParameter(
        "X-Signature",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="hex HMAC-SHA256 of '<X-Timestamp>.<raw body>' with the partner's secret.",
    ),
]
ERRORS = {
    400: OpenApiResponse(description="Invalid input: {detail, errors: {field: [messages]}}"),
    401: OpenApiResponse(description="Missing or invalid key, signature or timestamp; replay"),
    403: OpenApiResponse(description="The key lacks the scope"),
    429: OpenApiResponse(description="Rate limit of the key; see Retry-After"),
}


class PartnerApi(APIView):
    authentication_classes = [PartnerSignatureAuthentication]
    permission_classes = [HasKeyScope]
    throttle_classes = [ApiKeyRateThrottle]
    required_scope = ""


@extend_schema_serializer(component_name="HotlineTicket")
class TicketOutput(serializers.Serializer):
    tracking_number = serializers.CharField()
    ticket_id = serializers.CharField()
    source = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    status = serializers.CharField(help_text="open or closed (as in Open311)")
    urgent = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)
    police_reference = serializers.CharField(allow_blank=True)
    caller_phone = serializers.CharField(allow_blank=True, help_text="Masked.")
    track_url = serializers.CharField()
    received_at = serializers.DateTimeField()


def ticket_output(ticket: IncomingTicket) -> dict[str, Any]:
    incident = ticket.incident
    sources = {v: k for k, v in services.HOTLINE_CHANNELS.items()}
    return {
        "tracking_number": incident.tracking_number,
        "ticket_id": ticket.external_id,
        "source": sources.get(ticket.channel, ticket.channel),
        "state": incident.state,
        "state_label": str(IncidentState(incident.state).label),
        "status": services.open311_status(incident.state),
        "urgent": incident.urgent,
        "due_at": incident.resolve_due_at or ticket.due_at,
        "police_reference": ticket.police_reference,
        "caller_phone": mask_phone(incident.reporter_phone),
        "track_url": track_url(incident),
        "received_at": ticket.received_at,
    }


class HotlineIntakeApi(PartnerApi):
    """A 12345 ticket or a 110 non-police diversion becomes an incident, exactly once."""

    required_scope = KeyScope.HOTLINE

    @extend_schema_serializer(component_name="HotlineTicketInput")
    class InputSerializer(serializers.Serializer):
        ticket_id = serializers.CharField(
            max_length=64, help_text="The partner's ticket number; the idempotency key."
        )
        source = serializers.CharField(
            max_length=8,
            required=False,
            allow_blank=True,
            help_text="12345 (hotline) or 110 (diversion); default: by the partner's kind.",
        )
        category_code = serializers.CharField(max_length=8, help_text="GET /api/v1/categories")
        description = serializers.CharField(max_length=4000, allow_blank=True)
        lat = serializers.FloatField(required=False, allow_null=True)
        lng = serializers.FloatField(required=False, allow_null=True)
        address = serializers.CharField(
            max_length=255,
            required=False,
            allow_blank=True,
            help_text="Used for the location when lat/lng are missing (community or grid name).",
        )
        caller_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
        caller_phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
        urgent = serializers.BooleanField(required=False, default=False)
        time_limit = serializers.CharField(
            max_length=8,
            required=False,
            allow_blank=True,
            help_text="e.g. 5wd (working days), 48h, 3d, 8wh; default the partner's (5wd).",
        )
        due_at = serializers.DateTimeField(
            required=False,
            allow_null=True,
            help_text="An explicit deadline (wins over time_limit).",
        )
        received_at = serializers.DateTimeField(
            required=False, allow_null=True, help_text="When the call was taken (default: now)."
        )
        police_reference = serializers.CharField(
            max_length=64, required=False, allow_blank=True, help_text="Required for 110."
        )

    @extend_schema_serializer(component_name="HotlineTicketReceived")
    class OutputSerializer(TicketOutput):
        created = serializers.BooleanField(help_text="False: the ticket was already received.")

    @extend_schema(
        operation_id="intake_hotline",
        summary="Receive a 12345 ticket or a 110 diversion",
        request=InputSerializer,
        parameters=SIGNATURE_HEADERS,
        responses={
            201: OutputSerializer,
            200: OpenApiResponse(OutputSerializer, description="Already received: the same"),
            **ERRORS,
        },
        tags=["integrations"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.hotline_ticket_receive(api_key=request.auth, **serializer.validated_data)
        body = {**ticket_output(result.ticket), "created": result.created}
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(self.OutputSerializer(body).data, status=code)


class HotlineTicketApi(PartnerApi):
    """The state of a ticket the partner sent (GET signs an empty body)."""

    required_scope = KeyScope.HOTLINE

    @extend_schema(
        operation_id="intake_hotline_ticket",
        summary="State of a hotline ticket",
        parameters=SIGNATURE_HEADERS,
        responses={200: TicketOutput, 404: OpenApiResponse(description="Not this partner's")},
        tags=["integrations"],
    )
    def get(self, request: Request, ticket_id: str) -> Response:
        ticket = selectors.partner_ticket_get(api_key=request.auth, ticket_id=ticket_id)
        return Response(TicketOutput(ticket_output(ticket)).data)


@extend_schema_serializer(component_name="WebhookSubscription")
class SubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    scope = serializers.ChoiceField(choices=WebhookSubscription.Scope.choices)
    region_code = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


def subscription_output(subscription: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "url": subscription.url,
        "scope": subscription.scope,
        "region_code": subscription.region.code if subscription.region_id else None,
        "active": subscription.active,
        "created_at": subscription.created_at or timezone.now(),
    }


class WebhookSubscriptionListCreateApi(PartnerApi):
    """The partner's status webhooks: list them, or subscribe a URL."""

    required_scope = KeyScope.WEBHOOKS

    @extend_schema_serializer(component_name="WebhookSubscriptionInput")
    class InputSerializer(serializers.Serializer):
        url = serializers.CharField(max_length=500)
        scope = serializers.ChoiceField(
            choices=WebhookSubscription.Scope.choices, default=WebhookSubscription.Scope.OWN
        )
        region_code = serializers.CharField(max_length=12, required=False, allow_blank=True)

    @extend_schema(
        operation_id="webhook_subscriptions_list",
        parameters=SIGNATURE_HEADERS,
        responses={200: SubscriptionOutput(many=True), **ERRORS},
        tags=["integrations"],
    )
    def get(self, request: Request) -> Response:
        rows = selectors.partner_subscriptions(api_key=request.auth)
        return Response(SubscriptionOutput([subscription_output(s) for s in rows], many=True).data)

    @extend_schema(
        operation_id="webhook_subscriptions_create",
        request=InputSerializer,
        parameters=SIGNATURE_HEADERS,
        responses={201: SubscriptionOutput, **ERRORS},
        tags=["integrations"],
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_create(
            api_key=request.auth, **serializer.validated_data
        )
        return Response(
            SubscriptionOutput(subscription_output(subscription)).data,
            status=status.HTTP_201_CREATED,
        )


class WebhookSubscriptionDeleteApi(PartnerApi):
    required_scope = KeyScope.WEBHOOKS

    @extend_schema(
        operation_id="webhook_subscriptions_delete",
        parameters=SIGNATURE_HEADERS,
        responses={204: None, 404: OpenApiResponse(description="Not this partner's")},
        tags=["integrations"],
    )
    def delete(self, request: Request, pk: int) -> Response:
        services.subscription_delete(api_key=request.auth, subscription_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


__all__ = [
    "HotlineIntakeApi",
    "HotlineTicketApi",
    "WebhookSubscriptionDeleteApi",
    "WebhookSubscriptionListCreateApi",
]
