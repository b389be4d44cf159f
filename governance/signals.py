"""Receivers of supervision: every export (an ExportJob row) goes to the audit log, with whether
its personal data was unmasked. Governance records its own exports, as petitions/exports.py
does: the audit app sits below governance and imports nothing of it."""

from __future__ import annotations

from typing import Any

from audit.models import AuditKind
from audit.services import record
from governance.exports import sees_contacts
from governance.models import ExportJob


def on_export(
    sender: type[ExportJob], instance: ExportJob, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    if not created or raw:
        return
    user = instance.user
    record(
        AuditKind.EXPORTED,
        actor=user,
        obj=instance,
        details={
            "kind": instance.kind,
            "format": instance.fmt,
            "params": instance.params,
            "unmasked": sees_contacts(user),
        },
    )


def connect() -> None:
    from django.db.models.signals import post_save

    post_save.connect(on_export, sender=ExportJob, dispatch_uid="audit_export")
