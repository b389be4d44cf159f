"""Export requests and jobs: small exports at once, large ones as an ExportJob written by
governance.tasks.export_run; the owner's download; the purge of old files."""

from __future__ import annotations

import io
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ApplicationError, NotFoundError, ValidationFailed
from core.transactions import enqueue_on_commit
from governance.exports.tables import export_table
from governance.exports.writers import CONTENT_TYPES, file_name, write_table
from governance.models import ExportFormat, ExportJob

logger = logging.getLogger(__name__)


EXPORT_KEEP_DAYS = 7


def inline_max_rows() -> int:
    return int(getattr(settings, "GOVERNANCE_EXPORT_INLINE_MAX_ROWS", 2000))


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
        enqueue_on_commit(export_run, job.pk)
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
