"""The printable case file of one incident."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from core.exceptions import (
    NotFoundError,
)
from governance import exports
from incidents.selectors import choice_label as _label


@login_required
@require_GET
def case_file(request: HttpRequest, pk: int) -> HttpResponse:
    """A printable case file of one incident: every field, photos and the timeline (as the
    user may see them, like the detail page: personal data masked unless the user may see
    contacts; staff names and the assignee only for staff; photos through the scoped photo
    view, never a media URL)."""
    from incidents.models import Action, IncidentPhoto, IncidentState
    from incidents.selectors import (
        actor_label,
        incident_get_for_user,
        incident_timeline_for,
        is_staff_viewer,
    )

    user = request.user
    try:
        incident = incident_get_for_user(user=user, incident_id=pk)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    staff = is_staff_viewer(user)
    contacts = exports.sees_contacts(user)
    cells = exports.incident_row(incident, viewer=user, contacts=contacts, now=timezone.now())
    staff_only = set() if staff else {pgettext("supervision", "Assignee")}
    fields = [
        (label, "—" if value in ("", None) else value)
        for label, value in zip(exports.incident_headers(), cells, strict=True)
        if label not in staff_only
    ]
    events = list(incident_timeline_for(user, incident))
    timeline = [
        {
            "pk": event.pk,
            "created_at": event.created_at,
            "action": event.action,
            "action_label": _label(Action, event.action),
            "actor": actor_label(event, user, staff),
            "to_state_label": _label(IncidentState, event.to_state),
            "note": event.note,
        }
        for event in events
    ]
    labels = {event["pk"]: event["action_label"] for event in timeline}
    photos = [
        {"photo": photo, "caption": labels.get(photo.event_id, "")}
        for photo in IncidentPhoto.objects.filter(incident=incident).order_by("created_at", "id")
        if photo.event_id is None or photo.event_id in labels
    ]
    return render(
        request,
        "governance/case_file.html",
        {
            "incident": incident,
            "staff": staff,
            "fields": fields,
            "timeline": timeline,
            "photos": photos,
            "printed_at": timezone.now(),
        },
    )
