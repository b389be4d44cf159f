"""Celery tasks of the residents app (ids in, idempotent)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


@shared_task(
    name="residents.tasks.phone_code_send",
    bind=True,
    ignore_result=True,
    max_retries=3,
    acks_late=True,
)
def phone_code_send(self, code_id: int) -> None:
    """Send one SMS code through core.sms's backend (queue "outbound"). The code is read from
    its encrypted column and the column blanked once the gateway took it, so no row keeps it;
    a code already sent, used or expired is not sent (a second run does nothing). A gateway
    failure retries shortly: a code lives five minutes, so there are few retries."""
    from core.sms import SmsError, get_backend
    from residents.models import PhoneCode

    item = PhoneCode.objects.filter(pk=code_id).first()
    if (
        item is None
        or not item.code_pending
        or item.used_at is not None
        or item.expires_at <= timezone.now()
    ):
        return
    with translation.override(settings.LANGUAGE_CODE):
        text = _("GridGov code %(code)s, valid for 5 minutes. Never tell it to anybody.") % {
            "code": item.code_pending
        }
    try:
        get_backend().send(item.phone, text)
    except SmsError as exc:
        if self.request.retries >= self.max_retries:
            logger.warning("sms code %s not sent: %s", code_id, exc)
            PhoneCode.objects.filter(pk=code_id).update(code_pending="")
            return
        raise self.retry(exc=exc, countdown=10) from exc
    PhoneCode.objects.filter(pk=code_id).update(code_pending="", sent_at=timezone.now())


@shared_task(name="residents.tasks.phone_codes_purge", ignore_result=True)
def phone_codes_purge() -> int:
    """Beat, hourly: codes older than a day go (they prove nothing any more)."""
    from datetime import timedelta

    from residents.models import PhoneCode

    deleted, _rows = PhoneCode.objects.filter(
        created_at__lt=timezone.now() - timedelta(days=1)
    ).delete()
    return deleted
