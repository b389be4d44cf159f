"""What the services of deliberation share: the clock, text checks, notifications of staff."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from core.services import notification_send
from deliberation import policies


def now() -> datetime:
    return timezone.now()


def refuse(field: str, message: Any) -> ValidationFailed:
    text = str(message)
    return ValidationFailed(text, extra={field: [text]})


def required_text(value: Any, field: str, *, limit: int, message: Any = None) -> str:
    text = str(value or "").strip()
    if not text:
        raise refuse(field, message or _("This field is required."))
    if len(text) > limit:
        raise refuse(field, _("At most %(n)s characters.") % {"n": limit})
    return text


def optional_text(value: Any, field: str, *, limit: int) -> str:
    text = str(value or "").strip()
    if len(text) > limit:
        raise refuse(field, _("At most %(n)s characters.") % {"n": limit})
    return text


def amount(value: Any, field: str, *, allow_none: bool = False) -> Decimal | None:
    if value in (None, "") and allow_none:
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise refuse(field, _("Enter an amount in yuan.")) from None
    if not number.is_finite() or number <= 0 or number >= Decimal("10000000000"):
        raise refuse(field, _("Enter an amount greater than zero."))
    return number


def require_manager(actor: User, region_code: str, not_found: Any) -> None:
    """404 outside the actor's region (no hint it exists), 403 for a reader who may not act."""
    if not policies.covers(actor, region_code):
        raise NotFoundError(str(not_found))
    if not policies.is_manager(actor):
        raise PermissionDeniedError(_("Only the community's staff may do this."))


def require_verified_resident(actor: User) -> None:
    if not policies.is_verified_resident(actor):
        raise PermissionDeniedError(
            _("Only residents with a verified phone and a home community may do this.")
        )


def staff_ids(region_code: str) -> list[int]:
    """The managers whose region covers `region_code` (the community's and street's staff)."""
    candidates = (
        User.objects.filter(is_active=True, roles__code=RoleCode.DISPATCHER)
        .filter(Q(scope_region__isnull=False))
        .select_related("scope_region")
        .distinct()
    )
    return [user.pk for user in candidates if policies.covers(user, region_code)]


def notify(user_ids: Iterable[int | None], title: str, *, url: str = "", key: str = "") -> int:
    return notification_send(user_ids=user_ids, title=title, url=url, dedupe_key=key)
