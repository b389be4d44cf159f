"""Ledgers (台账) and KPI tables to xlsx and CSV.

- Headers are Chinese (the file is rendered in zh-hans whoever asks).
- Personal data: phones and ID numbers masked (core.masking), names too, unless the user's role
  may see contacts (accounts.models.ROLES_SEEING_CONTACTS; petitions: the petitions app's own
  rules, petitions.policies.can_see_phone / can_see_id_number).
- The rows are the same query as the page the export was asked from (governance.kpis for the
  incident ledger and the KPI table; the owning apps' selectors for mediation and petitions).
- Small (≤ settings.GOVERNANCE_EXPORT_INLINE_MAX_ROWS, 2,000 by default): streamed at once.
  Larger: an ExportJob written by governance.tasks.export_run under MEDIA_ROOT/exports/ with
  its progress, downloaded by its owner only.
Every export is recorded as an ExportJob (who exported what, with which filters).
"""

from __future__ import annotations

import csv
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import ROLES_SEEING_CONTACTS, User
from core.exceptions import ApplicationError, NotFoundError, ValidationFailed
from core.masking import mask_id_number, mask_name, mask_phone
from core.spreadsheets import formula_safe
from governance import kpis
from governance.models import ExportFormat, ExportJob, ExportKind

logger = logging.getLogger(__name__)

CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
}
EXPORT_KEEP_DAYS = 7


def inline_max_rows() -> int:
    return int(getattr(settings, "GOVERNANCE_EXPORT_INLINE_MAX_ROWS", 2000))


def sees_contacts(user: User) -> bool:
    return bool(user.is_superuser or user.role_codes & ROLES_SEEING_CONTACTS)


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@dataclass
class ExportTable:
    """What an export writes: a title (sheet and file name), Chinese headers, the row count
    and a way to iterate the rows (run again when the file is written)."""

    title: str
    headers: list[str]
    count: int
    rows: Callable[[], Iterator[list[Any]]]


# --- the tables ---------------------------------------------------------------------------------


def incident_row(incident, *, viewer: User, contacts: bool, now: datetime) -> list[Any]:
    """One incident as the ledger page and the exports show it."""
    phone = incident.reporter_phone or (incident.reporter.phone if incident.reporter else "")
    name = incident.reporter_name or (str(incident.reporter) if incident.reporter else "")
    own = incident.reporter_id is not None and incident.reporter_id == viewer.pk
    if not (contacts or own):
        phone, name = mask_phone(phone), mask_name(name)
    unit = incident.handling_department or (
        incident.handling_region.name if incident.handling_region else ""
    )
    overdue = bool(
        incident.due_at and incident.due_at < now and incident.state in kpis.DEADLINE_STATES
    )
    yes, no = _("yes"), _("no")
    return [
        incident.tracking_number,
        _local(incident.created_at),
        incident.category.display_name,
        incident.description,
        incident.address,
        incident.region.name if incident.region else "",
        incident.grid_cell.name if incident.grid_cell else "",
        name,
        phone,
        incident.get_channel_display(),
        incident.get_state_display(),
        yes if incident.urgent else no,
        incident.get_handling_level_display() if incident.handling_level else "",
        unit,
        str(incident.assignee) if incident.assignee else "",
        _local(incident.dispatched_at),
        _local(incident.resolve_due_at),
        _local(incident.resolved_at),
        _local(incident.closed_at),
        _local(incident.due_at),
        yes if overdue else no,
        yes if incident.parked else no,
        incident.rework_count,
        incident.extension_count,
        incident.escalation_level,
        incident.rating if incident.rating is not None else "",
    ]


def incident_headers() -> list[str]:
    return [
        pgettext("supervision", "Tracking number"),
        pgettext("supervision", "Reported at"),
        pgettext("supervision", "Category"),
        pgettext("supervision", "Description"),
        pgettext("supervision", "Address"),
        pgettext("supervision", "Community"),
        pgettext("supervision", "Grid cell"),
        pgettext("supervision", "Reporter"),
        pgettext("supervision", "Reporter's phone"),
        pgettext("supervision", "Channel"),
        pgettext("supervision", "State"),
        pgettext("supervision", "Urgent"),
        pgettext("supervision", "Handling level"),
        pgettext("supervision", "Handling unit"),
        pgettext("supervision", "Assignee"),
        pgettext("supervision", "Dispatched at"),
        pgettext("supervision", "Resolve by"),
        pgettext("supervision", "Resolved at"),
        pgettext("supervision", "Closed at"),
        pgettext("supervision", "Current deadline"),
        pgettext("supervision", "Overdue"),
        pgettext("supervision", "Parked"),
        pgettext("supervision", "Times reworked"),
        pgettext("supervision", "Extensions"),
        pgettext("supervision", "Escalations"),
        pgettext("supervision", "Rating"),
    ]


