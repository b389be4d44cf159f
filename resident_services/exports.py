"""The xlsx of the supervision figures (办结率, 按时办结率, 满意率): one row per region, no
personal data; the export is recorded in the audit log."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from core.spreadsheets import formula_safe
from resident_services import selectors


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def supervision_xlsx(
    *,
    user: User,
    code: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> bytes:
    from audit.models import AuditKind
    from audit.services import record

    figures = selectors.supervision(user=user, code=code, date_from=date_from, date_to=date_to)
    record(
        AuditKind.EXPORTED,
        actor=user,
        object_type="resident_services.servicerequest",
        details={
            "kind": "services_supervision_xlsx",
            "region": figures.code,
            "from": str(date_from or ""),
            "to": str(date_to or ""),
        },
    )
    with translation.override("zh-hans"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _("Resident services")
        sheet.append(
            [
                _("Region"),
                _("Division code"),
                _("Number of requests"),
                _("Closed"),
                _("Closed on time"),
                _("Rated"),
                _("Satisfied"),
                _("Open"),
                _("Overdue"),
                _("Closing rate"),
                _("On-time closing rate"),
                _("Satisfaction rate"),
            ]
        )
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in [figures, *figures.children]:
            sheet.append(
                [
                    formula_safe(row.name),
                    row.code,
                    row.total,
                    row.closed,
                    row.closed_on_time,
                    row.rated,
                    row.satisfied,
                    row.open,
                    row.overdue,
                    _percent(row.closed_rate),
                    _percent(row.on_time_rate),
                    _percent(row.satisfaction_rate),
                ]
            )
        buffer = BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()
