"""Pages of volunteers: thin views that validate a form, call one service and show the result.
An ApplicationError becomes a message on the page (nothing changed), never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import regions_visible, user_scope
from core.exceptions import ApplicationError, NotFoundError
from grids.models import GridCell, Region
from volunteers import exports, forms, kpis, policies, selectors, services
from volunteers.models import Certificate, ClaimState, VolunteerState


def _not_found(exc: NotFoundError) -> Http404:
    return Http404(exc.message)


def _form_message(form) -> str:
    return "; ".join(
        f"{form.fields[name].label}: {' '.join(errors)}"
        if name in form.fields
        else " ".join(errors)
        for name, errors in form.errors.items()
    )


def _do(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a service; its refusal becomes an error message. True when it succeeded."""
    try:
        action()
    except NotFoundError as exc:
        raise _not_found(exc) from None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, success)
    return True


def _require_organiser(request: HttpRequest) -> None:
    if not policies.is_organiser(request.user):
        raise Http404


def _cell_ids(codes: str) -> list[int]:
    wanted = [c.strip() for c in (codes or "").replace("，", ",").split(",") if c.strip()]
    found = dict(GridCell.objects.filter(code__in=wanted).values_list("code", "pk"))
    # An unknown code becomes an id that matches nothing: the service names the field.
    return [found.get(code, 0) for code in wanted]


# --- home ---------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The volunteer's home (志愿者之家), and the organiser's entry points."""
    user = request.user
    volunteer = selectors.volunteer_of(user)
    context: dict[str, Any] = {
        "volunteer": volunteer,
        "is_organiser": policies.is_organiser(user),
        "reads_supervision": policies.reads_supervision(user),
        "may_apply": user.is_verified_resident
        and (volunteer is None or volunteer.state == VolunteerState.DECLINED),
    }
    if volunteer is not None and volunteer.state == VolunteerState.APPROVED:
        context.update(
            claims=selectors.claims_of(user)
            .filter(state__in=[ClaimState.CLAIMED, ClaimState.ON_DUTY])
            .order_by("task__starts_at"),
            open_tasks=selectors.tasks_open_for_volunteer(user).order_by("starts_at")[:20],
            points=selectors.points_balance(volunteer),
            hours=selectors.hours_total(volunteer),
            records=selectors.records_counting(volunteer)[:10],
            hazards=selectors.hazards_of(volunteer)[:10],
        )
    return render(request, "volunteers/home.html", context)


