"""The incident detail with one small form per allowed action, and the actions' URL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import record_unmasked
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.masking import mask_phone
from incidents import moves, page_selectors, selectors
from incidents.forms import (
    AssignVerifierForm,
    EmptyForm,
    ExtensionForm,
    FixOnSpotForm,
    NoteForm,
    NotePhotosForm,
    PortalForm,
    RateForm,
    ReasonForm,
    ReasonPhotosForm,
    ResolveForm,
    TargetForm,
    UnparkForm,
    VerifyForm,
)
from incidents.models import MERGEABLE_STATES, Action, Incident, IncidentState
from incidents.views._common import _incident_or_404, _safe_next, _sees_contacts
from incidents.views.track import _rated_message

# --- detail and actions -----------------------------------------------------------------------


@dataclass(frozen=True)
class PageAction:
    """How the detail page asks for one move of the loop (the move itself:
    incidents.moves.PERFORM)."""

    form: type[PortalForm]
    label: Any
    done: Any
    primary: bool = False


PAGE_ACTIONS: dict[str, PageAction] = {
    Action.ASSIGN_VERIFIER: PageAction(
        AssignVerifierForm,
        gettext_lazy("Assign a verifier"),
        gettext_lazy("The verifier was assigned."),
    ),
    Action.VERIFY: PageAction(
        VerifyForm,
        gettext_lazy("Verify: the matter is real"),
        gettext_lazy("Verified. It is being dispatched."),
        primary=True,
    ),
    Action.FIX_ON_SPOT: PageAction(
        FixOnSpotForm,
        gettext_lazy("Fix on the spot (随手办)"),
        gettext_lazy("Recorded as fixed on the spot."),
    ),
    Action.MARK_INVALID: PageAction(
        ReasonForm,
        gettext_lazy("Mark invalid"),
        gettext_lazy("The report was marked invalid."),
    ),
    Action.DISPATCH: PageAction(
        TargetForm,
        gettext_lazy("Dispatch"),
        gettext_lazy("Dispatched."),
        primary=True,
    ),
    Action.CLAIM: PageAction(
        EmptyForm,
        gettext_lazy("Claim (抢单)"),
        gettext_lazy("You claimed it: it is yours now."),
        primary=True,
    ),
    Action.ACCEPT: PageAction(
        NoteForm,
        gettext_lazy("Accept"),
        gettext_lazy("Accepted."),
        primary=True,
    ),
    Action.RETURN: PageAction(
        ReasonForm,
        gettext_lazy("Return: not ours"),
        gettext_lazy("Returned to the dispatchers."),
    ),
    Action.REASSIGN: PageAction(
        TargetForm,
        gettext_lazy("Reassign"),
        gettext_lazy("Reassigned."),
    ),
    Action.ESCALATE: PageAction(
        ReasonForm,
        gettext_lazy("Escalate one level up"),
        gettext_lazy("Escalated one level up."),
    ),
    Action.REQUEST_EXTENSION: PageAction(
        ExtensionForm,
        gettext_lazy("Request an extension"),
        gettext_lazy("Extension requested; the dispatchers were told."),
    ),
    Action.APPROVE_EXTENSION: PageAction(
        NoteForm,
        gettext_lazy("Approve the extension"),
        gettext_lazy("Extension approved."),
        primary=True,
    ),
    Action.REJECT_EXTENSION: PageAction(
        ReasonForm,
        gettext_lazy("Refuse the extension"),
        gettext_lazy("Extension refused."),
    ),
    Action.PARK: PageAction(
        ReasonForm,
        gettext_lazy("Park (挂账)"),
        gettext_lazy("Parked."),
    ),
    Action.UNPARK: PageAction(
        UnparkForm,
        gettext_lazy("Take up again"),
        gettext_lazy("Taken up again with a new deadline."),
    ),
    Action.RESOLVE: PageAction(
        ResolveForm,
        gettext_lazy("Resolve"),
        gettext_lazy("Resolved. Thank you."),
        primary=True,
    ),
    Action.CHECK: PageAction(
        NotePhotosForm,
        gettext_lazy("Check: it is fixed"),
        gettext_lazy("Checked. The reporter is told."),
        primary=True,
    ),
    Action.REWORK: PageAction(
        ReasonPhotosForm,
        gettext_lazy("Rework: not fixed"),
        gettext_lazy("Sent back for rework."),
    ),
    Action.SEND_FEEDBACK: PageAction(
        EmptyForm,
        gettext_lazy("Send the result to the reporter"),
        gettext_lazy("The result was sent to the reporter."),
    ),
    Action.RATE: PageAction(
        RateForm,
        gettext_lazy("Rate the result"),
        gettext_lazy("Thank you for your rating."),
        primary=True,
    ),
    Action.REOPEN: PageAction(
        NoteForm,
        gettext_lazy("Reopen"),
        gettext_lazy("Reopened."),
    ),
    Action.CLOSE: PageAction(
        NoteForm,
        gettext_lazy("Close"),
        gettext_lazy("Closed."),
    ),
}


def _action_url(name: str, incident: Incident) -> str:
    return reverse(f"incidents:{name}", args=[incident.pk])


def _render_detail(
    request: HttpRequest,
    incident: Incident,
    *,
    bound: tuple[str, PortalForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    staff = selectors.sees_as_staff(user, incident)
    now = timezone.now()
    timeline = list(selectors.incident_timeline_for(user, incident))
    photos = [photo for event in timeline for photo in event.photos.all()]
    for event in timeline:
        event.actor_label = selectors.actor_label(event, user, staff)
        event.action_label = (
            Action(event.action).label if event.action in Action.values else event.action
        )
        event.to_state_label = IncidentState(event.to_state).label if event.to_state else ""
    actions = []
    for name in selectors.incident_actions_for(user, incident):
        spec = PAGE_ACTIONS.get(name)
        if spec is None:
            continue
        if bound is not None and bound[0] == name:
            form = bound[1]
        else:
            form = spec.form(user=user, incident=incident, prefix=name)
        actions.append(
            {
                "name": name,
                "label": spec.label,
                "form": form,
                "url": _action_url(name, incident),
                "primary": spec.primary,
                "empty": not form.fields,
                "open": bound is not None and bound[0] == name,
            }
        )
    reopen_form = None
    if any(action["name"] == Action.RATE for action in actions):
        reopen_form = RateForm(prefix=Action.RATE, auto_id="id_reopen_%s")
    phone = incident.reporter_phone or (
        incident.reporter.phone if incident.reporter_id and incident.reporter.phone else ""
    )
    own = incident.reporter_id == user.pk
    if phone and not own and _sees_contacts(user):
        record_unmasked(user, incident, ["reporter_phone"])  # PIPL audit trail
    cell = incident.grid_cell
    map_data = {
        "lat": incident.lat,
        "lng": incident.lng,
        "cell": cell.geometry if cell else None,
        "cell_name": cell.name if cell else "",
    }
    return render(
        request,
        "incidents/detail.html",
        {
            "incident": incident,
            "staff": staff,
            "own": own,
            "reporter_phone": phone if (own or _sees_contacts(user)) else mask_phone(phone),
            "timeline": timeline,
            "photos": photos,
            "deadlines": page_selectors.deadlines(incident, now=now),
            "is_overdue": page_selectors.is_overdue(incident, now=now),
            "actions": actions,
            "reopen_form": reopen_form,
            "rate_url": _action_url(Action.RATE, incident),
            "can_refer": staff and page_selectors.can_refer_to_mediation(user, incident),
            **page_selectors.linked_matters(user, incident),
            **_follow_context(user, incident),
            "map_data": map_data,
            "now": now,
        },
        status=status,
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One incident: map, photos, timeline, deadlines and the actions allowed to me."""
    return _render_detail(request, _incident_or_404(request.user, pk))


