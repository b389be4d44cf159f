"""Referral of a dispute incident to a mediation room."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from audit.services import record_unmasked
from core.exceptions import ApplicationError, NotFoundError
from core.masking import mask_phone
from mediation import selectors, services
from mediation.forms import (
    ReferForm,
    parties_from,
    party_formset,
)
from mediation.models import (
    CaseParty,
    viewer_sees_contacts,
)
from mediation.views._common import _form_errors_from

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
