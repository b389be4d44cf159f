"""Admin: the admin-editable lists (proposal categories, participant kinds) and the policy
(thresholds, time limits). The workflow records are read here, changed only through services."""

from django.contrib import admin

from deliberation.models import DeliberationPolicy, ParticipantKind, ProposalCategory


@admin.register(ProposalCategory)
class ProposalCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "order", "active")
    list_editable = ("order", "active")


@admin.register(ParticipantKind)
class ParticipantKindAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "order", "active")
    list_editable = ("order", "active")


@admin.register(DeliberationPolicy)
class DeliberationPolicyAdmin(admin.ModelAdmin):
    list_display = ("support_threshold", "review_days", "review_warn_days", "notice_days")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def]
        return not DeliberationPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:  # type: ignore[no-untyped-def]
        return False
