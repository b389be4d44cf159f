"""Pages of the second factor (verify, enrol, recovery codes), of the user's own sessions, and
of the security administrator (accounts, roles and scopes, device resets, ending sessions)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.forms import EnrolForm, GrantForm, TokenForm, UserSearchForm
from accounts.models import User
from accounts.policy import two_factor_required
from accounts.sessions import sessions_active
from core.exceptions import ApplicationError
from core.security import security_event_send


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return "/"


def _is_verified(request: HttpRequest) -> bool:
    verified = getattr(request.user, "is_verified", None)
    return bool(callable(verified) and verified())


def _qr_data_uri(url: str) -> str:
    import segno

    # Rendered here, as an SVG data URI (the CSP allows data: images): the secret never leaves.
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2)


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password: a code from the app, or a recovery code (used once)."""
    user = request.user
    if not services.user_has_second_factor(user):
        return redirect(f"{_enrol_url()}?{urlencode({'next': _next_url(request)})}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            method = "recovery_code" if not isinstance(device, TOTPDevice) else "totp"
            security_event_send(
                "two_factor_passed",
                actor=user,
                target=user,
                details={"method": method},
                request=request,
            )
            if method == "recovery_code":
                left = device.token_set.count()
                messages.warning(
                    request,
                    _("You signed in with a recovery code; %(count)d left.") % {"count": left},
                )
            return redirect(_next_url(request))
        security_event_send(
            "two_factor_failed",
            actor=user,
            target=user,
            details={"step": "verify"},
            request=request,
        )
        form.add_error("token", _("The code is wrong or expired. Try the next one."))
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


def _enrol_url() -> str:
    from django.urls import reverse

    return reverse("accounts:two_factor_enrol")


@login_required
def two_factor_enrol(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: a QR code (made here), then a code from the app confirms it;
    the recovery codes are shown once. With a device already, only after passing it (an
    attacker holding the password alone cannot swap the device)."""
    user = request.user
    if services.user_has_second_factor(user) and not _is_verified(request):
        return redirect("accounts:two_factor_verify")
    device = services.totp_device_pending(user=user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = services.totp_enrol_confirm(
            user=user, token=form.cleaned_data["token"], request=request
        )
        if confirmed is not None:
            device, codes = confirmed
            otp_login(request, device)
            return render(
                request,
                "accounts/recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "enrolled": True},
            )
        form.add_error("token", _("The code is wrong or expired. Try the next one."))
    secret = device.bin_key
    import base64

    return render(
        request,
        "accounts/two_factor_enrol.html",
        {
            "form": form,
            "qr": _qr_data_uri(device.config_url),
            "secret": base64.b32encode(secret).decode().rstrip("="),
            "next": _next_url(request),
            "required": two_factor_required(user),
        },
    )


@login_required
@require_POST
def recovery_codes(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), after passing the second factor."""
    if not (services.user_has_second_factor(request.user) and _is_verified(request)):
        raise PermissionDenied
    codes = services.recovery_codes_new(user=request.user)
    security_event_send(
        "recovery_codes_renewed", actor=request.user, target=request.user, request=request
    )
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": "/"})


@login_required
@require_POST
def session_end(request: HttpRequest) -> HttpResponse:
    """End one of my sessions (by its public reference), or all but this one ("all")."""
    ref = (request.POST.get("session") or "").strip()[:40]
    try:
        ended = services.own_session_end(
            user=request.user, ref=ref, current_key=request.session.session_key, request=request
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Sessions ended: %(count)d.") % {"count": ended})
    return redirect("accounts:profile")


def _security_admin(request: HttpRequest) -> None:
    if not services.may_administer_security(request.user):
        raise PermissionDenied


@login_required
def security_users(request: HttpRequest) -> HttpResponse:
    """The security administrator's list of accounts (search by username or name)."""
    _security_admin(request)
    form = UserSearchForm(request.GET or None)
    users = User.objects.order_by("username").annotate(
        totp=Count("totpdevice", filter=Q(totpdevice__confirmed=True), distinct=True)
    )
    if form.is_valid() and form.cleaned_data["q"]:
        q = form.cleaned_data["q"]
        users = users.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return render(
        request,
        "accounts/security_users.html",
        {"form": form, "users": users.prefetch_related("roles")[:200]},
    )


@login_required
def security_user(request: HttpRequest, pk: int) -> HttpResponse:
    """One account: roles and scope, second-factor reset, ending its sessions."""
    _security_admin(request)
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise Http404
    grant = GrantForm(
        initial={"roles": sorted(user.role_codes), "scope_region": user.scope_region_id}
    )
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "roles":
                grant = GrantForm(request.POST)
                if grant.is_valid():
                    region = grant.cleaned_data["scope_region"]
                    services.user_roles_set(
                        actor=request.user,
                        user_id=user.pk,
                        role_codes=grant.cleaned_data["roles"],
                        scope_region_id=region.pk if region else None,
                        request=request,
                    )
                    messages.success(request, _("Roles saved."))
                    return redirect("accounts:security_user", pk=user.pk)
            elif action == "reset_two_factor":
                services.two_factor_reset(actor=request.user, user_id=user.pk, request=request)
                messages.success(request, _("Second factor reset: they enrol again."))
                return redirect("accounts:security_user", pk=user.pk)
            elif action == "end_sessions":
                ended = services.user_sessions_end(
                    actor=request.user, user_id=user.pk, request=request
                )
                messages.success(request, _("Sessions ended: %(count)d.") % {"count": ended})
                return redirect("accounts:security_user", pk=user.pk)
            else:
                messages.error(request, _("Unknown action."))
        except ApplicationError as error:
            if error.status_code == 403:
                raise PermissionDenied(error.message) from error
            messages.error(request, error.message)
    return render(
        request,
        "accounts/security_user.html",
        {
            "subject": user,
            "grant": grant,
            "sessions": sessions_active(user_id=user.pk),
            "has_device": services.user_has_second_factor(user),
            "own": user.pk == request.user.pk,
        },
        status=400 if request.method == "POST" and grant.errors else 200,
    )
