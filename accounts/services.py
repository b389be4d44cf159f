"""Account writes of the security administrator and of the user themselves: roles and scope,
second-factor enrolment and reset, ending sessions. Every one sends a security event
(core.security), which audit writes in the same transaction.

Who may do what (accounts.policy): only the security administrator grants roles and scopes,
resets a second factor and ends another user's sessions, and never on their own account (they
use no role they grant). A superuser may too: it exists for installation only (refused at
sign-in in production unless SUPERUSER_SIGN_IN_ALLOWED) to appoint the first security
administrator.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, RoleCode, User
from accounts.policy import separation_problem
from accounts.sessions import session_key_for_ref, sessions_end_for, sessions_end_keys
from core.exceptions import NotFoundError, PermissionDeniedError, ValidationFailed
from core.security import security_event_send

RECOVERY_CODE_COUNT = 10


def may_administer_security(actor: User | None) -> bool:
    return bool(
        actor is not None
        and actor.is_authenticated
        and actor.is_active
        and (actor.is_superuser or actor.has_role(RoleCode.SECURITY_ADMIN))
    )


def _check_security_admin(actor: User, target: User) -> None:
    if not may_administer_security(actor):
        raise PermissionDeniedError(_("Only the security administrator may do this."))
    if actor.pk == target.pk and not actor.is_superuser:
        raise PermissionDeniedError(
            _("The security administrator may not change their own account.")
        )


def _locked(user_id: int) -> User:
    user = User.objects.select_for_update().filter(pk=user_id).first()
    if user is None:
        raise NotFoundError(_("No such user."))
    return user


def user_roles_set(
    *,
    actor: User,
    user_id: int,
    role_codes: Iterable[str],
    scope_region_id: int | None,
    request: Any = None,
) -> User:
    """Set a user's roles and scope region. Requires: the security administrator (not on their
    own account). Refuses a set that breaks the separation of the administrators. Locks the
    user; a roles_changed audit event with the before and after."""
    codes = sorted({str(code) for code in role_codes})
    unknown = set(codes) - set(RoleCode.values)
    if unknown:
        raise ValidationFailed(_("Unknown role."), extra={"roles": [_("Unknown role.")]})
    problem = separation_problem(codes)
    if problem:
        raise ValidationFailed(problem, extra={"roles": [problem]})
    with transaction.atomic():
        user = _locked(user_id)
        _check_security_admin(actor, user)
        before = sorted(user.roles.values_list("code", flat=True))
        before_region = user.scope_region_id
        for code in codes:  # a transactional test's flush may have emptied the table
            Role.objects.get_or_create(code=code)
        user.roles.set(Role.objects.filter(code__in=codes))
        user.scope_region_id = scope_region_id
        # The Django admin is open to the three separated administrators (their permissions
        # come from accounts.backends.SeparatedAdminBackend), to nobody else but a superuser.
        user.is_staff = user.is_superuser or bool(
            set(codes) & {RoleCode.SYSTEM_ADMIN, RoleCode.SECURITY_ADMIN, RoleCode.AUDIT_ADMIN}
        )
        user.save(update_fields=["scope_region", "is_staff"])
        user.__dict__.pop("role_codes", None)
        security_event_send(
            "roles_changed",
            actor=actor,
            target=user,
            details={
                "before": before,
                "after": codes,
                "scope_before": before_region,
                "scope_after": scope_region_id,
            },
            request=request,
        )
    return user


def two_factor_reset(*, actor: User, user_id: int, request: Any = None) -> int:
    """A lost device: delete every second factor of the user (TOTP and recovery codes) and end
    their sessions, so the next sign-in enrols afresh. Requires: the security administrator
    (not on their own account). Audited (two_factor_reset)."""
    with transaction.atomic():
        user = _locked(user_id)
        _check_security_admin(actor, user)
        totp, _count = TOTPDevice.objects.filter(user=user).delete()
        static = StaticDevice.objects.filter(user=user).count()
        StaticDevice.objects.filter(user=user).delete()
        ended = sessions_end_for(user_id=user.pk)
        security_event_send(
            "two_factor_reset",
            actor=actor,
            target=user,
            details={"devices": totp + static, "sessions_ended": ended},
            request=request,
        )
    return totp + static


def user_sessions_end(*, actor: User, user_id: int, request: Any = None) -> int:
    """End every session of a user. Requires: the security administrator (not on their own
    account: they sign out). Audited (sessions_ended)."""
    with transaction.atomic():
        user = _locked(user_id)
        _check_security_admin(actor, user)
        ended = sessions_end_for(user_id=user.pk)
        security_event_send(
            "sessions_ended", actor=actor, target=user, details={"sessions": ended}, request=request
        )
    return ended


def own_session_end(*, user: User, ref: str, current_key: str | None, request: Any = None) -> int:
    """The user ends one of their own sessions ("all": every one but the current)."""
    with transaction.atomic():
        if ref == "all":
            ended = sessions_end_for(user_id=user.pk, keep=current_key)
        else:
            key = session_key_for_ref(user_id=user.pk, ref=ref)
            if key is None:
                raise NotFoundError(_("No such session."))
            ended = sessions_end_keys({key})
        security_event_send(
            "sessions_ended",
            actor=user,
            target=user,
            details={"sessions": ended, "own": True},
            request=request,
        )
    return ended


# --- second factor -------------------------------------------------------------------------------


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device being enrolled (made on first call; its secret is shown once
    as a QR code). Confirmed devices are untouched."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def recovery_codes_new(*, user: User) -> list[str]:
    """Replace the user's recovery codes with RECOVERY_CODE_COUNT new ones (each usable once;
    returned to be shown once, stored as django-otp static tokens)."""
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name="recovery", defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def totp_enrol_confirm(
    *, user: User, token: str, request: Any = None
) -> tuple[TOTPDevice, list[str]] | None:
    """Confirm the pending device with a code from the app: the device becomes the user's (any
    earlier one is replaced) and new recovery codes are made. None when the code is wrong."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False)
            .order_by("pk")
            .first()
        )
        if device is None or not device.verify_token(token):
            security_event_send(
                "two_factor_failed",
                actor=user,
                target=user,
                details={"step": "enrol"},
                request=request,
            )
            return None
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = recovery_codes_new(user=user)
        security_event_send("two_factor_enrolled", actor=user, target=user, request=request)
    return device, codes


def user_has_second_factor(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()
