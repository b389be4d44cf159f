"""Rate limits of residents' writes, shared by the pages and the API (core.ratelimit): new
proposals and comments per account (settings.DELIBERATION_PROPOSAL_RATE and
DELIBERATION_COMMENT_RATE, core.ratelimit syntax)."""

from django.conf import settings
from django.http import HttpRequest

from core.ratelimit import Limit, rate_hit

DEFAULT_PROPOSAL_RATE = "10/h"
DEFAULT_COMMENT_RATE = "30/h"


def proposal_limit_hit(request: HttpRequest) -> Limit:
    rate = getattr(settings, "DELIBERATION_PROPOSAL_RATE", DEFAULT_PROPOSAL_RATE)
    return rate_hit("deliberation-proposal", f"user:{request.user.pk}", rate)


def comment_limit_hit(request: HttpRequest) -> Limit:
    rate = getattr(settings, "DELIBERATION_COMMENT_RATE", DEFAULT_COMMENT_RATE)
    return rate_hit("deliberation-comment", f"user:{request.user.pk}", rate)
