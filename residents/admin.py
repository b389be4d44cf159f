"""Admin: SMS codes and residents' consents are read-only records (codes show no secret: only
their salted hash is kept, and the pending column is blank once sent)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from residents.models import PhoneCode, ResidentProfile


@admin.register(PhoneCode)
class PhoneCodeAdmin(ReadOnlyAdmin):
    list_display = ["id", "purpose", "created_at", "expires_at", "attempts", "used_at", "sent_at"]
    list_filter = ["purpose"]
    exclude = ["code_hash", "code_pending", "phone"]


@admin.register(ResidentProfile)
class ResidentProfileAdmin(ReadOnlyAdmin):
    list_display = ["user", "privacy_notice_version", "privacy_accepted_at", "closed_at"]
