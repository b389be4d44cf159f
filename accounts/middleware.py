"""Security middleware of the portal: the Permissions-Policy header, the session lifetime, the
second factor and the password age.

- ``PermissionsPolicyMiddleware`` sends ``Permissions-Policy`` built from
  settings.PERMISSIONS_POLICY (geolocation and camera for our own pages only).
- ``SecurityGateMiddleware`` holds a signed-in account at the second-factor (or enrolment)
  page until it passes, and at the password change page when its password expired.
- ``SessionLifetimeMiddleware`` signs a user out after SESSION_IDLE_TIMEOUT seconds without a
  request, and SESSION_MAX_LIFETIME seconds after sign-in whatever the activity. The times are
  kept in the session; the session (and its cookie, whose age is the idle timeout) is renewed at
  most once a minute, not on every request.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from accounts.sessions import session_seen

SESSION_STARTED = "_gridgov_started_at"
SESSION_SEEN = "_gridgov_seen_at"
SESSION_HAS_DEVICE = "_gridgov_has_second_factor"
# Renew the session at most this often (seconds): saves a database write on most requests.
TOUCH_EVERY = 60


class PermissionsPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        policy = getattr(settings, "PERMISSIONS_POLICY", {}) or {}
        self.header = ", ".join(f"{feature}={allow}" for feature, allow in policy.items())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response


class SessionLifetimeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY):
            self._check(request, session)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY) and SESSION_STARTED not in session:
            # Just signed in (or a session from before this middleware): the clock starts.
            now = time.time()
            session[SESSION_STARTED] = now
            session[SESSION_SEEN] = now
        return response

    def _check(self, request: HttpRequest, session) -> None:
        now = time.time()
        started = session.get(SESSION_STARTED)
        seen = session.get(SESSION_SEEN)
        if started is None or seen is None:
            return  # set after the response
        idle = int(getattr(settings, "SESSION_IDLE_TIMEOUT", 1800))
        maximum = int(getattr(settings, "SESSION_MAX_LIFETIME", 10 * 3600))
        if now - seen > idle or now - started > maximum:
            logout(request)  # flushes the session; the view sees an anonymous user
            messages.info(request, _("You were signed out: the session expired. Sign in again."))
            return
        if now - seen >= TOUCH_EVERY:
            session[SESSION_SEEN] = now  # modified: saved, and the cookie renewed
            session_seen(session_key=session.session_key)  # "last seen" on the profile


class SecurityGateMiddleware:
    """After the password, before anything else (settings.TWO_FACTOR_ENFORCED):

    - an account that needs a second factor (accounts.policy.two_factor_required) and has not
      passed it in this session reaches only the second-factor page (or, without a device,
      the enrolment page), sign-out and static files; the API answers 403;
    - with PASSWORD_MAX_AGE_DAYS set, an expired password leads to the password change page.

    Runs after django_otp's OTPMiddleware (request.user.is_verified). The test settings turn
    TWO_FACTOR_ENFORCED off, because most tests sign staff in with force_login; the tests of
    the control turn it on (accounts/tests/test_two_factor.py). Production refuses to start
    with it off (governance/settings_security.check_two_factor)."""

    OPEN_NAMES = frozenset(
        {
            "accounts:logout",
            "accounts:login",
            "accounts:two_factor_verify",
            "accounts:two_factor_enrol",
            "set_language",
            "healthz",
            "javascript-catalog",
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            refusal = self._gate(request, user)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _open(self, request: HttpRequest, *extra: str) -> bool:
        static = getattr(settings, "STATIC_URL", "/static/") or "/static/"
        if request.path.startswith(static):
            return True
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return match.view_name in self.OPEN_NAMES or match.view_name in extra

    @staticmethod
    def _has_device(request: HttpRequest, user) -> bool:
        """An account the policy does not name but that enrolled a device of its own is asked
        for it too. Looked up once per session (an enrolment in the session verifies it)."""
        from accounts.services import user_has_second_factor

        session = request.session
        if SESSION_HAS_DEVICE not in session:
            session[SESSION_HAS_DEVICE] = user_has_second_factor(user)
        return bool(session[SESSION_HAS_DEVICE])

    def _gate(self, request: HttpRequest, user) -> HttpResponse | None:
        from accounts.passwords import password_expired
        from accounts.policy import two_factor_required
        from accounts.services import user_has_second_factor

        if getattr(settings, "TWO_FACTOR_ENFORCED", True) and (
            two_factor_required(user) or self._has_device(request, user)
        ):
            verified = getattr(user, "is_verified", None)
            if not (callable(verified) and verified()) and not self._open(request):
                if request.path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": _("Complete the two-factor sign-in first.")}, status=403
                    )
                name = (
                    "accounts:two_factor_verify"
                    if user_has_second_factor(user)
                    else "accounts:two_factor_enrol"
                )
                return redirect_to_login(request.get_full_path(), reverse(name))
        if password_expired(user) and not self._open(request, "accounts:password_change"):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("Your password has expired.")}, status=403)
            messages.info(request, _("Your password has expired: choose a new one."))
            return redirect(reverse("accounts:password_change"))
        return None
