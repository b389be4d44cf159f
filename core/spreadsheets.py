"""Spreadsheet cells that stay data (CSV/xlsx formula injection).

A text cell that starts with = + - @ (or a tab / carriage return, which some spreadsheet
programs skip before reading a formula) would be run as a formula when the export is opened:
`formula_safe` prefixes it with an apostrophe so it is shown as the text it is. Numbers (also
written as text, like "-12.5" or "-3%"), dates and empty cells are left alone.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?%?$")


def formula_safe(value: Any) -> Any:
    if (
        isinstance(value, str)
        and len(value) > 1  # a lone "-" (nothing to show) is no formula
        and value.startswith(FORMULA_STARTS)
        and not PLAIN_NUMBER.match(value)
    ):
        return "'" + value
    return value
