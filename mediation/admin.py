"""Django admin for mediation: configuration is editable; cases are read-only here (they move
only through mediation.services, which keeps the timeline)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from mediation.models import (
    AgreementSignature,
    CaseParty,
    MediationAgreement,
    MediationCase,
    MediationEvent,
    MediationPolicy,
    MediationRoom,
    MediationSession,
    RoomMediator,
)


class RoomMediatorInline(admin.TabularInline):
    model = RoomMediator
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(MediationRoom)
class MediationRoomAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "room_type",
        "level",
        "region",
        "capacity_per_day",
        "gold_rated",
        "active",
        "sort_order",
    ]
    list_filter = ["room_type", "level", "active", "gold_rated"]
    list_editable = ["sort_order"]
    search_fields = ["name", "address", "region_code"]
    filter_horizontal = ["categories"]
    inlines = [RoomMediatorInline]

    def has_delete_permission(self, request, obj=None):
        # Deactivate instead: a room with cases can never be deleted (PROTECT) anyway.
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PartyInline(ReadOnlyInline):
    model = CaseParty
    fields = ["role", "name", "address"]


class SessionInline(ReadOnlyInline):
    model = MediationSession
    fields = ["starts_at", "ends_at", "place", "mediator", "state"]


class EventInline(ReadOnlyInline):
    model = MediationEvent
    fields = ["created_at", "actor", "action", "from_state", "to_state", "note"]


@admin.register(MediationCase)
class MediationCaseAdmin(ReadOnlyAdmin):
    list_display = ["case_number", "room", "state", "outcome", "source", "mediator", "created_at"]
    list_filter = ["state", "outcome", "source", "room"]
    search_fields = ["case_number"]
    inlines = [PartyInline, SessionInline, EventInline]


@admin.register(MediationAgreement)
class MediationAgreementAdmin(ReadOnlyAdmin):
    list_display = ["case", "form", "sealed_at", "effective_at"]


@admin.register(AgreementSignature)
class AgreementSignatureAdmin(MediationAgreementAdmin):
    list_display = ["agreement", "signer_name", "method", "signed_at", "recorded_by"]


@admin.register(MediationPolicy)
class MediationPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "settle_days",
        "max_extension_days",
        "settle_warning_days",
        "confirmation_warning_days",
        "follow_up_days",
    ]

    def has_add_permission(self, request):
        return not MediationPolicy.objects.exists()
