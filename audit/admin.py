from django.contrib import admin

from audit.models import AnonymisedRecord, AuditChainCheck, AuditEvent
from core.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "kind", "actor_label", "ip", "object_type", "object_id", "path")
    list_filter = ("kind", "object_type", "created_at")
    search_fields = ("actor_label", "object_id", "ip")
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False
    fields = (
        "created_at",
        "kind",
        "actor_id",
        "actor_label",
        "ip",
        "object_type",
        "object_id",
        "path",
        "details",
    )
    readonly_fields = fields


@admin.register(AnonymisedRecord)
class AnonymisedRecordAdmin(ReadOnlyAdmin):
    list_display = ("object_type", "object_id", "anonymised_at")
    list_filter = ("object_type",)


@admin.register(AuditChainCheck)
class AuditChainCheckAdmin(ReadOnlyAdmin):
    list_display = ("checked_at", "ok", "rows_checked", "rows_sealed", "algorithm")
    list_filter = ("ok",)
