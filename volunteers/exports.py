"""The supervision figures as xlsx (no personal data: counts by region only; GPS tracks never
leave the app in an export)."""

from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook

from core.spreadsheets import formula_safe


def supervision_xlsx(region, total, rows) -> HttpResponse:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Patrol coverage")[:31]
    sheet.append(
        [
            _("Region"),
            _("Grid cells"),
            _("Patrolled in 24 h (%)"),
            _("Patrolled in 7 days (%)"),
            _("Volunteers"),
            _("Volunteers active (30 days)"),
            _("Hours this month"),
            _("Hazards found this month"),
            _("Fill rate (%)"),
        ]
    )
    for figures in [total, *rows]:
        sheet.append(
            [
                formula_safe(figures.region.name if figures.region else ""),
                figures.cells,
                figures.coverage_24h,
                figures.coverage_7d,
                figures.volunteers,
                figures.volunteers_active,
                float(figures.hours_month),
                figures.hazards_month,
                figures.fill_rate,
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="patrol-coverage-{region.code}.xlsx"'
    return response
