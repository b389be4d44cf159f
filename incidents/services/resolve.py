"""The end of the loop: resolve, on-site check, rework, feedback to the reporter, rating, reopen,
close; and 随手办 (fixed on the spot).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.calendar import add_limit
from core.exceptions import (
    PermissionDeniedError,
    ValidationFailed,
)
from incidents import routing
from incidents.models import (
    GRAPH,
    Action,
    Category,
    Channel,
    HandlingLevel,
    Incident,
    IncidentEvent,
    IncidentState,
)
from incidents.photos import prepare_photos, save_photos
from incidents.selectors import incident_is_visible
from incidents.services._steps import (
    _check_move,
    _enqueue,
    _event,
    _files_removed_on_error,
    _fmt,
    _load,
    _lock,
    _move,
    _notify,
    _now,
    _optional_text,
    _reason_required,
    _required_text,
    _say,
    _tell_reporter,
)
from incidents.services.deadlines import (
    _set_due,
    check_limit_for,
    refresh_alarms,
)
from incidents.services.dispatch import _apply_dispatch
from incidents.services.report import _clean_report, _create_incident, _created_with_fresh_number

# --- resolution, check, feedback --------------------------------------------------------------


def incident_resolve(
    *, incident_id: int, actor: User, result: str, photos: Sequence = ()
) -> Incident:
    """The assignee reports the result with evidence photos (accepted → resolved). If the
    resolver is not a grid worker of the cell, a grid worker checks on site (checker chosen,
    check deadline set, notified); otherwise feedback is enqueued (tasks.send_feedback)."""
    result = _required_text(result, "result", gettext_lazy("Describe what was done."))
    prepared = prepare_photos(photos)
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(Action.RESOLVE, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.RESOLVE, IncidentState.RESOLVED)
        incident.result = result
        incident.resolved_at = now
        incident.parked = False
        incident.extension_requested = False
        incident.check_required = not routing.is_cell_worker(actor, incident)
        if incident.check_required:
            incident.checker_id = routing.choose_checker(incident)
            incident.check_due_at = add_limit(now, check_limit_for(incident))
            _set_due(incident, incident.check_due_at, start=now)
            incident.task_enqueued_at = None
        else:
            _set_due(incident, None, start=now)
            _enqueue(incident, "send_feedback")
        incident.save()
        event = _event(
            incident, actor=actor, action=Action.RESOLVE, from_state=previous, note=result
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        if incident.check_required:
            _notify(
                [incident.checker_id],
                incident,
                key=f"e{event.pk}",
                title=gettext_lazy("Incident %(no)s was resolved: check it on site"),
                body=gettext_lazy("Check by %(due)s."),
                params={"due": _fmt(incident.check_due_at)},
            )
        return incident


def incident_check(
    *, incident_id: int, actor: User, note: str = "", photos: Sequence = ()
) -> Incident:
    """A grid worker (the checker, any worker of the cell, or a dispatcher in scope) confirms
    the result on site (resolved → checked); enqueues tasks.send_feedback."""
    prepared = prepare_photos(photos)
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(Action.CHECK, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.CHECK, IncidentState.CHECKED)
        incident.checked_at = now
        if incident.checker_id is None:
            incident.checker = actor
        _set_due(incident, None, start=now)
        _enqueue(incident, "send_feedback")
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.CHECK,
            from_state=previous,
            note=_optional_text(note, "note"),
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        return incident


def incident_rework(
    *, incident_id: int, actor: User, reason: str, photos: Sequence = ()
) -> Incident:
    """Not fixed on site (返工): back to the same handler (dispatched) with a fresh resolve
    deadline; the handler is told."""
    reason = _required_text(reason, "reason", _reason_required())
    prepared = prepare_photos(photos)
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(Action.REWORK, incident_id=incident_id, actor=actor)
        incident.rework_count += 1
        target = routing.previous_handling(incident) or routing.route(incident)
        event = _apply_dispatch(
            incident, target, actor=actor, action=Action.REWORK, note=reason, data={"rework": True}
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        return incident


def incident_can_be_rated(incident: Incident) -> bool:
    """A resident (signed in or known by phone) rates; a grid worker's patrol report is
    closed once the feedback is sent."""
    return incident.channel != Channel.PATROL and bool(
        incident.reporter_id or incident.reporter_phone
    )


def incident_send_feedback(*, incident_id: int, actor: User | None = None) -> Incident:
    """Send the result to the reporter (resolved without a check, or checked → feedback_sent):
    inbox for a signed-in reporter, SMS for one known by phone, with the rating link. Opens
    the rating window (settings.INCIDENT_RATING_WINDOW_DAYS); an incident nobody can rate is
    closed at once. The system (tasks.send_feedback) or a dispatcher. Idempotent for the
    system: an incident already past this step is returned unchanged."""
    with transaction.atomic():
        if actor is None:
            incident = _lock(incident_id)
            waiting = incident.state == IncidentState.CHECKED or (
                incident.state == IncidentState.RESOLVED and not incident.check_required
            )
            if not waiting:
                return incident
        else:
            incident = _load(Action.SEND_FEEDBACK, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.SEND_FEEDBACK, IncidentState.FEEDBACK_SENT)
        incident.feedback_at = now
        incident.task_enqueued_at = None
        rateable = incident_can_be_rated(incident)
        if rateable:
            incident.rate_due_at = now + timedelta(days=settings.INCIDENT_RATING_WINDOW_DAYS)
            incident.due_at = incident.rate_due_at
        else:
            incident.due_at = None
        refresh_alarms(incident, start=now)
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.SEND_FEEDBACK,
            from_state=previous,
            note=incident.result,
        )
        if rateable:
            _tell_reporter(
                incident,
                key=f"feedback:{incident.reopen_count}",
                title=gettext_lazy("Your report %(no)s has been handled"),
                body=gettext_lazy("Result: %(result)s. Please rate it."),
                params={"result": incident.result[:200]},
            )
        else:
            _notify(
                [incident.reporter_id],
                incident,
                key=f"e{event.pk}",
                title=gettext_lazy("Your report %(no)s has been handled"),
                body=gettext_lazy("Result: %(result)s."),
                params={"result": incident.result[:200]},
            )
            _close(incident, actor=None, note=_say(gettext_lazy("Closed: no rating is needed.")))
        return incident


def _close(incident: Incident, *, actor: User | None, note: str) -> IncidentEvent:
    now = _now()
    previous = _move(incident, Action.CLOSE, IncidentState.CLOSED)
    incident.closed_at = now
    incident.task_enqueued_at = None
    _set_due(incident, None, start=now)
    incident.save()
    return _event(incident, actor=actor, action=Action.CLOSE, from_state=previous, note=note)


# --- rating, reopen, close --------------------------------------------------------------------


def incident_rate(
    *,
    actor: User | None,
    rating: int,
    comment: str = "",
    incident_id: int | None = None,
    tracking_number: str = "",
    access_code: str = "",
    tracking_proof: str = "",
) -> Incident:
    """The reporter rates the result 1–5 (feedback_sent → rated): signed in (`incident_id`),
    or through tracking with the tracking number and its access code (查询码), or the proof a
    tracking page session keeps (see incidents.tracking). Through tracking the event records
    the channel ("tracking") and the signed-in user if there is one; staff (any role but
    resident) may not rate there a case they can see (PermissionDeniedError).
    Enqueues tasks.apply_rating (3–5 closes, 1–2 reopens)."""
    from incidents.selectors import incident_for_tracked, incident_for_tracking

    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        message = _("Rate from 1 to 5 stars.")
        raise ValidationFailed(message, extra={"rating": [message]})
    comment = _optional_text(comment, "comment")
    if actor is not None and not actor.is_authenticated:
        actor = None
    with transaction.atomic():
        if incident_id is not None and actor is not None:
            incident = _load(Action.RATE, incident_id=incident_id, actor=actor)
            channel = "account"
        else:
            if tracking_proof and not access_code:
                found = incident_for_tracked(tracking_number, tracking_proof)
            else:
                found = incident_for_tracking(tracking_number, access_code)
            if actor is not None and _is_staff(actor) and incident_is_visible(actor, found):
                raise PermissionDeniedError(
                    _(
                        "Staff may not rate through tracking an incident they can see: the "
                        "reporter rates it."
                    )
                )
            incident = _lock(found.pk)
            if incident.channel == Channel.PATROL:
                raise PermissionDeniedError(
                    _("You may not %(action)s this incident.") % {"action": Action.RATE.label}
                )
            _check_move(Action.RATE, incident)
            channel = "tracking"
        now = _now()
        previous = _move(incident, Action.RATE, IncidentState.RATED)
        incident.rating = rating
        incident.rating_comment = comment
        incident.rated_at = now
        _set_due(incident, None, start=now)
        _enqueue(incident, "apply_rating")
        incident.save()
        _event(
            incident,
            actor=actor,
            action=Action.RATE,
            from_state=previous,
            note=comment,
            data={"rating": rating, "channel": channel},
        )
        return incident


def _is_staff(user: User) -> bool:
    """Any role but resident (or a portal admin)."""
    return bool(user.is_portal_admin or (set(user.role_codes) - {RoleCode.RESIDENT}))


def incident_reopen(*, incident_id: int, actor: User | None = None, note: str = "") -> Incident:
    """A low rating (1–2) reopens the incident (rated → reopened) and routing sends it back to
    whoever handled it (tasks.route). The system (tasks.apply_rating) or a dispatcher.
    Idempotent for the system."""
    with transaction.atomic():
        if actor is None:
            incident = _lock(incident_id)
            if incident.state != IncidentState.RATED:
                return incident
        else:
            incident = _load(Action.REOPEN, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.REOPEN, IncidentState.REOPENED)
        incident.reopen_count += 1
        _set_due(incident, None, start=now)
        _enqueue(incident, "route")
        incident.save()
        _event(
            incident,
            actor=actor,
            action=Action.REOPEN,
            from_state=previous,
            note=_optional_text(note, "note")
            or _say(gettext_lazy("Rated %(n)s stars: reopened."), n=incident.rating),
            data={"rating": incident.rating},
        )
        return incident


def incident_close(*, incident_id: int, actor: User | None = None, note: str = "") -> Incident:
    """Close a rated incident (or one whose rating window has run out). The system
    (tasks.apply_rating, the sweep) or a dispatcher in scope. Idempotent for the system."""
    with transaction.atomic():
        if actor is None:
            incident = _lock(incident_id)
            if not GRAPH.can(Action.CLOSE, incident.state):
                return incident
        else:
            incident = _load(Action.CLOSE, incident_id=incident_id, actor=actor)
        _close(incident, actor=actor, note=_optional_text(note, "note"))
        return incident


# --- 随手办 -----------------------------------------------------------------------------------


def incident_fix_on_spot(
    *,
    actor: User,
    result: str,
    photos: Sequence,
    incident_id: int | None = None,
    category: Category | None = None,
    description: str = "",
    lat: float | None = None,
    lng: float | None = None,
    address: str = "",
    use_photo_location: bool = False,
) -> Incident:
    """随手办: a grid worker fixes a small matter on the spot, verified and resolved in one
    step, with at least one evidence photo (required). Either a new matter they found (give
    category, description and the place, inside their own cells or community: reported →
    resolved) or an incident they came to verify (`incident_id`: verifying → resolved).
    No on-site check follows; feedback (and closing or rating) is enqueued."""
    if actor is None or not actor.is_authenticated or not actor.has_role(RoleCode.GRID_WORKER):
        raise PermissionDeniedError(_("Only grid workers record on-the-spot fixes."))
    result = _required_text(result, "result", gettext_lazy("Describe what was done."))
    if incident_id is not None:
        evidence = prepare_photos(photos, required=True)
        with _files_removed_on_error() as saved, transaction.atomic():
            incident = _load(Action.FIX_ON_SPOT, incident_id=incident_id, actor=actor)
            event = _fixed_on_spot(incident, actor=actor, result=result)
            save_photos(incident=incident, event=event, photos=evidence, saved=saved)
            return incident
    clean = _clean_report(
        actor=actor,
        category=category,
        description=description,
        channel=Channel.PATROL,
        lat=lat,
        lng=lng,
        address=address,
        reporter_name="",
        reporter_phone="",
        photos=photos,
        use_photo_location=use_photo_location,
        photos_required=True,
    )
    from accounts.selectors import user_scope

    location = clean.location
    scope = user_scope(actor)
    if not (location.cell_id in scope.cell_ids or scope.covers_code(location.community_code)):
        message = _("This place is outside your grid.")
        raise ValidationFailed(message, extra={"location": [message]})
    evidence, clean.photos = clean.photos, []

    def create(tracking_number: str, saved: list[str]) -> Incident:
        incident = _create_incident(
            clean, actor=actor, tracking_number=tracking_number, external_id="", saved=saved
        )
        event = _fixed_on_spot(incident, actor=actor, result=result)
        save_photos(incident=incident, event=event, photos=evidence, saved=saved)
        return incident

    return _created_with_fresh_number(create, channel=Channel.PATROL, external_id="", actor=actor)


def _fixed_on_spot(incident: Incident, *, actor: User, result: str) -> IncidentEvent:
    now = _now()
    previous = _move(incident, Action.FIX_ON_SPOT, IncidentState.RESOLVED)
    incident.handling_level = HandlingLevel.GRID
    incident.handling_region_id = incident.region_id
    incident.handling_department = ""
    incident.verifier_id = incident.verifier_id or actor.pk
    incident.assignee = actor
    incident.claimable = False
    incident.verified_at = incident.verified_at or now
    incident.dispatched_at = incident.accepted_at = incident.resolved_at = now
    incident.result = result
    incident.check_required = False
    _set_due(incident, None, start=now)
    _enqueue(incident, "send_feedback")
    incident.save()
    return _event(
        incident, actor=actor, action=Action.FIX_ON_SPOT, from_state=previous, note=result
    )
