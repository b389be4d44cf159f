"""Pages of registry (phone-first). Thin: scope through registry.selectors (404 outside it),
validate the form, call one service, show its error.

Nothing sensitive travels in a URL: searches by name or ID number are POSTed, and showing an ID
number or phone in full is a POST (audited) that renders the page once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import RoleCode, User
from audit.models import AuditKind
from audit.services import record, record_unmasked
from core.exceptions import ApplicationError
from grids.models import Region
from registry import exports, imports, links, personal_data, selectors, services
from registry.forms import (
    FORMS,
    CloseForm,
    ImportForm,
    KeyPersonForm,
    SearchForm,
    VisitForm,
)
from registry.models import Building, Home, ImportUpload, KeyPerson, Person
from registry.policies import area_for, key_person_q, may_see_counts, may_unmask

KIND_LABELS = {
    "building": _("building"),
    "home": _("home"),
    "person": _("person"),
    "organisation": _("organisation"),
    "place": _("place"),
}


def _form_errors_from(exc: ApplicationError, form) -> None:
    placed = False
    for name, field_messages in (exc.extra or {}).items():
        for message in field_messages:
            if name in form.fields:
                form.add_error(name, message)
                placed = True
    if not placed:
        form.add_error(None, exc.message)


def _no_area(request: HttpRequest) -> None:
    if area_for(request.user).empty and key_person_q(request.user) is None:
        raise Http404


def _kind_model(kind: str):
    model = selectors.BASIC_MODELS.get(kind)
    if model is None:
        raise Http404
    return model


# --------------------------------------------------------------------------- home and cells


@login_required
def home(request: HttpRequest) -> HttpResponse:
    _no_area(request)
    cells = list(selectors.cells_visible(request.user).order_by("code")[:200])
    return render(
        request,
        "registry/home.html",
        {
            "cells": cells,
            "search_form": SearchForm(),
            "sees_key_persons": key_person_q(request.user) is not None,
            "may_write": selectors.cells_writable(request.user).exists(),
            "may_see_counts": may_see_counts(request.user),
        },
    )


@login_required
def cell_detail(request: HttpRequest, cell_id: int) -> HttpResponse:
    cell = selectors.cell_for(request.user, cell_id)
    tab = request.GET.get("tab", "people")
    if tab not in {"people", "building", "place", "organisation"}:
        tab = "people"
    if tab == "people":
        qs: Any = selectors.people_of_cell(request.user, cell).select_related("home")
    else:
        qs = selectors.scoped(_kind_model(tab), request.user).filter(cell=cell, active=True)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "registry/cell.html",
        {
            "cell": cell,
            "tab": tab,
            "page": page,
            "query_base": f"tab={tab}",
            "may_write": area_for(request.user).may_write(cell),
        },
    )


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """Search people by name prefix or ID number (POST: the query stays out of URLs and logs)."""
    if area_for(request.user).empty:
        raise Http404
    form = SearchForm(request.POST or None)
    results: list[Person] = []
    searched = False
    if request.method == "POST" and form.is_valid():
        results = selectors.people_search(request.user, form.cleaned_data["q"])
        searched = True
    return render(
        request, "registry/search.html", {"form": form, "results": results, "searched": searched}
    )


# --------------------------------------------------------------------------- basic records


def _form_kwargs(request: HttpRequest, kind: str, cell_id: Any = None) -> dict[str, Any]:
    cells = selectors.cells_writable(request.user)
    kwargs: dict[str, Any] = {"cells": cells}
    limit = Q(cell__in=cells, active=True)
    if cell_id:
        limit &= Q(cell_id=cell_id)
    if kind in {"home", "organisation", "place"}:
        kwargs["buildings"] = selectors.scoped(Building, request.user).filter(limit)
    if kind == "person":
        kwargs["homes"] = (
            selectors.scoped(Home, request.user).filter(limit).select_related("building")
        )
    return kwargs


@login_required
def record_create(request: HttpRequest, kind: str) -> HttpResponse:
    model = _kind_model(kind)
    if not selectors.cells_writable(request.user).exists():
        raise Http404
    initial: dict[str, Any] = {}
    cell_id = request.GET.get("cell") or request.POST.get("cell")
    if request.GET.get("cell", "").isdigit():
        initial["cell"] = int(request.GET["cell"])
    for name in ("building", "home"):
        if request.GET.get(name, "").isdigit():
            initial[name] = int(request.GET[name])
    form = FORMS[kind](
        request.POST or None,
        initial=initial,
        **_form_kwargs(request, kind, cell_id if str(cell_id or "").isdigit() else None),
    )
    if request.method == "POST" and form.is_valid():
        values = form.values()
        tags = list(values.pop("tags", [])) if kind == "person" else None
        try:
            obj = services.basic_save(
                actor=request.user,
                instance=model(),
                data=values,
                cell=values.get("cell"),
                tags=tags,
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:record_detail", kind=kind, pk=obj.pk)
    return render(
        request,
        "registry/record_form.html",
        {"form": form, "kind": kind, "kind_label": KIND_LABELS[kind], "obj": None},
    )


@login_required
def record_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = _kind_model(kind)
    obj = selectors.get_scoped(model, request.user, pk)
    if not area_for(request.user).may_write(obj.cell):
        raise Http404
    form = FORMS[kind](
        request.POST or None, instance=obj, **_form_kwargs(request, kind, obj.cell_id)
    )
    if kind == "person" and request.method == "GET":
        form.initial.update({"id_number": obj.id_number, "phone": obj.phone})
    if request.method == "GET":
        # The edit form shows the numbers to the writer: an unmasked view like any other.
        shown = ("id_number", "phone", "owner_phone_value", "contact_phone_value")
        record_unmasked(request.user, obj, [f for f in shown if getattr(obj, f, "")])
    if request.method == "POST" and form.is_valid():
        values = form.values()
        tags = list(values.pop("tags", [])) if kind == "person" else None
        try:
            services.basic_save(
                actor=request.user, instance=obj, data=values, cell=values.get("cell"), tags=tags
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Saved."))
            return redirect("registry:record_detail", kind=kind, pk=obj.pk)
    return render(
        request,
        "registry/record_form.html",
        {"form": form, "kind": kind, "kind_label": KIND_LABELS[kind], "obj": obj},
    )


def _revealed(request: HttpRequest, obj, fields: list[str]) -> bool:
    """A POSTed "show in full" by a role that may: audited, rendered once."""
    if request.method != "POST" or request.POST.get("reveal") != "1":
        return False
    if not may_unmask(request.user):
        return False
    shown = [name for name in fields if getattr(obj, name, "")]
    record_unmasked(request.user, obj, shown)
    return True


def _contacts(obj, reveal: bool) -> list[tuple[str, str]]:
    rows = []
    pairs = [
        ("id_number", _("ID number"), personal_data.masked_id),
        ("phone", _("phone"), personal_data.masked_phone),
        ("owner_phone_value", _("owner's phone"), personal_data.masked_phone),
        ("contact_phone_value", _("contact phone"), personal_data.masked_phone),
    ]
    for name, label, mask in pairs:
        if hasattr(obj, name):
            value = getattr(obj, name) or ""
            rows.append((label, value if reveal else mask(value)))
    return rows


@login_required
def record_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = _kind_model(kind)
    obj = selectors.get_scoped(model, request.user, pk)
    sensitive = ["id_number", "phone", "owner_phone_value", "contact_phone_value"]
    reveal = _revealed(request, obj, [name for name in sensitive if hasattr(obj, name)])
    context: dict[str, Any] = {
        "obj": obj,
        "kind": kind,
        "kind_label": KIND_LABELS[kind],
        "contacts": _contacts(obj, reveal),
        "revealed": reveal,
        "may_unmask": may_unmask(request.user),
        "may_write": area_for(request.user).may_write(obj.cell) and obj.active,
        "history": selectors.history(model._meta.model_name, obj.pk),
    }
    if kind == "building":
        context["homes"] = obj.homes.filter(active=True).order_by("number")
    if kind == "home":
        context["people"] = selectors.scoped(Person, request.user).filter(home=obj, active=True)
    if kind == "person":
        context["key_persons"] = selectors.key_persons_of_person(request.user, obj)
        context["may_add_key_person"] = context["may_write"]
    return render(request, "registry/record_detail.html", context)


@login_required
@require_POST
def record_deactivate(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    model = _kind_model(kind)
    obj = selectors.get_scoped(model, request.user, pk)
    try:
        services.basic_deactivate(actor=request.user, instance=obj)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The record is no longer active."))
    return redirect("registry:record_detail", kind=kind, pk=obj.pk)


# --------------------------------------------------------------------------- key persons


@login_required
def key_person_list(request: HttpRequest) -> HttpResponse:
    if key_person_q(request.user) is None:
        raise Http404
    qs = selectors.key_persons(request.user).filter(status=KeyPerson.Status.ACTIVE)
    kind = request.GET.get("kind", "")
    if kind.isdigit():
        qs = qs.filter(kind_id=int(kind))
    if request.GET.get("overdue") == "1":
        qs = qs.filter(next_visit_due__lt=date.today())
    page = Paginator(qs.order_by("next_visit_due", "pk"), 50).get_page(request.GET.get("page"))
    record(
        AuditKind.UNMASKED,
        actor=request.user,
        object_type="registry.keyperson",
        details={"view": "key_person_list", "count": len(page.object_list)},
        quiet=True,
    )
    return render(
        request,
        "registry/key_persons.html",
        {"page": page, "kinds": selectors.kinds_active(), "kind": kind},
    )


def _workers_for(cell) -> Any:
    return User.objects.filter(
        is_active=True, roles__code=RoleCode.GRID_WORKER, grid_worker__cells=cell
    ).distinct()


@login_required
def key_person_create(request: HttpRequest, person_id: int) -> HttpResponse:
    person = selectors.get_scoped(Person, request.user, person_id)
    if not area_for(request.user).may_write(person.cell):
        raise Http404
    form = KeyPersonForm(
        request.POST or None,
        workers=_workers_for(person.cell),
        initial={"responsible_worker": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            kp = services.key_person_create(
                actor=request.user,
                person=person,
                kind=data["kind"],
                risk_level=data["risk_level"],
                responsible_worker=data["responsible_worker"],
                notes=data["notes"],
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("The person is now followed as a key person."))
            if key_person_q(request.user) is not None and (
                selectors.key_persons(request.user).filter(pk=kp.pk).exists()
            ):
                return redirect("registry:key_person_detail", pk=kp.pk)
            return redirect("registry:record_detail", kind="person", pk=person.pk)
    return render(request, "registry/key_person_form.html", {"form": form, "person": person})


@login_required
def key_person_detail(request: HttpRequest, pk: int) -> HttpResponse:
    kp = selectors.key_person_for(request.user, pk)
    person = kp.person
    reveal = _revealed(request, person, ["id_number", "phone"])
    record(
        AuditKind.UNMASKED,
        actor=request.user,
        obj=kp,
        details={"view": "key_person_page", "kind": kp.kind.code},
        quiet=True,
    )
    plan = services.plan_for(kp.kind, kp.risk_level)
    return render(
        request,
        "registry/key_person.html",
        {
            "kp": kp,
            "person": person,
            "contacts": _contacts(person, reveal),
            "revealed": reveal,
            "may_unmask": may_unmask(request.user),
            "plan": plan,
            "plans": list(kp.kind.plans.all()),
            "due_state": selectors.key_person_due_state(kp),
            "visits": selectors.visits_of(kp),
            "events": list(kp.events.select_related("actor").order_by("-at", "-pk")[:50]),
            "police_officer": kp.cell.police_officer,
            "linked": links.linked_matters(request.user, person),
            "history": selectors.history("keyperson", kp.pk),
            "close_form": CloseForm(),
        },
    )


@login_required
def visit_create(request: HttpRequest, pk: int) -> HttpResponse:
    kp = selectors.key_person_for(request.user, pk)
    form = VisitForm(
        request.POST or None, request.FILES or None, initial={"risk_after": kp.risk_level}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.visit_log(
                actor=request.user,
                key_person=kp,
                observations=data["observations"],
                risk_after=data["risk_after"],
                visited_at=data["visited_at"],
                method=data["method"],
                lat=data["lat"],
                lng=data["lng"],
                accuracy_m=data["accuracy_m"],
                place=data["place"],
                photo=data["photo"],
            )
        except ApplicationError as exc:
            _form_errors_from(exc, form)
        else:
            messages.success(request, _("Visit recorded."))
            return redirect("registry:key_person_detail", pk=kp.pk)
    return render(
        request,
        "registry/visit_form.html",
        {"form": form, "kp": kp, "plans": list(kp.kind.plans.all())},
    )


@login_required
@require_POST
def key_person_close(request: HttpRequest, pk: int) -> HttpResponse:
    kp = selectors.key_person_for(request.user, pk)
    form = CloseForm(request.POST)
    if not form.is_valid() or not area_for(request.user).may_write(kp.cell):
        messages.error(request, _("Give a reason."))
        return redirect("registry:key_person_detail", pk=kp.pk)
    try:
        services.key_person_close(
            actor=request.user, key_person=kp, reason=form.cleaned_data["reason"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("registry:key_person_detail", pk=kp.pk)


# --------------------------------------------------------------------------- import / export


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    cells = selectors.cells_writable(request.user)
    if not cells.exists():
        raise Http404
    form = ImportForm(
        request.POST or None, request.FILES or None, cells=cells, kinds=imports.KIND_CHOICES
    )
    preview = None
    upload = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        content = data["file"].read(imports.MAX_BYTES + 1)
        if len(content) > imports.MAX_BYTES:
            form.add_error("file", _("The file is larger than 10 MB."))
        else:
            preview = imports.preview(
                user=request.user, kind=data["kind"], cell=data["cell"], content=content
            )
            if preview.valid:
                upload = imports.upload_keep(
                    user=request.user,
                    kind=data["kind"],
                    cell=data["cell"],
                    content=content,
                    file_name=data["file"].name,
                    row_count=len(preview.rows),
                )
    return render(
        request,
        "registry/import.html",
        {"form": form, "preview": preview, "upload": upload, "kinds": imports.KIND_CHOICES},
    )


@login_required
@require_POST
def import_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    upload = ImportUpload.objects.filter(
        pk=pk, created_by=request.user, applied_at__isnull=True
    ).first()
    if upload is None:
        raise Http404
    try:
        result = imports.apply_upload(user=request.user, upload=upload)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("registry:import")
    messages.success(
        request,
        _("Imported: %(created)s new, %(updated)s updated.")
        % {"created": result.created, "updated": result.updated},
    )
    return redirect("registry:cell", cell_id=upload.cell_id)


@login_required
@require_GET
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    if kind not in imports.COLUMNS:
        raise Http404
    content = imports.template_xlsx(kind)
    response = HttpResponse(content, content_type=exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="registry-{kind}-template.xlsx"'
    return response


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The 台账 of a cell or a region (GET ?cell= or ?region=), masked by role, audited."""
    if area_for(request.user).empty:
        raise Http404
    cell = None
    region = None
    if request.GET.get("cell"):
        cell = selectors.cell_for(request.user, request.GET["cell"])
    elif request.GET.get("region"):
        region = _region_for(request, request.GET["region"])
    content = exports.ledger_xlsx(user=request.user, cell=cell, region=region)
    response = HttpResponse(content, content_type=exports.XLSX)
    response["Content-Disposition"] = 'attachment; filename="registry-ledger.xlsx"'
    return response


