"""One error family for business rules (HackSoft style).

Services raise these; the DRF exception handler (core.api) and the views turn them into clear
messages: 400 for bad input, 403 for a forbidden action, 404 for what the user may not see,
409 for an illegal state transition or a lost race.
"""

from typing import Any


class ApplicationError(Exception):
    status_code = 400

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    """Bad input; `extra` may hold field messages: {"field": ["message", ...]}."""

    status_code = 400


class PermissionDeniedError(ApplicationError):
    status_code = 403


class NotFoundError(ApplicationError):
    status_code = 404


class ConflictError(ApplicationError):
    """An illegal transition, or somebody else got there first."""

    status_code = 409
