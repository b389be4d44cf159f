"""Admin: categories and their time limits are edited here; incidents are read-only (every move
goes through incidents.services, so the timeline stays complete)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin
from core.calendar import LIMIT_PATTERN
from incidents.models import (
    Category,
    Incident,
    IncidentEvent,
    IncidentPhoto,
    IncidentPolicy,
    PatrolLog,
)

LIMIT_HELP = _("Use a number and a unit: m, h, d, wh (working hours) or wd (working days).")


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = [
            "code",
            "parent",
            "name",
            "name_en",
            "handled_at",
            "department",
            "is_dispute",
            "urgent",
            "internal_only",
            "publish_open311",
            "follow_radius_m",
            "publish_results",
            "verify_within",
            "dispatch_within",
            "resolve_within",
            "active",
        ]

    def clean(self):
        cleaned = super().clean()
        for field in ("verify_within", "dispatch_within", "resolve_within"):
            value = (cleaned.get(field) or "").strip()
            cleaned[field] = value
            if value and not LIMIT_PATTERN.match(value):
                self.add_error(field, LIMIT_HELP)
        if cleaned.get("publish_open311") and (
            cleaned.get("is_dispute") or cleaned.get("internal_only")
        ):
            self.add_error(
                "publish_open311",
                _("Disputes and internal-only categories are never published on Open311."),
            )
        private = cleaned.get("is_dispute") or cleaned.get("internal_only")
        if private and cleaned.get("follow_radius_m"):
            self.add_error(
                "follow_radius_m",
                _("Disputes and internal-only categories are never offered to follow."),
            )
        if private and cleaned.get("publish_results"):
            self.add_error(
                "publish_results",
                _("Disputes and internal-only categories are never published."),
            )
        parent = cleaned.get("parent")
        if parent is not None and parent.parent_id is not None:
            self.add_error("parent", _("Categories have two levels: choose a large class."))
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = [
        "code",
        "name",
        "parent",
        "handled_at",
        "department",
        "is_dispute",
        "urgent",
        "internal_only",
        "publish_open311",
        "verify_within",
        "dispatch_within",
        "resolve_within",
        "active",
    ]
    list_editable = [
        "publish_open311",
        "verify_within",
        "dispatch_within",
        "resolve_within",
        "active",
    ]
    list_filter = [
        "handled_at",
        "is_dispute",
        "urgent",
        "internal_only",
        "publish_open311",
        "active",
        "parent",
    ]
    search_fields = ["code", "name", "name_en", "department"]
    ordering = ["code"]


class IncidentPolicyForm(forms.ModelForm):
    class Meta:
        model = IncidentPolicy
        fields = [*IncidentPolicy.LIMIT_FIELDS, "follow_within_days"]

    def clean(self):
        cleaned = super().clean()
        for field in IncidentPolicy.LIMIT_FIELDS:
            value = (cleaned.get(field) or "").strip()
            cleaned[field] = value
            if not LIMIT_PATTERN.match(value):
                self.add_error(field, LIMIT_HELP)
        return cleaned


@admin.register(IncidentPolicy)
class IncidentPolicyAdmin(admin.ModelAdmin):
    """One row (IncidentPolicy.current()): local practice of the loop's time limits."""

    form = IncidentPolicyForm
    list_display = list(IncidentPolicy.LIMIT_FIELDS)

    def has_add_permission(self, request):
        return not IncidentPolicy.objects.exists()


class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "from_state", "to_state", "note", "public"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class IncidentPhotoInline(admin.TabularInline):
    model = IncidentPhoto
    extra = 0
    can_delete = False
    fields = ["image", "thumbnail", "event", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Read-only: moves happen through the services (API and pages)."""

    list_display = [
        "tracking_number",
        "category",
        "state",
        "urgent",
        "region_code",
        "handling_level",
        "assignee",
        "due_at",
        "created_at",
    ]
    list_filter = ["state", "urgent", "channel", "handling_level", "parked", "category__parent"]
    search_fields = ["tracking_number", "description", "address", "region_code"]
    date_hierarchy = "created_at"
    list_select_related = ["category", "assignee"]
    inlines = [IncidentEventInline, IncidentPhotoInline]
    # PIPL: the reporter's phone is shown (masked, audited) on the incident page, not here.
    exclude = ["reporter_phone"]


@admin.register(PatrolLog)
class PatrolLogAdmin(admin.ModelAdmin):
    """Read-only: patrols are written by the grid workers' pages and API."""

    list_display = ["worker", "started_at", "ended_at", "distance_m", "region_code"]
    list_filter = ["started_at"]
    search_fields = ["worker__username", "worker__display_name", "region_code", "notes"]
    list_select_related = ["worker"]
    readonly_fields = ["worker", "started_at", "ended_at", "region_code", "track", "distance_m"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