def _incidents_table(user: User, params: dict[str, Any]) -> ExportTable:
    now = timezone.now()
    qs = kpis.ledger_queryset(user=user, params=params, now=now)
    contacts = sees_contacts(user)
    kpi = str(kpis.ledger_data(params).get("kpi") or "")
    title = _("Incident ledger")
    if kpi in kpis.SETS:
        title = f"{title}-{kpis.SETS[kpi].name}"

    def rows() -> Iterator[list[Any]]:
        for incident in qs.iterator(chunk_size=1000):
            yield incident_row(incident, viewer=user, contacts=contacts, now=now)

    return ExportTable(title=title, headers=incident_headers(), count=qs.count(), rows=rows)


def _period_and_region(user: User, params: dict[str, Any]) -> kpis.KpiQuery:
    data = kpis.ledger_data(params)
    return kpis.kpi_query_build(
        user=user,
        params={
            "region": data.get("region") or data.get("community") or "",
            "start": data.get("start") or "",
            "end": data.get("end") or "",
        },
        require_kpi_access=False,
    )


def _mediation_table(user: User, params: dict[str, Any]) -> ExportTable:
    """Mediation cases applied for in the period in the region, as the user sees them."""
    from mediation.models import viewer_sees_contacts
    from mediation.selectors import cases_visible

    query = _period_and_region(user, params)
    qs = (
        cases_visible(user)
        .filter(created_at__gte=query.start_at, created_at__lt=query.end_at)
        .prefetch_related("parties")
        .order_by("created_at", "id")
    )
    if query.region is not None:
        qs = qs.filter(**kpis.region_code_range(query.region.prefix))
    contacts = viewer_sees_contacts(user)
    headers = [
        _("Case number"),
        _("Applied at"),
        _("Mediation room"),
        _("Mediator"),
        _("Dispute type"),
        _("Source"),
        _("Parties"),
        _("ID numbers"),
        _("Phones"),
        _("State"),
        _("Outcome"),
        _("Settle by"),
        _("Concluded at"),
        _("Days to conclude"),
    ]

    def rows() -> Iterator[list[Any]]:
        for case in qs.iterator(chunk_size=500):
            parties = list(case.parties.all())
            days = ""
            if case.concluded_at:
                days = round((case.concluded_at - case.created_at).total_seconds() / 86400, 1)
            yield [
                case.case_number,
                _local(case.created_at),
                case.room.name if case.room_id else "",
                str(case.mediator) if case.mediator_id else "",
                case.category.name if case.category_id else "",
                case.get_source_display(),
                "、".join(p.name if contacts else mask_name(p.name) for p in parties),
                "、".join(
                    p.id_number if contacts else mask_id_number(p.id_number)
                    for p in parties
                    if p.id_number
                ),
                "、".join(p.phone if contacts else mask_phone(p.phone) for p in parties if p.phone),
                case.get_state_display(),
                case.get_outcome_display() if case.outcome else "",
                _local(case.due_at),
                _local(case.concluded_at),
                days,
            ]

    return ExportTable(
        title=_("Mediation case ledger"), headers=headers, count=qs.count(), rows=rows
    )


