"""Helpers the mediation pages share."""

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from core.exceptions import ApplicationError


def _admin_only(request: HttpRequest) -> None:
    if not request.user.is_portal_admin:
        raise PermissionDenied


def _form_errors_from(exc: ApplicationError, form) -> None:
    """Put a service's field errors on the form (unknown fields become form errors)."""
    placed = False
    for field_name, field_messages in (exc.extra or {}).items():
        for message in field_messages:
            if field_name in form.fields:
                form.add_error(field_name, message)
            else:
                form.add_error(None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)
