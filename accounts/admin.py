from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "masked_phone", "scope_region", "is_active")
    list_filter = ("roles", "is_active", "is_staff")
    search_fields = ("username", "display_name", "phone")
    autocomplete_fields = ("scope_region",)
    filter_horizontal = ("roles", "groups", "user_permissions")
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Portal"), {"fields": ("phone", "display_name", "roles", "scope_region", "department")}),
    )

    @admin.display(description=_("mobile phone"))
    def masked_phone(self, obj: User) -> str:
        return obj.masked_phone


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code",)
