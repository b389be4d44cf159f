"""Pages of resident services (phone-first): thin views that validate a form, call one service
and show the result. An ApplicationError becomes a message on the page, never a 500; what the
user may not see is a 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError
from grids.models import Region
from resident_services import exports, forms, policies, selectors, services
from resident_services.models import FINAL_STATES, RequestState

S = RequestState


def _apply_errors(form, exc: ApplicationError) -> None:
    """Put a service's field messages on the form (unknown fields: on the form itself)."""
    placed = False
    for field, errors in (exc.extra or {}).items():
        if field in form.fields and not form.fields[field].widget.is_hidden:
            for error in errors:
                form.add_error(field, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _raise_hidden(exc: ApplicationError) -> None:
    if isinstance(exc, NotFoundError):
        raise Http404 from exc
    if isinstance(exc, PermissionDeniedError):
        raise PermissionDenied(exc.message) from exc


# --- the catalogue ------------------------------------------------------------------------------


def catalogue(request: HttpRequest) -> HttpResponse:
    """便民服务: the catalogue by group (public: no personal data)."""
    return render(
        request,
        "resident_services/catalogue.html",
        {
            "groups": selectors.catalogue(),
            "is_handler": policies.is_handler(request.user) or request.user.is_portal_admin
            if request.user.is_authenticated
            else False,
            "is_consultant": request.user.is_authenticated and policies.is_consultant(request.user),
            "is_supervisor": request.user.is_authenticated and policies.is_supervisor(request.user),
        },
    )


def item_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = selectors.item_get(pk)
    except ApplicationError as exc:
        raise Http404 from exc
    return render(request, "resident_services/item.html", {"item": item})


@login_required
def request_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A resident asks for a service (their own community chosen by default)."""
    try:
        item = selectors.item_get(pk)
    except ApplicationError as exc:
        raise Http404 from exc
    communities = services.communities_for(request.user, item)
    form = forms.RequestForm(
        request.POST or None,
        request.FILES or None,
        communities=communities,
        initial={"community": request.user.home_region_id},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.request_submit(
                actor=request.user,
                item_id=item.pk,
                community_id=data["community"].pk,
                details=data["details"],
                attachments=data["attachments"],
            )
        except ApplicationError as exc:
            _raise_hidden(exc)
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Request received. Number: %(number)s") % {"number": created.number},
            )
            return redirect("resident_services:request_detail", pk=created.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "resident_services/request_new.html",
        {"item": item, "form": form, "no_community": not communities.exists()},
        status=status,
    )


# --- requests -------------------------------------------------------------------------------------


@login_required
def my_requests(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "resident_services/my_requests.html",
        {"requests": selectors.requests_of_resident(request.user)},
    )


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The handler's queue, nearest deadline first."""
    if not (policies.is_handler(request.user) or request.user.is_portal_admin):
        raise PermissionDenied
    return render(
        request,
        "resident_services/queue.html",
        {"requests": selectors.handler_queue(request.user)[:200], "now": timezone.now()},
    )


ACTION_FORMS = {
    "accept": forms.AcceptForm,
    "ask_materials": forms.AskMaterialsForm,
    "complete": forms.CompleteForm,
    "decline": forms.DeclineForm,
    "supply": forms.SupplyForm,
    "rate": forms.RateForm,
}
HANDLER_ACTIONS = {
    "accept": [S.SUBMITTED],
    "ask_materials": [S.SUBMITTED, S.ACCEPTED],
    "complete": [S.ACCEPTED],
    "decline": [S.SUBMITTED, S.ACCEPTED, S.AWAITING_MATERIALS],
}


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        service_request = selectors.request_get_for_user(user=request.user, request_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    return _detail(request, service_request)


def _detail(request: HttpRequest, service_request, *, failed: tuple | None = None, status=200):
    user = request.user
    handles = policies.handles(user, service_request)
    is_resident = service_request.resident_id == user.pk
    action_forms = {}
    if handles:
        for action, states in HANDLER_ACTIONS.items():
            if service_request.state in states:
                action_forms[action] = ACTION_FORMS[action](prefix=action)
    if is_resident and service_request.state == S.AWAITING_MATERIALS:
        action_forms["supply"] = forms.SupplyForm(prefix="supply")
    if is_resident and service_request.state in FINAL_STATES and service_request.rated_at is None:
        action_forms["rate"] = forms.RateForm(prefix="rate")
    if failed is not None:
        action_forms[failed[0]] = failed[1]
    return render(
        request,
        "resident_services/request_detail.html",
        {
            "req": service_request,
            "handles": handles,
            "is_resident": is_resident,
            "resident_phone": service_request.resident.phone_for(user) if handles else "",
            "events": selectors.events_for(user=user, request=service_request),
            "attachments": service_request.attachments.all(),
            "action_forms": action_forms,
        },
        status=status,
    )


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTION_FORMS:
        raise Http404
    try:
        service_request = selectors.request_get_for_user(user=request.user, request_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    form = ACTION_FORMS[action](request.POST, request.FILES or None, prefix=action)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _run(action, request.user, service_request.pk, data)
        except ApplicationError as exc:
            _raise_hidden(exc)
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Done."))
            return redirect("resident_services:request_detail", pk=service_request.pk)
    service_request.refresh_from_db()
    return _detail(request, service_request, failed=(action, form), status=400)


def _run(action: str, actor, request_id: int, data: dict) -> None:
    if action == "accept":
        services.request_accept(actor=actor, request_id=request_id, note=data["note"])
    elif action == "ask_materials":
        services.request_ask_materials(actor=actor, request_id=request_id, missing=data["missing"])
    elif action == "complete":
        services.request_complete(actor=actor, request_id=request_id, result=data["result"])
    elif action == "decline":
        services.request_decline(actor=actor, request_id=request_id, reason=data["reason"])
    elif action == "supply":
        services.request_supply(
            actor=actor,
            request_id=request_id,
            attachments=data["attachments"],
            note=data["note"],
        )
    elif action == "rate":
        services.request_rate(
            actor=actor, request_id=request_id, rating=data["rating"], comment=data["comment"]
        )


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_id: int) -> FileResponse:
    try:
        service_request = selectors.request_get_for_user(user=request.user, request_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    attachment = service_request.attachments.filter(pk=attachment_id).first()
    if attachment is None:
        raise Http404
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.name)


# --- consultations ------------------------------------------------------------------------------


@login_required
def consultations(request: HttpRequest) -> HttpResponse:
    """Free slots of the legal advisers and family doctors in a community (own by default)."""
    communities = selectors.consultation_communities()
    form = forms.SlotSearchForm(request.GET or None, communities=communities)
    community = None
    if form.is_valid():
        community = form.cleaned_data.get("community")
    if community is None and request.user.home_region_id:
        community = communities.filter(pk=request.user.home_region_id).first()
    if community is None:
        community = communities.first()
    return _consultations(request, form, community)


def _consultations(request, form, community, *, book_error: str = "", status: int = 200):
    return render(
        request,
        "resident_services/consultations.html",
        {
            "form": form,
            "community": community,
            "slots": selectors.free_slots(community=community),
            "book_error": book_error,
        },
        status=status,
    )


@login_required
@require_POST
def consultation_book(request: HttpRequest) -> HttpResponse:
    form = forms.BookForm(request.POST)
    error = ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            booking = services.booking_create(
                actor=request.user,
                hours_id=data["hours"],
                starts_at=data["starts_at"],
                topic=data["topic"],
            )
        except ApplicationError as exc:
            _raise_hidden(exc)
            error = exc.message
        else:
            messages.success(
                request,
                _("Booked: %(time)s")
                % {"time": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M")},
            )
            return redirect("resident_services:consultation_mine")
    else:
        error = _("Choose one of the free slots offered.")
    community = None
    hours_id = request.POST.get("hours", "")
    if hours_id.isdigit():
        community = Region.objects.filter(consultation_hours__pk=int(hours_id)).first()
    communities = selectors.consultation_communities()
    search = forms.SlotSearchForm(
        initial={"community": community.pk if community else None}, communities=communities
    )
    return _consultations(request, search, community, book_error=error, status=400)


@login_required
def consultation_mine(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "resident_services/consultation_mine.html",
        {
            "bookings": selectors.bookings_of_resident(user).order_by("-starts_at")[:50],
            "provider_bookings": selectors.bookings_of_provider(user)
            if policies.is_consultant(user)
            else [],
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def consultation_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.booking_cancel(actor=request.user, booking_id=pk)
    except ApplicationError as exc:
        _raise_hidden(exc)
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Booking cancelled."))
    return redirect("resident_services:consultation_mine")


@login_required
def hours(request: HttpRequest) -> HttpResponse:
    """A legal adviser or family doctor publishes weekly hours in the communities of their
    region."""
    user = request.user
    if not policies.is_consultant(user):
        raise PermissionDenied
    prefix = policies.handler_prefix(user) or "-"
    communities = Region.objects.filter(level=Region.Level.COMMUNITY, code__startswith=prefix)
    form = forms.HoursForm(request.POST or None, communities=communities)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.hours_publish(
                    actor=user,
                    community_id=data["community"].pk,
                    weekday=data["weekday"],
                    start=data["start"],
                    end=data["end"],
                    slot_minutes=data["slot_minutes"],
                    place=data["place"],
                )
            except ApplicationError as exc:
                _raise_hidden(exc)
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Hours published."))
                return redirect("resident_services:hours")
    return render(
        request,
        "resident_services/hours.html",
        {"form": form, "hours_list": selectors.hours_of_provider(user)},
        status=status,
    )


@login_required
@require_POST
def hours_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.hours_withdraw(actor=request.user, hours_id=pk)
    except ApplicationError as exc:
        raise Http404 from exc
    messages.success(request, _("Hours withdrawn."))
    return redirect("resident_services:hours")


# --- supervision ----------------------------------------------------------------------------------


def _period(request: HttpRequest) -> dict:
    form = forms.PeriodForm(request.GET or None)
    return form.cleaned_data if form.is_valid() else {}


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    """办结率, 按时办结率, 满意率 per region of the supervisor's scope, with drill-down."""
    if not policies.is_supervisor(request.user):
        raise PermissionDenied
    period = _period(request)
    try:
        figures = selectors.supervision(
            user=request.user,
            code=period.get("region") or None,
            date_from=period.get("date_from"),
            date_to=period.get("date_to"),
        )
    except ApplicationError as exc:
        raise Http404 from exc
    return render(
        request,
        "resident_services/supervision.html",
        {
            "figures": figures,
            "form": forms.PeriodForm(request.GET or None),
            "query": request.GET.urlencode(),
            "period": period,
        },
    )


@login_required
def supervision_export(request: HttpRequest) -> HttpResponse:
    if not policies.is_supervisor(request.user):
        raise PermissionDenied
    period = _period(request)
    try:
        content = exports.supervision_xlsx(
            user=request.user,
            code=period.get("region") or None,
            date_from=period.get("date_from"),
            date_to=period.get("date_to"),
        )
    except ApplicationError as exc:
        raise Http404 from exc
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="services-{stamp}.xlsx"'
    return response
