"""Pages of petitions: thin views that validate a form, call one service and show the result.
ApplicationError becomes a message on the page, never a 500."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError
from core.ratelimit import Limit, client_ip, rate_hit, with_retry_after
from petitions import exports, forms, selectors, services
from petitions.models import OFFICER_CHANNELS, OpinionKind, PetitionChannel, PetitionState

TRACK_ATTEMPTS_PER_WINDOW = 30
TRACK_WINDOW_SECONDS = 600
# L4: online filings per account (settings.PETITION_FILE_RATE, core.ratelimit syntax).
DEFAULT_FILE_RATE = "10/h"


def filing_limit_hit(request: HttpRequest) -> Limit:
    """Count one online filing attempt of this account (anonymous: of this client address);
    page and API share the budget."""
    user = request.user
    ident = f"user:{user.pk}" if user.is_authenticated else f"ip:{client_ip(request)}"
    return rate_hit(
        "petition-file", ident, getattr(settings, "PETITION_FILE_RATE", DEFAULT_FILE_RATE)
    )


def _render(request: HttpRequest, template: str, context: dict) -> HttpResponse:
    user = request.user
    context.setdefault("is_petition_staff", selectors.is_petition_staff(user))
    context.setdefault("is_petition_officer", services.is_officer(user))
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
    if not services.is_officer(request.user):
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
            "is_officer": services.is_officer(request.user),
        },
    )


@login_required
def petition_overdue(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    petitions = selectors.petitions_overdue(user=request.user)[:500]
    return _render(
        request, "petitions/overdue.html", {"petitions": petitions, "now": timezone.now()}
    )


ACTION_FORMS = {
    "accept": forms.AcceptForm,
    "transfer": forms.TransferForm,
    "decline": forms.DeclineForm,
    "object": forms.ReasonForm,
    "start": forms.EmptyForm,
    "extension_request": forms.ExtensionRequestForm,
    "extension_decide": forms.ExtensionDecideForm,
    "reply": forms.OpinionForm,
    "rate": forms.RateForm,
    "review_request": forms.ReasonForm,
    "review": forms.OpinionForm,
    "reexam_request": forms.ReasonForm,
    "hearing": forms.HearingForm,
    "reexamine": forms.OpinionForm,
    "close": forms.NoteForm,
    "refer_mediation": forms.MediationReferralForm,
    "to_incident": forms.IncidentForm,
    "undo_merge": forms.ReasonForm,
    "merge_confirm": forms.MergeDecisionForm,
    "merge_dismiss": forms.MergeDecisionForm,
    "delivery": forms.DeliveryForm,
}
# Shown per possible repeat on the page, not in the generic action list.
SUGGESTION_ACTIONS = ("merge_confirm", "merge_dismiss")


def run_action(action: str, *, actor, petition, data: dict, form=None):
    """Call the service behind `action` (shared by the pages and the API)."""
    pk = petition.pk
    if action == "accept":
        return services.petition_accept(
            actor=actor,
            petition_id=pk,
            note=data.get("note", ""),
            handling_unit=data.get("handling_unit", ""),
        )
    if action == "transfer":
        return services.petition_transfer(
            actor=actor,
            petition_id=pk,
            to_region=data["to_region"],
            unit_name=data["unit_name"],
            note=data.get("note", ""),
        )
    if action == "decline":
        return services.petition_decline(
            actor=actor,
            petition_id=pk,
            reason=data["reason"],
            legal_basis=data.get("legal_basis", ""),
        )
    if action == "object":
        return services.petition_transfer_object(actor=actor, petition_id=pk, reason=data["reason"])
    if action == "start":
        return services.petition_start_handling(actor=actor, petition_id=pk)
    if action == "extension_request":
        return services.petition_extension_request(
            actor=actor, petition_id=pk, days=data["days"], reason=data["reason"]
        )
    if action == "extension_decide":
        return services.petition_extension_decide(
            actor=actor, petition_id=pk, approve=data["approve"], note=data.get("note", "")
        )
    if action in ("reply", "review", "reexamine"):
        opinion = services.OpinionInput(
            request=data["request"],
            facts_and_reasons=data["facts_and_reasons"],
            decision=data["decision"],
            legal_basis=data["legal_basis"],
            outcome=data["outcome"],
            unit=data.get("unit", ""),
            delivery_manner=data.get("delivery_manner", ""),
        )
        service = {
            "reply": services.petition_reply,
            "review": services.petition_review,
            "reexamine": services.petition_reexamine,
        }[action]
        return service(actor=actor, petition_id=pk, opinion=opinion)
    if action == "rate":
        return services.petition_rate(
            actor=actor,
            petition_id=pk,
            satisfaction=data["satisfaction"],
            comment=data.get("comment", ""),
        )
    if action == "review_request":
        return services.petition_review_request(actor=actor, petition_id=pk, reason=data["reason"])
    if action == "reexam_request":
        return services.petition_reexam_request(actor=actor, petition_id=pk, reason=data["reason"])
    if action == "hearing":
        return services.petition_hearing_record(
            actor=actor, petition_id=pk, days=data["days"], note=data.get("note", "")
        )
    if action == "close":
        return services.petition_close(actor=actor, petition_id=pk, note=data.get("note", ""))
    if action == "refer_mediation":
        room = data.get("room")
        respondent = services.RespondentInput(
            name=data.get("respondent_name", ""),
            phone=data.get("respondent_phone", ""),
            address=data.get("respondent_address", ""),
        )
        return services.petition_refer_to_mediation(
            actor=actor,
            petition_id=pk,
            room_id=getattr(room, "pk", room),
            room_name=data.get("room_name", ""),
            respondent=respondent if respondent.name.strip() else None,
            note=data.get("note", ""),
        )
    if action == "to_incident":
        return services.petition_turn_into_incident(
            actor=actor,
            petition_id=pk,
            category=data["category"],
            lat=data.get("lat"),
            lng=data.get("lng"),
            address=data.get("address", ""),
            note=data.get("note", ""),
        )
    if action == "undo_merge":
        return services.petition_merge_undo(actor=actor, petition_id=pk, reason=data["reason"])
    if action in SUGGESTION_ACTIONS:
        service = (
            services.petition_merge_confirm
            if action == "merge_confirm"
            else services.petition_merge_dismiss
        )
        return service(
            actor=actor,
            petition_id=pk,
            suggestion_id=data["suggestion"],
            note=data.get("note", ""),
        )
    if action == "delivery":
        return services.petition_delivery_record(
            actor=actor,
            petition_id=pk,
            kind=data["kind"],
            delivered_on=data["delivered_on"],
            manner=data["manner"],
        )
    raise Http404


ACTION_DONE = {
    "accept": gettext_lazy("Accepted; the petitioner is told."),
    "transfer": gettext_lazy("Transferred; the petitioner is told."),
    "decline": gettext_lazy("Recorded as not taken; the petitioner is told."),
    "object": gettext_lazy("Objection recorded; the petition goes back to the sender."),
    "start": gettext_lazy("Handling started."),
    "extension_request": gettext_lazy("Extension requested from the head of the unit."),
    "extension_decide": gettext_lazy("Decision on the extension recorded."),
    "reply": gettext_lazy("Reply issued."),
    "rate": gettext_lazy("Thank you for your rating."),
    "review_request": gettext_lazy("Review requested."),
    "review": gettext_lazy("Review opinion issued."),
    "reexam_request": gettext_lazy("Re-examination requested."),
    "hearing": gettext_lazy("Hearing recorded."),
    "reexamine": gettext_lazy("Re-examination opinion issued."),
    "close": gettext_lazy("Petition closed."),
    "refer_mediation": gettext_lazy("Referred to mediation."),
    "to_incident": gettext_lazy("Incident reported."),
    "undo_merge": gettext_lazy("Merge undone; the submission is now a petition of its own."),
    "merge_confirm": gettext_lazy("Repeat confirmed."),
    "merge_dismiss": gettext_lazy("Possible repeat dismissed; the petition goes on as its own."),
    "delivery": gettext_lazy("Delivery of the written opinion recorded."),
}


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
    staff = selectors.is_petition_staff(request.user) and services.covers(request.user, petition)
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
        and services.same_account(petition, petition.merged_into)
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
