"""Account signals: index sessions at sign-in (and keep a staff account within its session
limit); end them all when a user is disabled; refuse roles that break the separation of the
administrators (accounts.policy), however they are written."""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ValidationError
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from accounts.models import SecurityPolicy, User, UserSession
from accounts.policy import is_staff_account, policy_forget, policy_values, separation_problem
from accounts.sessions import session_remember, sessions_end_for, sessions_limit
from core.ratelimit import client_address


@receiver(user_logged_in)
def _remember_session(sender, request, user, **kwargs) -> None:
    session = getattr(request, "session", None)
    if session is not None and user is not None and user.pk:
        if session.session_key is None:
            session.save()
        session_remember(
            user_id=user.pk,
            session_key=session.session_key,
            ip=client_address(request) if hasattr(request, "META") else None,
            user_agent=request.META.get("HTTP_USER_AGENT", "") if hasattr(request, "META") else "",
        )
        if is_staff_account(user):
            sessions_limit(
                user_id=user.pk,
                keep=session.session_key,
                limit=int(policy_values()["max_sessions"]),
            )


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


@receiver(m2m_changed, sender=User.roles.through)
def _refuse_mixed_administrator_roles(
    sender, instance, action: str, reverse: bool, pk_set, **kwargs
) -> None:
    """The model-level check of the separation (the services check first, with a message)."""
    if action != "pre_add" or not pk_set:
        return
    if not reverse:
        problem = separation_problem(set(instance.roles.values_list("code", flat=True)) | pk_set)
        if problem:
            raise ValidationError(problem)
        return
    # role.users.add(user, ...): check every user named
    for user in User.objects.filter(pk__in=pk_set):
        problem = separation_problem(set(user.roles.values_list("code", flat=True)) | {instance.pk})
        if problem:
            raise ValidationError(problem)


@receiver(post_save, sender=SecurityPolicy)
@receiver(post_delete, sender=SecurityPolicy)
def _forget_policy(sender, **kwargs) -> None:
    policy_forget()


@receiver(m2m_changed, sender=SecurityPolicy.two_factor_roles.through)
def _forget_policy_roles(sender, action: str, **kwargs) -> None:
    if action.startswith("post_"):
        policy_forget()
