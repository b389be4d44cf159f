"""Case pages: the entry redirect, lists, applying and registering, the case page and its
actions (through mediation.moves), session actions, the printable agreement."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import RoleCode
from core.exceptions import ApplicationError, NotFoundError
from mediation import moves, selectors, services
from mediation.forms import (
    AgreementForm,
    ApplyForm,
    AssignForm,
    ConfirmationForm,
    ExtendForm,
    FollowUpForm,
    MediatorChoiceForm,
    MinutesForm,
    NoteForm,
    ReasonForm,
    RefuseForm,
    RegisterForm,
    ScheduleForm,
    SealForm,
    SignForm,
    parties_from,
    party_formset,
)
from mediation.models import (
    CaseParty,
    CaseState,
    MediationAgreement,
    MediationCase,
    MediationRoom,
    MediationSession,
)
from mediation.views._common import _form_errors_from

# --- entry --------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Role-dependent entry: admin → rooms; mediator → my cases; supervisor → statistics;
    everybody else → my applications (with the apply button)."""
    user = request.user
    if user.is_portal_admin:
        return redirect("mediation:rooms")
    if user.has_role(RoleCode.MEDIATOR):
        return redirect("mediation:case_list")
    if user.has_role(RoleCode.SUPERVISOR):
        return redirect("mediation:stats")
    return redirect("mediation:my_cases")


# --- cases --------------------------------------------------------------------------------


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.cases_visible(request.user)
    state = request.GET.get("state", "")
    if state in CaseState.values:
        qs = qs.filter(state=state)
    room_id = request.GET.get("room", "")
    if room_id.isdigit():
        qs = qs.filter(room_id=int(room_id))
    counts = selectors.case_counts_by_state(user=request.user)
    rooms_mine = MediationRoom.objects.filter(pk__in=selectors.mediator_room_ids(request.user))
    return render(
        request,
        "mediation/case_list.html",
        {
            "cases": qs[:200],
            "states": [(code, label, counts[code]) for code, label in CaseState.choices],
            "state": state,
            "rooms_mine": rooms_mine,
            "room_id": room_id,
            "now": timezone.now(),
        },
    )


