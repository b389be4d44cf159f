"""Partners and their keys: partner_create, partner_rotate_secret, api_key_create,
api_key_revoke (the admin and the demo call them)."""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import NotFoundError, ValidationFailed
from grids.models import Region
from integrations import security
from integrations.models import ApiKey, KeyScope, Partner

# --- partners and keys ------------------------------------------------------------------------


def partner_create(
    *,
    name: str,
    code: str,
    kind: str,
    region: Region | None = None,
    default_time_limit: str = "5wd",
    contact: str = "",
    hmac_secret: str | None = None,
) -> tuple[Partner, str]:
    """Create a partner with a fresh HMAC secret (or the given one). Returns the partner and
    the secret, to be shown once."""
    secret = hmac_secret or security.hmac_secret_new()
    partner = Partner(
        name=name,
        code=code,
        kind=kind,
        region=region,
        default_time_limit=default_time_limit,
        contact=contact,
        hmac_secret=secret,
    )
    try:
        partner.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(_("The partner is not valid."), extra=exc.message_dict) from exc
    partner.save()
    return partner, secret


def partner_rotate_secret(*, partner_id: int) -> str:
    """Give the partner a new HMAC secret (the old one stops working at once)."""
    with transaction.atomic():
        partner = Partner.objects.select_for_update().filter(pk=partner_id).first()
        if partner is None:
            raise NotFoundError(_("Partner not found."))
        partner.hmac_secret = security.hmac_secret_new()
        partner.save(update_fields=["hmac_secret", "updated_at"])
        return partner.hmac_secret


def api_key_create(
    *,
    partner: Partner,
    name: str,
    scopes: Sequence[str],
    rate_limit: int = 120,
    rate_window_seconds: int = 60,
    created_by: User | None = None,
    fixed_prefix: str | None = None,
    fixed_secret: str | None = None,
) -> tuple[ApiKey, str]:
    """Make a key; returns it with the raw key, which is never stored and shown only once."""
    unknown = sorted(set(scopes) - set(KeyScope.values))
    if unknown:
        message = _("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}
        raise ValidationFailed(message, extra={"scopes": [message]})
    if rate_window_seconds < 1:
        message = _("The window is at least one second.")
        raise ValidationFailed(message, extra={"rate_window_seconds": [message]})
    new = security.key_new(prefix=fixed_prefix, secret=fixed_secret)
    key = ApiKey.objects.create(
        partner=partner,
        name=name.strip() or "key",
        prefix=new.prefix,
        key_hash=new.key_hash,
        scopes=sorted(set(scopes)),
        rate_limit=rate_limit,
        rate_window_seconds=rate_window_seconds,
        created_by=created_by,
    )
    return key, new.raw


def api_key_revoke(*, key_id: int) -> ApiKey:
    """Revoke a key: it is refused from the next request on. Idempotent."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().filter(pk=key_id).first()
        if key is None:
            raise NotFoundError(_("API key not found."))
        if key.revoked_at is None:
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at", "updated_at"])
        return key
