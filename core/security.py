"""Security events (two-factor sign-in, role grants, ended sessions, integrity checks).

accounts and audit sit side by side in the layers and never import each other: accounts sends
this signal, audit (audit.signals) writes the audit event, in the sender's transaction so that
an action whose event cannot be written does not happen either.
"""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# kwargs: kind (an audit.models.AuditKind value), actor, target (a model instance or None),
# details (dict), request (or None).
security_event = Signal()


def security_event_send(
    kind: str,
    *,
    actor: Any = None,
    target: Any = None,
    details: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    security_event.send(
        sender=None, kind=kind, actor=actor, target=target, details=details or {}, request=request
    )
