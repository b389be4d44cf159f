"""Personal data of the grid's people: validation, lookup keys (blind indexes), masking.

ID numbers and phones are encrypted at rest (core.crypto); they are found only through keyed
hashes (`lookup_key`), computed the same way as petitions.personal_data.lookup_key so that a
phone typed into an incident or a petition matches a registry person without decrypting
anything. Who may see them in full is decided in registry.policies; every unmasked view is an
audit event (audit.services.record_unmasked).
"""

import hashlib
import hmac
import re
from datetime import date

from django.conf import settings

from core.masking import mask_id_number, mask_phone

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK_CHARS = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
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


def birth_date_from_id(value: str) -> date | None:
    value = normalise_id_number(value)
    if not id_number_is_valid(value):
        return None
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def gender_from_id(value: str) -> str:
    value = normalise_id_number(value)
    if not id_number_is_valid(value):
        return ""
    return "male" if int(value[16]) % 2 else "female"


def normalise_phone(value: str) -> str:
    return re.sub(r"[\s()]", "", value or "")


def phone_is_valid(value: str) -> bool:
    value = normalise_phone(value)
    return bool(MOBILE_PATTERN.match(value) or LANDLINE_PATTERN.match(value))


def lookup_key(kind: str, value: str) -> str:
    """A keyed hash of an ID number ("id") or phone ("phone"): the blind index."""
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
