"""The monthly screening ledger (排查台账) in xlsx: one sheet of disputes (parties masked,
whoever exports it) and one of figures per community. The export is an audit event."""

from __future__ import annotations

from datetime import date
from io import BytesIO

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from core.spreadsheets import formula_safe
from grids.models import Region
from screening import selectors


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}%"


def _bold_header(sheet, headers: list[str]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)


def ledger_xlsx(*, user: User, region: Region, month: date) -> bytes:
    from audit.models import AuditKind
    from audit.services import record

    record(
        AuditKind.EXPORTED,
        actor=user,
        object_type="screening.dispute",
        details={"kind": "screening_ledger", "region": region.code, "month": f"{month:%Y-%m}"},
    )
    with translation.override("zh-hans"):
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _("Screening ledger")
        _bold_header(
            sheet,
            [
                _("Number"),
                _("Registered at"),
                _("Community"),
                _("Kind of dispute"),
                _("Source"),
                _("Place"),
                _("Parties"),
                _("Risk factors"),
                _("Risk level"),
                _("State"),
                _("Routed to"),
                _("Receiving unit"),
                _("Follow-ups"),
                _("Follow-ups on time"),
                _("Outcome"),
                _("Closed at"),
                _("Visited back at"),
                _("Escalated (民转刑)"),
            ],
        )
        for dispute in selectors.ledger_disputes(user, region=region, month=month):
            row = [
                dispute.number,
                _local(dispute.registered_at),
                dispute.region.name,
                dispute.kind.display_name,
                dispute.get_source_display(),
                dispute.place,
                "、".join(p.masked_name for p in dispute.parties.all()),
                "、".join(f.display_name for f in dispute.factors.all()),
                dispute.get_level_display(),
                dispute.get_state_display(),
                dispute.get_route_target_display() if dispute.route_target else "",
                dispute.route_unit,
                dispute.follow_ups,
                dispute.follow_ups_on_time,
                dispute.get_outcome_display() if dispute.outcome else "",
                _local(dispute.closed_at),
                _local(dispute.visited_at),
                _("yes") if dispute.escalated_incident_id else "",
            ]
            sheet.append([formula_safe(value) for value in row])

        summary = workbook.create_sheet(_("Figures"))
        _bold_header(
            summary,
            [
                _("Region"),
                _("Disputes found"),
                _("Red"),
                _("Orange"),
                _("Yellow"),
                _("Blue"),
                _("Resolved"),
                _("Resolution rate"),
                _("Escalated (民转刑)"),
                _("Follow-ups"),
                _("On-time follow-up rate"),
                _("Overdue"),
            ],
        )
        figures = selectors.dispute_kpis(user, region=region, month=month)
        for name, row in [
            *[(r["region"].name, r) for r in figures["rows"]],
            (_("Total: %(region)s") % {"region": region.name}, figures["totals"]),
        ]:
            summary.append(
                [
                    formula_safe(name),
                    row["found"],
                    row["by_level"]["red"],
                    row["by_level"]["orange"],
                    row["by_level"]["yellow"],
                    row["by_level"]["blue"],
                    row["resolved"],
                    _percent(row["resolution_rate"]),
                    row["escalated"],
                    row["follow_ups"],
                    _percent(row["on_time_rate"]),
                    row["overdue"],
                ]
            )
        buffer = BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
