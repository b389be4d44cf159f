"""Residents' accounts: SMS codes (stored hashed) and what a resident agreed to.

A code (PhoneCode) proves a phone for one purpose: sign-up, sign-in or claim (认领). It is six
digits, lives five minutes and allows five tries; after that a new one must be asked for. Only
its salted HMAC is kept; the code itself lives encrypted (core.crypto) only until the task has
handed it to the SMS gateway, then the column is blanked.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.crypto import EncryptedCharField


class CodePurpose(models.TextChoices):
    SIGN_UP = "sign_up", _("sign up")
    SIGN_IN = "sign_in", _("sign in")
    CLAIM = "claim", _("claim my reports")


class PhoneCode(models.Model):
    phone = models.CharField(_("phone"), max_length=11, db_index=True)
    purpose = models.CharField(_("purpose"), max_length=16, choices=CodePurpose.choices)
    code_hash = models.CharField(_("code (hashed)"), max_length=128)
    # The code, encrypted, until the SMS task sent it (then blank): never in clear at rest.
    code_pending = EncryptedCharField(_("code waiting to be sent"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SMS code")
        verbose_name_plural = _("SMS codes")
        indexes = [models.Index(fields=["phone", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} ****{self.phone[-4:]}"


class ResidentProfile(models.Model):
    """What a resident agreed to (个人信息保护法 告知-同意) and when the account was closed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="resident_profile",
        verbose_name=_("user"),
    )
    privacy_notice_version = models.CharField(_("privacy notice version"), max_length=16)
    privacy_accepted_at = models.DateTimeField(_("privacy notice accepted at"))
    claimed_at = models.DateTimeField(_("reports last claimed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("account closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("resident profile")
        verbose_name_plural = _("resident profiles")

    def __str__(self) -> str:
        return f"resident {self.user_id}"
