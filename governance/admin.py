"""Admin of supervision: exports (the audit trail of who exported what) and the KPI refresh
mark. The facts themselves are derived data: read-only."""

from django.contrib import admin

from governance.models import ExportJob, FactWatermark, IncidentFact


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "fmt", "status", "row_count", "inline", "created_at"]
    list_filter = ["kind", "fmt", "status", "inline"]
    search_fields = ["user__username"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ExportJob._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(FactWatermark)
class FactWatermarkAdmin(admin.ModelAdmin):
    list_display = ["name", "value", "full_rebuild_at"]
    readonly_fields = ["name", "value", "full_rebuild_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(IncidentFact)
class IncidentFactAdmin(admin.ModelAdmin):
    list_display = [
        "incident",
        "region_code",
        "state",
        "reported_at",
        "closed_at",
        "closed_on_time",
    ]
    list_filter = ["state", "urgent", "closed_on_time", "dispatched_on_time"]
    search_fields = ["incident__tracking_number", "region_code"]
    list_select_related = ["incident"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
