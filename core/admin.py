from django.contrib import admin

from core.models import CalendarDay, Notification, OfficeHours, SmsMessage, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the admin shows but never adds, edits or deletes: they change only through the
    services (state machines, the audit log, merges)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"


@admin.register(OfficeHours)
class OfficeHoursAdmin(admin.ModelAdmin):
    """One row: the office hours limits in working hours count (core.calendar)."""

    list_display = ("__str__", "morning_start", "morning_end", "afternoon_start", "afternoon_end")

    def has_add_permission(self, request) -> bool:
        return not OfficeHours.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # edit the row; without one the defaults apply


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ("hostname", "seen_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("title", "user", "created_at", "read_at")
    raw_id_fields = ("user",)


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ("pk", "status", "attempts", "created_at", "sent_at")
    list_filter = ("status",)
    exclude = ("phone",)
