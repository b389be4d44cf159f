"""What the pages share: the rendering with the viewer's roles, errors turned into pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from deliberation import policies


def page(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    user = request.user
    context.setdefault("is_manager", policies.is_manager(user))
    context.setdefault("is_reader", policies.is_reader(user))
    context.setdefault("is_supervisor", policies.is_supervisor(user))
    context.setdefault("is_verified_resident", policies.is_verified_resident(user))
    return render(request, template, context)


def visible(load: Callable[[], Any]) -> Any:
    """Run a selector; what the viewer may not see is a 404 like what does not exist."""
    try:
        return load()
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def put_errors(form: Any, exc: ApplicationError) -> None:
    placed = False
    for field, errors in (exc.extra or {}).items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def act(request: HttpRequest, back: str, run: Callable[[], Any], done: str) -> HttpResponse:
    """Run one service for a POST and go back to `back`: a 404 for what the viewer may not
    see, a 403 for what they see but may not do; a refused move or bad input is a message."""
    try:
        run()
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(back)


def form_error_text(form: Any) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
