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


# --- free text published to the public (Open311) ------------------------------------------------
# Stricter than mask_text: every number that may be a phone or an ID number is replaced whole
# (no digits left), in any of the ways people type them: separated by spaces, dashes, dots or
# parentheses, with a +86 / 0086 prefix, in full-width digits, landlines with area codes.

# Full-width digits and separators -> ASCII, one character for one (so the spans found in the
# translated copy are the spans of the original text).
_FULLWIDTH = str.maketrans(
    {
        **{chr(0xFF10 + n): str(n) for n in range(10)},
        "＋": "+",
        "－": "-",
        "—": "-",
        "–": "-",
        "‐": "-",
        "‑": "-",
        "．": ".",
        "·": ".",
        "（": "(",
        "）": ")",
        "\u3000": " ",
        "\u00a0": " ",
        "Ｘ": "X",
        "ｘ": "x",
    }
)
# A run of digits: starts at a digit or "+", digits joined by at most four separators
# (space, dash, dot, parenthesis), optionally ending with an ID number's check letter X.
_NUMBER_RUN = re.compile(r"(?<![0-9])\+?[0-9](?:[ \t\-.()]{0,4}[0-9])*(?:[Xx](?![A-Za-z]))?")
# A date at the start of a run (2026-03-12, 2026.3.12): kept, the rest of the run is looked at.
_DATE_PREFIX = re.compile(
    r"^(?:19|20)[0-9]{2}([-.])(?:0?[1-9]|1[0-2])\1(?:0?[1-9]|[12][0-9]|3[01])(?![0-9])"
)
_ID_NUMBER = re.compile(r"^(?:[1-9][0-9]{16}[0-9Xx]|[1-9][0-9]{14})$")
MIN_HIDDEN_DIGITS = 7  # a local landline number without its area code


def _hidden(run: str) -> str | None:
    """The replacement of a run of digits, or None to keep it."""
    from django.utils.translation import gettext

    characters = "".join(c for c in run if c.isdigit() or c in "Xx")
    if sum(c.isdigit() for c in characters) < MIN_HIDDEN_DIGITS:
        return None
    if _ID_NUMBER.match(characters):
        return gettext("[ID number hidden]")
    return gettext("[phone number hidden]")


def scrub_public_text(text: str | None) -> str:
    """`text` with every phone and ID number replaced whole (e.g. 联系138 1234 5678 ->
    联系[电话已隐藏]); any other run of seven digits or more goes too, except a date. For text
    shown to the public (Open311); mask_text keeps the last digits for staff and logs."""
    if not text:
        return ""
    text = str(text)
    plain = text.translate(_FULLWIDTH)
    pieces: list[str] = []
    done = 0
    for match in _NUMBER_RUN.finditer(plain):
        start, end = match.span()
        run = plain[start:end]
        date = _DATE_PREFIX.match(run)
        if date is not None:  # keep the date, look at what follows it
            rest = run[date.end() :]
            skipped = len(rest) - len(rest.lstrip(" \t-.()"))
            start += date.end() + skipped
            run = plain[start:end]
        replacement = _hidden(run)
        if replacement is None:
            continue
        if run.count(")") > run.count("(") and start > 0 and plain[start - 1] == "(":
            start -= 1  # "(0596) 2345678": the opening parenthesis goes with the number
        if run.count("(") > run.count(")") and plain[end : end + 1] == ")":
            end += 1
        pieces.append(text[done:start])
        pieces.append(replacement)
        done = end
    pieces.append(text[done:])
    return "".join(pieces)
