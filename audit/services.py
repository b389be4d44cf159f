"""Writing audit events. Everything goes through `record`, which masks phones and ID numbers in
the details and takes the address and path of the request in hand (audit.middleware)."""

from __future__ import annotations

import contextvars
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, models, transaction

from audit.models import AuditEvent, AuditKind
from core.masking import mask_text

logger = logging.getLogger(__name__)


@dataclass
class RequestContext:
    ip: str | None
    path: str
    unmasked_seen: set[tuple] = field(default_factory=set)


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "audit_request", default=None
)


def client_ip(request) -> str | None:
    """The client's address: behind the reverse proxy, the one it names (core.ratelimit.
    client_address: CLIENT_IP_META from TRUSTED_PROXIES only); REMOTE_ADDR otherwise."""
    from core.ratelimit import client_address

    return client_address(request)


def begin_request(request) -> contextvars.Token:
    return _current.set(RequestContext(ip=client_ip(request), path=request.path[:255]))


def end_request(token: contextvars.Token) -> None:
    _current.reset(token)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_masked(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return mask_text(str(value))


def actor_label_for(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return ""
    return mask_text(f"{user.username} ({user})" if str(user) != user.username else user.username)


def object_ref(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return obj._meta.label_lower, str(obj.pk)


def record(
    kind: str,
    *,
    actor=None,
    actor_label: str = "",
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    details: dict[str, Any] | None = None,
    request=None,
    quiet: bool = False,
) -> AuditEvent | None:
    """Write one audit event. `quiet`: a failure is logged, not raised (login signals and the
    middleware must not turn an answer into a 500); state changes are written in the caller's
    transaction and fail with it."""
    if obj is not None:
        object_type, object_id = object_ref(obj)
    context = _current.get()
    ip = client_ip(request) if request is not None else (context.ip if context else None)
    path = request.path[:255] if request is not None else (context.path if context else "")
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        kind=kind,
        actor=actor,
        actor_label=(actor_label and mask_text(actor_label)[:150]) or actor_label_for(actor),
        ip=ip,
        object_type=object_type[:64],
        object_id=str(object_id)[:64],
        path=mask_text(path),
        details=_masked(details or {}),
    )
    if not quiet:
        event.save()
        return event
    try:
        with transaction.atomic():  # a savepoint: a failure leaves the caller's work intact
            event.save()
    except DatabaseError:
        logger.warning("audit event %s not written", kind, exc_info=True)
        return None
    return event


def record_unmasked(viewer, obj: models.Model, fields: list[str], **details: Any) -> None:
    """A full phone / ID number of `obj` was shown to `viewer`. Once per request for the same
    viewer, object and fields (a page that renders a number twice is one event)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False) or not fields:
        return
    object_type, object_id = object_ref(obj)
    key = (viewer.pk, object_type, object_id, tuple(sorted(fields)))
    context = _current.get()
    if context is not None:
        if key in context.unmasked_seen:
            return
        context.unmasked_seen.add(key)
    record(
        AuditKind.UNMASKED,
        actor=viewer,
        obj=obj,
        details={"fields": sorted(fields), **details},
        quiet=True,
    )


def record_out_of_scope(user, model: type[models.Model], pk: Any) -> None:
    """`user` asked for a `model` row that exists but lies outside what they may see (the
    answer is the same 404 as for a missing row): an access_denied event. Nothing for a row
    that does not exist. Costs one query, on the refusal path only."""
    try:
        exists = model._default_manager.filter(pk=pk).exists()
    except (DatabaseError, ValueError, TypeError):
        return
    if not exists:
        return
    record(
        AuditKind.ACCESS_DENIED,
        actor=user,
        object_type=model._meta.label_lower,
        object_id=pk,
        details={"reason": "out_of_scope", "status": 404},
        quiet=True,
    )
