"""Room administration pages (admins) and the rooms map."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import ApplicationError, NotFoundError, ValidationFailed
from mediation import rooms as room_admin
from mediation import selectors
from mediation.forms import (
    RoomForm,
    RoomImportForm,
    RoomMediatorForm,
)
from mediation.models import (
    MediationRoom,
)
from mediation.views._common import _admin_only, _form_errors_from

# --- rooms (admins) -----------------------------------------------------------------------


@login_required
def rooms(request: HttpRequest) -> HttpResponse:
    _admin_only(request)
    room_list = selectors.rooms_list(user=request.user, include_inactive=True)
    return render(request, "mediation/rooms.html", {"rooms": room_list})


def _room_data_from(form: RoomForm):
    data = form.cleaned_data
    return room_admin.room_data_clean(
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
            room = room_admin.room_create(actor=request.user, data=_room_data_from(form))
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
            room_admin.room_update(actor=request.user, room_id=room.pk, data=_room_data_from(form))
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
    room = room_admin.room_set_active(actor=request.user, room_id=room.pk, active=not room.active)
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
        room_admin.room_move(actor=request.user, room_id=pk, direction=direction)
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
            room_admin.room_mediator_add(
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
        room_admin.room_mediator_remove(actor=request.user, room_id=pk, user_id=user_id)
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
            if upload.size > room_admin.CSV_MAX_BYTES:
                raise ValidationFailed(_("The file is larger than 1 MB."))
            result = room_admin.rooms_import_csv(actor=request.user, content=upload.read())
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
        {"form": form, "row_errors": row_errors, "columns": room_admin.CSV_COLUMNS},
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
