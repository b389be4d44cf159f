"""Pages of petitions: thin views that validate a form, call one service and show the result.
ApplicationError becomes a message on the page, never a 500."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError
from core.ratelimit import client_ip, rate_hit, with_retry_after
from petitions import exports, forms, policies, selectors, services
from petitions.limits import DEFAULT_FILE_RATE, filing_limit_hit
from petitions.moves import MOVES, SUGGESTION_ACTIONS, run_action

__all__ = [
    "DEFAULT_FILE_RATE",
    "SUGGESTION_ACTIONS",
    "filing_limit_hit",
    "run_action",
]  # old imports
from petitions.models import OFFICER_CHANNELS, OpinionKind, PetitionChannel, PetitionState

TRACK_ATTEMPTS_PER_WINDOW = 30
TRACK_WINDOW_SECONDS = 600


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    user = request.user
    context.setdefault("is_petition_staff", selectors.is_petition_staff(user))
    context.setdefault("is_petition_officer", policies.is_officer(user))
    return render(request, template, context)


def _form_errors(form) -> str:
    parts = []
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        parts.append(f"{label}: {' '.join(errors)}" if label else " ".join(errors))
    return "; ".join(parts)


def _apply_errors(form, exc: ApplicationError) -> None:
    """Put a service's field messages on the form (unknown fields: on the form itself)."""
    placed = False
    for field, errors in (exc.extra or {}).items():
        name = field.split(".")[-1]
        if name in form.fields:
            for error in errors:
                form.add_error(name, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _require_staff(request: HttpRequest) -> None:
    if not selectors.is_petition_staff(request.user):
        raise Http404


def _require_officer(request: HttpRequest) -> None:
    if not policies.is_officer(request.user):
        raise Http404


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if selectors.is_petition_staff(request.user):
        return redirect("petitions:list")
    return redirect("petitions:mine")


@login_required
def petition_file(request: HttpRequest) -> HttpResponse:
    """A resident files a petition online."""
    initial = {"name": request.user.display_name, "phone": request.user.phone or ""}
    form = forms.WebPetitionForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST":
        over = filing_limit_hit(request)
        if over.limited:
            form.add_error(None, _("Too many petitions filed; try again later."))
            response = _render(request, "petitions/file.html", {"form": form})
            return with_retry_after(response, over)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            petition = services.petition_file(
                actor=request.user,
                channel=PetitionChannel.WEB,
                kind=data["kind"],
                matter=data["matter"],
                request=data["request"],
                facts_and_reasons=data["facts_and_reasons"],
                category=data["category"],
                region=data["region"],
                addressed_to=data["addressed_to"],
                petitioners=[form.petitioner()],
                attachments=data["attachments"],
            )
        except ApplicationError as exc:
            _apply_errors(form, exc)
        else:
            _announce(request, petition)
            return redirect("petitions:detail", pk=petition.pk)
    return _render(request, "petitions/file.html", {"form": form})


def _announce(request: HttpRequest, petition) -> None:
    if petition.state == PetitionState.MERGED:
        messages.info(
            request,
            _("The same matter is already being handled as %(number)s; your submission joins it.")
            % {"number": petition.merged_into.tracking_number},
        )  # merged at filing only into the filer's own petition (services.petition_file)
    elif petition.state == PetitionState.NOT_TAKEN:
        messages.warning(request, petition.decision_note)
    else:
        messages.success(
            request,
            _("Petition received. Tracking number: %(number)s")
            % {"number": petition.tracking_number},
        )


@login_required
def petition_intake(request: HttpRequest) -> HttpResponse:
    """A petition officer registers a letter, call, fax or visit (joint petitions too)."""
    _require_officer(request)
    form = forms.IntakeForm(request.POST or None, request.FILES or None, user=request.user)
    formset = forms.PetitionerFormSet(request.POST or None, prefix="people")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        people = [f.petitioner() for f in formset.forms if f.has_changed() and f.cleaned_data]
        try:
            petition = services.petition_file(
                actor=request.user,
                channel=data["channel"],
                kind=data["kind"],
                matter=data["matter"],
                request=data["request"],
                facts_and_reasons=data["facts_and_reasons"],
                category=data["category"],
                region=data["region"],
                addressed_to=data["addressed_to"],
                petitioners=people,
                is_joint=data["is_joint"],
                headcount=data["headcount"],
                level=data["level"] or None,
                attachments=data["attachments"],
                received_at=data["received_at"],
            )
        except ApplicationError as exc:
            _apply_errors(form, exc)
        else:
            _announce(request, petition)
            return redirect("petitions:detail", pk=petition.pk)
    return _render(
        request,
        "petitions/intake.html",
        {"form": form, "formset": formset, "channels": OFFICER_CHANNELS},
    )


@login_required
def petition_mine(request: HttpRequest) -> HttpResponse:
    petitions = selectors.petitions_visible(user=request.user).filter(owner=request.user)
    return _render(request, "petitions/mine.html", {"petitions": petitions[:200]})


@login_required
def petition_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    qs = selectors.petitions_visible(user=request.user).prefetch_related("petitioners")
    petition_filter = forms.PetitionFilter(request.GET or None, queryset=qs)
    page = Paginator(petition_filter.qs, 50).get_page(request.GET.get("page"))
    return _render(
        request,
        "petitions/list.html",
        {
            "filter": petition_filter,
            "page": page,
            "now": timezone.now(),
            "is_officer": policies.is_officer(request.user),
        },
    )


@login_required
def petition_overdue(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    petitions = selectors.petitions_overdue(user=request.user)[:500]
    return _render(
        request, "petitions/overdue.html", {"petitions": petitions, "now": timezone.now()}
    )


# The move table (form, service, event, message) is petitions.moves, shared with the API.
ACTION_FORMS = {action: move.form for action, move in MOVES.items()}
ACTION_DONE = {action: move.done for action, move in MOVES.items()}


def _action_forms(petition, actions: list[str]) -> dict:
    result = {}
    for action in actions:
        if action in SUGGESTION_ACTIONS:
            continue
        form_class = ACTION_FORMS[action]
        initial = {}
        if action == "reply":
            initial = {
                "request": petition.request,
                "facts_and_reasons": petition.facts_and_reasons,
                "unit": petition.handling_unit,
            }
        result[action] = form_class(initial=initial, prefix=action)
    return result


@login_required
def petition_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    actions = selectors.petition_actions(petition=petition, user=request.user)
    staff = selectors.is_petition_staff(request.user) and policies.covers(request.user, petition)
    context = {
        "petition": petition,
        "petitioners": selectors.petitioners_for_viewer(petition=petition, viewer=request.user),
        "timeline": selectors.petition_timeline(petition=petition, viewer=request.user),
        "actions": actions,
        "action_forms": _action_forms(petition, actions),
        "opinions": petition.opinions.all(),
        "attachments": petition.attachments.all(),
        "staff": staff,
        "merges": petition.merges.select_related("duplicate") if staff else [],
        "merge_record": petition.merge_records.select_related("primary").first(),
        # Officer only (H1): "possible repeat of XF…", with confirm / dismiss.
        "suggestions": selectors.merge_suggestions_for(petition=petition, viewer=request.user),
        "can_decide_suggestions": "merge_confirm" in actions,
        "later_petitions": petition.later_petitions.all() if staff else [],
        "now": timezone.now(),
        "mediation_case_url": _mediation_case_url(petition),
        "incident_url": _incident_url(petition),
    }
    return _render(request, "petitions/detail.html", context)


def _reverse_or_empty(name: str, pk) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=[pk])
    except NoReverseMatch:
        return ""


def _mediation_case_url(petition) -> str:
    if not petition.mediation_case_id:
        return ""
    return _reverse_or_empty("mediation:case_detail", petition.mediation_case_id)


def _incident_url(petition) -> str:
    if not petition.incident_id:
        return ""
    return _reverse_or_empty("incidents:detail", petition.incident_id)


@login_required
@require_POST
def petition_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404
    try:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    form = ACTION_FORMS[action](request.POST, prefix=action)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("petitions:detail", pk=pk)
    try:
        run_action(action, actor=request.user, petition=petition, data=form.cleaned_data)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ACTION_DONE[action])
    return redirect("petitions:detail", pk=pk)


