"""The xlsx export of a special campaign's progress board: totals, per cell, per worker, and every
assignment (task, cell, worker, state, deadline, done). No addressee data: a campaign's tasks are
not services of documents, and the export names only staff."""

from __future__ import annotations

from io import BytesIO

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from assignments import selectors
from assignments.models import Assignment, Campaign
from core.spreadsheets import formula_safe


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def campaign_xlsx(*, user: User, campaign: Campaign) -> bytes:
    """The board of a campaign the user may see (the caller checked), as xlsx; audited."""
    from audit.models import AuditKind
    from audit.services import record

    record(
        AuditKind.EXPORTED,
        actor=user,
        obj=campaign,
        details={"kind": "campaign_xlsx"},
    )
    with translation.override("zh-hans"):
        progress = selectors.campaign_progress(campaign)
        workbook = Workbook()
        counts = [
            pgettext("tasks", "Assignments"),
            pgettext("task", "done"),
            pgettext("task", "overdue"),
            _("open"),
            pgettext("tasks", "done late"),
        ]
        for index, (title, rows) in enumerate(
            ((_("By grid cell"), progress["by_cell"]), (_("By worker"), progress["by_worker"]))
        ):
            sheet = workbook.active if index == 0 else workbook.create_sheet()
            sheet.title = title
            sheet.append([formula_safe(campaign.title), _local(campaign.deadline)])
            sheet.append(["", *counts])
            for cell in sheet[2]:
                cell.font = Font(bold=True)
            for row in rows:
                sheet.append(
                    [
                        formula_safe(row.label),
                        row.total,
                        row.done,
                        row.overdue,
                        row.open,
                        row.done_late,
                    ]
                )
            total = progress["total"]
            sheet.append(
                [
                    pgettext("tasks", "Total"),
                    total.total,
                    total.done,
                    total.overdue,
                    total.open,
                    total.done_late,
                ]
            )
        sheet = workbook.create_sheet(pgettext("task", "assignments"))
        sheet.append(
            [
                pgettext("tasks", "Tasks"),
                _("Grid cell"),
                _("Worker"),
                _("State"),
                _("Deadline"),
                _("done at"),
            ]
        )
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        assignments = (
            Assignment.objects.filter(task__campaign=campaign)
            .select_related("task", "cell", "worker")
            .order_by("cell__code", "id")
        )
        for assignment in assignments:
            sheet.append(
                [
                    formula_safe(assignment.task.title),
                    formula_safe(assignment.cell.name if assignment.cell else ""),
                    formula_safe(str(assignment.worker) if assignment.worker else ""),
                    str(assignment.get_state_display()),
                    _local(assignment.due_at),
                    _local(assignment.done_at),
                ]
            )
        buffer = BytesIO()
        workbook.save(buffer)
    return buffer.getvalue()
