"""Unlocking an incident and resending its code: what the tracking page and the API do after
counting the client's attempt (incidents.tracking.client_attempt). Kept apart from
incidents.tracking (the code and the budgets), which the selectors and the services import:
this module imports them both."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.exceptions import NotFoundError
from incidents.tracking import number_failed, number_locked, resend_number_attempt


def incident_unlock(tracking_number: str, access_code: str):
    """The incident the number and the access code unlock, counting a failure against the
    number. A number with too many failures (INCIDENT_TRACK_FAILURES_PER_NUMBER within
    INCIDENT_TRACK_LOCK_MINUTES) is locked: the same NotFoundError as a wrong number or code,
    after the same work."""
    from incidents import selectors

    number = (tracking_number or "").strip().upper()[:16]
    locked = number_locked(number)
    try:
        incident = selectors.incident_for_tracking(number, access_code)
    except NotFoundError:
        number_failed(number)
        raise
    if locked:
        raise NotFoundError(_("No incident matches this tracking number and access code."))
    return incident


def access_code_resend(tracking_number: str, phone: str) -> None:
    """Ask for a new code (services.incident_access_code_resend) unless the number had its
    share of requests (INCIDENT_CODE_RESENDS_PER_NUMBER): then nothing happens, silently."""
    from incidents import services

    number = (tracking_number or "").strip().upper()[:16]
    if resend_number_attempt(number).limited:
        return
    services.incident_access_code_resend(tracking_number=number, phone=phone)