def _petitions_table(user: User, params: dict[str, Any]) -> ExportTable:
    """Petitions received in the period in the region (petitions.selectors scoping; merged
    submissions left out as in the petitions analysis)."""
    from petitions import selectors as petition_selectors
    from petitions.policies import can_see_id_number, can_see_phone

    query = _period_and_region(user, params)
    qs = (
        petition_selectors.petitions_for_analysis(
            user=user, date_from=query.start, date_to=query.end
        )
        .prefetch_related("petitioners")
        .order_by("received_at", "id")
    )
    if query.region is not None:
        qs = qs.filter(**kpis.region_code_range(query.region.prefix))
    headers = [
        _("Tracking number"),
        _("Received at"),
        _("Channel"),
        _("Kind"),
        _("Category"),
        _("Matter"),
        _("Petitioners"),
        _("ID numbers"),
        _("Phones"),
        _("Region where the matter arose"),
        _("State"),
        _("Reply by"),
        _("Replied at"),
        _("Replied in time"),
        _("Satisfaction"),
    ]
    yes, no = _("yes"), _("no")

    def rows() -> Iterator[list[Any]]:
        for petition in qs.iterator(chunk_size=500):
            people = list(petition.petitioners.all())
            phones = can_see_phone(user, petition)
            ids = can_see_id_number(user, petition)
            in_time = petition.replied_on_time
            yield [
                petition.tracking_number,
                _local(petition.received_at),
                petition.get_channel_display(),
                petition.get_kind_display(),
                petition.category.name if petition.category_id else "",
                petition.matter,
                "、".join(p.name if phones else mask_name(p.name) for p in people),
                "、".join(
                    p.id_number if ids else p.masked_id_number for p in people if p.id_number
                ),
                "、".join(p.phone if phones else p.masked_phone for p in people if p.phone),
                petition.region.name if petition.region_id else "",
                petition.get_state_display(),
                _local(petition.reply_due_at),
                _local(petition.replied_at),
                "" if in_time is None else (yes if in_time else no),
                petition.get_satisfaction_display() if petition.satisfaction else "",
            ]

    return ExportTable(title=_("Petition ledger"), headers=headers, count=qs.count(), rows=rows)


def kpi_headers() -> list[str]:
    headers = [_("Group")]
    numerator, denominator = _("numerator"), _("denominator")
    for kpi in kpis.KPIS:
        headers.append(str(kpi.name))
        if kpi.kind != "count":
            headers.append(f"{kpi.name}·{numerator}")
            headers.append(f"{kpi.name}·{denominator}")
    return headers


def kpi_row_cells(row: kpis.KpiRow) -> list[Any]:
    cells: list[Any] = [row.label]
    for kpi in kpis.KPIS:
        value = row.values[kpi.key]
        cells.append(value.display)
        if kpi.kind != "count":
            numerator = value.numerator
            if kpi.kind == "hours":  # total hours over the incidents counted
                numerator = round(value.numerator / 3600, 2)
            cells.extend([numerator, value.denominator])
    return cells


def _kpis_table(user: User, params: dict[str, Any]) -> ExportTable:
    data = kpis.ledger_data(params)
    query = kpis.kpi_query_build(user=user, params={k: data.get(k) for k in data})
    table = kpis.kpi_table(query)

    def rows() -> Iterator[list[Any]]:
        for row in table.rows:
            yield kpi_row_cells(row)
        yield kpi_row_cells(table.total)

    region = query.region.name if query.region else ""
    name = _("KPI table")
    title = f"{name}-{region}-{query.start:%Y%m%d}-{query.end:%Y%m%d}"
    return ExportTable(title=title, headers=kpi_headers(), count=len(table.rows) + 1, rows=rows)


TABLES: dict[str, Callable[[User, dict[str, Any]], ExportTable]] = {
    ExportKind.INCIDENTS: _incidents_table,
    ExportKind.MEDIATION: _mediation_table,
    ExportKind.PETITIONS: _petitions_table,
    ExportKind.KPIS: _kpis_table,
}


def export_table(*, user: User, kind: str, params: dict[str, Any]) -> ExportTable:
    """The table of an export, headers in Chinese. Raises the selectors' errors (403, 404,
    400) for parameters the user may not use."""
    if kind not in TABLES:
        raise ValidationFailed(_("Unknown export."), extra={"kind": [_("Unknown export.")]})
    with translation.override("zh-hans"):
        return TABLES[kind](user, params)


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
    stream: io.IOBase,
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


# --- services -----------------------------------------------------------------------------------


@dataclass
class ExportResult:
    job: ExportJob
    content: bytes | None = None  # set when the export was small enough to download at once
    filename: str = ""
    content_type: str = ""