@login_required
def apply(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = forms.ApplyForm(
        request.POST or None, initial={"community": getattr(user, "home_region_id", None)}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if _do(
            request,
            lambda: services.volunteer_apply(
                actor=user,
                community_id=data["community"].pk,
                real_name=data["real_name"],
                id_number=data["id_number"],
                skills=data["skills"],
                availability=data["availability"],
            ),
            _("Application sent: the community will tell you its decision."),
        ):
            return redirect("volunteers:home")
    elif request.method == "POST":
        messages.error(request, _form_message(form))
    return render(request, "volunteers/apply.html", {"form": form})


# --- organiser: applications -------------------------------------------------------------------


@login_required
def applications(request: HttpRequest) -> HttpResponse:
    _require_organiser(request)
    rows = selectors.applications_for(request.user).order_by("state", "-created_at")[:200]
    return render(
        request,
        "volunteers/applications.html",
        {"volunteers": rows, "decline_form": forms.DeclineForm()},
    )


@login_required
@require_POST
def application_decide(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    _require_organiser(request)
    if request.POST.get("decision") == "approve":
        _do(
            request,
            lambda: services.volunteer_approve(actor=request.user, volunteer_id=volunteer_id),
            _("Approved."),
        )
    else:
        form = forms.DeclineForm(request.POST)
        if not form.is_valid():
            try:
                selectors.volunteer_get_for_staff(request.user, volunteer_id)
            except NotFoundError as exc:
                raise _not_found(exc) from None
            messages.error(request, _("Give the reason for declining."))
        else:
            _do(
                request,
                lambda: services.volunteer_decline(
                    actor=request.user,
                    volunteer_id=volunteer_id,
                    reason=form.cleaned_data["reason"],
                ),
                _("Declined."),
            )
    return redirect("volunteers:applications")


# --- tasks -----------------------------------------------------------------------------------


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    user = request.user
    if policies.is_organiser(user) or policies.reads_supervision(user):
        rows = selectors.tasks_visible(user).order_by("-starts_at")[:200]
    elif selectors.approved_volunteer_of(user) is not None:
        rows = selectors.tasks_open_for_volunteer(user).order_by("starts_at")[:200]
    else:
        raise Http404
    return render(
        request,
        "volunteers/tasks.html",
        {"tasks": rows, "is_organiser": policies.is_organiser(user)},
    )


def _regions_for(user: User):
    return regions_visible(user).order_by("code")


@login_required
def task_new(request: HttpRequest) -> HttpResponse:
    _require_organiser(request)
    user = request.user
    form = forms.TaskForm(request.POST or None, regions=_regions_for(user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        created: dict[str, Any] = {}

        def post() -> None:
            created["task"] = services.task_post(
                actor=user,
                title=data["title"],
                description=data["description"],
                level=data["level"],
                region_id=data["region"].pk,
                cell_ids=_cell_ids(data["cells"]),
                route=data["route"],
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                places=data["places"],
                required_checkins=data["required_checkins"],
            )

        if _do(request, post, _("Task posted.")):
            return redirect("volunteers:task", created["task"].pk)
    elif request.method == "POST":
        messages.error(request, _form_message(form))
    return render(request, "volunteers/task_new.html", {"form": form})


@login_required
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    user = request.user
    try:
        task = selectors.task_get(user, task_id)
    except NotFoundError as exc:
        raise _not_found(exc) from None
    volunteer = selectors.approved_volunteer_of(user)
    own_claim = task.claims.filter(volunteer=volunteer).first() if volunteer else None
    return render(
        request,
        "volunteers/task_detail.html",
        {
            "task": task,
            "cells": task.cells.all(),
            "claims": selectors.claims_for_task(user, task),
            "own_claim": own_claim,
            "volunteer": volunteer,
            "teams": selectors.teams_visible(user).filter(memberships__user=user)
            if volunteer
            else [],
            "is_organiser": policies.organises(user, task.region_code),
            "map_data": {"route": task.route, "cells": [c.geometry for c in task.cells.all()]},
        },
    )


@login_required
@require_POST
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    team_id = request.POST.get("team") or None
    claimed: dict[str, Any] = {}

    def claim() -> None:
        claimed["claim"] = services.task_claim(
            actor=request.user,
            task_id=task_id,
            team_id=int(team_id) if str(team_id or "").isdigit() else None,
        )

    if _do(request, claim, _("Place claimed.")):
        return redirect("volunteers:claim", claimed["claim"].pk)
    return redirect("volunteers:task", task_id)


@login_required
@require_POST
def task_cancel(request: HttpRequest, task_id: int) -> HttpResponse:
    _do(
        request,
        lambda: services.task_cancel(
            actor=request.user, task_id=task_id, reason=request.POST.get("reason", "")
        ),
        _("Task cancelled."),
    )
    return redirect("volunteers:task", task_id)


# --- the volunteer's claim: check in, hazards, check out ------------------------------------


@login_required
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    try:
        claim = selectors.claim_get_own(request.user, claim_id)
    except NotFoundError as exc:
        raise _not_found(exc) from None
    return render(
        request,
        "volunteers/claim.html",
        {
            "claim": claim,
            "task": claim.task,
            "position_form": forms.PositionForm(),
            "hazard_form": forms.HazardForm(),
            "hazards": claim.hazards.select_related("incident"),
            "records": claim.records.all(),
            "map_data": {
                "route": claim.task.route,
                "cells": [c.geometry for c in claim.task.cells.all()],
                "track": claim.patrol.track if claim.patrol else [],
            },
        },
    )


def _position_action(request: HttpRequest, claim_id: int, service, success: str) -> HttpResponse:
    form = forms.PositionForm(request.POST)
    if not form.is_valid():
        try:
            selectors.claim_get_own(request.user, claim_id)
        except NotFoundError as exc:
            raise _not_found(exc) from None
        messages.error(request, _("Your position is missing: allow the phone's location."))
    else:
        _do(
            request,
            lambda: service(
                actor=request.user,
                claim_id=claim_id,
                lat=form.cleaned_data["lat"],
                lng=form.cleaned_data["lng"],
            ),
            success,
        )
    return redirect("volunteers:claim", claim_id)


@login_required
@require_POST
def claim_check_in(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _position_action(request, claim_id, services.claim_check_in, _("Checked in."))


@login_required
@require_POST
def claim_checkpoint(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _position_action(request, claim_id, services.claim_checkpoint, _("Check-in recorded."))


@login_required
@require_POST
def claim_check_out(request: HttpRequest, claim_id: int) -> HttpResponse:
    return _position_action(
        request,
        claim_id,
        services.claim_check_out,
        _("Checked out: your service record is written."),
    )


@login_required
@require_POST
def claim_withdraw(request: HttpRequest, claim_id: int) -> HttpResponse:
    _do(
        request,
        lambda: services.claim_withdraw(actor=request.user, claim_id=claim_id),
        _("Place given back."),
    )
    return redirect("volunteers:claim", claim_id)


@login_required
@require_POST
def claim_hazard(request: HttpRequest, claim_id: int) -> HttpResponse:
    form = forms.HazardForm(request.POST, request.FILES)
    if not form.is_valid():
        try:
            selectors.claim_get_own(request.user, claim_id)
        except NotFoundError as exc:
            raise _not_found(exc) from None
        messages.error(request, _form_message(form))
    else:
        data = form.cleaned_data
        _do(
            request,
            lambda: services.claim_report_hazard(
                actor=request.user,
                claim_id=claim_id,
                category=data["category"],
                description=data["description"],
                lat=data["lat"],
                lng=data["lng"],
                photos=request.FILES.getlist("photos"),
            ),
            _("Hazard reported, thank you."),
        )
    return redirect("volunteers:claim", claim_id)


# --- teams, 2+N, duty posts ---------------------------------------------------------------


@login_required
def teams(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = selectors.teams_visible(user)
    if not policies.reads_area(user) and selectors.approved_volunteer_of(user) is None:
        raise Http404
    form = forms.TeamForm(request.POST or None, regions=_regions_for(user))
    if request.method == "POST":
        _require_organiser(request)
        if form.is_valid():
            data = form.cleaned_data
            _do(
                request,
                lambda: services.team_save(
                    actor=user,
                    name=data["name"],
                    kind_id=data["kind"].pk,
                    region_id=data["region"].pk,
                    cell_ids=_cell_ids(data["cells"]),
                    on_duty=data["on_duty"],
                ),
                _("Team saved."),
            )
        else:
            messages.error(request, _form_message(form))
        return redirect("volunteers:teams")
    return render(
        request,
        "volunteers/teams.html",
        {
            "teams": rows.prefetch_related("cells")[:200],
            "form": form,
            "is_organiser": policies.is_organiser(user),
        },
    )


@login_required
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    user = request.user
    try:
        team = selectors.team_get(user, team_id)
    except NotFoundError as exc:
        raise _not_found(exc) from None
    organises = policies.organises(user, team.region_code)
    if request.method == "POST":
        if not organises:
            raise Http404
        if "remove" in request.POST:
            _do(
                request,
                lambda: services.team_member_remove(
                    actor=user, team_id=team_id, user_id=int(request.POST.get("remove") or 0)
                ),
                _("Member removed."),
            )
        elif "on_duty" in request.POST:
            _do(
                request,
                lambda: services.team_save(
                    actor=user,
                    team_id=team.pk,
                    name=team.name,
                    kind_id=team.kind_id,
                    region_id=team.region_id,
                    leader_id=team.leader_id,
                    cell_ids=list(team.cells.values_list("pk", flat=True)),
                    on_duty=request.POST.get("on_duty") == "1",
                ),
                _("Team saved."),
            )
        else:
            form = forms.MemberForm(request.POST)
            member = None
            if form.is_valid():
                name = form.cleaned_data["username"].strip()
                member = User.objects.filter(Q(username=name) | Q(phone=name)).first()
            _do(
                request,
                lambda: services.team_member_add(
                    actor=user, team_id=team_id, user_id=member.pk if member else None
                ),
                _("Member added."),
            )
        return redirect("volunteers:team", team_id)
    return render(
        request,
        "volunteers/team.html",
        {
            "team": team,
            "members": team.memberships.select_related("user"),
            "cells": team.cells.all(),
            "organises": organises,
            "member_form": forms.MemberForm(),
        },
    )


@login_required
def cell_two_plus_n(request: HttpRequest, code: str) -> HttpResponse:
    """The grid's "2+N": grid worker(s), police officer, the teams serving the cell."""
    user = request.user
    cell = selectors.cells_for_two_plus_n(user).filter(code=code).first()
    if cell is None:
        raise Http404
    organises = policies.organises(user, cell.community.code)
    if request.method == "POST":
        if not organises:
            raise Http404
        form = forms.PairingForm(request.POST)
        officer_id = None
        if form.is_valid() and form.cleaned_data["police_officer"].strip():
            officer = User.objects.filter(
                username=form.cleaned_data["police_officer"].strip()
            ).first()
            officer_id = officer.pk if officer else -1
        duty = {
            int(key.split("-", 1)[1]): request.POST.get(key) == "1"
            for key in request.POST
            if key.startswith("duty-") and key.split("-", 1)[1].isdigit()
        }
        _do(
            request,
            lambda: services.cell_pairing_set(
                actor=user, cell_id=cell.pk, police_officer_id=officer_id, worker_on_duty=duty
            ),
            _("Saved."),
        )
        return redirect("volunteers:cell", code)
    context = selectors.two_plus_n(cell)
    context.update(
        organises=organises,
        pairing_form=forms.PairingForm(
            initial={"police_officer": cell.police_officer.username if cell.police_officer else ""}
        ),
        viewer=user,
    )
    return render(request, "volunteers/cell.html", context)


@login_required
def posts(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not policies.reads_area(user):
        raise Http404
    form = forms.PostForm(request.POST or None, regions=_regions_for(user))
    if request.method == "POST":
        _require_organiser(request)
        if form.is_valid():
            data = form.cleaned_data

            def create() -> None:
                post = services.post_save(
                    actor=user,
                    name=data["name"],
                    kind=data["kind"],
                    region_id=data["region"].pk,
                    lat=data["lat"],
                    lng=data["lng"],
                    shift_start=data["shift_start"],
                    shift_end=data["shift_end"],
                    places=data["places"],
                )
                services.shifts_generate(post_id=post.pk)

            _do(request, create, _("Duty post saved; its shifts of the coming week are open."))
        else:
            messages.error(request, _form_message(form))
        return redirect("volunteers:posts")
    return render(
        request,
        "volunteers/posts.html",
        {
            "posts": selectors.posts_visible(user)[:200],
            "form": form,
            "is_organiser": policies.is_organiser(user),
        },
    )


# --- records, certificates, points -----------------------------------------------------------


@login_required
def records(request: HttpRequest) -> HttpResponse:
    user = request.user
    volunteer = selectors.volunteer_of(user)
    staff_rows = selectors.records_for_staff(user)
    if not policies.is_organiser(user) and volunteer is None:
        raise Http404
    return render(
        request,
        "volunteers/records.html",
        {
            "own": selectors.records_counting(volunteer) if volunteer else [],
            "volunteer": volunteer,
            "to_confirm": staff_rows.filter(confirmed_at__isnull=True, corrected_by__isnull=True)[
                :200
            ],
            "recent": staff_rows.filter(confirmed_at__isnull=False)[:50],
            "is_organiser": policies.is_organiser(user),
            "correct_form": forms.CorrectForm(),
            "certificates": volunteer.certificates.all() if volunteer else [],
        },
    )


@login_required
@require_POST
def record_confirm(request: HttpRequest, record_id: int) -> HttpResponse:
    _do(
        request,
        lambda: services.record_confirm(actor=request.user, record_id=record_id),
        _("Record confirmed; points awarded."),
    )
    return redirect("volunteers:records")


@login_required
@require_POST
def record_correct(request: HttpRequest, record_id: int) -> HttpResponse:
    form = forms.CorrectForm(request.POST)
    if not form.is_valid():
        if not selectors.records_for_staff(request.user).filter(pk=record_id).exists():
            raise Http404
        messages.error(request, _form_message(form))
    else:
        _do(
            request,
            lambda: services.record_correct(
                actor=request.user,
                record_id=record_id,
                hours=form.cleaned_data["hours"],
                reason=form.cleaned_data["reason"],
            ),
            _("Correction recorded as a new record."),
        )
    return redirect("volunteers:records")


@login_required
@require_POST
def certificate_issue(request: HttpRequest) -> HttpResponse:
    issued: dict[str, Any] = {}

    def issue() -> None:
        issued["certificate"] = services.certificate_issue(actor=request.user)

    if _do(request, issue, _("Certificate issued.")):
        return redirect("volunteers:certificate", issued["certificate"].pk)
    return redirect("volunteers:records")


@login_required
def certificate(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The printable certificate (志愿服务记录证明): the volunteer's own, or the community's."""
    cert = (
        Certificate.objects.select_related("volunteer", "volunteer__community")
        .filter(pk=certificate_id)
        .first()
    )
    if cert is None or not (
        cert.volunteer.user_id == request.user.pk
        or policies.organises(request.user, cert.volunteer.region_code)
    ):
        raise Http404
    from core.masking import mask_id_number

    return render(
        request,
        "volunteers/certificate.html",
        {"certificate": cert, "id_number": mask_id_number(cert.volunteer.id_number)},
    )


@login_required
def points(request: HttpRequest) -> HttpResponse:
    user = request.user
    volunteer = selectors.volunteer_of(user)
    community_code = volunteer.region_code if volunteer else None
    if community_code is None and policies.is_organiser(user):
        code = request.GET.get("community", "")
        region = Region.objects.filter(code=code, level=Region.Level.COMMUNITY).first()
        if region is not None and policies.organises(user, region.code):
            community_code = region.code
    if volunteer is None and not policies.is_organiser(user):
        raise Http404
    return render(
        request,
        "volunteers/points.html",
        {
            "volunteer": volunteer,
            "ledger": volunteer.points.all()[:100] if volunteer else [],
            "balance": selectors.points_balance(volunteer) if volunteer else None,
            "board": selectors.leaderboard(community_code) if community_code else [],
            "month": timezone.localtime(),
            "is_organiser": policies.is_organiser(user),
            "redeem_form": forms.RedeemForm(),
            "volunteers": selectors.applications_for(user).filter(state=VolunteerState.APPROVED)[
                :200
            ]
            if policies.is_organiser(user)
            else [],
        },
    )


@login_required
@require_POST
def points_redeem(request: HttpRequest, volunteer_id: int) -> HttpResponse:
    _require_organiser(request)
    form = forms.RedeemForm(request.POST)
    if not form.is_valid():
        selectors_ok = selectors.applications_for(request.user).filter(pk=volunteer_id).exists()
        if not selectors_ok:
            raise Http404
        messages.error(request, _form_message(form))
    else:
        _do(
            request,
            lambda: services.points_redeem(
                actor=request.user,
                volunteer_id=volunteer_id,
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
            ),
            _("Redemption recorded."),
        )
    return redirect("volunteers:points")


# --- supervision ----------------------------------------------------------------------------


def _supervision_region(request: HttpRequest) -> Region:
    user = request.user
    if not policies.reads_supervision(user):
        raise Http404
    code = request.GET.get("region", "")
    scope = user_scope(user)
    if code:
        region = Region.objects.filter(code=code).first()
        if region is None or not scope.covers_code(region.code):
            raise Http404
        return region
    if scope.everything:
        region = Region.objects.filter(parent__isnull=True).order_by("code").first()
    else:
        region = user.scope_region
    if region is None:
        raise Http404
    return region


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    """Patrol coverage and volunteering figures of the supervisor's region, by sub-region."""
    region = _supervision_region(request)
    now = timezone.now()
    total = kpis.figures(region.prefix, region=region, now=now)
    rows = kpis.drill_down(region, now=now)
    if request.GET.get("format") == "xlsx":
        return exports.supervision_xlsx(region, total, rows)
    return render(
        request,
        "volunteers/supervision.html",
        {
            "region": region,
            "total": total,
            "rows": rows,
            "map_data": kpis.coverage_map(region.prefix, now=now),
        },
    )
