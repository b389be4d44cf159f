"""Pages of screening (phone first): the list, logging a dispute, a dispute with its moves and
timeline, the warning board, the monthly reports, the supervisor's figures and the ledger.
Thin views: validate a form, call one service; ApplicationError becomes a message, never a 500.
Nobody outside the screening roles sees these pages (404)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError
from screening import exports, forms, moves, policies, selectors, services
from screening.models import (
    DisputeState,
    RiskLevel,
    RouteTarget,
)


def _require_user(request: HttpRequest) -> None:
    if not policies.is_screening_user(request.user):
        raise Http404


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    context.setdefault("may_register", policies.may_register(request.user))
    context.setdefault("is_supervising", policies.is_supervising(request.user))
    return render(request, template, context)


def _apply_errors(form, exc: ApplicationError) -> None:
    placed = False
    for field, errors in (exc.extra or {}).items():
        if field in form.fields:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _form_errors(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)


def _incident_id(user, tracking_number: str) -> int | None:
    from incidents.selectors import incidents_visible

    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        return None
    incident = incidents_visible(user).filter(tracking_number=tracking_number).first()
    return incident.pk if incident else -1


def _petition_id(user, tracking_number: str) -> int | None:
    from petitions.selectors import petitions_visible

    tracking_number = (tracking_number or "").strip()
    if not tracking_number:
        return None
    petition = petitions_visible(user=user).filter(tracking_number=tracking_number).first()
    return petition.pk if petition else -1


@login_required
def dispute_list(request: HttpRequest) -> HttpResponse:
    _require_user(request)
    level = request.GET.get("level", "")
    state = request.GET.get("state", "")
    qs = selectors.disputes_list(
        request.user,
        level=level if level in RiskLevel.values else "",
        state=state if state in DisputeState.values else "",
        overdue=request.GET.get("overdue") == "1",
    )
    page = Paginator(qs, 25).get_page(request.GET.get("page"))
    return _render(
        request,
        "screening/list.html",
        {
            "page": page,
            "levels": RiskLevel.choices,
            "states": DisputeState.choices,
            "level": level,
            "state": state,
        },
    )


@login_required
def dispute_new(request: HttpRequest) -> HttpResponse:
    if not policies.may_register(request.user):
        raise Http404
    # A referral from an incident's or a petition's page: /screening/new/?incident=<number>.
    initial = {}
    for key in ("incident", "petition"):
        if request.GET.get(key):
            initial = {key: request.GET[key][:16], "source": key}
    form = forms.DisputeForm(request.POST or None, user=request.user, initial=initial)
    formset = forms.PartyFormSet(request.POST or None, prefix="parties")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        incident_id = _incident_id(request.user, data["incident"])
        petition_id = _petition_id(request.user, data["petition"])
        if incident_id == -1:
            form.add_error("incident", _("Incident not found."))
        if petition_id == -1:
            form.add_error("petition", _("Petition not found."))
        if not form.errors:
            try:
                dispute = services.dispute_register(
                    actor=request.user,
                    kind_code=data["kind"],
                    place=data["place"],
                    story=data["story"],
                    parties=[f.cleaned_data for f in formset.forms if f.cleaned_data],
                    factor_codes=data["factors"],
                    region_code=data["region"],
                    grid_cell_id=int(data["grid_cell"]) if data["grid_cell"] else None,
                    source=data["source"],
                    incident_id=incident_id,
                    petition_id=petition_id,
                    level=data["level"],
                    level_reason=data["level_reason"],
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("Dispute %(number)s logged: %(level)s.")
                    % {"number": dispute.number, "level": dispute.get_level_display()},
                )
                return redirect("screening:detail", pk=dispute.pk)
    return _render(request, "screening/new.html", {"form": form, "formset": formset})


@login_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_user(request)
    try:
        dispute = selectors.dispute_get_for_user(user=request.user, dispute_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    reveal = request.GET.get("reveal") == "1"
    parties = selectors.parties_for_viewer(dispute=dispute, viewer=request.user, reveal=reveal)
    available = moves.actions_for(request.user, dispute)
    rooms = []
    if "route" in available:
        from incidents.models import Category
        from mediation.selectors import rooms_proposed

        category = Category.objects.filter(code=dispute.kind.mediation_category_code).first()
        rooms = [p.room for p in rooms_proposed(region_code=dispute.region_code, category=category)]
    action_forms = []
    for action in available:
        form_class = forms.ACTION_FORMS[action]
        kwargs = {"prefix": action}
        if action == "route":
            kwargs["rooms"] = rooms
        form = form_class(**kwargs)
        if action == "assess":
            form.fields["factors"].initial = list(dispute.factors.values_list("code", flat=True))
        action_forms.append({"action": action, "label": moves.LABELS[action], "form": form})
    return _render(
        request,
        "screening/detail.html",
        {
            "dispute": dispute,
            "parties": parties,
            "revealed": reveal and policies.may_see_contacts(request.user),
            "may_reveal": policies.may_see_contacts(request.user) and not reveal,
            "factors": dispute.factors.all(),
            "events": selectors.dispute_timeline(dispute),
            "action_forms": action_forms,
            "route_mediation": RouteTarget.MEDIATION,
        },
    )


@login_required
@require_POST
def dispute_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require_user(request)
    if action not in moves.MOVES:
        raise Http404
    try:
        dispute = selectors.dispute_get_for_user(user=request.user, dispute_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    form_class = forms.ACTION_FORMS[action]
    if action == "route":
        from mediation.models import MediationRoom

        form = form_class(
            request.POST, prefix=action, rooms=MediationRoom.objects.filter(active=True)
        )
    else:
        form = form_class(request.POST, prefix=action)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("screening:detail", pk=pk)
    data = dict(form.cleaned_data)
    if action == "link_escalation":
        data["incident"] = max(_incident_id(request.user, data["incident"]) or 0, 0)
    try:
        moves.run(action, actor=request.user, dispute=dispute, data=data)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, str(moves.DONE[action]))
    return redirect("screening:detail", pk=pk)


@login_required
def warning_board(request: HttpRequest) -> HttpResponse:
    _require_user(request)
    return _render(request, "screening/board.html", {"rows": selectors.warning_board(request.user)})


@login_required
def reports(request: HttpRequest) -> HttpResponse:
    """The communities' monthly reports (and the form to send one, 零报告 included)."""
    _require_user(request)
    form = forms.ReportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            report = services.report_submit(
                actor=request.user,
                region_id=int(form.cleaned_data["region"]),
                month=form.cleaned_data["month"],
                zero_report=form.cleaned_data["zero_report"],
                note=form.cleaned_data["note"],
            )
        except ApplicationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Report for %(month)s sent.") % {"month": f"{report.month:%Y-%m}"},
            )
            return redirect("screening:reports")
    month = _month(request.GET.get("month")) or selectors.previous_month(timezone.localdate())
    return _render(
        request,
        "screening/reports.html",
        {
            "form": form,
            "month": month,
            "rows": selectors.reports_month(request.user, month),
            "may_submit": policies.may_register(request.user),
        },
    )


