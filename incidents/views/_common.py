"""What the incident pages share: small helpers and the constants of more than one page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from accounts.models import ROLES_SEEING_CONTACTS, User
from core.exceptions import NotFoundError
from core.ratelimit import Limit, client_ip, rate_hit
from incidents import page_selectors, policies, selectors
from incidents.models import Incident, IncidentState

S = IncidentState


def _over_limit(request: HttpRequest, *, scope: str, limit: int, window: int) -> Limit:
    """Count one more attempt from this client in `window` seconds (core.ratelimit); limited
    past `limit`. Behind a reverse proxy REMOTE_ADDR is the proxy: settings.
    INCIDENT_CLIENT_IP_META (or CLIENT_IP_META) names the header it sets, read only from
    settings.TRUSTED_PROXIES (core.ratelimit.client_ip)."""
    meta = getattr(settings, "INCIDENT_CLIENT_IP_META", None)
    return rate_hit(f"incidents:{scope}", client_ip(request, meta), f"{limit}/{window}s")


def _incident_or_404(user: User, pk: int) -> Incident:
    try:
        return selectors.incident_get_for_user(user=user, incident_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc


def _require_queue_role(user: User) -> None:
    if not policies.can_use_queue(user):
        raise PermissionDenied(_("Only dispatchers and supervisors use the queue."))


def _safe_next(request: HttpRequest, fallback: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return fallback


def _mark_overdue(incidents: Any, now=None) -> list[Incident]:
    now = now or timezone.now()
    rows = list(incidents)
    for incident in rows:
        incident.is_overdue = page_selectors.is_overdue(incident, now=now)
    return rows


def _sees_contacts(user: User) -> bool:
    return user.is_authenticated and (
        user.is_superuser or bool(user.role_codes & ROLES_SEEING_CONTACTS)
    )