@login_required
@require_POST
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One move of the loop: validate the small form, call the service, show the outcome."""
    spec = PAGE_ACTIONS.get(action)
    if spec is None:
        raise Http404
    user = request.user
    incident = _incident_or_404(user, pk)
    form = spec.form(request.POST, request.FILES, user=user, incident=incident, prefix=action)
    if form.is_valid():
        try:
            moved = moves.PERFORM[Action(action)](user, incident.pk, form.move_data())
        except ValidationFailed as exc:
            form.add_service_errors(exc.extra, exc.message)
        except NotFoundError as exc:
            raise Http404(exc.message) from exc
        except PermissionDeniedError as exc:
            messages.error(request, exc.message)
            return _render_detail(request, _incident_or_404(user, pk), status=403)
        except ConflictError as exc:
            messages.error(request, exc.message)
            return redirect("incidents:detail", pk=pk)
        else:
            if action == Action.RATE:
                messages.success(request, _rated_message(form.cleaned_data["rating"]))
            else:
                messages.success(request, str(spec.done))
            if selectors.incident_is_visible(user, moved):
                fallback = reverse("incidents:detail", args=[pk])
            else:
                fallback = reverse("incidents:index")
            return redirect(_safe_next(request, fallback))
    messages.error(request, _("Check the form: %(action)s was not done.") % {"action": spec.label})
    return _render_detail(request, _incident_or_404(user, pk), bound=(action, form), status=400)


def _follow_context(user, incident: Incident) -> dict:
    """附议 on the detail: "N 人关注", the report a duplicate was merged into, and for staff
    who may, the merge and public-result pages."""
    from incidents.services.follows import _can_merge

    may = selectors.is_staff_viewer(user) and _can_merge(user, incident)
    return {
        "followers_count": incident.followers_count,
        "merged_into": incident.merged_into if incident.merged_into_id else None,
        "can_merge": may and incident.state in MERGEABLE_STATES,
        "can_publish_result": may,
    }
