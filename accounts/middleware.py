"""Security middleware of the portal: the Permissions-Policy header and the session lifetime.

- ``PermissionsPolicyMiddleware`` sends ``Permissions-Policy`` built from
  settings.PERMISSIONS_POLICY (geolocation and camera for our own pages only).
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
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

SESSION_STARTED = "_gridgov_started_at"
SESSION_SEEN = "_gridgov_seen_at"
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
