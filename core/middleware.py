"""The database unreachable → 503, not a stack trace (docs/reliability.md, "Faults").

While PostgreSQL restarts (or the connection breaks), any OperationalError / InterfaceError
becomes HTTP 503 with `Retry-After`: JSON `{"detail": ...}` under /api/ and /open311/, a short
bilingual page elsewhere. Errors raised by a view are caught in `process_exception`; errors
raised by another middleware (the session or the user loaded lazily) were already turned into
a 500 by Django, so `got_request_exception` marks the request and the 500 is replaced here.
Place it first in MIDDLEWARE. The next request reconnects by itself (CONN_HEALTH_CHECKS).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 10
JSON_PREFIXES = ("/api/", "/open311/")
MARK = "_gridgov_database_unavailable"


def unavailable_response(request: HttpRequest) -> HttpResponse:
    message = _("The service is briefly unavailable. Please try again in a moment.")
    if request.path.startswith(JSON_PREFIXES):
        response: HttpResponse = JsonResponse({"detail": message}, status=503)
    else:
        english = "The service is briefly unavailable. Please try again in a moment."
        lines = [escape(message)] if message == english else [escape(message), english]
        body = "".join(f"<p>{line}</p>" for line in lines)
        response = HttpResponse(
            '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
            f"<title>503</title></head><body><h1>503</h1>{body}</body></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


@receiver(got_request_exception, dispatch_uid="core_database_unavailable_mark")
def _mark_database_error(sender, request: HttpRequest | None = None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    if request is not None and isinstance(exc, DATABASE_ERRORS):
        setattr(request, MARK, f"{type(exc).__name__}: {exc}".splitlines()[0][:200])


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, MARK, None):
            return unavailable_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DATABASE_ERRORS):
            return None
        logger.warning(
            "database unavailable: %s %s -> 503 (%s)",
            request.method,
            request.path,
            f"{type(exception).__name__}: {exception}".splitlines()[0][:200],
        )
        return unavailable_response(request)
