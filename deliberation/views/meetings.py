"""Meeting and decision pages: the public notice, minutes and decisions; the staff's planning,
participants, minutes, decisions; progress (responsible account or staff); ratings (residents)."""

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
from deliberation.models import DecisionPhoto, MeetingState, ProposalState
from deliberation.services.meetings import may_report
from deliberation.views._common import act, form_error_text, page, put_errors, visible
from deliberation.views.proposals import stream_photo


@require_GET
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = selectors.meetings_visible(
        user=request.user if request.user.is_authenticated else None
    )
    return page(request, "deliberation/meeting_list.html", {"meetings": meetings[:100]})


@login_required
def meeting_new(request: HttpRequest) -> HttpResponse:
    if not policies.is_manager(request.user):
        raise PermissionDenied
    communities = selectors.communities_managed(user=request.user)
    topics = selectors.proposals_for_staff(user=request.user).filter(state=ProposalState.ACCEPTED)
    form = forms.MeetingForm(request.POST or None, communities=communities, topics=topics)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            meeting = services.meeting_plan(
                actor=request.user,
                community=data["community"],
                title=data["title"],
                place=data["place"],
                starts_at=data["starts_at"],
                agenda=data["agenda"],
                topic_ids=[t.pk for t in data["topics"]],
            )
        except ApplicationError as exc:
            put_errors(form, exc)
        else:
            messages.success(
                request, _("The meeting is planned. Add the participants, then publish the notice.")
            )
            return redirect("deliberation:meeting-detail", pk=meeting.pk)
    return page(request, "deliberation/meeting_form.html", {"form": form})


@require_GET
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user if request.user.is_authenticated else None
    meeting = visible(lambda: selectors.meeting_get(meeting_id=pk, user=user))
    manager = policies.may_manage(request.user, meeting.region_code)
    reader = policies.may_read(request.user, meeting.region_code)
    participants = list(meeting.participants.select_related("kind"))
    events = meeting.events.all() if reader else meeting.events.filter(public=True)
    context = {
        "meeting": meeting,
        "manager": manager,
        "reader": reader,
        "participants": participants,
        "speeches": meeting.speeches.select_related("participant", "participant__kind"),
        "topics": meeting.topics.all(),
        "decisions": meeting.decisions.all(),
        "events": events,
    }
    if manager:
        context.update(
            participant_form=forms.ParticipantForm(),
            minutes_form=forms.MinutesForm(
                initial={"minutes": meeting.minutes, "options_discussed": meeting.options_discussed}
            ),
            decision_form=forms.DecisionForm(),
            cancel_form=forms.CancelForm(),
        )
    return page(request, "deliberation/meeting_detail.html", context)


def _back(pk: int) -> str:
    return reverse("deliberation:meeting-detail", args=[pk])


def _form_or_back(request: HttpRequest, form, pk: int):  # type: ignore[no-untyped-def]
    """None when the form is valid; else the answer: hidden → 404, not staff → 403, else a
    message and back (nothing written)."""
    if form.is_valid():
        return None
    visible(lambda: selectors.meeting_get(meeting_id=pk, user=request.user))
    if not policies.is_manager(request.user):
        raise PermissionDenied
    messages.error(request, form_error_text(form))
    return redirect(_back(pk))


