import pytest
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated

from core.api import exception_handler
from core.exceptions import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ValidationFailed("bad"), 400),
        (PermissionDeniedError("no"), 403),
        (NotFoundError("gone"), 404),
        (ConflictError("too late"), 409),
        (ApplicationError("plain"), 400),
    ],
)
def test_application_errors_become_json_with_their_status(error, status):
    response = exception_handler(error, {})
    assert response.status_code == status
    assert response.data == {"detail": error.message}


def test_field_errors_are_kept():
    response = exception_handler(ValidationFailed("bad", extra={"phone": ["invalid"]}), {})
    assert response.data == {"detail": "bad", "errors": {"phone": ["invalid"]}}


def test_serializer_errors_get_a_detail():
    error = serializers.ValidationError({"lat": ["A valid number is required."]})
    response = exception_handler(error, {})
    assert response.status_code == 400
    assert response.data["detail"] == "A valid number is required."
    assert response.data["errors"] == {"lat": ["A valid number is required."]}


def test_django_errors_are_translated_to_api_errors():
    response = exception_handler(DjangoValidationError({"name": ["required"]}), {})
    assert response.status_code == 400 and response.data["errors"] == {"name": ["required"]}
    response = exception_handler(DjangoValidationError("whole object"), {})
    assert response.data["errors"] == {"non_field_errors": ["whole object"]}
    assert exception_handler(Http404(), {}).status_code == 404
    assert exception_handler(PermissionDenied(), {}).status_code == 403
    assert exception_handler(NotAuthenticated(), {}).status_code in (401, 403)


def test_unknown_errors_are_left_to_django():
    assert exception_handler(RuntimeError("boom"), {}) is None
