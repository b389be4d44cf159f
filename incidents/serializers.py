"""Output serializers of the incidents API (inputs live beside each API class in apis.py).

Personal data: the reporter's phone is masked unless the viewer reported it or holds a role that
sees contacts (accounts.models.ROLES_SEEING_CONTACTS); residents do not see staff names.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import ROLES_SEEING_CONTACTS
from audit.services import record_unmasked
from core import api
from core.masking import mask_phone
from incidents.models import Action, Category, Incident, IncidentEvent, IncidentState

# The error body of every API (core.api); imported here by the incidents APIs.
ErrorSerializer = api.ErrorSerializer


class IncidentCreatedSerializer(serializers.Serializer):
    """The answer to a report (POST /api/v1/incidents): what the reporter needs to find it
    again; the full detail (timeline, actions ...) is one GET of `url` away. Nothing here
    depends on the caller's scope, so it costs no query."""

    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    state = serializers.ChoiceField(choices=IncidentState.choices)
    channel = serializers.CharField()
    created_at = serializers.DateTimeField()
    url = serializers.SerializerMethodField(help_text="The API detail: GET it for the rest.")
    web_url = serializers.SerializerMethodField(help_text="The incident's page in the portal.")
    access_code = serializers.SerializerMethodField(
        help_text=(
            "The tracking access code (查询码), given only in this answer (empty when a repeated "
            "external_id returns the incident already filed). With the tracking number it "
            "unlocks POST /api/v1/incidents/track."
        )
    )

    def get_url(self, incident: Incident) -> str:
        return reverse("api-incident-detail", args=[incident.pk])

    def get_web_url(self, incident: Incident) -> str:
        return reverse("incidents:detail", args=[incident.pk])

    def get_access_code(self, incident: Incident) -> str:
        return str(getattr(incident, "access_code", ""))


_CREATED_AT = serializers.DateTimeField()


def incident_created_data(incident: Incident) -> dict:
    """What IncidentCreatedSerializer writes, field for field, without building a serializer
    (its fields are deep-copied per instance: a tenth of a report's time in the view). The
    serializer stays the documented schema; a test compares the two."""
    return {
        "id": int(incident.pk),
        "tracking_number": str(incident.tracking_number),
        "state": str(incident.state),
        "channel": str(incident.channel),
        "created_at": _CREATED_AT.to_representation(incident.created_at),
        "url": reverse("api-incident-detail", args=[incident.pk]),
        "web_url": reverse("incidents:detail", args=[incident.pk]),
        "access_code": str(getattr(incident, "access_code", "")),
    }


class CategorySerializer(serializers.ModelSerializer):
    parent = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    display_name = serializers.CharField(read_only=True)

    class Meta:
        model = Category
        fields = [
            "id",
            "code",
            "parent",
            "name",
            "name_en",
            "display_name",
            "handled_at",
            "department",
            "is_dispute",
            "urgent",
            "internal_only",
            "verify_within",
            "dispatch_within",
            "resolve_within",
        ]


class PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PhotoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    thumbnail_url = serializers.CharField()


def _person(user) -> dict | None:
    return {"id": user.pk, "name": str(user)} if user is not None else None


def _photos(photos) -> list[dict]:
    # Scoped URLs (incidents.views.photo checks the viewer): never the media file's own URL.
    return [
        {
            "id": photo.pk,
            "url": reverse("incidents:photo", args=[photo.pk]),
            "thumbnail_url": reverse("incidents:photo_thumb", args=[photo.pk]),
        }
        for photo in photos
    ]


class IncidentListSerializer(serializers.ModelSerializer):
    """One row of a list: no personal data beyond the tracking number."""

    category = serializers.SerializerMethodField()
    state_label = serializers.SerializerMethodField()
    grid_cell = serializers.SerializerMethodField()
    community = serializers.SerializerMethodField()
    handling_region = serializers.SerializerMethodField()
    assignee = serializers.SerializerMethodField()
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = [
            "id",
            "tracking_number",
            "category",
            "description",
            "state",
            "state_label",
            "urgent",
            "channel",
            "address",
            "lat",
            "lng",
            "grid_cell",
            "community",
            "region_code",
            "handling_level",
            "handling_region",
            "handling_department",
            "assignee",
            "claimable",
            "parked",
            "extension_requested",
            "escalation_level",
            "reopen_count",
            "due_at",
            "overdue",
            "created_at",
        ]

    def _staff(self) -> bool:
        return bool(self.context.get("staff"))

    @extend_schema_field(
        {"type": "object", "properties": {"code": {"type": "string"}, "name": {"type": "string"}}}
    )
    def get_category(self, obj: Incident) -> dict:
        return {"code": obj.category.code, "name": obj.category.display_name}

    def get_state_label(self, obj: Incident) -> str:
        return str(IncidentState(obj.state).label)

    def get_grid_cell(self, obj: Incident) -> str | None:
        return obj.grid_cell.code if obj.grid_cell_id else None

    def get_community(self, obj: Incident) -> str | None:
        return obj.region.name if obj.region_id else None

    def get_handling_region(self, obj: Incident) -> str | None:
        return obj.handling_region.name if obj.handling_region_id else None

    @staticmethod
    def _person_field(serializer, user) -> dict | None:
        return _person(user) if serializer._staff() else None

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_assignee(self, obj: Incident) -> dict | None:
        return self._person_field(self, obj.assignee)

    def get_overdue(self, obj: Incident) -> bool:
        return bool(obj.due_at and obj.is_open and obj.due_at < timezone.now())


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    action_label = serializers.SerializerMethodField()
    photos = serializers.SerializerMethodField()

    class Meta:
        model = IncidentEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "action",
            "action_label",
            "from_state",
            "to_state",
            "note",
            "public",
            "photos",
        ]

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_actor(self, obj: IncidentEvent) -> dict | None:
        if obj.actor_id is None:
            return {"id": 0, "name": "system"} if self.context.get("staff") else None
        return _person(obj.actor) if self.context.get("staff") else None

    def get_action_label(self, obj: IncidentEvent) -> str:
        return str(Action(obj.action).label) if obj.action in Action.values else obj.action

    @extend_schema_field(PhotoSerializer(many=True))
    def get_photos(self, obj: IncidentEvent) -> list[dict]:
        return _photos(obj.photos.all())


