"""Verification: the system's first step after a report (locate, choose the verifier), naming a
verifier, verifying on site, and cancelling a report that does not qualify."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.exceptions import ValidationFailed
from core.prepared_query import PreparedQuery
from incidents import routing
from incidents.models import Action, Category, HandlingLevel, Incident, IncidentState
from incidents.photos import prepare_photos, save_photos
from incidents.services._steps import (
    _attach_community,
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
    _staff_for,
    _tell_reporter,
    _use_cached_category,
)
from incidents.services.deadlines import _set_due, stage_due
from incidents.services.dispatch import _apply_dispatch

_HAS_GRID_WORKER_ROLE = PreparedQuery(
    lambda user_id: User.roles.through.objects.filter(
        user_id=user_id, role_id=RoleCode.GRID_WORKER
    ).values_list("user_id")[:1]
)


def _reporter_is_grid_worker(incident: Incident) -> bool:
    if incident.reporter_id is None:
        return False
    return bool(_HAS_GRID_WORKER_ROLE.rows(incident.reporter_id))


# --- verification -----------------------------------------------------------------------------


def incident_start_verification(*, incident_id: int, route_now: bool = False) -> Incident:
    """System step after a report (tasks.locate_and_assign): locate the grid cell and
    community, choose the verifier, set the verify deadline, notify the verifier.

    A grid worker's own report is verified at once and routing is enqueued — or, with
    `route_now` (what the task asks), routed by the rules in the same transaction: one lock,
    one UPDATE, no second trip through the broker; the timeline still shows both steps.
    Idempotent: an incident no longer `reported` is returned unchanged.
    """
    from grids.locator import locate

    with transaction.atomic():
        incident = _lock(incident_id)
        if incident.state != IncidentState.REPORTED:
            return incident
        _use_cached_category(incident)
        now = _now()
        location = locate(incident.lat, incident.lng)  # type: ignore[arg-type]  # always set
        if location.inside:
            incident.grid_cell_id = location.cell_id
            incident.region_id = location.community_id
            incident.region_code = location.community_code or ""
        incident.handling_level = (
            HandlingLevel.GRID if incident.grid_cell_id else (HandlingLevel.COMMUNITY)
        )
        incident.handling_region_id = incident.region_id
        data = {
            "grid_cell": location.cell_code,
            "community": location.community_code,
            "inside": location.inside,
        }
        if _reporter_is_grid_worker(incident):
            previous = _move(incident, Action.START_VERIFICATION, IncidentState.VERIFIED)
            incident.verifier_id = incident.reporter_id
            incident.verified_at = now
            incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
            _set_due(incident, incident.dispatch_due_at, start=now)
            if not route_now:
                _enqueue(incident, "route")
                incident.save()
            _event(
                incident,
                actor=None,
                action=Action.START_VERIFICATION,
                from_state=previous,
                note=_say(gettext_lazy("Reported by a grid worker: verified at once.")),
                data=data,
            )
            if route_now:  # what incident_route does, without a second lock and UPDATE
                # One snapshot of the routing directory (one token read) for the whole step.
                with routing.directory.pinned():
                    _attach_community(incident)  # the located one: routing walks up from it
                    target = routing.route(incident)
                    _apply_dispatch(
                        incident,
                        target,
                        actor=None,
                        action=Action.DISPATCH,
                        data={"by_rules": True},
                    )
            return incident
        previous = _move(incident, Action.START_VERIFICATION, IncidentState.VERIFYING)
        incident.verifier_id = routing.choose_verifier(incident)
        incident.verify_due_at = stage_due(incident, "verify_within", incident.created_at)
        _set_due(incident, incident.verify_due_at, start=incident.created_at)
        incident.task_enqueued_at = None
        incident.save()
        event = _event(
            incident,
            actor=None,
            action=Action.START_VERIFICATION,
            from_state=previous,
            note=_say(gettext_lazy("Located; waiting for on-site verification.")),
            data={**data, "verifier": incident.verifier_id},
        )
        _notify(
            [incident.verifier_id],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: please verify it on site"),
            body=gettext_lazy("Verify by %(due)s."),
            params={"due": _fmt(incident.verify_due_at)},
        )
        return incident


def incident_assign_verifier(
    *, incident_id: int, actor: User, verifier_id: int, note: str = ""
) -> Incident:
    """A dispatcher (in scope) names who verifies (reported or verifying → verifying).
    The verifier must be a grid worker of the cell or staff whose region covers the incident."""
    with transaction.atomic():
        incident = _load(Action.ASSIGN_VERIFIER, incident_id=incident_id, actor=actor)
        verifier = _staff_for(incident, verifier_id, field="verifier")
        now = _now()
        previous = _move(incident, Action.ASSIGN_VERIFIER, IncidentState.VERIFYING)
        incident.verifier = verifier
        if incident.verify_due_at is None:
            incident.verify_due_at = stage_due(incident, "verify_within", incident.created_at)
        _set_due(incident, incident.verify_due_at, start=now)
        incident.task_enqueued_at = None
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.ASSIGN_VERIFIER,
            from_state=previous,
            note=_optional_text(note, "note"),
            public=False,
            data={"verifier": verifier.pk},
        )
        _notify(
            [verifier.pk],
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Incident %(no)s: please verify it on site"),
        )
        return incident


def incident_verify(
    *,
    incident_id: int,
    actor: User,
    note: str = "",
    category_id: int | None = None,
    photos: Sequence = (),
) -> Incident:
    """The verifier (or a dispatcher in scope) confirms the matter on site (verifying →
    verified); may correct the category. Sets the dispatch deadline; enqueues tasks.route."""
    prepared = prepare_photos(photos)
    category = None
    if category_id is not None:
        category = Category.objects.filter(
            pk=category_id, active=True, parent__isnull=False
        ).first()
        if category is None:
            message = _("Choose a valid category (a subclass that is in use).")
            raise ValidationFailed(message, extra={"category": [message]})
    with _files_removed_on_error() as saved, transaction.atomic():
        incident = _load(Action.VERIFY, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.VERIFY, IncidentState.VERIFIED)
        data: dict[str, Any] = {}
        if category is not None and category.pk != incident.category_id:
            data["category"] = [incident.category.code, category.code]
            incident.category = category
            incident.urgent = incident.urgent or category.urgent
        incident.verified_at = now
        incident.dispatch_due_at = stage_due(incident, "dispatch_within", now)
        _set_due(incident, incident.dispatch_due_at, start=now)
        _enqueue(incident, "route")
        incident.save()
        event = _event(
            incident,
            actor=actor,
            action=Action.VERIFY,
            from_state=previous,
            note=_optional_text(note, "note"),
            data=data,
        )
        save_photos(incident=incident, event=event, photos=prepared, saved=saved)
        return incident


def incident_mark_invalid(*, incident_id: int, actor: User, reason: str) -> Incident:
    """The verifier (or a dispatcher in scope) cancels a report that does not qualify (注销),
    with a reason the reporter sees. Final state `invalid`; the reporter is told."""
    reason = _required_text(reason, "reason", _reason_required())
    with transaction.atomic():
        incident = _load(Action.MARK_INVALID, incident_id=incident_id, actor=actor)
        now = _now()
        previous = _move(incident, Action.MARK_INVALID, IncidentState.INVALID)
        incident.invalid_reason = reason
        incident.closed_at = now
        _set_due(incident, None, start=now)
        incident.task_enqueued_at = None
        incident.save()
        event = _event(
            incident, actor=actor, action=Action.MARK_INVALID, from_state=previous, note=reason
        )
        _tell_reporter(
            incident,
            key=f"e{event.pk}",
            title=gettext_lazy("Your report %(no)s was not accepted"),
            body=gettext_lazy("Reason: %(reason)s"),
            params={"reason": reason},
        )
        return incident