def _month(value: str | None) -> date | None:
    form = forms.PeriodForm({"month": value or ""})
    if not value or not form.is_valid() or form.cleaned_data["month"] is None:
        return None
    return selectors.month_start(form.cleaned_data["month"])


@login_required
def kpis(request: HttpRequest) -> HttpResponse:
    """The supervisor's figures: found, by colour, 化解率, escalated, on-time follow-up; a row
    per child region to drill down; the month's ledger to download."""
    if not policies.is_supervising(request.user):
        raise Http404
    region = selectors.supervised_region(request.user, request.GET.get("region", ""))
    if region is None:
        raise Http404
    month = _month(request.GET.get("month"))
    figures = selectors.dispute_kpis(request.user, region=region, month=month)
    return _render(
        request,
        "screening/kpis.html",
        {
            "figures": figures,
            "month_value": f"{month:%Y-%m}" if month else "",
            "ledger_month": f"{(month or selectors.previous_month(timezone.localdate())):%Y-%m}",
            "levels": RiskLevel.choices,
        },
    )


@login_required
def ledger(request: HttpRequest) -> HttpResponse:
    """The monthly screening ledger (排查台账) of a community or street, xlsx; parties masked."""
    if not policies.is_supervising(request.user):
        raise Http404
    region = selectors.supervised_region(request.user, request.GET.get("region", ""))
    if region is None:
        raise Http404
    month = _month(request.GET.get("month")) or selectors.previous_month(timezone.localdate())
    content = exports.ledger_xlsx(user=request.user, region=region, month=month)
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="screening-ledger-{region.code}-{month:%Y-%m}.xlsx"'
    )
    return response
