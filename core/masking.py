"""Masking of personal data (PIPL): phones and ID numbers are shown masked by default."""


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
