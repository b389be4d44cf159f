"""Account signals: index sessions at sign-in; end them all when a user is disabled."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.models import User, UserSession
from accounts.sessions import session_remember, sessions_end_for


@receiver(user_logged_in)
def _remember_session(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None and user is not None and user.pk:
        if session.session_key is None:
            session.save()
        session_remember(user_id=user.pk, session_key=session.session_key)


@receiver(user_logged_out)
def _forget_session(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        UserSession.objects.filter(session_key=session.session_key).delete()


@receiver(pre_save, sender=User)
def _note_deactivation(sender, instance: User, raw: bool = False, **kwargs) -> None:
    instance._ends_sessions = False
    if raw or instance.pk is None or instance.is_active:
        return
    was_active = User.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._ends_sessions = bool(was_active)


@receiver(post_save, sender=User)
def _end_sessions_of_disabled_user(sender, instance: User, created: bool, **kwargs) -> None:
    if getattr(instance, "_ends_sessions", False):
        instance._ends_sessions = False
        sessions_end_for(user_id=instance.pk)
