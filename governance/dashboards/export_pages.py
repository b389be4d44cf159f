"""Exports with progress: the request, the job page and the owner's download."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import (
    ApplicationError,
    NotFoundError,
    PermissionDeniedError,
)
from core.redirects import safe_next
from governance import exports
from governance.models import ExportFormat


@login_required
@require_POST
def export_create(request: HttpRequest) -> HttpResponse:
    """Export the list or table a page shows (its query string is posted as `query`): small
    ones come back at once, large ones go to a job page with its progress."""
    kind = request.POST.get("kind") or ""
    fmt = request.POST.get("fmt") or ExportFormat.XLSX
    params = dict(QueryDict(request.POST.get("query") or "").lists())
    params.pop("page", None)
    back = safe_next(request, reverse("governance:dashboard"))
    try:
        result = exports.export_request(user=request.user, kind=kind, fmt=fmt, params=params)
    except ApplicationError as exc:
        if isinstance(exc, PermissionDeniedError):
            raise PermissionDenied(exc.message) from exc
        messages.error(request, exc.message)
        return redirect(back)
    if result.content is not None:
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = _attachment(result.filename)
        return response
    messages.info(request, _("The export is being prepared; this page shows its progress."))
    return redirect("governance:export_detail", pk=result.job.pk)


def _attachment(filename: str) -> str:
    from django.utils.http import content_disposition_header

    return content_disposition_header(as_attachment=True, filename=filename)


@login_required
@require_GET
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _own_job(request, pk)
    template = "governance/_export_progress.html" if request.htmx else "governance/export_job.html"
    return render(request, template, {"job": job})


@login_required
@require_GET
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file of the user's own finished export (anybody else: 404)."""
    job = _own_job(request, pk)
    if job.status != job.Status.DONE or not job.file:
        raise Http404(_("The file is not ready."))
    try:
        handle = job.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404(_("The file has been removed; export again.")) from exc
    return FileResponse(handle, as_attachment=True, filename=exports.export_download_name(job))


def _own_job(request: HttpRequest, pk: int):
    try:
        return exports.export_job_get(user=request.user, job_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
