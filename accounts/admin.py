from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, SecurityPolicy, User, UserSession
from accounts.policy import separation_problem
from accounts.services import may_administer_security


class PortalUserChangeForm(UserChangeForm):
    def clean_roles(self):
        roles = self.cleaned_data.get("roles")
        if roles is not None:
            problem = separation_problem(role.code for role in roles)
            if problem:
                raise ValidationError(problem)
        return roles


# Fields that grant: only the security administrator (or the installation superuser) sets them.
GRANT_FIELDS = ("roles", "scope_region", "groups", "user_permissions", "is_staff", "is_superuser")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PortalUserChangeForm
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

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        user = request.user
        if user.is_superuser:
            return readonly
        # Separated administrators (accounts.policy): groups, permissions and superuser status
        # never (roles are the one way to grant); the security administrator sets roles and
        # scope on other accounts only, never on their own.
        readonly += ["groups", "user_permissions", "is_superuser", "is_staff"]
        if not may_administer_security(user) or (obj is not None and obj.pk == user.pk):
            readonly += ["roles", "scope_region"]
        return readonly


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ("code",)


@admin.register(SecurityPolicy)
class SecurityPolicyAdmin(admin.ModelAdmin):
    """One row, edited by the system administrator (accounts.policy)."""

    list_display = ("__str__", "max_sessions_per_staff", "two_factor_key_person_access")
    filter_horizontal = ("two_factor_roles",)

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and not SecurityPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin):
    list_display = ("user", "ip", "user_agent", "created_at", "last_seen_at")
    raw_id_fields = ("user",)
    exclude = ("session_key",)  # the credential itself: never shown

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# django-otp's own admin pages show a device's secret (its QR code page) and the recovery codes,
# and let anyone with the permission add or delete devices: replaced by read-only lists without
# secrets. Resets go through the security administrator's audited page.
for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "last_used_at")
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields
    list_filter = ("confirmed",)
    search_fields = ("user__username",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StaticDevice)
class RecoveryCodesAdmin(TOTPDeviceAdmin):
    """The recovery-code devices, without their codes."""
