"""Receivers: logins (Django's auth signals), state changes (every timeline event of incidents,
mediation cases and petitions). Exports are recorded by the apps that make them
(governance.signals, petitions.exports): audit imports nothing of the apps above it."""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save

from audit.models import AuditEvent, AuditKind
from audit.services import actor_label_for, record
from core.masking import mask_text
from core.models import TimelineEvent, timeline_events_bulk_created


def on_login(sender, request, user, **kwargs):
    record(AuditKind.LOGIN_SUCCEEDED, actor=user, obj=user, request=request, quiet=True)


def on_logout(sender, request, user, **kwargs):
    record(AuditKind.LOGOUT, actor=user, obj=user, request=request, quiet=True)


def on_login_failed(sender, credentials, request=None, **kwargs):
    # The name typed (a username or a phone) is kept masked; never the password.
    typed = str(credentials.get("username") or credentials.get("phone") or "")[:150]
    record(
        AuditKind.LOGIN_FAILED,
        actor_label=mask_text(typed),
        request=request,
        details={"username": mask_text(typed)},
        quiet=True,
    )


def _parent_ref(event: TimelineEvent) -> tuple[str, str]:
    """The object a timeline event belongs to: its one foreign key other than the actor."""
    for field in event._meta.concrete_fields:
        if field.is_relation and field.name != "actor" and field.many_to_one:
            value = getattr(event, field.attname)
            if value is not None:
                return field.related_model._meta.label_lower, str(value)
    return "", ""


def _state_row(event: TimelineEvent) -> AuditEvent:
    object_type, object_id = _parent_ref(event)
    actor = event.actor if event.actor_id else None
    details = {"event": event._meta.label_lower, "event_id": event.pk, "action": event.action}
    for name in ("from_state", "to_state"):
        value = getattr(event, name, "")
        if value:
            details[name] = value
    return AuditEvent(
        kind=AuditKind.STATE_CHANGED,
        actor_id=event.actor_id,
        actor_label=actor_label_for(actor) if actor else "system",
        object_type=object_type,
        object_id=object_id,
        details=details,
    )


def on_timeline_event(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        row = _state_row(instance)
        from audit.services import _current

        context = _current.get()
        if context is not None:
            row.ip, row.path = context.ip, mask_text(context.path)
        row.save()


def on_timeline_events_bulk(sender, events, **kwargs):
    AuditEvent.objects.bulk_create([_state_row(e) for e in events], batch_size=500)


def on_security_event(sender, kind, actor=None, target=None, details=None, request=None, **kw):
    """accounts' security events (core.security): written in the sender's transaction (not
    quiet): a grant, reset or ended session whose event cannot be written does not happen."""
    if kind not in AuditKind.values:
        raise ValueError(f"unknown audit kind {kind!r}")
    record(kind, actor=actor, obj=target, details=details or {}, request=request)


def connect() -> None:
    from core.security import security_event

    security_event.connect(on_security_event, dispatch_uid="audit_security_event")
    user_logged_in.connect(on_login, dispatch_uid="audit_login")
    user_logged_out.connect(on_logout, dispatch_uid="audit_logout")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit_login_failed")
    for model in apps.get_models():
        if issubclass(model, TimelineEvent):
            post_save.connect(
                on_timeline_event, sender=model, dispatch_uid=f"audit_{model._meta.label_lower}"
            )
    timeline_events_bulk_created.connect(on_timeline_events_bulk, dispatch_uid="audit_bulk")
