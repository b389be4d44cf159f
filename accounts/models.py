from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.masking import mask_phone

mainland_mobile_validator = RegexValidator(
    regex=r"^1[3-9]\d{9}$",
    message=_("Enter a valid mainland China mobile number (11 digits starting with 1)."),
)


class RoleCode(models.TextChoices):
    RESIDENT = "resident", _("resident")
    GRID_WORKER = "grid_worker", _("grid worker")
    DISPATCHER = "dispatcher", _("dispatcher")
    DEPARTMENT_HANDLER = "department_handler", _("department handler")
    MEDIATOR = "mediator", _("mediator")
    PETITION_OFFICER = "petition_officer", _("petition officer")
    SUPERVISOR = "supervisor", _("supervisor")
    ADMIN = "admin", _("administrator")
    # Added in December 2026 (DESIGN.md §7): the public side and the separated administrators.
    VOLUNTEER = "volunteer", _("volunteer")
    POLICE_OFFICER = "police_officer", _("community police officer")
    SERVICE_HANDLER = "service_handler", _("service handler")
    SYSTEM_ADMIN = "system_admin", _("system administrator")
    SECURITY_ADMIN = "security_admin", _("security administrator")
    AUDIT_ADMIN = "audit_admin", _("audit administrator")


# Roles that may see contact details (phones, ID numbers) of people inside their scope.
ROLES_SEEING_CONTACTS = {
    RoleCode.GRID_WORKER,
    RoleCode.DISPATCHER,
    RoleCode.DEPARTMENT_HANDLER,
    RoleCode.MEDIATOR,
    RoleCode.PETITION_OFFICER,
    RoleCode.ADMIN,
}


class Role(models.Model):
    """One row per RoleCode, created by migration. A user may hold several roles."""

    code = models.CharField(_("code"), max_length=32, primary_key=True, choices=RoleCode.choices)

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return str(RoleCode(self.code).label)


class GridGovUserManager(UserManager):
    def get_by_natural_key(self, username):
        return self.get(**{self.model.USERNAME_FIELD: username})


class User(AbstractUser):
    phone = models.CharField(
        _("mobile phone"),
        max_length=11,
        unique=True,
        null=True,
        blank=True,
        validators=[mainland_mobile_validator],
    )
    display_name = models.CharField(_("display name"), max_length=64, blank=True)
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("roles"))
    scope_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="scoped_users",
        verbose_name=_("scope region"),
        help_text=_("The region this user works in; they see it and everything under it."),
    )
    department = models.CharField(
        _("department"),
        max_length=64,
        blank=True,
        help_text=_("For department handlers: the functional department, e.g. 城管执法."),
    )

    # Residents (DESIGN.md §7): a phone proven by an SMS code, and the community they live in.
    # "Verified residents of the area" (supports, votes, volunteering) are those with both.
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    home_region = models.ForeignKey(
        "grids.Region",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="residents",
        verbose_name=_("home community"),
        help_text=_("For residents: the community they live in (not a scope of what they see)."),
    )
    # Set whenever the password changes (accounts.passwords.PasswordHistoryValidator): the
    # maximum age (PASSWORD_MAX_AGE_DAYS, off by default) counts from here.
    password_changed_at = models.DateTimeField(_("password changed at"), null=True, blank=True)

    objects = GridGovUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username

    def clean(self) -> None:
        super().clean()
        self.phone = (self.phone or "").strip() or None

    def save(self, *args, **kwargs) -> None:
        # A blank phone is stored as NULL: the unique constraint allows many users without one.
        if not self.phone:
            self.phone = None
        super().save(*args, **kwargs)

    @cached_property
    def role_codes(self) -> set[str]:
        if not self.pk:
            return set()
        return set(self.roles.values_list("code", flat=True))

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes & set(codes)) or (self.is_superuser and RoleCode.ADMIN in codes)

    @property
    def is_verified_resident(self) -> bool:
        return self.phone_verified_at is not None and self.home_region_id is not None

    @property
    def is_portal_admin(self) -> bool:
        return self.is_superuser or RoleCode.ADMIN in self.role_codes

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def phone_for(self, viewer) -> str:
        """The phone as `viewer` may see it: in full for the owner and contact-seeing roles."""
        if (
            viewer is not None
            and getattr(viewer, "is_authenticated", False)
            and (
                viewer.pk == self.pk
                or viewer.is_superuser
                or viewer.role_codes & ROLES_SEEING_CONTACTS
            )
        ):
            return self.phone or ""
        return self.masked_phone


class UserSession(models.Model):
    """Which sessions belong to which user (filled at sign-in), so that disabling a user ends
    all of their sessions at once (accounts.sessions)."""

    session_key = models.CharField(_("session key"), max_length=40, primary_key=True)
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="session_index", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Shown on the profile (ASVS 7.4.5: the user sees and ends their sessions): the browser's
    # own description, the address at sign-in, and the last request (renewed once a minute).
    user_agent = models.CharField(_("device"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)

    class Meta:
        verbose_name = _("user session")
        verbose_name_plural = _("user sessions")

    def __str__(self) -> str:
        return f"{self.user_id}:{self.session_key[:8]}…"


class PasswordHistory(models.Model):
    """The hashes of a user's last passwords (PASSWORD_HISTORY_COUNT): a new password may not be
    one of them (accounts.passwords.PasswordHistoryValidator). Only hashes are kept."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("user")
    )
    password = models.CharField(_("password hash"), max_length=128)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("password history entry")
        verbose_name_plural = _("password history")
        indexes = [
            models.Index(fields=["user", "-created_at"], name="accounts_pwhist_user_created")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.created_at:%Y-%m-%d}"


class SecurityPolicy(models.Model):
    """The security settings the system administrator edits in the Django admin (one row; the
    code's defaults apply while there is none: accounts.policy)."""

    two_factor_roles = models.ManyToManyField(
        Role,
        blank=True,
        related_name="+",
        verbose_name=_("roles that need two-factor sign-in"),
    )
    two_factor_key_person_access = models.BooleanField(
        _("two-factor sign-in for key-person access"),
        default=True,
        help_text=_(
            "Accounts granted access to key persons (registered by the registry) need a second "
            "factor too."
        ),
    )
    max_sessions_per_staff = models.PositiveSmallIntegerField(
        _("concurrent sessions per staff account"),
        default=3,
        help_text=_("0: no limit. Signing in beyond the limit ends the oldest session."),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policy")

    def __str__(self) -> str:
        return str(_("security policy"))