@login_required
def my_cases(request: HttpRequest) -> HttpResponse:
    cases = selectors.cases_applied_by(user=request.user)
    return render(request, "mediation/my_cases.html", {"cases": cases})


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    """A resident applies for mediation online."""
    user = request.user
    form = ApplyForm(request.POST or None)
    initial = [
        {"role": CaseParty.Role.APPLICANT, "name": user.display_name, "phone": user.phone or ""},
        {"role": CaseParty.Role.RESPONDENT},
        {"role": CaseParty.Role.RESPONDENT},
    ]
    formset = party_formset(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            case = services.case_apply_online(
                actor=user,
                room_id=form.cleaned_data["room"].pk,
                category_code=form.cleaned_data["category"].code,
                facts=form.cleaned_data["facts"],
                requests=form.cleaned_data["requests"],
                parties=parties_from(formset),
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(
                request,
                _("Application %(number)s sent. You can follow it here.")
                % {"number": case.case_number},
            )
            return redirect("mediation:case_detail", pk=case.pk)
    return render(request, "mediation/apply.html", {"form": form, "formset": formset})


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    """A mediator registers a walk-in case or a court referral for one of their rooms."""
    if request.user.is_portal_admin:
        rooms_allowed = MediationRoom.objects.filter(active=True)
    else:
        rooms_allowed = MediationRoom.objects.filter(
            active=True, pk__in=selectors.mediator_room_ids(request.user)
        )
        if not request.user.has_role(RoleCode.MEDIATOR) or not rooms_allowed.exists():
            raise PermissionDenied
    form = RegisterForm(request.POST or None, rooms=rooms_allowed)
    formset = party_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_register(
                actor=request.user,
                room_id=data["room"].pk,
                source=data["source"],
                category_code=data["category"].code if data["category"] else None,
                facts=data["facts"],
                requests=data["requests"],
                parties=parties_from(formset),
                court_reference=data["court_reference"],
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(
                request, _("Case %(number)s registered.") % {"number": case.case_number}
            )
            return redirect("mediation:case_detail", pk=case.pk)
    return render(request, "mediation/case_create.html", {"form": form, "formset": formset})


def _case_or_404(request: HttpRequest, pk: int) -> MediationCase:
    try:
        return selectors.case_get_for_user(user=request.user, case_id=pk)
    except NotFoundError as exc:
        raise Http404 from exc


def _agreement_of(case: MediationCase) -> MediationAgreement | None:
    return MediationAgreement.objects.filter(case=case).first()


def _signers(case: MediationCase, agreement: MediationAgreement | None) -> list[tuple[str, str]]:
    if agreement is None:
        return []
    signed_parties = set(
        agreement.signatures.exclude(party=None).values_list("party_id", flat=True)
    )
    choices = [(str(p.pk), str(p)) for p in case.parties.all() if p.pk not in signed_parties]
    if not agreement.signatures.filter(party=None).exists():
        choices.append(("mediator", _("Mediator: %(name)s") % {"name": case.mediator}))
    return choices


def _build_form(action: str, case: MediationCase, data=None):
    agreement = _agreement_of(case)
    builders = {
        "accept": lambda: MediatorChoiceForm(data, room=case.room),
        "assign": lambda: AssignForm(data, room=case.room),
        "decline": lambda: ReasonForm(data),
        "schedule": lambda: ScheduleForm(
            data, room=case.room, initial={"place": case.room.address or case.room.name}
        ),
        "agreement": lambda: AgreementForm(
            data,
            initial=(
                {
                    "form": agreement.form,
                    "facts": agreement.facts,
                    "disputed_matters": agreement.disputed_matters,
                    "responsibilities": agreement.responsibilities,
                    "terms": agreement.terms,
                    "performance_method": agreement.performance_method,
                    "performance_deadline": agreement.performance_deadline,
                }
                if agreement
                else {"facts": case.facts}
            ),
        ),
        "sign": lambda: SignForm(data, signers=_signers(case, agreement)),
        "seal": lambda: SealForm(data),
        "extend": lambda: ExtendForm(data),
        "refuse": lambda: RefuseForm(data, parties=case.parties.all()),
        "withdraw": lambda: ReasonForm(data),
        "fail": lambda: ReasonForm(data),
        "confirmation": lambda: ConfirmationForm(data),
        "follow_up": lambda: FollowUpForm(data),
        "close": lambda: NoteForm(data),
    }
    if action not in builders:
        raise Http404
    return builders[action]()


# What the page says once a case action is done (agreement: depends on the form recorded).
DONE_MESSAGES = {
    "accept": lambda result: _("Case accepted."),
    "assign": lambda result: _("Mediator assigned."),
    "decline": lambda result: _("Case declined."),
    "schedule": lambda result: _("Session scheduled; the parties are notified."),
    "agreement": lambda agreement: (
        _("Oral agreement recorded; it is in effect.")
        if agreement.is_effective
        else _(
            "Agreement recorded; it takes effect when every party and the mediator have signed "
            "and the committee has sealed it."
        )
    ),
    "sign": lambda result: _("Signature recorded."),
    "seal": lambda result: _("Committee seal recorded."),
    "extend": lambda result: _("Deadline extended."),
    "refuse": lambda result: _("Mediation stopped: a party refused."),
    "withdraw": lambda result: _("Application withdrawn."),
    "fail": lambda result: _("Mediation ended without agreement."),
    "confirmation": lambda result: _("Judicial confirmation request recorded."),
    "follow_up": lambda result: _("Follow-up recorded."),
    "close": lambda result: _("Case closed."),
}


def _move_data(action: str, cleaned: dict) -> dict:
    """A form's cleaned data in the move table's shape (mediation.moves): ids, not instances;
    the signer ("mediator" or a party's id) as `party`."""
    data = {name: (value.pk if hasattr(value, "pk") else value) for name, value in cleaned.items()}
    if action == "sign":
        signer = data.pop("signer")
        data["party"] = None if signer == "mediator" else int(signer)
    if action == "refuse":
        data["party"] = int(data["party"])
    return data


def _run_action(request: HttpRequest, action: str, case: MediationCase, data: dict) -> str:
    """Call the move for `action` (mediation.moves.CASE_MOVES); returns the success message."""
    if action not in moves.CASE_MOVES:
        raise Http404
    result = moves.CASE_MOVES[action](request.user, case.pk, _move_data(action, data))
    return DONE_MESSAGES[action](result)


def _case_context(request: HttpRequest, case: MediationCase, bound: dict | None = None) -> dict:
    user = request.user
    actions = selectors.case_actions_for(user=user, case=case)
    bound = bound or {}
    forms = {}
    for action in actions - {"start_session", "minutes", "print"}:
        forms[action] = bound.get(action) or _build_form(action, case)
    agreement = _agreement_of(case)
    sessions = list(case.sessions.select_related("mediator"))
    parties = [
        {"party": p, "phone": p.phone_for(user), "id_number": p.id_number_for(user)}
        for p in case.parties.all()
    ]
    return {
        "case": case,
        "parties": parties,
        "sessions": sessions,
        "agreement": agreement,
        "signatures": list(agreement.signatures.all()) if agreement else [],
        "events": case.events.select_related("actor"),
        "actions": actions,
        "staff": selectors.user_is_room_staff(user, case.room_id),
        "forms": forms,
        "minutes_form": bound.get("minutes") or MinutesForm(),
        "now": timezone.now(),
    }


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(request, pk)
    return render(request, "mediation/case_detail.html", _case_context(request, case))


@login_required
@require_POST
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    case = _case_or_404(request, pk)
    form = _build_form(action, case, request.POST)
    if form.is_valid():
        try:
            message = _run_action(request, action, case, form.cleaned_data)
        except ApplicationError as exc:
            _form_errors_from(exc, form)
            messages.error(request, exc.message)
        else:
            messages.success(request, message)
            return redirect("mediation:case_detail", pk=case.pk)
    case.refresh_from_db()
    context = _case_context(request, case, bound={action: form})
    context["open_action"] = action
    return render(request, "mediation/case_detail.html", context, status=400)


@login_required
@require_POST
def session_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    session = MediationSession.objects.filter(pk=pk).first()
    if session is None:
        raise Http404
    case = _case_or_404(request, session.case_id)
    try:
        if action == "start":
            moves.SESSION_MOVES["start"](request.user, session.pk, {})
            messages.success(request, _("Session started."))
        elif action == "cancel":
            form = ReasonForm(request.POST)
            reason = form.data.get("reason", "")
            moves.SESSION_MOVES["cancel"](request.user, session.pk, {"reason": reason})
            messages.success(request, _("Session cancelled."))
        elif action == "minutes":
            form = MinutesForm(request.POST)
            if not form.is_valid():
                context = _case_context(request, case, bound={"minutes": form})
                return render(request, "mediation/case_detail.html", context, status=400)
            moves.SESSION_MOVES["minutes"](request.user, session.pk, form.cleaned_data)
            messages.success(request, _("Minutes recorded."))
        else:
            raise Http404
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("mediation:case_detail", pk=case.pk)


@login_required
def agreement_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable agreement: one copy per party and one for the archive."""
    case = _case_or_404(request, pk)
    agreement = _agreement_of(case)
    if agreement is None:
        raise Http404
    parties = [
        {"party": p, "phone": p.phone_for(request.user), "id_number": p.id_number_for(request.user)}
        for p in case.parties.all()
    ]
    copies = [
        _("Copy for %(role)s %(name)s") % {"role": p.get_role_display(), "name": p.name}
        for p in case.parties.all()
    ]
    copies.append(_("Archive copy (%(room)s)") % {"room": case.room.name})
    signatures = {s.party_id: s for s in agreement.signatures.all()}
    return render(
        request,
        "mediation/agreement_print.html",
        {
            "case": case,
            "agreement": agreement,
            "parties": parties,
            "copies": copies,
            "copy_count": len(copies),
            "signatures": signatures,
            "party_signatures": [(p["party"], signatures.get(p["party"].pk)) for p in parties],
            "mediator_signature": signatures.get(None),
        },
    )
