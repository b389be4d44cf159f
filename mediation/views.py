"""Pages of the mediation app. Thin: validate the form, call one service, show its error."""

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import RoleCode
from audit.services import record_unmasked
from core.exceptions import ApplicationError, NotFoundError, ValidationFailed
from core.masking import mask_phone
from mediation import selectors, services
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
    ReferForm,
    RefuseForm,
    RegisterForm,
    RoomForm,
    RoomImportForm,
    RoomMediatorForm,
    ScheduleForm,
    SealForm,
    SignForm,
    StatsForm,
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
    viewer_sees_contacts,
)


def _admin_only(request: HttpRequest) -> None:
    if not request.user.is_portal_admin:
        raise PermissionDenied


def _form_errors_from(exc: ApplicationError, form) -> None:
    """Put a service's field errors on the form (unknown fields become form errors)."""
    placed = False
    for field_name, field_messages in (exc.extra or {}).items():
        for message in field_messages:
            if field_name in form.fields:
                form.add_error(field_name, message)
            else:
                form.add_error(None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


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


# --- rooms (admins) -----------------------------------------------------------------------


@login_required
def rooms(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    room_list = selectors.rooms_list(user=request.user, include_inactive=True)
    return render(request, "mediation/rooms.html", {"rooms": room_list})


def _room_data_from(form: RoomForm):
    data = form.cleaned_data
    return services.room_data_clean(
        name=data["name"],
        room_type=data["room_type"],
        level=data["level"],
        region_code=data["region"].code,
        category_codes=[c.code for c in data["categories"]],
        address=data["address"],
        lat=data["lat"],
        lng=data["lng"],
        opening_hours=data["opening_hours"],
        phone=data["phone"],
        capacity_per_day=data["capacity_per_day"],
        gold_rated=data["gold_rated"],
        active=data["active"],
        description=data["description"],
    )


@login_required
def room_create(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = RoomForm(request.POST or None, initial={"active": True, "capacity_per_day": 4})
    if request.method == "POST" and form.is_valid():
        try:
            room = services.room_create(actor=request.user, data=_room_data_from(form))
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Room “%(name)s” created.") % {"name": room.name})
            return redirect("mediation:room_edit", pk=room.pk)
    return render(request, "mediation/room_form.html", {"form": form, "room": None})


@login_required
def room_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    room = _room_or_404(request, pk)
    form = RoomForm(request.POST or None, initial=RoomForm.initial_for(room))
    if request.method == "POST" and form.is_valid():
        try:
            services.room_update(actor=request.user, room_id=room.pk, data=_room_data_from(form))
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Room saved."))
            return redirect("mediation:room_edit", pk=room.pk)
    memberships = room.memberships.select_related("user").filter(active=True)
    return render(
        request,
        "mediation/room_form.html",
        {
            "form": form,
            "room": room,
            "memberships": memberships,
            "mediator_form": RoomMediatorForm(),
            "case_count": room.cases.count(),
        },
    )


def _room_or_404(request: HttpRequest, pk: int) -> MediationRoom:
    try:
        return selectors.room_get(user=request.user, room_id=pk)
    except NotFoundError as exc:
        raise Http404 from exc


@login_required
@require_POST
def room_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    room = _room_or_404(request, pk)
    room = services.room_set_active(actor=request.user, room_id=room.pk, active=not room.active)
    if room.active:
        messages.success(request, _("Room “%(name)s” is active.") % {"name": room.name})
    else:
        messages.success(
            request,
            _("Room “%(name)s” is inactive; its cases stay with it.") % {"name": room.name},
        )
    return redirect("mediation:rooms")


@login_required
@require_POST
def room_move(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    direction = "up" if request.POST.get("direction") == "up" else "down"
    try:
        services.room_move(actor=request.user, room_id=pk, direction=direction)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("mediation:rooms")


@login_required
@require_POST
def room_mediator_add(request: HttpRequest, pk: int) -> HttpResponse:
    _admin_only(request)
    room = _room_or_404(request, pk)
    form = RoomMediatorForm(request.POST)
    if form.is_valid():
        try:
            services.room_mediator_add(
                actor=request.user,
                room_id=room.pk,
                user_id=form.cleaned_data["user"].pk,
                title=form.cleaned_data["title"],
                speciality=form.cleaned_data["speciality"],
            )
            messages.success(request, _("Mediator added."))
        except ApplicationError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Choose a user with the mediator role."))
    return redirect("mediation:room_edit", pk=room.pk)


@login_required
@require_POST
def room_mediator_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    _admin_only(request)
    try:
        services.room_mediator_remove(actor=request.user, room_id=pk, user_id=user_id)
        messages.success(request, _("Mediator removed from the room."))
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("mediation:room_edit", pk=pk)


@login_required
def room_import(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    form = RoomImportForm(request.POST or None, request.FILES or None)
    row_errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > services.CSV_MAX_BYTES:
                raise ValidationFailed(_("The file is larger than 1 MB."))
            result = services.rooms_import_csv(actor=request.user, content=upload.read())
        except ApplicationError as exc:
            row_errors = list(exc.extra.get("rows", [])) or [exc.message]
        else:
            messages.success(
                request,
                _("Imported: %(created)s rooms created, %(updated)s updated.")
                % {"created": result.created, "updated": result.updated},
            )
            return redirect("mediation:rooms")
    return render(
        request,
        "mediation/room_import.html",
        {"form": form, "row_errors": row_errors, "columns": services.CSV_COLUMNS},
    )


def rooms_geojson(rooms) -> list[dict]:
    return [
        {
            "id": room.pk,
            "name": room.name,
            "type": room.get_room_type_display(),
            "level": room.get_level_display(),
            "address": room.address,
            "hours": room.opening_hours,
            "active": room.active,
            "gold": room.gold_rated,
            "lat": room.lat,
            "lng": room.lng,
        }
        for room in rooms
        if room.lat is not None and room.lng is not None
    ]


@login_required
def room_map(request: HttpRequest) -> HttpResponse:
    """Every room on a map (admins also see inactive ones, greyed)."""
    room_list = list(
        selectors.rooms_list(user=request.user, include_inactive=request.user.is_portal_admin)
    )
    return render(
        request,
        "mediation/room_map.html",
        {"rooms": room_list, "room_points": rooms_geojson(room_list)},
    )


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


def _run_action(request: HttpRequest, action: str, case: MediationCase, data: dict) -> str:
    """Call the service for `action`; returns the success message."""
    user, pk = request.user, case.pk
    if action == "accept":
        mediator = data.get("mediator")
        services.case_accept(actor=user, case_id=pk, mediator_id=mediator.pk if mediator else None)
        return _("Case accepted.")
    if action == "assign":
        services.case_assign_mediator(actor=user, case_id=pk, mediator_id=data["mediator"].pk)
        return _("Mediator assigned.")
    if action == "decline":
        services.case_decline(actor=user, case_id=pk, reason=data["reason"])
        return _("Case declined.")
    if action == "schedule":
        mediator = data.get("mediator")
        services.session_schedule(
            actor=user,
            case_id=pk,
            starts_at=data["starts_at"],
            duration_minutes=data["duration_minutes"],
            place=data["place"],
            mediator_id=mediator.pk if mediator else None,
        )
        return _("Session scheduled; the parties are notified.")
    if action == "agreement":
        agreement = services.agreement_record(
            actor=user,
            case_id=pk,
            form=data["form"],
            facts=data["facts"],
            disputed_matters=data["disputed_matters"],
            responsibilities=data["responsibilities"],
            terms=data["terms"],
            performance_method=data["performance_method"],
            performance_deadline=data["performance_deadline"],
        )
        if agreement.is_effective:
            return _("Oral agreement recorded; it is in effect.")
        return _(
            "Agreement recorded; it takes effect when every party and the mediator have signed "
            "and the committee has sealed it."
        )
    if action == "sign":
        signer = data["signer"]
        services.agreement_sign(
            actor=user,
            case_id=pk,
            party_id=None if signer == "mediator" else int(signer),
            method=data["method"],
            signed_at=data.get("signed_at"),
        )
        return _("Signature recorded.")
    if action == "seal":
        services.agreement_seal(actor=user, case_id=pk, sealed_at=data.get("sealed_at"))
        return _("Committee seal recorded.")
    if action == "extend":
        services.case_extend(
            actor=user,
            case_id=pk,
            days=data["days"],
            parties_consent=data["parties_consent"],
            note=data["note"],
        )
        return _("Deadline extended.")
    if action == "refuse":
        services.case_withdraw(
            actor=user, case_id=pk, reason=data["reason"], party_id=int(data["party"])
        )
        return _("Mediation stopped: a party refused.")
    if action == "withdraw":
        services.case_withdraw(actor=user, case_id=pk, reason=data["reason"])
        return _("Application withdrawn.")
    if action == "fail":
        services.case_fail(actor=user, case_id=pk, reason=data["reason"])
        return _("Mediation ended without agreement.")
    if action == "confirmation":
        services.case_request_confirmation(
            actor=user, case_id=pk, court=data["court"], note=data["note"]
        )
        return _("Judicial confirmation request recorded.")
    if action == "follow_up":
        services.case_follow_up(
            actor=user, case_id=pk, performance=data["performance"], result=data["result"]
        )
        return _("Follow-up recorded.")
    if action == "close":
        services.case_close(actor=user, case_id=pk, note=data["note"])
        return _("Case closed.")
    raise Http404


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
            services.session_start(actor=request.user, session_id=session.pk)
            messages.success(request, _("Session started."))
        elif action == "cancel":
            form = ReasonForm(request.POST)
            reason = form.data.get("reason", "")
            services.session_cancel(actor=request.user, session_id=session.pk, reason=reason)
            messages.success(request, _("Session cancelled."))
        elif action == "minutes":
            form = MinutesForm(request.POST)
            if not form.is_valid():
                context = _case_context(request, case, bound={"minutes": form})
                return render(request, "mediation/case_detail.html", context, status=400)
            services.session_record_minutes(
                actor=request.user,
                session_id=session.pk,
                minutes=form.cleaned_data["minutes"],
                attendees=form.cleaned_data["attendees"],
            )
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


# --- referral from an incident ------------------------------------------------------------


def _reporter_phone_shown(request: HttpRequest, incident) -> str:
    """The reporter's phone for the referral form, as the viewer may see it: in full for the
    reporter and the roles that see contacts (an audit event, as on the incident page), else
    masked. A masked value sent back unchanged stands for the real phone
    (services.case_create_from_incident), so the masked string is never stored."""
    phone = incident.reporter_phone or (
        incident.reporter.phone if incident.reporter_id and incident.reporter.phone else ""
    )
    if not phone:
        return ""
    if incident.reporter_id == request.user.pk:
        return phone
    if viewer_sees_contacts(request.user):
        record_unmasked(request.user, incident, ["reporter_phone"])  # PIPL audit trail
        return phone
    return mask_phone(phone)


@login_required
def refer(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The handler of a dispute incident refers it: rooms are proposed nearest first. Only
    those who may refer it (incidents.page_selectors.can_refer_to_mediation) get the page: 404
    for an incident the user does not see, 403 for one they see but may not refer."""
    from incidents.page_selectors import can_refer_to_mediation
    from incidents.selectors import incident_get_for_user

    try:
        incident = incident_get_for_user(user=request.user, incident_id=incident_id)
    except NotFoundError as exc:
        raise Http404 from exc
    if not can_refer_to_mediation(request.user, incident):
        raise PermissionDenied
    proposals = selectors.rooms_proposed_for_incident(incident=incident)
    existing = selectors.case_for_incident(incident_id=incident.pk)
    initial_parties = [
        {
            "role": CaseParty.Role.APPLICANT,
            "name": incident.reporter_name or (str(incident.reporter) if incident.reporter else ""),
            "phone": _reporter_phone_shown(request, incident),
            "address": incident.address,
        },
        {"role": CaseParty.Role.RESPONDENT},
        {"role": CaseParty.Role.RESPONDENT},
    ]
    initial = {"facts": incident.description}
    if proposals:
        initial["room"] = str(proposals[0].room.pk)
    form = ReferForm(request.POST or None, proposals=proposals, initial=initial)
    formset = party_formset(request.POST or None, initial=initial_parties)
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            case = services.case_create_from_incident(
                actor=request.user,
                incident_id=incident.pk,
                room_id=int(form.cleaned_data["room"]),
                parties=parties_from(formset),
                facts=form.cleaned_data["facts"],
                requests=form.cleaned_data["requests"],
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(
                request,
                _("Incident %(tracking)s referred to %(room)s (case %(number)s).")
                % {
                    "tracking": incident.tracking_number,
                    "room": case.room.name,
                    "number": case.case_number,
                },
            )
            return redirect("mediation:case_detail", pk=case.pk)
    return render(
        request,
        "mediation/refer.html",
        {
            "incident": incident,
            "proposals": proposals,
            "form": form,
            "formset": formset,
            "existing": existing,
        },
    )


# --- calendar and statistics --------------------------------------------------------------


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """A week of sessions (Monday to Sunday) of the cases the user sees."""
    day = parse_date(request.GET.get("week", "") or "") or timezone.localdate()
    monday = day - timedelta(days=day.weekday())
    tz = timezone.get_current_timezone()
    start = datetime.combine(monday, datetime.min.time(), tzinfo=tz)
    sessions = list(
        selectors.sessions_between(user=request.user, start=start, end=start + timedelta(days=7))
        .exclude(state=MediationSession.State.CANCELLED)
        .order_by("starts_at")
    )
    days = []
    for offset in range(7):
        current = monday + timedelta(days=offset)
        days.append(
            {
                "date": current,
                "sessions": [
                    s for s in sessions if timezone.localtime(s.starts_at).date() == current
                ],
            }
        )
    return render(
        request,
        "mediation/calendar.html",
        {
            "days": days,
            "monday": monday,
            "previous_week": monday - timedelta(days=7),
            "next_week": monday + timedelta(days=7),
        },
    )


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not (user.is_portal_admin or user.has_role(RoleCode.SUPERVISOR, RoleCode.MEDIATOR)):
        raise PermissionDenied
    form = StatsForm(request.GET or None)
    group_by, date_from, date_to = "room", None, None
    if form.is_valid():
        group_by = form.cleaned_data["group_by"] or "room"
        date_from = form.cleaned_data["concluded_from"]
        date_to = form.cleaned_data["concluded_to"]
    rows = selectors.case_stats(
        user=user, group_by=group_by, concluded_from=date_from, concluded_to=date_to
    )
    concluded = sum(r["concluded"] for r in rows)
    agreements = sum(r["agreements"] for r in rows)
    chart = {
        "labels": [r["label"] for r in rows],
        "rates": [round(r["success_rate"] * 100, 1) for r in rows],
        "days": [r["average_days_to_settle"] for r in rows],
    }
    return render(
        request,
        "mediation/stats.html",
        {
            "form": form,
            "rows": rows,
            "group_by": group_by,
            "total_concluded": concluded,
            "total_agreements": agreements,
            "total_rate": (agreements / concluded) if concluded else None,
            "chart": chart,
        },
    )
