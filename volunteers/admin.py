from django.contrib import admin

from volunteers.models import (
    DutyPost,
    PatrolTask,
    PointEntry,
    PointRule,
    ServiceRecord,
    Team,
    TeamKind,
    Volunteer,
)


@admin.register(TeamKind)
class TeamKindAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "sort_order", "active")
    list_editable = ("sort_order", "active")


@admin.register(PointRule)
class PointRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "points", "active")
    list_editable = ("points", "active")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "region", "leader", "on_duty")
    list_filter = ("kind", "on_duty")
    raw_id_fields = ("region", "leader")
    filter_horizontal = ("cells",)


@admin.register(DutyPost)
class DutyPostAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "region", "shift_start", "shift_end", "places", "active")
    raw_id_fields = ("region", "posted_by")


@admin.register(Volunteer)
class VolunteerAdmin(admin.ModelAdmin):
    """Read-only: applications are decided on the community's pages (with their timeline)."""

    list_display = ("real_name", "number", "community", "state")
    list_filter = ("state",)
    exclude = ("id_number",)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(PatrolTask)
class PatrolTaskAdmin(admin.ModelAdmin):
    list_display = ("title", "level", "region", "starts_at", "places", "taken", "state")
    list_filter = ("level", "state")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class _AppendOnly(admin.ModelAdmin):
    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(ServiceRecord)
class ServiceRecordAdmin(_AppendOnly):
    list_display = ("volunteer", "content", "started_at", "hours", "confirmed_at")


@admin.register(PointEntry)
class PointEntryAdmin(_AppendOnly):
    list_display = ("volunteer", "kind", "points", "reason", "created_at")
