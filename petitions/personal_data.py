"""Personal data of petitioners: validation, lookup keys and who may see what.

Every read of a petitioner's ID number goes through `Petitioner.id_number` (models) and the
helpers here. The ID number is encrypted at rest (core.crypto, `Petitioner.id_number_value`);
the duplicate detection ("最多投一次") never compares raw values: it compares keyed hashes
(`lookup_key`). Showing a number in full to an officer is an audit event (`audit_unmasked`).
"""

import hashlib
import hmac
import re
from datetime import date

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from core.exceptions import ValidationFailed
from core.masking import mask_id_number, mask_phone

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
# Landlines for letters and phone intake: area code 0xx / 0xxx, 7-8 digits, an optional "-".
LANDLINE_PATTERN = re.compile(r"^0\d{2,3}-?\d{7,8}$")


def normalise_id_number(value: str) -> str:
    return (value or "").strip().upper().replace(" ", "")


def id_number_is_valid(value: str) -> bool:
    """An 18-digit resident ID (GB 11643): the checksum and the birth date must be right."""
    value = normalise_id_number(value)
    if not ID_PATTERN.match(value):
        return False
    total = sum(int(digit) * weight for digit, weight in zip(value[:17], ID_WEIGHTS, strict=True))
    if ID_CHECK_CHARS[total % 11] != value[17]:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date.today()


def validate_id_number(value: str) -> str:
    """The normalised ID number, or ValidationFailed."""
    value = normalise_id_number(value)
    if value and not id_number_is_valid(value):
        raise ValidationFailed(
            str(_("Enter a valid 18-digit resident ID number.")),
            extra={"id_number": [str(_("Enter a valid 18-digit resident ID number."))]},
        )
    return value


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value or "")


def phone_is_valid(value: str, *, allow_landline: bool) -> bool:
    value = normalise_phone(value)
    if MOBILE_PATTERN.match(value):
        return True
    return allow_landline and bool(LANDLINE_PATTERN.match(value))


def validate_phone(value: str, *, allow_landline: bool) -> str:
    value = normalise_phone(value)
    if value and not phone_is_valid(value, allow_landline=allow_landline):
        message = (
            str(_("Enter a mainland mobile number or a landline such as 0596-1234567."))
            if allow_landline
            else str(_("Enter a valid mainland China mobile number (11 digits starting with 1)."))
        )
        raise ValidationFailed(message, extra={"phone": [message]})
    return value


def is_mobile(value: str) -> bool:
    return bool(MOBILE_PATTERN.match(normalise_phone(value)))


def lookup_key(kind: str, value: str) -> str:
    """A keyed hash of an ID number ("id") or phone ("phone") for matching petitioners."""
    if not value:
        return ""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{kind}:{value}".encode(), hashlib.sha256
    ).hexdigest()
    return f"{kind}:{digest[:40]}"


def masked_id(value: str) -> str:
    return mask_id_number(value)


def masked_phone(value: str) -> str:
    return mask_phone(value)


def audit_unmasked(viewer, petition, *, show_id: bool, show_phone: bool) -> None:
    """An audit event when `viewer` is shown petitioners' ID numbers or phones in full (the
    petitioner seeing their own phone is not one)."""
    fields = []
    people = list(petition.petitioners.all())
    if show_id and any(p.id_number for p in people):
        fields.append("id_number")
    if show_phone and any(p.phone for p in people):
        fields.append("phone")
    if fields:
        from audit.services import record_unmasked

        record_unmasked(viewer, petition, fields)
