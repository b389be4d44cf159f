"""Staff pages of 附议 and 办理公开: merge a duplicate into an open report (with a reason), and
write the result for the public with the photos the public may see."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from incidents import selectors
from incidents.models import IncidentPhoto
from incidents.services.follows import _can_merge, incident_merge, incident_public_result_set


class MergeForm(forms.Form):
    into = forms.CharField(
        label=gettext_lazy("Public id of the open report it repeats (e.g. R7K3MQ9XPA2)"),
        max_length=16,
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000
    )


class PublicResultForm(forms.Form):
    public_result = forms.CharField(
        label=gettext_lazy("Result for the public (no names, phones or house numbers)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=2000,
    )
    public_photos = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Photos the public may see"),
        queryset=IncidentPhoto.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


def _add_errors(form: forms.Form, exc: ApplicationError) -> None:
    for name, problems in (exc.extra or {None: [exc.message]}).items():
        for problem in problems:
            form.add_error(name if name in form.fields else None, problem)


def _incident(request: HttpRequest, pk: int):
    """The incident in the user's scope (404 otherwise), for staff who may merge and publish
    (dispatchers, supervisors, admins: 403 otherwise)."""
    try:
        incident = selectors.incident_get_for_user(user=request.user, incident_id=pk)
    except NotFoundError as exc:
        raise Http404 from exc
    if not _can_merge(request.user, incident):
        raise PermissionDenied(_("Only dispatchers and supervisors merge and publish reports."))
    return incident


@login_required
def merge(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    form = MergeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                incident_merge(
                    actor=request.user,
                    incident_id=incident.pk,
                    into_public_id=form.cleaned_data["into"],
                    reason=form.cleaned_data["reason"],
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc
            except NotFoundError as exc:
                raise Http404 from exc
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Merged: the reporter now follows the open report."))
                return redirect("incidents:detail", pk=incident.pk)
        status = 400
    return render(
        request, "incidents/merge.html", {"incident": incident, "form": form}, status=status
    )


@login_required
def public_result(request: HttpRequest, pk: int) -> HttpResponse:
    incident = _incident(request, pk)
    form = PublicResultForm(
        request.POST or None,
        initial={
            "public_result": incident.public_result,
            "public_photos": list(incident.photos.filter(public=True)),
        },
    )
    photos = form.fields["public_photos"]
    if not (isinstance(photos, forms.ModelMultipleChoiceField)):
        raise AssertionError("unreachable: isinstance(photos, forms.ModelMultipleChoiceField)")
    photos.queryset = IncidentPhoto.objects.filter(incident=incident)
    photos.label_from_instance = lambda photo: f"#{photo.pk}"  # type: ignore[method-assign]
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                incident_public_result_set(
                    actor=request.user,
                    incident_id=incident.pk,
                    public_result=form.cleaned_data["public_result"],
                    public_photo_ids=[p.pk for p in form.cleaned_data["public_photos"]],
                )
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc
            except ApplicationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Saved."))
                return redirect("incidents:detail", pk=incident.pk)
        status = 400
    return render(
        request,
        "incidents/public_result.html",
        {"incident": incident, "form": form},
        status=status,
    )
