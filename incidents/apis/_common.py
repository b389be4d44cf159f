"""What the incident API's endpoints share: tags, error answers, the detail answer."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from incidents import selectors
from incidents.models import Incident
from incidents.photos import MAX_PHOTOS
from incidents.serializers import ErrorSerializer, IncidentDetailSerializer

TAGS = ["incidents"]
ERRORS = {
    400: ErrorSerializer,
    401: ErrorSerializer,
    403: ErrorSerializer,
    404: ErrorSerializer,
    409: ErrorSerializer,
}


def _context(request: Request, **extra: Any) -> dict:
    return {
        "request": request,
        "user": request.user,
        "staff": selectors.is_staff_viewer(request.user),
        **extra,
    }


def _detail(request: Request, incident: Incident) -> Response:
    """The incident as the caller may see it (after a move the caller may no longer see it:
    then only the id, the tracking number and the new state)."""
    user = request.user
    if not selectors.incident_is_visible(user, incident):
        return Response(
            {
                "id": incident.pk,
                "tracking_number": incident.tracking_number,
                "state": incident.state,
            }
        )
    incident = selectors.incident_get_for_user(user=user, incident_id=incident.pk)
    context = _context(
        request,
        staff=selectors.sees_as_staff(user, incident),
        timeline=selectors.incident_timeline_for(user, incident),
        actions=selectors.incident_actions_for(user, incident),
    )
    return Response(IncidentDetailSerializer(incident, context=context).data)


class PhotosField(serializers.ListField):
    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.FileField(allow_empty_file=False))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", MAX_PHOTOS)
        super().__init__(**kwargs)
