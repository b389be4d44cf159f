"""The steps every incident service shares: lock, load (scope, role, state), move, timeline
event, notify, enqueue on commit, the system's wording, text checks and file clean-up.

The moves are core.workflow's (`lock`, `check`, `move`, `record`) over the graph declared once
in incidents.models (GRAPH); these wrappers add the incidents' own wording and policies.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.prepared_query import PreparedQuery
from core.services import notification_send, sms_queue
from core.transactions import enqueue_on_commit
from core.urls import reverse_for_pk
from core.workflow import check, lock, move, record
from grids.models import Region
from incidents import policies, routing
from incidents.models import GRAPH, Action, Incident, IncidentEvent, IncidentState
from incidents.photos import delete_files
from incidents.selectors import incident_is_visible

MAX_TEXT = 2000


def _now() -> datetime:
    return timezone.now()


def _incident_url(incident: Incident) -> str:
    """The incident's page; reversed once per process (core.urls), the worker links every
    notification to it."""
    return _detail_url(incident.pk)


def _incident_path(pk: int) -> str:
    """The page of incidents:detail without resolving URLs: the sweep may be the first thing a
    fresh worker runs, and loading the URLconf there costs seconds."""
    return f"/incidents/{pk}/"


_detail_url = reverse_for_pk("incidents:detail", fallback=_incident_path)


def track_url(incident: Incident) -> str:
    """The public tracking (and rating) link, e.g. /incidents/track/?no=GG7K3MQ9XP."""
    try:
        path = reverse("incidents:track")
    except NoReverseMatch:
        path = "/incidents/track/"
    return f"{getattr(settings, 'SITE_URL', '')}{path}?no={incident.tracking_number}"


def _notify(
    user_ids: Sequence[int | None],
    incident: Incident,
    *,
    key: str,
    title: Any,
    body: Any = "",
    params: dict | None = None,
    url: str = "",
) -> None:
    """Inbox messages in the portal's language; `key` deduplicates (a task run twice never
    notifies twice)."""
    ids = sorted({pk for pk in user_ids if pk})
    if not ids:
        return
    values = {"no": incident.tracking_number, **(params or {})}
    with translation.override(settings.LANGUAGE_CODE):
        title_text = (str(title) % values)[:200]
        body_text = (str(body) % values) if body else ""
    notification_send(
        user_ids=ids,
        title=title_text,
        body=body_text,
        url=url or _incident_url(incident),
        dedupe_key=f"incident:{incident.pk}:{key}",
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _event(
    incident: Incident,
    *,
    actor: User | None,
    action: str,
    from_state: str,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> IncidentEvent:
    return record(
        IncidentEvent,
        incident,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=incident.state,
        note=note,
        public=public,
        data=data,
        subject_field="incident",
    )


def _enqueue(incident: Incident, task_name: str) -> None:
    """Send the follow-up task after commit and record that it was sent (the sweep re-sends
    it if it leaves no trace)."""
    incident.task_enqueued_at = _now()
    _enqueue_on_commit(incident.pk, task_name)


# The incident's community for routing (it walks up from it), compiled once: building the join
# in the lock's query was a large share of the worker's CPU (docs/performance.md).
_COMMUNITY = PreparedQuery(
    lambda region_id: Region.objects.defer("boundary").filter(pk=region_id).order_by()
)


def _lock(incident_id: int, *, with_region: bool = False) -> Incident:
    """The incident row, locked until the transaction ends (core.workflow.lock: a plain
    select_for_update of this table's row). Only inside a transaction."""
    incident = lock(
        Incident, incident_id, of=("self",), not_found=NotFoundError(_("Incident not found."))
    )
    if with_region:
        _attach_community(incident)
    return incident


def _attach_community(incident: Incident) -> None:
    """The incident's community (region), for routing: from the process's directory
    (incidents.directory: no query; boundary deferred), else with the compiled query."""
    if incident.region_id is None:
        return
    from incidents import directory

    known = directory.current()
    region = known.region(incident.region_id) if known is not None else None
    if region is not None:
        incident.region = region
        return
    sql, params = _COMMUNITY.sql_with_params(incident.region_id)
    region = next(iter(Region.objects.raw(sql, params)), None)
    if region is not None:
        incident.region = region


def _use_cached_category(incident: Incident) -> None:
    """The incident's category from the process's copy (incidents.category_cache) when it is
    an active one: the system steps read its limits and levels without a query."""
    from incidents.category_cache import active_subcategory_by_id

    category = active_subcategory_by_id(incident.category_id)
    if category is not None:
        incident.category = category


def _state_conflict(action: str, incident: Incident) -> ConflictError:
    label = IncidentState(incident.state).label
    if incident.assignee_id and incident.state in (
        IncidentState.DISPATCHED,
        IncidentState.ACCEPTED,
        IncidentState.RESOLVED,
    ):
        message = _(
            "Cannot %(action)s this incident: it is now “%(state)s”, handled by %(name)s."
        ) % {"action": Action(action).label, "state": label, "name": incident.assignee}
    else:
        message = _("Cannot %(action)s this incident: it is now “%(state)s”.") % {
            "action": Action(action).label,
            "state": label,
        }
    return ConflictError(message, extra={"state": [incident.state]})


def _check_move(action: str, incident: Incident) -> None:
    check(incident, GRAPH, action, conflict=_refused)
    reason = policies.ready(action, incident)
    if reason:
        raise ConflictError(reason)


def _refused(incident: Incident, action: str, target: str | None) -> ConflictError:
    """core.workflow's refusal in the incidents' words: the state check of a user's move
    names the state (and who has it); a target the graph does not allow is a bug."""
    if target is None:
        return _state_conflict(action, incident)
    return ConflictError(f"{action} cannot lead to {target}")


def _load(action: str, *, incident_id: int, actor: User | None) -> Incident:
    """Lock, then check scope, role and state, in that order."""
    incident = _lock(incident_id)
    if actor is not None and not incident_is_visible(actor, incident):
        raise NotFoundError(_("Incident not found."))
    if not policies.allowed(action, actor, incident):
        raise PermissionDeniedError(
            _("You may not %(action)s this incident.") % {"action": Action(action).label}
        )
    _check_move(action, incident)
    return incident


def _move(incident: Incident, action: str, target: str) -> str:
    """Apply a move of the graph (not saved); returns the state it came from."""
    return move(incident, GRAPH, action, target, conflict=_refused)


def _required_text(value: str, field: str, message: Any) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationFailed(str(message), extra={field: [str(message)]})
    if len(text) > MAX_TEXT:
        too_long = _("At most %(n)s characters.") % {"n": MAX_TEXT}
        raise ValidationFailed(too_long, extra={field: [too_long]})
    return text


def _optional_text(value: str, field: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        too_long = _("At most %(n)s characters.") % {"n": MAX_TEXT}
        raise ValidationFailed(too_long, extra={field: [too_long]})
    return text


@contextmanager
def _files_removed_on_error() -> Iterator[list[str]]:
    """Collects stored file names; deletes them if the block (the transaction) fails."""
    saved: list[str] = []
    try:
        yield saved
    except BaseException:
        delete_files(saved)
        raise


def _reason_required() -> Any:
    return gettext_lazy("Give a reason.")


def _enqueue_on_commit(incident_id: int, task_name: str) -> None:
    """Send the follow-up task after commit (the caller has set `task_enqueued_at`)."""
    from incidents import tasks

    enqueue_on_commit(getattr(tasks, task_name), incident_id)


def _say(message: Any, **params: Any) -> str:
    """Text stored in the timeline by the system, in the portal's language (not the language of
    whichever request or worker happened to run the step)."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % params if params else str(message)


def _fmt(moment: datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _staff_for(incident: Incident, user_id: int | None, *, field: str) -> User:
    """An active grid worker, dispatcher or department handler who may work this incident."""
    user = User.objects.filter(pk=user_id, is_active=True).first() if user_id else None
    message = _("Choose an active staff member who works in this incident's area.")
    if user is None:
        raise ValidationFailed(message, extra={field: [message]})
    from accounts.selectors import user_scope

    ok = routing.is_cell_worker(user, incident) or (
        user.has_role(RoleCode.DISPATCHER, RoleCode.DEPARTMENT_HANDLER, RoleCode.GRID_WORKER)
        and user_scope(user).covers_code(incident.region_code)
    )
    if not ok:
        raise ValidationFailed(message, extra={field: [message]})
    return user


def _tell_reporter(
    incident: Incident, *, key: str, title: Any, body: Any = "", params: dict | None = None
) -> None:
    """Inbox for a signed-in reporter; SMS for a reporter known only by phone. Followers (附议,
    merged duplicates' reporters) get the same public message in their inbox."""
    from incidents.models import IncidentFollower

    followers = [
        user_id
        for user_id in IncidentFollower.objects.filter(incident_id=incident.pk).values_list(
            "user_id", flat=True
        )
        if user_id != incident.reporter_id
    ]
    if followers:
        _notify(
            followers,
            incident,
            key=f"{key}:followers",
            title=title,
            body=body,
            params=params,
            url=_follower_url(incident),
        )
    if incident.reporter_id:
        _notify(
            [incident.reporter_id],
            incident,
            key=key,
            title=title,
            body=body,
            params=params,
            url=track_url(incident),
        )
    elif incident.reporter_phone:
        values = {"no": incident.tracking_number, **(params or {})}
        with translation.override(settings.LANGUAGE_CODE):
            text = f"{str(title) % values} {str(body) % values if body else ''}".strip()
            text = f"{text} {track_url(incident)}"
        sms_queue(
            phone=incident.reporter_phone,
            text=text,
            dedupe_key=f"incident:{incident.pk}:{key}",
        )


def _follower_url(incident: Incident) -> str:
    """A follower's link: the public page of the incident in the resident's centre."""
    return f"{getattr(settings, 'SITE_URL', '')}/residents/reports/{incident.public_id}/"
