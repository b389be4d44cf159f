"""One endpoint per move of the loop (the move itself: incidents.moves.PERFORM)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from grids.models import Region
from incidents import moves
from incidents.apis._common import ERRORS, TAGS, PhotosField, _detail
from incidents.models import Action, Category, HandlingLevel
from incidents.serializers import IncidentDetailSerializer

# --- one endpoint per move --------------------------------------------------------------------


class IncidentNoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class IncidentReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)


class IncidentReasonPhotosInput(IncidentReasonInput):
    photos = PhotosField()


class IncidentVerifyInput(IncidentNoteInput):
    category = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Category.objects.filter(active=True, parent__isnull=False),
        required=False,
    )
    photos = PhotosField()


class IncidentNotePhotosInput(IncidentNoteInput):
    photos = PhotosField()


class IncidentResolveInput(serializers.Serializer):
    result = serializers.CharField(max_length=2000)
    photos = PhotosField()


class IncidentFixOnSpotInput(IncidentResolveInput):
    photos = PhotosField(required=True, min_length=1)


class IncidentAssignVerifierInput(IncidentNoteInput):
    verifier = serializers.IntegerField()


class IncidentTargetInput(IncidentNoteInput):
    assignee = serializers.IntegerField(required=False, allow_null=True)
    level = serializers.ChoiceField(choices=HandlingLevel.choices, required=False)
    region = serializers.CharField(required=False, allow_blank=True, max_length=12)
    department = serializers.CharField(required=False, allow_blank=True, max_length=64)
    to_pool = serializers.BooleanField(required=False, default=False)

    def validate_region(self, value: str) -> int | None:
        if not value:
            return None
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise serializers.ValidationError(_("Unknown region code."))
        return region.pk


class IncidentExtensionInput(IncidentReasonInput):
    until = serializers.DateTimeField()


class IncidentUnparkInput(IncidentNoteInput):
    resolve_by = serializers.DateTimeField(required=False, allow_null=True)


class IncidentRateInput(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000)


# url segment -> (the move, its input serializer, summary); the move: incidents.moves.PERFORM
MOVES: dict[str, tuple[Action, type[serializers.Serializer], str]] = {
    "assign-verifier": (
        Action.ASSIGN_VERIFIER,
        IncidentAssignVerifierInput,
        "Name who verifies the incident on site.",
    ),
    "verify": (
        Action.VERIFY,
        IncidentVerifyInput,
        "Confirm the matter on site (may correct the category).",
    ),
    "invalid": (
        Action.MARK_INVALID,
        IncidentReasonInput,
        "Cancel a report that does not qualify, with a reason.",
    ),
    "dispatch": (
        Action.DISPATCH,
        IncidentTargetInput,
        "Send to a person, a unit (level, region code, department) or the claim pool.",
    ),
    "claim": (
        Action.CLAIM,
        IncidentNoteInput,
        "Take the incident from the claim pool (one claimer wins).",
    ),
    "accept": (Action.ACCEPT, IncidentNoteInput, "Accept the task."),
    "return": (
        Action.RETURN,
        IncidentReasonInput,
        "Return a wrongly routed task, with the reason.",
    ),
    "reassign": (
        Action.REASSIGN,
        IncidentTargetInput,
        "Move the task to another person, unit or the claim pool.",
    ),
    "escalate": (Action.ESCALATE, IncidentReasonInput, "Escalate one level up."),
    "request-extension": (
        Action.REQUEST_EXTENSION,
        IncidentExtensionInput,
        "Ask for a later resolve deadline, with the reason.",
    ),
    "approve-extension": (
        Action.APPROVE_EXTENSION,
        IncidentNoteInput,
        "Grant the requested extension.",
    ),
    "reject-extension": (
        Action.REJECT_EXTENSION,
        IncidentReasonInput,
        "Refuse the requested extension.",
    ),
    "park": (Action.PARK, IncidentReasonInput, "Park (挂账) with a written explanation."),
    "unpark": (
        Action.UNPARK,
        IncidentUnparkInput,
        "Take a parked incident up again with a new deadline.",
    ),
    "resolve": (Action.RESOLVE, IncidentResolveInput, "Report the result with evidence photos."),
    "check": (Action.CHECK, IncidentNotePhotosInput, "Confirm the result on site."),
    "rework": (Action.REWORK, IncidentReasonPhotosInput, "Not fixed: send it back to the handler."),
    "send-feedback": (
        Action.SEND_FEEDBACK,
        IncidentNoteInput,
        "Send the result to the reporter now.",
    ),
    "rate": (Action.RATE, IncidentRateInput, "Rate the result (the reporter): 1–5 stars."),
    "reopen": (Action.REOPEN, IncidentNoteInput, "Reopen a rated incident."),
    "close": (Action.CLOSE, IncidentNoteInput, "Close a rated incident."),
    "fix-on-spot": (
        Action.FIX_ON_SPOT,
        IncidentFixOnSpotInput,
        "随手办 on an incident being verified: verified and resolved in one step.",
    ),
}


def _move_api(segment: str) -> type[APIView]:
    action, input_serializer, summary = MOVES[segment]

    class MoveApi(APIView):
        parser_classes = [JSONParser, MultiPartParser, FormParser]

        @extend_schema(
            tags=TAGS,
            summary=summary,
            operation_id=f"incidents_{segment.replace('-', '_')}",
            request={
                "application/json": input_serializer,
                "multipart/form-data": input_serializer,
            },
            responses={200: IncidentDetailSerializer, **ERRORS},
        )
        def post(self, request: Request, pk: int) -> Response:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            incident = moves.PERFORM[action](request.user, pk, serializer.validated_data)
            return _detail(request, incident)

    name = "".join(part.capitalize() for part in segment.split("-"))
    MoveApi.__name__ = MoveApi.__qualname__ = f"Incident{name}Api"
    MoveApi.__doc__ = summary
    return MoveApi


MOVE_APIS: dict[str, type[APIView]] = {segment: _move_api(segment) for segment in MOVES}
