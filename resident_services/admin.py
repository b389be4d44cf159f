"""Admin: the catalogue (groups, items), providers and the settings are the admins' to edit;
requests, their timeline and bookings are read-only here (every write goes through services)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from resident_services.models import (
    ConsultationBooking,
    ConsultationHours,
    ServiceGroup,
    ServiceItem,
    ServicePolicy,
    ServiceProvider,
    ServiceRequest,
    ServiceRequestEvent,
)


@admin.register(ServiceGroup)
class ServiceGroupAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(ServiceItem)
class ServiceItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "group", "handler_kind", "time_limit_days", "reach", "active"]
    list_filter = ["group", "handler_kind", "reach", "active"]
    list_editable = ["active"]
    search_fields = ["code", "name"]


@admin.register(ServiceProvider)
class ServiceProviderAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "title"]
    list_filter = ["kind"]
    raw_id_fields = ["user"]


@admin.register(ServicePolicy)
class ServicePolicyAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "cancel_hours_before",
        "cancellations_per_30_days",
        "warn_hours_before_due",
        "escalate_after_working_days",
        "booking_days_ahead",
    ]


@admin.register(ConsultationHours)
class ConsultationHoursAdmin(admin.ModelAdmin):
    list_display = ["provider", "community", "weekday", "start", "end", "slot_minutes", "active"]
    list_filter = ["weekday", "active"]
    raw_id_fields = ["provider", "community"]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ReadOnlyAdmin):
    list_display = ["number", "item", "community", "state", "due_at", "overdue", "rating"]
    list_filter = ["state", "overdue", "item__group"]
    search_fields = ["number"]
    exclude = ["resident"]


@admin.register(ServiceRequestEvent)
class ServiceRequestEventAdmin(ReadOnlyAdmin):
    list_display = ["request", "action", "from_state", "to_state", "created_at"]


@admin.register(ConsultationBooking)
class ConsultationBookingAdmin(ReadOnlyAdmin):
    list_display = ["provider", "community", "starts_at", "state", "reminded_at"]
    list_filter = ["state"]
    exclude = ["resident"]
