"""Admin of registry: the admin-editable lists (tags, key-person kinds with their visit plans
and access grants, designated staff). Records of people are edited on the pages (scoped,
masked, with history), not here."""

from django.contrib import admin

from registry.models import DesignatedStaff, KeyPersonGrant, KeyPersonKind, PersonTag, VisitPlan


@admin.register(PersonTag)
class PersonTagAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "active", "sort_order")
    list_editable = ("active", "sort_order")


class VisitPlanInline(admin.TabularInline):
    model = VisitPlan
    extra = 0


class KeyPersonGrantInline(admin.TabularInline):
    model = KeyPersonGrant
    extra = 0


@admin.register(KeyPersonKind)
class KeyPersonKindAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "max_risk_level", "active", "sort_order")
    inlines = [VisitPlanInline, KeyPersonGrantInline]


@admin.register(DesignatedStaff)
class DesignatedStaffAdmin(admin.ModelAdmin):
    list_display = ("community", "user", "kind")
    list_filter = ("kind",)
    raw_id_fields = ("user", "community")
