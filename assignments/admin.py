"""Admin for the admin-editable lists of tasks from above: kinds and issuer grants. Tasks and
assignments are read in the admin only (they move through the services)."""

from django.contrib import admin

from assignments.models import Assignment, Campaign, IssuerGrant, TaskKind


@admin.register(TaskKind)
class TaskKindAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "code",
        "is_service_of_documents",
        "warn_hours",
        "escalate_hours",
        "active",
        "order",
    )
    list_editable = ("active", "order")
    search_fields = ("name", "code")


@admin.register(IssuerGrant)
class IssuerGrantAdmin(admin.ModelAdmin):
    list_display = ("user", "region", "office", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("user__username", "user__display_name", "office", "region__name")
    raw_id_fields = ("user", "region")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("title", "office", "region", "deadline")
    search_fields = ("title", "office")
    raw_id_fields = ("region", "created_by")


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    """Read only: the state moves through the services, with the timeline."""

    list_display = ("pk", "task", "cell", "worker", "state", "due_at", "escalation_level")
    list_filter = ("state",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
