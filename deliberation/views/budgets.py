"""Participatory budget pages: rounds (public), projects, the staff's review and phase moves,
the resident's ballot."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import ApplicationError
from deliberation import forms, policies, selectors, services
from deliberation.models import BudgetProject, BudgetProjectState, RoundPhase
from deliberation.views._common import act, form_error_text, page, put_errors, visible


def _viewer(request: HttpRequest):  # type: ignore[no-untyped-def]
    return request.user if request.user.is_authenticated else None


@require_GET
def round_list(request: HttpRequest) -> HttpResponse:
    return page(
        request,
        "deliberation/round_list.html",
        {"rounds": selectors.rounds_visible(user=_viewer(request))[:100]},
    )


@login_required
def round_new(request: HttpRequest) -> HttpResponse:
    if not policies.is_manager(request.user):
        raise PermissionDenied
    form = forms.RoundForm(
        request.POST or None, regions=selectors.regions_for_rounds(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            budget_round = services.round_create(actor=request.user, **data)
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(request, _("The round is created. Open it when it is ready."))
            return redirect("deliberation:round-detail", pk=budget_round.pk)
    return page(request, "deliberation/round_form.html", {"form": form})


@require_GET
def round_detail(request: HttpRequest, pk: int) -> HttpResponse:
    budget_round = visible(lambda: selectors.round_get(round_id=pk, user=_viewer(request)))
    user = request.user
    manager = policies.may_manage(user, budget_round.region_code)
    resident = policies.lives_in(user, budget_round.region_code, budget_round.region.level)
    projects = list(selectors.round_projects(budget_round=budget_round, viewer=_viewer(request)))
    feasible = [p for p in projects if p.state == BudgetProjectState.FEASIBLE]
    ballot = selectors.ballot_of(budget_round=budget_round, user=_viewer(request))
    chosen = {p.pk for p in ballot.projects.all()} if ballot else set()
    published = budget_round.phase in (RoundPhase.RESULTS, RoundPhase.IMPLEMENTATION)
    return page(
        request,
        "deliberation/round_detail.html",
        {
            "round": budget_round,
            "manager": manager,
            "resident": resident,
            "projects": projects,
            "feasible": feasible,
            "published": published,
            "ballot": ballot,
            "chosen": chosen,
            "may_submit": resident and budget_round.phase == RoundPhase.COLLECT,
            "may_vote": resident and budget_round.phase == RoundPhase.VOTE,
            "project_form": forms.BudgetProjectForm(),
            "review_form": forms.ProjectReviewForm(),
            "events": budget_round.events.filter(public=True).exclude(action="submit"),
            "selected_total": sum(
                (p.cost for p in projects if p.state == BudgetProjectState.SELECTED), 0
            ),
        },
    )


def _back(pk: int) -> str:
    return reverse("deliberation:round-detail", args=[pk])


@login_required
@require_POST
def round_advance(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.round_advance(
            round_id=pk, actor=request.user, expected_phase=request.POST.get("phase", "")
        ),
        _("The round moved to its next phase."),
    )


@login_required
@require_POST
def project_submit(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.BudgetProjectForm(request.POST)
    if not form.is_valid():
        visible(lambda: selectors.round_get(round_id=pk, user=request.user))
        messages.error(request, form_error_text(form))
        return redirect(_back(pk))
    data = form.cleaned_data
    return act(
        request,
        _back(pk),
        lambda: services.project_submit(round_id=pk, actor=request.user, **data),
        _("Your project is submitted; the community will review it."),
    )


@login_required
@require_POST
def project_review(request: HttpRequest, pk: int) -> HttpResponse:
    round_id = BudgetProject.objects.filter(pk=pk).values_list("round_id", flat=True).first()
    if round_id is None:
        raise Http404
    form = forms.ProjectReviewForm(request.POST)
    if not form.is_valid():
        visible(lambda: selectors.round_get(round_id=round_id, user=request.user))
        if not policies.is_manager(request.user):
            raise PermissionDenied
        messages.error(request, form_error_text(form))
        return redirect(_back(round_id))
    data = form.cleaned_data
    return act(
        request,
        _back(round_id),
        lambda: services.project_review(
            project_id=pk,
            actor=request.user,
            feasible=data["feasible"],
            reason=data["reason"],
            corrected_cost=data["corrected_cost"],
        ),
        _("The review is recorded."),
    )


@login_required
@require_POST
def ballot(request: HttpRequest, pk: int) -> HttpResponse:
    chosen = [value for value in request.POST.getlist("projects") if value.isdigit()][:200]
    return act(
        request,
        _back(pk) + "#ballot",
        lambda: services.ballot_cast(
            round_id=pk, actor=request.user, project_ids=[int(v) for v in chosen]
        ),
        _("Your ballot is saved. You may change it until voting closes."),
    )