def export_request(
    *, user: User, kind: str, fmt: str, params: dict[str, Any], inline: bool = True
) -> ExportResult:
    """Export a ledger or KPI table. Validates the parameters by building the table (the same
    query as the page); ≤ inline_max_rows() rows (and `inline`): the file is made now and
    returned; otherwise an ExportJob is created and governance.tasks.export_run is enqueued on
    commit. Either way the export is recorded."""
    from governance.tasks import export_run

    if fmt not in ExportFormat.values:
        raise ValidationFailed(_("Unknown format."), extra={"fmt": [_("Unknown format.")]})
    table = export_table(user=user, kind=kind, params=params)
    if inline and table.count <= inline_max_rows():
        buffer = io.BytesIO()
        written = write_table(table, fmt, buffer)
        now = timezone.now()
        job = ExportJob.objects.create(
            user=user,
            kind=kind,
            fmt=fmt,
            params=params,
            status=ExportJob.Status.DONE,
            inline=True,
            progress=100,
            row_count=written,
            started_at=now,
            finished_at=now,
        )
        return ExportResult(
            job=job,
            content=buffer.getvalue(),
            filename=file_name(table, fmt),
            content_type=CONTENT_TYPES[fmt],
        )
    with transaction.atomic():
        job = ExportJob.objects.create(
            user=user, kind=kind, fmt=fmt, params=params, row_count=table.count
        )
        transaction.on_commit(lambda: export_run.delay(job.pk))
    return ExportResult(job=job)


def export_job_get(*, user: User, job_id: int) -> ExportJob:
    """The user's own export; NotFoundError for anybody else's."""
    job = ExportJob.objects.filter(pk=job_id, user=user).first()
    if job is None:
        raise NotFoundError(_("Export not found."))
    return job


def export_job_run(*, job_id: int) -> ExportJob | None:
    """Write the file of a queued export (the task). Idempotent: a finished job is left as it
    is; a job found running (a worker died) is written again. Errors in the data or the
    filters mark the job failed with the message."""
    job = ExportJob.objects.select_related("user").filter(pk=job_id).first()
    if job is None or job.finished:
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING, started_at=timezone.now(), progress=0, error=""
    )
    try:
        table = export_table(user=job.user, kind=job.kind, params=job.params)
        total = max(table.count, 1)
        ExportJob.objects.filter(pk=job.pk).update(row_count=table.count)

        def progress(done: int) -> None:
            ExportJob.objects.filter(pk=job.pk).update(progress=min(99, done * 100 // total))

        # A random name: the file's path reveals neither the owner, nor the table, nor the
        # time, and cannot be guessed (security review M5). The title is the download's name.
        name = default_storage.get_available_name(f"exports/{uuid.uuid4().hex}.{job.fmt}")
        download_name = file_name(table, job.fmt)
        path = default_storage.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as stream:
            written = write_table(table, job.fmt, stream, progress=progress)
    except (OperationalError, InterfaceError):
        raise  # transient: the task retries it
    except Exception as exc:  # anything else: the job fails visibly, with the reason
        message = exc.message if isinstance(exc, ApplicationError) else str(exc)
        logger.exception("export %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED, error=message[:1000], finished_at=timezone.now()
        )
        return ExportJob.objects.get(pk=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.DONE,
        file=name,
        filename=download_name,
        progress=100,
        row_count=written,
        finished_at=timezone.now(),
    )
    return ExportJob.objects.get(pk=job.pk)


def export_download_name(job: ExportJob) -> str:
    """The name the owner's download is given (Content-Disposition): the table's title and the
    time it was made, never the stored name."""
    return job.filename or f"{job.get_kind_display()}-{job.pk}.{job.fmt}"


def exports_purge(*, now: datetime | None = None, keep_days: int = EXPORT_KEEP_DAYS) -> int:
    """Delete the files of exports older than `keep_days` (the rows stay as the audit trail)."""
    now = now or timezone.now()
    old = ExportJob.objects.filter(created_at__lt=now - timedelta(days=keep_days)).exclude(file="")
    removed = 0
    for job in old.iterator():
        try:
            job.file.delete(save=False)
        except OSError:
            logger.warning("export %s: could not delete %s", job.pk, job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(file="")
        removed += 1
    return removed