# --------------------------------------------------------------------------- supervision, map


def _region_for(request: HttpRequest, value: Any) -> Region:
    qs = Region.objects.all()
    area = area_for(request.user)
    if not area.everything:
        if not request.user.scope_region_id:
            raise Http404
        qs = qs.filter(code__startswith=request.user.scope_region.prefix)
    try:
        return qs.get(pk=value)
    except (Region.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@login_required
def stats(request: HttpRequest) -> HttpResponse:
    if not may_see_counts(request.user):
        raise Http404
    if request.GET.get("region"):
        region = _region_for(request, request.GET["region"])
    else:
        region = request.user.scope_region or Region.objects.filter(parent__isnull=True).first()
    counts = selectors.counts_for(request.user, region)
    if request.GET.get("format") == "xlsx":
        content = exports.stats_xlsx(user=request.user, region=region)
        response = HttpResponse(content, content_type=exports.XLSX)
        response["Content-Disposition"] = 'attachment; filename="registry-stats.xlsx"'
        return response
    return render(
        request,
        "registry/stats.html",
        {
            "region": region,
            "counts": counts,
            "rows": selectors.drill_down(request.user, region),
            "ancestors": list(reversed(region.ancestors())) if region else [],
        },
    )


def parse_bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if not value:
        return None
    try:
        south, west, north, east = (float(part) for part in value.split(","))
    except ValueError:
        return None
    if not (-90 <= south <= north <= 90 and -180 <= west <= east <= 180):
        return None
    return south, west, north, east


@login_required
@require_GET
def layers(request: HttpRequest) -> JsonResponse:
    """Buildings and places as GeoJSON points for the grid map (scoped; empty outside)."""
    return JsonResponse(
        selectors.map_layer(request.user, parse_bbox(request.GET.get("bbox"))),
        json_dumps_params={"ensure_ascii": False},
    )
