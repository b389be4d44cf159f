"""The audit administrator's viewer: filter by user, kind, object and time; export xlsx; the
latest integrity check of the hash chain (audit.chain)."""

from __future__ import annotations

from io import BytesIO

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from audit.chain import chain_status
from audit.models import AuditKind
from audit.selectors import audit_events_filtered, may_read_audit
from audit.services import record
from core.spreadsheets import formula_safe

EXPORT_LIMIT = 50_000


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("User"), max_length=150, required=False)
    kind = forms.ChoiceField(
        label=gettext_lazy("Event kind"),
        choices=[("", "—"), *AuditKind.choices],
        required=False,
    )
    object_type = forms.CharField(label=gettext_lazy("Object type"), max_length=64, required=False)
    object_id = forms.CharField(label=gettext_lazy("Object id"), max_length=64, required=False)
    date_from = forms.DateField(label=gettext_lazy("From"), required=False)
    date_to = forms.DateField(label=gettext_lazy("To"), required=False)


def _filtered(request: HttpRequest):
    if not may_read_audit(request.user):
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    filters = {k: v for k, v in filters.items() if v}
    return form, filters, audit_events_filtered(user=request.user, **filters)


@login_required
def events(request: HttpRequest) -> HttpResponse:
    form, _filters, qs = _filtered(request)
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/events.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "check": chain_status(),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
def events_export(request: HttpRequest) -> HttpResponse:
    _form, filters, qs = _filtered(request)
    record(
        AuditKind.EXPORTED,
        actor=request.user,
        object_type="audit.auditevent",
        details={"kind": "audit_xlsx", "filters": {k: str(v) for k, v in filters.items()}},
    )
    with translation.override("zh-hans"):
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_("Audit log"))
        header = [
            _("At"),
            _("Event kind"),
            _("User"),
            _("IP address"),
            _("Object type"),
            _("Object id"),
            _("Path"),
            _("Event details"),
        ]
        sheet.append(header)
        labels = dict(AuditKind.choices)
        for event in qs[:EXPORT_LIMIT].iterator(chunk_size=2000):
            sheet.append(
                [
                    formula_safe(v)
                    for v in (
                        timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                        str(labels.get(event.kind, event.kind)),
                        event.actor_label,
                        event.ip or "",
                        event.object_type,
                        event.object_id,
                        event.path,
                        str(event.details),
                    )
                ]
            )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="audit-log.xlsx"'
    return response
