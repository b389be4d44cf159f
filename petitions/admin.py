"""Admin: categories are configuration; petitions are read-only here (every write goes through
petitions.services) and ID numbers stay masked."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from petitions.models import (
    Petition,
    PetitionCategory,
    Petitioner,
    PetitionEvent,
    PetitionMerge,
    PetitionOpinion,
    PetitionPolicy,
)


@admin.register(PetitionCategory)
class PetitionCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "active"]
    list_editable = ["active"]
    search_fields = ["code", "name", "name_en"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PetitionerInline(ReadOnlyInline):
    model = Petitioner
    fields = ["name", "masked_id_number", "masked_phone", "address", "is_representative"]
    readonly_fields = fields


class OpinionInline(ReadOnlyInline):
    model = PetitionOpinion
    fields = ["kind", "outcome", "unit", "issued_by", "issued_at"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = PetitionEvent
    fields = ["created_at", "actor", "action", "from_state", "to_state", "note", "public"]
    readonly_fields = fields


@admin.register(Petition)
class PetitionAdmin(ReadOnlyAdmin):
    list_display = [
        "tracking_number",
        "matter",
        "channel",
        "kind",
        "category",
        "region",
        "state",
        "due_at",
        "overdue",
        "backlog",
        "repeat_count",
    ]
    list_filter = ["state", "channel", "kind", "level", "overdue", "backlog", "category"]
    search_fields = ["tracking_number", "matter"]
    date_hierarchy = "received_at"
    inlines = [PetitionerInline, OpinionInline, EventInline]
    list_select_related = ["category", "region"]


@admin.register(PetitionMerge)
class PetitionMergeAdmin(admin.ModelAdmin):
    list_display = ["primary", "duplicate", "score", "matched_by", "created_at", "undone_at"]
    readonly_fields = [f.name for f in PetitionMerge._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PetitionPolicy)
class PetitionPolicyAdmin(admin.ModelAdmin):
    """Local practice (one row): warning days, backlog threshold, repeat thresholds."""

    list_display = [
        "warn_days",
        "backlog_repeats",
        "match_same_region",
        "match_same_category",
        "match_any_category",
    ]

    def has_add_permission(self, request) -> bool:
        return not PetitionPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
