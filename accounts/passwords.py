"""The password policy (docs/security.md): length (Django's MinimumLengthValidator with
PASSWORD_MIN_LENGTH), character classes, no reuse of the last PASSWORD_HISTORY_COUNT passwords,
Django's bundled list of 20,000 common passwords, and an optional maximum age
(PASSWORD_MAX_AGE_DAYS, 0 = off: ASVS 6.2.10 advises against forced rotation; 等保 asks for
periodic change, so a deployment may set it). The age is enforced by
accounts.middleware.SecurityGateMiddleware."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher, check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _classes(password: str) -> int:
    return sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )


class CharacterClassesValidator:
    """At least `min_classes` of: lower case, upper case, digits, other characters."""

    def __init__(self, min_classes: int | None = None) -> None:
        self.min_classes = (
            min_classes
            if min_classes is not None
            else int(getattr(settings, "PASSWORD_MIN_CLASSES", 3))
        )

    def validate(self, password: str, user=None) -> None:
        if _classes(password) < self.min_classes:
            raise ValidationError(
                _(
                    "The password must mix at least %(count)d of: lower-case letters, upper-case "
                    "letters, digits, other characters."
                ),
                code="password_too_plain",
                params={"count": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _(
            "Mix at least %(count)d of: lower-case letters, upper-case letters, digits, other "
            "characters."
        ) % {"count": self.min_classes}


class PasswordHistoryValidator:
    """No reuse of the last PASSWORD_HISTORY_COUNT passwords; records every change (and when)."""

    def __init__(self, count: int | None = None) -> None:
        self._count = count

    @property
    def count(self) -> int:
        if self._count is not None:
            return self._count
        return int(getattr(settings, "PASSWORD_HISTORY_COUNT", 5))

    def validate(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None) or self.count <= 0:
            return
        from accounts.models import PasswordHistory

        recent = PasswordHistory.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")
        hashes = [row.password for row in recent[: self.count]]
        if user.password and user.password not in hashes:
            hashes.append(user.password)  # the current one, even from before the history
        if any(check_password(password, encoded) for encoded in hashes):
            raise ValidationError(
                ngettext(
                    "The password may not be your last password.",
                    "The password may not be one of your last %(count)d passwords.",
                    self.count,
                ),
                code="password_reused",
                params={"count": self.count},
            )

    def password_changed(self, password: str, user=None) -> None:
        if user is None or not getattr(user, "pk", None):
            return
        from accounts.models import PasswordHistory, User

        now = timezone.now()
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now
        if self.count <= 0 or not user.password:
            return
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        stale = PasswordHistory.objects.filter(user_id=user.pk).order_by("-created_at", "-pk")[
            self.count :
        ]
        stale_ids = list(stale.values_list("pk", flat=True))
        if stale_ids:
            PasswordHistory.objects.filter(pk__in=stale_ids).delete()

    def get_help_text(self) -> str:
        return ngettext(
            "It may not be your last password.",
            "It may not be one of your last %(count)d passwords.",
            self.count,
        ) % {"count": self.count}


def password_expired(user) -> bool:
    """Whether the maximum age (PASSWORD_MAX_AGE_DAYS > 0) has passed since the last change."""
    days = int(getattr(settings, "PASSWORD_MAX_AGE_DAYS", 0))
    if days <= 0 or not getattr(user, "is_authenticated", False):
        return False
    changed = user.password_changed_at or user.date_joined
    return changed < timezone.now() - timedelta(days=days)


class PBKDF2SM3PasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 with HMAC-SM3 (GB/T 32905): the first hasher when FIELD_ENCRYPTION_ALGORITHM is
    "sm4-gcm" (密评). Older hashes are upgraded at the next sign-in, as Django does."""

    algorithm = "pbkdf2_sm3"

    @staticmethod
    def digest(data: bytes = b""):  # type: ignore[override]
        return hashlib.new("sm3", data)
