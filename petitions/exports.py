"""The xlsx export of petitions and their analysis: Chinese headers, personal data masked
(names, ID numbers and phones), whoever exports it."""

from datetime import date
from io import BytesIO

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from accounts.models import User
from core.spreadsheets import formula_safe
from petitions import selectors


def _local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _percent(rate: dict) -> str:
    return "" if rate["rate"] is None else f"{rate['rate'] * 100:.1f}%"


def petitions_xlsx(
    *, user: User, date_from: date | None = None, date_to: date | None = None
) -> bytes:
    from audit.models import AuditKind
    from audit.services import record

    record(
        AuditKind.EXPORTED,
        actor=user,
        object_type="petitions.petition",
        details={"kind": "petitions_xlsx", "from": str(date_from or ""), "to": str(date_to or "")},
    )
    with translation.override("zh-hans"):
        qs = (
            selectors.petitions_for_analysis(user=user, date_from=date_from, date_to=date_to)
            .prefetch_related("petitioners")
            .order_by("received_at", "id")
        )
        analysis = selectors.petition_analysis(user=user, date_from=date_from, date_to=date_to)
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _("Petitions")
        headers = [
            pgettext("petition", "Tracking number"),
            _("Received at"),
            _("Channel"),
            pgettext("petition", "Kind"),
            _("Category"),
            _("Matter"),
            _("Petitioners"),
            _("ID numbers"),
            _("Phones"),
            _("Joint petition"),
            _("Region where the matter arose"),
            _("Level"),
            _("State"),
            _("Tell the petitioner by"),
            _("Told in time"),
            _("Reply by"),
            _("Replied at"),
            _("Replied in time"),
            _("Overdue"),
            _("Times raised again"),
            _("Backlog"),
            _("Satisfaction"),
        ]
        sheet.append(headers)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        yes, no = _("yes"), _("no")

        def flag(value) -> str:
            return "" if value is None else (yes if value else no)

        for petition in qs:
            people = list(petition.petitioners.all())
            sheet.append(
                [
                    formula_safe(value)  # text never runs as a formula (core.spreadsheets)
                    for value in [
                        petition.tracking_number,
                        _local(petition.received_at),
                        petition.get_channel_display(),
                        petition.get_kind_display(),
                        petition.category.name,
                        petition.matter,
                        "、".join(selectors.mask_name(p.name) for p in people),
                        "、".join(p.masked_id_number for p in people if p.id_number),
                        "、".join(p.masked_phone for p in people if p.phone),
                        flag(petition.is_joint),
                        petition.region.name,
                        petition.get_level_display(),
                        petition.get_state_display(),
                        _local(petition.accept_due_at),
                        flag(petition.told_on_time),
                        _local(petition.reply_due_at),
                        _local(petition.replied_at),
                        flag(petition.replied_on_time),
                        flag(petition.overdue),
                        petition.repeat_count,
                        flag(petition.backlog),
                        petition.get_satisfaction_display() if petition.satisfaction else "",
                    ]
                ]
            )
        for column, width in zip("ABCDEFGHIJKLMNOPQRSTUV", [18, 17, 8, 10, 14, 40], strict=False):
            sheet.column_dimensions[column].width = width

        summary = workbook.create_sheet(_("Analysis"))
        summary.append([_("Indicator"), _("Numerator"), _("Denominator"), _("Rate")])
        for cell in summary[1]:
            cell.font = Font(bold=True)
        kpi_names = {
            "timely_acceptance": _("Timely acceptance rate"),
            "on_time_completion": _("On-time completion rate"),
            "satisfaction": _("Satisfaction rate"),
            "settled": _("Settled rate (no further petition)"),
            "backlog_resolution": _("Backlog resolution rate"),
            "local_share": _("Share arising at village and township level"),
        }
        for key, label in kpi_names.items():
            rate = analysis["kpis"][key]
            summary.append([label, rate["numerator"], rate["denominator"], _percent(rate)])
        summary.append([])
        summary.append([_("Total"), analysis["total"]])
        summary.append([_("Repeated petitions"), analysis["repeated"]["petitions"]])
        summary.append([_("Backlog"), analysis["backlog"]["total"]])
        for title, rows in (
            (_("By category"), analysis["by_category"]),
            (_("By kind"), analysis["by_kind"]),
            (_("By channel"), analysis["by_channel"]),
            (_("By region"), analysis["by_region"]),
            (_("By level"), analysis["by_level"]),
            (_("By month"), analysis["by_month"]),
        ):
            summary.append([])
            summary.append([title])
            summary.cell(row=summary.max_row, column=1).font = Font(bold=True)
            for row in rows:
                summary.append([row["label"], row["count"]])
        summary.column_dimensions["A"].width = 36
        buffer = BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
