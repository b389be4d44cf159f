"""DRF glue shared by every app: the exception handler that speaks ApplicationError, the error
body it writes (ErrorSerializer), and the OpenAPI schema class that declares those error answers
on every operation (so the schema tells the truth about 400/401/403/404/409/429)."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.exceptions import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every API error is JSON: {"detail": message, "errors": {field: [messages]}}."""
    if isinstance(exc, ApplicationError):
        body: dict[str, Any] = {"detail": exc.message}
        if exc.extra:
            body["errors"] = exc.extra
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            errors = exc.message_dict
        else:
            errors = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(errors)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data
        if isinstance(data, list):
            data = {"non_field_errors": data}
        first = next(iter(data.values()), [""])
        detail = first[0] if isinstance(first, list) and first else str(first)
        response.data = {"detail": str(detail), "errors": data}
        response.status_code = status.HTTP_400_BAD_REQUEST
    return response


class ErrorSerializer(serializers.Serializer):
    """Every API error: {"detail": message, "errors": {field: [messages]}} (errors optional;
    a nested input such as a list of items may nest its messages the same way)."""

    detail = serializers.CharField()
    # The schema's field named "errors" shadows Serializer.errors; never validated, only shown.
    errors = serializers.DictField(child=serializers.JSONField(), required=False)  # type: ignore[assignment]


UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error answers any operation can give (unless the
    view declares its own for that code): 400 bad input (body, query or path), 403 refused
    (role, scope or CSRF), 404 unknown or out-of-scope object, 401 without credentials where
    authentication is required, 409 state conflict on writes, 429 where a throttle applies."""

    def _error_codes(self) -> list[str]:
        codes = ["400", "403", "404"]
        permissions = getattr(self.view, "permission_classes", None) or []
        if not permissions or any(p is not AllowAny for p in permissions):
            codes.append("401")
        if self.method in UNSAFE_METHODS:
            codes.append("409")
        if getattr(self.view, "throttle_classes", None):
            codes.append("429")
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    ErrorSerializer, code, direction=direction
                )
        return responses


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: under /api/ even a URL that matches no route (an id that is not a number
    ...) answers JSON like every other API error; pages get Django's 404 page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": str(exceptions.NotFound.default_detail)}, status=404)
    return page_not_found(request, exception)
