"""Writing a table as xlsx or CSV (formula-safe cells, a file name from the title)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any, BinaryIO

from django.utils import timezone, translation

from core.spreadsheets import formula_safe
from governance.exports.tables import ExportTable
from governance.models import ExportFormat

CONTENT_TYPES: dict[str, str] = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}


# --- writers ------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A value as a CSV/xlsx cell: text that looks like a formula is prefixed with ' so a
    spreadsheet shows it instead of running it (core.spreadsheets)."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    return formula_safe(str(value))


def write_table(
    table: ExportTable,
    fmt: str,
    stream: BinaryIO,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the table to a binary stream; `progress(rows written)` is called now and then.
    Returns the number of rows written."""
    written = 0
    step = max(200, table.count // 50)
    with translation.override("zh-hans"):
        rows: Iterable[list[Any]] = table.rows()
        if fmt == ExportFormat.CSV:
            text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
            writer = csv.writer(text)
            writer.writerow(table.headers)
            for row in rows:
                writer.writerow([_cell(v) for v in row])
                written += 1
                if progress and written % step == 0:
                    progress(written)
            text.flush()
            text.detach()
        else:
            from openpyxl import Workbook
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.styles import Font

            workbook = Workbook(write_only=True)
            sheet = workbook.create_sheet(_sheet_title(table.title))
            bold = Font(bold=True)
            header = []
            for title in table.headers:
                cell = WriteOnlyCell(sheet, value=title)
                cell.font = bold
                header.append(cell)
            sheet.append(header)
            for row in rows:
                sheet.append([_cell(v) for v in row])
                written += 1
                if progress and written % step == 0:
                    progress(written)
            workbook.save(stream)
    return written


def _sheet_title(title: str) -> str:
    for char in "[]:*?/\\":
        title = title.replace(char, " ")
    return title[:31]


def file_name(table: ExportTable, fmt: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    safe = "".join(c for c in table.title if c not in '\\/:*?"<>|').strip() or "export"
    return f"{safe}-{stamp}.{fmt}"
