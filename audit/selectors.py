"""Reading the audit log: the audit administrator's viewer and export (docs/security.md).

Only the audit administrator reads it here (三员分立: they read and export, change nothing);
audit sits beside accounts in the layers, so the role is named by its code."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEvent

AUDIT_READER_ROLE = "audit_admin"
# Roles that see the integrity box on the workbench: whoever administers something.
WORKBENCH_ROLES = {"admin", "system_admin", "security_admin", "audit_admin"}


def may_read_audit(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and user.is_active
        and AUDIT_READER_ROLE in user.role_codes
    )


def sees_integrity_box(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and (user.is_superuser or user.role_codes & WORKBENCH_ROLES)
    )


def _start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_events_filtered(
    *,
    user: Any,
    actor: str = "",
    kind: str = "",
    object_type: str = "",
    object_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The audit events matching the filters, newest first; none for anyone but the audit
    administrator."""
    qs = AuditEvent.objects.all().order_by("-created_at", "-id")
    if not may_read_audit(user):
        return qs.none()
    if actor:
        qs = qs.filter(actor_label__icontains=actor)
    if kind:
        qs = qs.filter(kind=kind)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if date_from:
        qs = qs.filter(created_at__gte=_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_start(date_to) + timedelta(days=1))
    return qs
