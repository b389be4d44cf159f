"""DRF pieces for partner systems: HMAC-signed API-key authentication, scope permission and
the per-key rate limit (429 with Retry-After).

A partner request carries X-Api-Key, X-Timestamp (Unix seconds or milliseconds) and
X-Signature (hex HMAC-SHA256 of "<timestamp>.<raw body>" with the partner's secret; an optional
"sha256=" prefix is accepted). request.user stays anonymous; request.auth is the ApiKey.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.throttling import BaseThrottle

from integrations import security
from integrations.models import ApiKey


class PartnerSignatureAuthentication(BaseAuthentication):
    def authenticate(self, request):
        raw = request.headers.get("X-Api-Key", "").strip()
        if not raw:
            raise exceptions.NotAuthenticated(
                _("Send X-Api-Key, X-Timestamp and X-Signature (see docs/api.md).")
            )
        key = security.api_key_lookup(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked API key."))
        try:
            security.signature_verify(
                secret=key.partner.hmac_secret,
                timestamp=request.headers.get("X-Timestamp", "").strip(),
                signature=request.headers.get("X-Signature", "").strip(),
                body=request._request.body,
            )
        except security.SignatureError as exc:
            raise exceptions.AuthenticationFailed(str(exc)) from exc
        security.api_key_record_use(key)
        return (AnonymousUser(), key)

    def authenticate_header(self, request) -> str:
        return 'HMAC-SHA256 realm="gridgov"'


class HasKeyScope(BasePermission):
    """The key must carry the view's `required_scope`."""

    def has_permission(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        scope = view.required_scope
        if not key.has_scope(scope):
            raise exceptions.PermissionDenied(
                _("This API key may not do this (it lacks the %(scope)s scope).") % {"scope": scope}
            )
        return True


class ApiKeyRateThrottle(BaseThrottle):
    """The key's own fixed-window limit (ApiKey.rate_limit per rate_window_seconds)."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        self.retry_after = None
        if isinstance(key, ApiKey):
            self.retry_after = security.rate_limit_retry_after(key)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after


class PartnerSignatureScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.authentication.PartnerSignatureAuthentication"
    name = "partnerKeyHmac"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Api-Key",
            "description": (
                "Partner API key, plus X-Timestamp (Unix time) and X-Signature: hex "
                "HMAC-SHA256 of '<timestamp>.<raw body>' with the partner's secret."
            ),
        }