class IncidentDetailSerializer(IncidentListSerializer):
    reporter_name = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()
    verifier = serializers.SerializerMethodField()
    checker = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()

    class Meta(IncidentListSerializer.Meta):
        fields = [
            *IncidentListSerializer.Meta.fields,
            "reporter_name",
            "reporter_phone",
            "verifier",
            "checker",
            "check_required",
            "verify_due_at",
            "dispatch_due_at",
            "resolve_due_at",
            "check_due_at",
            "rate_due_at",
            "verified_at",
            "dispatched_at",
            "accepted_at",
            "resolved_at",
            "checked_at",
            "feedback_at",
            "closed_at",
            "result",
            "rating",
            "rating_comment",
            "rated_at",
            "invalid_reason",
            "parked_reason",
            "extension_requested_until",
            "extension_reason",
            "extension_count",
            "rework_count",
            "return_count",
            "mediation_case_id",
            "mediation_room_name",
            "timeline",
            "actions",
        ]

    def get_reporter_name(self, obj: Incident) -> str:
        return obj.reporter_name

    def get_reporter_phone(self, obj: Incident) -> str:
        phone = obj.reporter_phone or (obj.reporter.phone if obj.reporter_id else "") or ""
        viewer = self.context.get("user")
        sees = viewer is not None and (
            viewer.pk == obj.reporter_id
            or viewer.is_superuser
            or bool(viewer.role_codes & ROLES_SEEING_CONTACTS)
        )
        if sees and phone and viewer.pk != obj.reporter_id:
            record_unmasked(viewer, obj, ["reporter_phone"])  # PIPL audit trail
        return phone if sees else mask_phone(phone)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_verifier(self, obj: Incident) -> dict | None:
        return self._person_field(self, obj.verifier)

    @extend_schema_field(PersonSerializer(allow_null=True))
    def get_checker(self, obj: Incident) -> dict | None:
        return self._person_field(self, obj.checker)

    @extend_schema_field(EventSerializer(many=True))
    def get_timeline(self, obj: Incident) -> list[dict]:
        events = self.context.get("timeline")
        if events is None:
            return []
        return EventSerializer(events, many=True, context=self.context).data

    def get_actions(self, obj: Incident) -> list[str]:
        return list(self.context.get("actions", []))


class TrackEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    action = serializers.CharField()
    action_label = serializers.CharField()
    to_state = serializers.CharField()
    to_state_label = serializers.CharField()
    note = serializers.CharField()


class TrackSerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    category = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    reported_at = serializers.DateTimeField()
    address = serializers.CharField()
    result = serializers.CharField()
    rating = serializers.IntegerField(allow_null=True)
    can_rate = serializers.BooleanField()
    rate_due_at = serializers.DateTimeField(allow_null=True)
    events = TrackEventSerializer(many=True)


class WorkloadSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    name = serializers.CharField()
    on_duty = serializers.BooleanField()
    cells = serializers.ListField(child=serializers.CharField())
    to_verify = serializers.IntegerField()
    assigned = serializers.IntegerField()
    to_check = serializers.IntegerField()
    overdue = serializers.IntegerField()
    total = serializers.IntegerField()


def queue_rows_data(rows: list, *, staff: bool) -> list[dict]:
    """The queue API's rows (incidents.selectors.QueueRow) as IncidentListSerializer writes an
    incident, field for field, without a serializer field per value (50 rows × 26 fields)."""
    moment = serializers.DateTimeField().to_representation
    data = []
    for row in rows:
        assignee = row.assignee if staff else None
        data.append(
            {
                "id": row.pk,
                "tracking_number": row.tracking_number,
                "category": {"code": row.category.code, "name": row.category.display_name},
                "description": row.description,
                "state": row.state,
                "state_label": row.get_state_display(),
                "urgent": row.urgent,
                "channel": row.channel,
                "address": row.address,
                "lat": row.lat,
                "lng": row.lng,
                "grid_cell": row.grid_cell.code if row.grid_cell is not None else None,
                "community": row.region.name if row.region is not None else None,
                "region_code": row.region_code,
                "handling_level": row.handling_level,
                "handling_region": row.handling_region.name
                if row.handling_region is not None
                else None,
                "handling_department": row.handling_department,
                "assignee": {"id": assignee.id, "name": assignee.name}
                if assignee is not None
                else None,
                "claimable": row.claimable,
                "parked": row.parked,
                "extension_requested": row.extension_requested,
                "escalation_level": row.escalation_level,
                "reopen_count": row.reopen_count,
                "due_at": moment(row.due_at) if row.due_at is not None else None,
                "overdue": row.past_due,
                "created_at": moment(row.created_at) if row.created_at is not None else None,
            }
        )
    return data