@login_required
def opinion_print(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The printable written opinion (处理意见书 / 复查意见书 / 复核意见书)."""
    if kind not in OpinionKind.values:
        raise Http404
    try:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    opinion = petition.opinions.filter(kind=kind).select_related("issued_by").first()
    if opinion is None:
        raise Http404
    return _render(
        request,
        "petitions/opinion_print.html",
        {
            "petition": petition,
            "opinion": opinion,
            "petitioners": selectors.petitioners_for_viewer(petition=petition, viewer=request.user),
        },
    )


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    try:
        petition = selectors.petition_get_for_user(user=request.user, petition_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    attachment = petition.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


def petition_track(request: HttpRequest) -> HttpResponse:
    """Follow a petition by tracking number (Art. 21): signed-in owners by the number alone,
    anybody with the last 4 digits of a petitioner's phone. POST keeps them out of URLs."""
    form = forms.TrackForm(request.POST or None)
    petition = None
    searched = False
    over = None
    if request.method == "POST" and form.is_valid():
        over = rate_hit(
            "petition-track",
            client_ip(request),
            f"{TRACK_ATTEMPTS_PER_WINDOW}/{TRACK_WINDOW_SECONDS}s",
        )
        if over.limited:
            messages.error(request, _("Too many attempts; try again in a few minutes."))
        else:
            searched = True
            petition = selectors.petition_track(
                tracking_number=form.cleaned_data["tracking_number"],
                phone_last4=form.cleaned_data["phone_last4"],
                user=request.user,
            )
    # The petition a submission joined is shown only when it is the same account's (H1).
    shown = (
        petition.merged_into
        if petition
        and petition.merged_into_id
        and policies.same_account(petition, petition.merged_into)
        else petition
    )
    response = _render(
        request,
        "petitions/track.html",
        {
            "form": form,
            "petition": petition,
            "shown": shown,
            "shows_other": shown is not petition,
            "searched": searched,
            "events": shown.events.filter(public=True) if shown else [],
            "petitioner_names": selectors.petitioner_names_masked(petition) if petition else "",
        },
    )
    if over is not None and over.limited:
        return with_retry_after(response, over)
    return response


@login_required
def petition_analysis(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = forms.AnalysisPeriodForm(request.GET or None)
    period = form.cleaned_data if form.is_valid() else {}
    analysis = selectors.petition_analysis(
        user=request.user, date_from=period.get("date_from"), date_to=period.get("date_to")
    )
    return _render(
        request,
        "petitions/analysis.html",
        {"form": form, "analysis": analysis, "query": request.GET.urlencode()},
    )


@login_required
def petition_export(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    form = forms.AnalysisPeriodForm(request.GET or None)
    period = form.cleaned_data if form.is_valid() else {}
    content = exports.petitions_xlsx(
        user=request.user, date_from=period.get("date_from"), date_to=period.get("date_to")
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="petitions-{stamp}.xlsx"'
    return response
