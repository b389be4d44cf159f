"""Admin: the kinds, the risk checklist, the rules and the colour policies are configuration;
disputes and reports are read-only here (every write goes through screening.services) and
parties stay masked."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from screening.models import (
    Dispute,
    DisputeEvent,
    DisputeKind,
    DisputeParty,
    LevelPolicy,
    RiskFactor,
    RiskRule,
    ScreeningReport,
)


@admin.register(DisputeKind)
class DisputeKindAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "mediation_category_code", "active", "sort_order"]
    list_editable = ["active", "sort_order"]
    search_fields = ["code", "name", "name_en"]


@admin.register(RiskFactor)
class RiskFactorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "active", "sort_order"]
    list_editable = ["active", "sort_order"]
    search_fields = ["code", "name", "name_en"]


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    """Factor → colour: a rule matches when all its factors are ticked and at least
    `min_factors` are; the most serious matching colour wins (blue when none)."""

    list_display = ["name", "level", "min_factors", "active", "sort_order"]
    list_editable = ["active", "sort_order"]
    list_filter = ["level", "active"]
    filter_horizontal = ["factors"]


@admin.register(LevelPolicy)
class LevelPolicyAdmin(admin.ModelAdmin):
    list_display = ["level", "follow_up_days", "alerts", "visit_days"]
    list_editable = ["follow_up_days", "alerts", "visit_days"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class PartyInline(ReadOnlyInline):
    model = DisputeParty
    fields = ["side", "masked_name", "masked_phone", "vulnerable"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = DisputeEvent
    fields = ["created_at", "actor", "action", "from_state", "to_state", "note"]
    readonly_fields = fields


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ["number", "kind", "region", "level", "state", "follow_up_due_at", "overdue"]
    list_filter = ["state", "level", "overdue", "kind", "source"]
    search_fields = ["number"]
    date_hierarchy = "registered_at"
    inlines = [PartyInline, EventInline]
    list_select_related = ["kind", "region"]
    exclude = ["story", "place"]


@admin.register(ScreeningReport)
class ScreeningReportAdmin(ReadOnlyAdmin):
    list_display = ["region", "month", "state", "zero_report", "disputes_found", "reported_at"]
    list_filter = ["state", "zero_report", "month"]
