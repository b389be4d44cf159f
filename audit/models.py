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
