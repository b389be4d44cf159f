"""Public tracking: by number and access code (查询码), rating from it, resend my code."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError, NotFoundError
from core.ratelimit import with_retry_after
from incidents import selectors, services, tracking, tracking_requests
from incidents.forms import RateForm, ResendCodeForm, TrackForm
from incidents.models import Incident

TRACKED_IN_SESSION = 10
SESSION_TRACKED = "incidents_tracked"


# --- tracking (public) ------------------------------------------------------------------------


def _tracked(request: HttpRequest) -> dict[str, str]:
    return dict(request.session.get(SESSION_TRACKED) or {})


def _remember_tracked(request: HttpRequest, incident: Incident) -> None:
    """The session remembers numbers this browser proved it may read: a proof derived from the
    stored hash, never the code (no code in URLs either; a new code ends it)."""
    number = incident.tracking_number
    tracked = _tracked(request)
    tracked.pop(number, None)
    tracked[number] = tracking.tracking_proof(incident.access_code_hash)
    while len(tracked) > TRACKED_IN_SESSION:
        tracked.pop(next(iter(tracked)))
    request.session[SESSION_TRACKED] = tracked


def track(request: HttpRequest) -> HttpResponse:
    """Track a report by its number and its access code (查询码). A wrong pair, and a number
    locked after too many failures, get the same answer whether the number exists or not;
    tries are limited per client address and per number, with the API's budget
    (incidents.tracking)."""
    number = (request.GET.get("no") or "").strip().upper()[:16]
    if request.method == "POST":
        form = TrackForm(request.POST)
        over = tracking.client_attempt(request)
        if over.limited:
            form.is_valid()
            form.add_error(None, _("Too many tries from this connection. Try again later."))
            return with_retry_after(render(request, "incidents/track.html", {"form": form}), over)
        if form.is_valid():
            no, code = form.cleaned_data["no"], form.cleaned_data["code"]
            try:
                incident = tracking_requests.incident_unlock(no, code)
            except NotFoundError as exc:
                form.add_error(None, exc.message)
            else:
                _remember_tracked(request, incident)
                return redirect(f"{reverse('incidents:track')}?no={no}")
        return render(request, "incidents/track.html", {"form": form}, status=200)
    proof = _tracked(request).get(number) if number else None
    if proof:
        try:
            result = selectors.incident_track_for(selectors.incident_for_tracked(number, proof))
        except NotFoundError:
            result = None
        if result is not None:
            return render(
                request,
                "incidents/track.html",
                {
                    "track": result,
                    "rate_form": RateForm(prefix="rate"),
                    "reopen_form": RateForm(prefix="rate", auto_id="id_reopen_%s"),
                },
            )
    form = TrackForm(initial={"no": number} if number else None)
    return render(request, "incidents/track.html", {"form": form})


@require_POST
def track_rate(request: HttpRequest) -> HttpResponse:
    """The reporter rates (or, unhappy, reopens) from the tracking page, without signing in."""
    number = (request.POST.get("no") or "").strip().upper()[:16]
    proof = _tracked(request).get(number)
    page = f"{reverse('incidents:track')}?no={number}"
    if not proof:
        messages.error(request, _("Enter the tracking number and your access code first."))
        return redirect(page)
    form = RateForm(request.POST, prefix="rate")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(page)
    try:
        services.incident_rate(
            actor=request.user if request.user.is_authenticated else None,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data.get("comment", ""),
            tracking_number=number,
            tracking_proof=proof,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _rated_message(form.cleaned_data["rating"]))
    return redirect(page)


def track_resend(request: HttpRequest) -> HttpResponse:
    """ "Resend my code": the tracking number and the full phone number the report was made
    with; when they match, a new access code goes by SMS to that phone. The answer is the same
    whether or not they matched; limited per client address and per number."""
    form = ResendCodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        over = tracking.resend_client_attempt(request)
        if over.limited:
            form.is_valid()
            form.add_error(None, _("Too many tries from this connection. Try again later."))
            page = render(request, "incidents/track_resend.html", {"form": form})
            return with_retry_after(page, over)
        if form.is_valid():
            tracking_requests.access_code_resend(
                form.cleaned_data["no"], form.cleaned_data["phone"]
            )
            messages.success(request, str(tracking.RESEND_ANSWER))
            return redirect(f"{reverse('incidents:track')}?no={form.cleaned_data['no']}")
        return render(request, "incidents/track_resend.html", {"form": form}, status=400)
    return render(request, "incidents/track_resend.html", {"form": form})


def _rated_message(rating: int) -> str:
    if rating <= 2:
        return _("Thank you. The case is reopened and goes back to the handler.")
    return _("Thank you for your rating.")
