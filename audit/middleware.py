"""Takes the request's address and path for audit events written while it runs, and records
every refused request (401/403 on pages and the API: scope, role, CSRF, lockout)."""

from audit.models import AuditKind
from audit.services import begin_request, end_request, record

DENIED_STATUSES = {401, 403}


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = begin_request(request)
        try:
            response = self.get_response(request)
            if response.status_code in DENIED_STATUSES:
                user = getattr(request, "user", None)
                record(
                    AuditKind.ACCESS_DENIED,
                    actor=user,
                    request=request,
                    details={"method": request.method, "status": response.status_code},
                    quiet=True,
                )
            return response
        finally:
            end_request(token)
