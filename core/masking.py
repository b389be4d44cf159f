"""Masking of personal data (PIPL): phones and ID numbers are shown masked by default."""

import re


def mask_phone(phone: str | None) -> str:
    """13812341234 -> 138****1234. Short or empty values are masked whole."""
    if not phone:
        return ""
    digits = str(phone)
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}"


def mask_id_number(id_number: str | None) -> str:
    """350602199001011234 -> 3506**********1234 (keeps the region prefix and the last four)."""
    if not id_number:
        return ""
    value = str(id_number)
    if len(value) <= 8:
        return "*" * len(value)
    return f"{value[:4]}{'*' * (len(value) - 8)}{value[-4:]}"


def mask_name(name: str | None) -> str:
    """张三丰 -> 张**; used where a party's name must not be shown in full."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


# Personal data inside free text (log lines, audit details): mainland mobiles (optionally +86)
# and 18-character resident ID numbers, not inside longer digit runs (letters around them do
# not protect them: "GG13812341234" is masked too; a false positive in a log line is harmless).
PHONE_IN_TEXT = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d{9})(?!\d)")
ID_NUMBER_IN_TEXT = re.compile(r"(?<!\d)(\d{17}[\dXx])(?!\d)")


def mask_text(text: str) -> str:
    """Every phone and ID number in `text` masked (13812341234 -> 138****1234)."""
    if not text:
        return text
    text = ID_NUMBER_IN_TEXT.sub(lambda m: mask_id_number(m.group(1)), text)
    return PHONE_IN_TEXT.sub(lambda m: mask_phone(m.group(1)[-11:]), text)