@login_required
@require_POST
def meeting_participant(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.ParticipantForm(request.POST)
    answer = _form_or_back(request, form, pk)
    if answer:
        return answer
    data = form.cleaned_data
    return act(
        request,
        _back(pk),
        lambda: services.meeting_participant_add(
            meeting_id=pk,
            actor=request.user,
            kind=data["kind"],
            name=data["name"],
            organisation=data["organisation"],
        ),
        _("Participant added."),
    )


@login_required
@require_POST
def meeting_notice(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.meeting_notice_publish(meeting_id=pk, actor=request.user),
        _("The notice is published."),
    )


@login_required
@require_POST
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.MinutesForm(request.POST)
    answer = _form_or_back(request, form, pk)
    if answer:
        return answer
    data = form.cleaned_data
    speeches = [(data["speaker"], data["speech"])] if data["speaker"] and data["speech"] else []
    return act(
        request,
        _back(pk),
        lambda: services.meeting_minutes_record(
            meeting_id=pk,
            actor=request.user,
            minutes=data["minutes"],
            options_discussed=data["options_discussed"],
            speeches=speeches,
        ),
        _("The minutes are recorded."),
    )


@login_required
@require_POST
def meeting_decide(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.DecisionForm(request.POST)
    answer = _form_or_back(request, form, pk)
    if answer:
        return answer
    data = form.cleaned_data
    return act(
        request,
        _back(pk),
        lambda: services.meeting_decide(
            meeting_id=pk,
            actor=request.user,
            text=data["text"],
            carried_by=data["carried_by"],
            due_date=data["due_date"],
            proposal_id=data["proposal"],
        ),
        _("The decision is recorded and published."),
    )


@login_required
@require_POST
def meeting_close(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.meeting_close(meeting_id=pk, actor=request.user),
        _("The meeting is closed."),
    )


@login_required
@require_POST
def meeting_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _back(pk),
        lambda: services.meeting_cancel(
            meeting_id=pk, actor=request.user, reason=request.POST.get("reason", "")
        ),
        _("The meeting is cancelled."),
    )


@require_GET
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    decision = visible(lambda: selectors.decision_get(decision_id=pk))
    user = request.user
    may_rate = (
        decision.state == "done"
        and policies.lives_in(user, decision.region_code)
        and not selectors.has_rated(decision=decision, user=user)
    )
    reporter = user.is_authenticated and may_report(user, decision)
    return page(
        request,
        "deliberation/decision_detail.html",
        {
            "decision": decision,
            "progress": decision.progress.prefetch_related("photos"),
            "events": decision.events.filter(public=True),
            "may_rate": may_rate,
            "rated": selectors.has_rated(decision=decision, user=user),
            "rating_form": forms.RatingForm(),
            "may_report": reporter and decision.state != "done",
            "progress_form": forms.ProgressForm(),
        },
    )


def _decision_back(pk: int) -> str:
    return reverse("deliberation:decision-detail", args=[pk])


@login_required
@require_POST
def decision_progress(request: HttpRequest, pk: int) -> HttpResponse:
    form = forms.ProgressForm(request.POST, request.FILES)
    if not form.is_valid():
        visible(lambda: selectors.decision_get(decision_id=pk))
        messages.error(request, form_error_text(form))
        return redirect(_decision_back(pk))
    data = form.cleaned_data
    return act(
        request,
        _decision_back(pk),
        lambda: services.decision_progress(
            decision_id=pk,
            actor=request.user,
            note=data["note"],
            uploads=data["photos"],
            complete=data["complete"],
        ),
        _("Progress reported."),
    )


@login_required
@require_POST
def decision_rate(request: HttpRequest, pk: int) -> HttpResponse:
    return act(
        request,
        _decision_back(pk),
        lambda: services.decision_rate(
            decision_id=pk,
            actor=request.user,
            score=request.POST.get("score", 0),
            comment=request.POST.get("comment", "")[:500],
        ),
        _("Thank you for your rating."),
    )


@require_GET
def progress_photo(request: HttpRequest, pk: int, thumb: bool = False) -> HttpResponse:
    photo = DecisionPhoto.objects.filter(
        pk=pk,
        progress__decision__meeting__state__in=[
            MeetingState.NOTICED,
            MeetingState.HELD,
            MeetingState.CLOSED,
            MeetingState.CANCELLED,
        ],
    ).first()
    if photo is None:
        raise Http404
    return stream_photo(photo.thumbnail if thumb else photo.image, f"decision-{pk}")
