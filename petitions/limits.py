"""Rate limits shared by the petition pages and the API (core.ratelimit)."""

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import Limit, client_ip, rate_hit

# L4: online filings per account (settings.PETITION_FILE_RATE, core.ratelimit syntax).
DEFAULT_FILE_RATE = "10/h"


def filing_limit_hit(request: HttpRequest) -> Limit:
    """Count one online filing attempt of this account (anonymous: of this client address);
    page and API share the budget."""
    user = request.user
    ident = f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request)}"
    return rate_hit(
        "petition-file", ident, getattr(settings, "PETITION_FILE_RATE", DEFAULT_FILE_RATE)
    )
