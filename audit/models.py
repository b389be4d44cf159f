"""The audit log (PIPL): who logged in or failed to, who was refused, every state change, every
time a full phone or ID number was shown, every export, every retention run.

Append-only: the model and its queryset refuse update and delete; on PostgreSQL a trigger
(migration 0002) refuses UPDATE, DELETE and TRUNCATE whatever the role. Details hold no
personal data: phones and ID numbers are masked before they are written (audit.services).
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", _("login succeeded")
    LOGIN_FAILED = "login_failed", _("login failed")
    LOGOUT = "logout", _("logout")
    ACCESS_DENIED = "access_denied", _("access denied")
    STATE_CHANGED = "state_changed", _("state changed")
    UNMASKED = "unmasked", _("personal data shown in full")
    EXPORTED = "exported", _("exported")
    RETENTION_RUN = "retention_run", _("retention run")
    # Level-3 protection (docs/security.md): second factor, grants, sessions, the chain check.
    TWO_FACTOR_ENROLLED = "two_factor_enrolled", _("second factor enrolled")
    TWO_FACTOR_PASSED = "two_factor_passed", _("second factor passed")
    TWO_FACTOR_FAILED = "two_factor_failed", _("second factor failed")
    TWO_FACTOR_RESET = "two_factor_reset", _("second factor reset")
    RECOVERY_CODES_RENEWED = "recovery_codes_renewed", _("recovery codes renewed")
    ROLES_CHANGED = "roles_changed", _("roles changed")
    SESSIONS_ENDED = "sessions_ended", _("sessions ended")
    INTEGRITY_CHECKED = "integrity_checked", _("audit log integrity checked")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise RuntimeError("Audit events are append-only")

    def delete(self):
        raise RuntimeError("Audit events are append-only")


class AuditEvent(models.Model):
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    # No database constraint: the log outlives the accounts it names (and never cascades).
    actor = models.ForeignKey(
        "accounts.User",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        db_index=False,  # audit_actor_created leads with it
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    # No index of its own: audit_kind_created leads with it (each index is a write per row).
    kind = models.CharField(_("event kind"), max_length=24, choices=AuditKind.choices)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    path = models.CharField(_("path"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit log")
        indexes = [
            models.Index(fields=["kind", "created_at"], name="audit_kind_created"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["actor", "created_at"], name="audit_actor_created"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.kind} {self.actor_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise RuntimeError("Audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit events are append-only")


class AnonymisedRecord(models.Model):
    """The retention job's marker: this object's personal data was anonymised at this time.
    Kept here (not on the owning models) so the job is idempotent for every app alike."""

    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.BigIntegerField(_("object id"))
    anonymised_at = models.DateTimeField(_("anonymised at"), default=timezone.now)

    class Meta:
        verbose_name = _("anonymised record")
        verbose_name_plural = _("anonymised records")
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "object_id"], name="audit_anonymised_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object_type}#{self.object_id}"


class AuditSeal(models.Model):
    """One link of the audit log's hash chain (audit.chain), made by the daily task for each
    event in id order: digest = HMAC(key, previous digest + the event's canonical content),
    with SHA-256, or SM3 when FIELD_ENCRYPTION_ALGORITHM is "sm4-gcm". A deleted event leaves
    its seal without an event; a changed one no longer matches its digest."""

    event_id = models.BigIntegerField(_("audit event"), primary_key=True)
    digest = models.CharField(_("digest"), max_length=64)
    algorithm = models.CharField(_("algorithm"), max_length=8)
    sealed_at = models.DateTimeField(_("sealed at"), default=timezone.now)

    class Meta:
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")

    def __str__(self) -> str:
        return f"{self.event_id}:{self.digest[:12]}"


class AuditChainCheck(models.Model):
    """The result of one integrity check (shown to the audit administrator and on the admin
    workbench)."""

    checked_at = models.DateTimeField(_("checked at"), default=timezone.now, db_index=True)
    ok = models.BooleanField(_("intact"))
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    rows_sealed = models.PositiveIntegerField(_("rows sealed"), default=0)
    algorithm = models.CharField(_("algorithm"), max_length=8)
    problems = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        verbose_name = _("audit integrity check")
        verbose_name_plural = _("audit integrity checks")

    def __str__(self) -> str:
        return f"{self.checked_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class AuditChainHead(models.Model):
    """One row: the last sealed event and its digest. Locked by the check (select_for_update),
    so two runs never extend the chain at once."""

    last_event_id = models.BigIntegerField(_("last sealed event"), default=0)
    digest = models.CharField(_("digest"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain head")

    def __str__(self) -> str:
        return f"{self.last_event_id}"
