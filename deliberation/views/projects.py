"""The project library (项目库): public list and detail; staff add projects, milestones,
spending and completion."""

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
from deliberation.models import ProjectMilestone
from deliberation.views._common import act, form_error_text, page, put_errors, visible


@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    return page(
        request, "deliberation/project_list.html", {"projects": selectors.projects_public()[:200]}
    )


@login_required
def project_new(request: HttpRequest) -> HttpResponse:
    if not policies.is_manager(request.user):
        raise PermissionDenied
    form = forms.LibraryProjectForm(
        request.POST or None, regions=selectors.regions_for_rounds(user=request.user)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project = services.project_create(
                actor=request.user,
                region_id=data["region"].pk,
                title=data["title"],
                description=data["description"],
                budget=data["budget"],
            )
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            return redirect("deliberation:project-detail", pk=project.pk)
    return page(request, "deliberation/project_form.html", {"form": form})


@require_GET
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = visible(lambda: selectors.project_get(project_id=pk))
    manager = policies.may_manage(request.user, project.region_code)
    return page(
        request,
        "deliberation/project_detail.html",
        {
            "project": project,
            "manager": manager and project.state != "done",
            "milestones": project.milestones.all(),
            "spending": project.spending.all(),
            "events": project.events.filter(public=True),
            "milestone_form": forms.MilestoneForm(),
            "spending_form": forms.SpendingForm(),
        },
    )


def _back(pk: int) -> str:
    return reverse("deliberation:project-detail", args=[pk])


def _invalid(request: HttpRequest, form, pk: int) -> HttpResponse:  # type: ignore[no-untyped-def]
    project = visible(lambda: selectors.project_get(project_id=pk))
    if not policies.may_manage(request.user, project.region_code):
        if policies.covers(request.user, project.region_code):
            raise PermissionDenied
        raise Http404
    messages.error(request, form_error_text(form))
    return redirect(_back(pk))


@login_required
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.MilestoneForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, pk)
    data = form.cleaned_data
    return act(
        request,
        _back(pk),
        lambda: services.milestone_add(
            project_id=pk, actor=request.user, title=data["title"], due_date=data["due_date"]
        ),
        _("Milestone added."),
    )


@login_required
@require_POST
def milestone_reach(request: HttpRequest, pk: int) -> HttpResponse:
    project_id = ProjectMilestone.objects.filter(pk=pk).values_list("project_id", flat=True).first()
    if project_id is None:
        raise Http404
    return act(
        request,
        _back(project_id),
        lambda: services.milestone_reach(milestone_id=pk, actor=request.user),
        _("Milestone reached."),
    )


@login_required
@require_POST
def spending(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.SpendingForm(request.POST)
    if not form.is_valid():
        return _invalid(request, form, pk)
    data = form.cleaned_data
    return act(
        request,
        _back(pk),
        lambda: services.spending_record(
            project_id=pk,
            actor=request.user,
            amount_spent=data["amount"],
            note=data["note"],
            spent_on=data["spent_on"],
        ),
        _("Spending recorded."),
    )


@login_required
@require_POST
def project_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.project_complete(
            project_id=pk, actor=request.user, note=request.POST.get("note", "")[:1000]
        ),
        _("The project is completed."),
    )
