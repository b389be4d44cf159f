from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend
from django.db.models import Q

from accounts.models import RoleCode


def _user_for_identifier(identifier: str):
    user_model = get_user_model()
    return user_model.objects.filter(Q(username=identifier) | Q(phone=identifier)).first()


class PhoneOrUsernameBackend(ModelBackend):
    """Sign in with the username or the mobile phone number."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user = _user_for_identifier(username.strip())
        if user is None:
            get_user_model()().set_password(password)  # same cost as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def user_can_authenticate(self, user) -> bool:
        """A superuser exists for installation only: refused at sign-in in production unless
        SUPERUSER_SIGN_IN_ALLOWED (docs/security.md)."""
        if user is not None and user.is_superuser and not superuser_sign_in_allowed():
            return False
        return super().user_can_authenticate(user)


def superuser_sign_in_allowed() -> bool:
    return bool(
        getattr(settings, "SUPERUSER_SIGN_IN_ALLOWED", not getattr(settings, "PRODUCTION", False))
    )


# What each separated administrator may do in the Django admin ("app_label.model": actions).
# The system administrator's list is the configuration (SYSTEM_ADMIN_MODELS in the settings
# extends it for the apps added later); nothing about accounts, grants, keys or the audit log.
SYSTEM_ADMIN_MODELS: dict[str, tuple[str, ...]] = {
    "accounts.securitypolicy": ("view", "change", "add"),
    "core.calendarday": ("view", "add", "change", "delete"),
    "core.officehours": ("view", "add", "change"),
    "core.workerheartbeat": ("view",),
    "incidents.category": ("view", "add", "change"),
    "incidents.incidentpolicy": ("view", "add", "change"),
    "mediation.mediationroom": ("view", "add", "change"),
    "mediation.mediationpolicy": ("view", "add", "change"),
    "petitions.petitioncategory": ("view", "add", "change"),
    "petitions.petitionpolicy": ("view", "add", "change"),
    "grids.region": ("view", "add", "change"),
    "grids.gridcell": ("view", "add", "change"),
    "grids.team": ("view", "add", "change"),
    "integrations.partner": ("view", "add", "change"),
    "integrations.serviceattribute": ("view", "add", "change"),
    "integrations.webhooksubscription": ("view", "add", "change"),
}
# Accounts, roles, sessions, second factors (view only: resets go through the audited page) and
# the partners' API keys (a grant of access too).
SECURITY_ADMIN_MODELS: dict[str, tuple[str, ...]] = {
    "accounts.user": ("view", "add", "change"),
    "accounts.role": ("view",),
    "accounts.usersession": ("view",),
    "auth.group": ("view",),
    "otp_totp.totpdevice": ("view",),
    "otp_static.staticdevice": ("view",),
    "integrations.apikey": ("view", "add", "change"),
}
AUDIT_ADMIN_MODELS: dict[str, tuple[str, ...]] = {
    "audit.auditevent": ("view",),
    "audit.anonymisedrecord": ("view",),
    "audit.auditchaincheck": ("view",),
}


def separated_admin_permissions(user) -> set[str]:
    """The Django permissions ("app_label.codename") a separated administrator holds."""
    if not getattr(user, "is_active", False) or not getattr(user, "pk", None):
        return set()
    codes = user.role_codes
    table: dict[str, tuple[str, ...]] = {}
    if RoleCode.SYSTEM_ADMIN in codes:
        table.update(SYSTEM_ADMIN_MODELS)
        table.update(getattr(settings, "SYSTEM_ADMIN_MODELS", {}))
    if RoleCode.SECURITY_ADMIN in codes:
        table.update(SECURITY_ADMIN_MODELS)
    if RoleCode.AUDIT_ADMIN in codes:
        table.update(AUDIT_ADMIN_MODELS)
    perms: set[str] = set()
    for label, actions in table.items():
        app_label, model = label.split(".")
        perms.update(f"{app_label}.{action}_{model}" for action in actions)
    return perms


class SeparatedAdminBackend(BaseBackend):
    """Model permissions of the three separated administrators, from their role (no groups to
    keep in step): see the tables above. Authenticates nobody."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        return separated_admin_permissions(user_obj)

    def has_perm(self, user_obj, perm: str, obj=None) -> bool:
        return perm in self.get_all_permissions(user_obj, obj)

    def has_module_perms(self, user_obj, app_label: str) -> bool:
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions(user_obj))


def lockout_username(request, credentials: dict | None) -> str | None:
    """django-axes counts failures per account: a phone number typed at the login form counts
    against the account it belongs to, so the phone and the username share one failure budget."""
    if credentials:
        identifier = credentials.get("username")
    else:
        data = getattr(request, "data", None) or getattr(request, "POST", {})
        identifier = data.get("username")
    if not identifier:
        return identifier
    identifier = identifier.strip()
    user = _user_for_identifier(identifier)
    return user.username if user is not None else identifier
