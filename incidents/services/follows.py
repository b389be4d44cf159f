"""附议 (follow instead of duplicate), merging duplicates, 办理公开's public result, and a
resident's claim of the reports made with their phone before they had an account.

- `incident_follow`: a signed-in resident follows an open incident offered to them (nearby, same
  category, recent): no new case; they get the reporter's public notifications;
- `incident_merge`: staff close a duplicate into an open incident with a reason (MERGE_GRAPH on
  the workflow core): the duplicate is closed with `merged_into`, both timelines show the link,
  the duplicate's reporter becomes a follower. The KPIs count it as merged, never as closed;
- `incident_public_result_set`: staff write the result for the public and choose the photos
  the public may see;
- `incidents_claim_by_phone`: anonymous reports made with a verified phone become the
  resident's own.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import RoleCode, User
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from core.workflow import check, move
from incidents.models import (
    MERGE_GRAPH,
    OPEN_STATES,
    Action,
    Incident,
    IncidentFollower,
    IncidentPhoto,
    IncidentState,
)
from incidents.selectors import incident_is_visible
from incidents.services._steps import (
    _event,
    _lock,
    _now,
    _optional_text,
    _required_text,
    _say,
    _state_conflict,
    _tell_reporter,
)
from incidents.services.deadlines import _set_due

MERGE_ROLES = (RoleCode.DISPATCHER, RoleCode.SUPERVISOR, RoleCode.ADMIN)


def category_allows_follow(incident: Incident) -> bool:
    """Disputes, internal-only categories and those without a radius are never offered."""
    category = incident.category
    return bool(category.follow_radius_m) and not category.is_dispute and not category.internal_only


def incident_follow(*, actor: User, public_id: str) -> IncidentFollower:
    """The signed-in `actor` follows the open incident with this public id (附议). Idempotent:
    following twice keeps one row. Refused (409) for a closed incident, one whose category is
    never offered (disputes, personal, internal), and for the incident's own reporter."""
    if actor is None or not actor.is_authenticated:
        raise PermissionDeniedError(_("Sign in to follow a report."))
    with transaction.atomic():
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("category")
            .filter(public_id=public_id)
            .first()
        )
        if incident is None or not category_allows_follow(incident):
            raise NotFoundError(_("Incident not found."))
        if incident.state not in OPEN_STATES or incident.merged_into_id:
            raise ConflictError(_("This report is already closed: report the problem anew."))
        if incident.reporter_id == actor.pk:
            raise ConflictError(_("You reported this problem yourself."))
        # No timeline row: following changes nothing of the case (the follower rows are
        # the record, with their time); the count shows on the detail and the queue.
        follower, created = IncidentFollower.objects.get_or_create(
            incident=incident, user=actor, defaults={"source": IncidentFollower.Source.FOLLOW}
        )
        if created:
            Incident.objects.filter(pk=incident.pk).update(followers_count=F("followers_count") + 1)
        return follower


def _can_merge(actor: User, incident: Incident) -> bool:
    return (actor.is_portal_admin or actor.has_role(*MERGE_ROLES)) and incident_is_visible(
        actor, incident
    )


def incident_merge(*, actor: User, incident_id: int, into_public_id: str, reason: str) -> Incident:
    """Merge the duplicate `incident_id` into the open incident `into_public_id` (staff who
    may dispatch or supervise both; a reason is required). Locks both rows (lower id first),
    moves the duplicate to closed through MERGE_GRAPH with `merged_into` set, writes a public
    event on both timelines naming the other, makes the duplicate's reporter a follower of the
    open one and tells them. The open incident's state is left alone."""
    reason = _required_text(reason, "reason", gettext_lazy("Give a reason."))
    target = Incident.objects.filter(public_id=(into_public_id or "").strip()).first()
    message = _("Choose an open report to merge into.")
    if target is None or target.pk == incident_id:
        raise ValidationFailed(message, extra={"into": [message]})
    with transaction.atomic():
        first, second = sorted([incident_id, target.pk])
        locked = {first: _lock(first), second: _lock(second)}
        duplicate, target = locked[incident_id], locked[target.pk]
        if not _can_merge(actor, duplicate):
            if incident_is_visible(actor, duplicate):
                raise PermissionDeniedError(_("You may not merge this report."))
            raise NotFoundError(_("Incident not found."))
        if not incident_is_visible(actor, target) or target.state not in OPEN_STATES:
            raise ValidationFailed(message, extra={"into": [message]})
        if target.merged_into_id:
            raise ValidationFailed(message, extra={"into": [message]})
        check(duplicate, MERGE_GRAPH, Action.MERGE, conflict=_merge_refused)
        previous = move(
            duplicate, MERGE_GRAPH, Action.MERGE, IncidentState.CLOSED, conflict=_merge_refused
        )
        now = _now()
        duplicate.merged_into = target
        duplicate.closed_at = now
        duplicate.task_enqueued_at = None
        duplicate.assignee = None
        duplicate.claimable = False
        _set_due(duplicate, None, start=now)
        duplicate.save()
        _event(
            duplicate,
            actor=actor,
            action=Action.MERGE,
            from_state=previous,
            note=_say(
                gettext_lazy("Merged into report %(no)s: %(reason)s"),
                no=target.public_id,
                reason=reason,
            ),
            data={"into": target.pk, "into_public_id": target.public_id},
        )
        _event(
            target,
            actor=actor,
            action=Action.MERGED_IN,
            from_state=target.state,
            note=_say(
                gettext_lazy("Report %(no)s was merged into this one: %(reason)s"),
                no=duplicate.public_id,
                reason=reason,
            ),
            data={"from": duplicate.pk, "from_public_id": duplicate.public_id},
        )
        joining = set(
            IncidentFollower.objects.filter(incident=duplicate).values_list("user_id", flat=True)
        )
        if duplicate.reporter_id:
            joining.add(duplicate.reporter_id)
        joining.discard(target.reporter_id)
        added = 0
        for user_id in sorted(joining):
            _row, created = IncidentFollower.objects.get_or_create(
                incident=target, user_id=user_id, defaults={"source": IncidentFollower.Source.MERGE}
            )
            added += created
        if added:
            target.followers_count += added
            target.save(update_fields=["followers_count"])
        _tell_reporter(
            duplicate,
            key="merged",
            title=gettext_lazy("Your report %(no)s joins an open report"),
            body=gettext_lazy("The same problem was reported already; you now follow it."),
        )
        return duplicate


def _merge_refused(incident: Incident, action: str, target: str | None) -> ConflictError:
    return _state_conflict(action, incident)


def incident_public_result_set(
    *, actor: User, incident_id: int, public_result: str, public_photo_ids: Iterable[int] = ()
) -> Incident:
    """办理公开: staff who work the incident (dispatchers, supervisors, admins in scope) write
    the result for the public and choose which of its photos are public (the others become
    private). The text is stored as written and scrubbed whenever shown."""
    text = _optional_text(public_result, "public_result")
    with transaction.atomic():
        incident = _lock(incident_id)
        if not _can_merge(actor, incident):
            if incident_is_visible(actor, incident):
                raise PermissionDeniedError(_("You may not publish this report's result."))
            raise NotFoundError(_("Incident not found."))
        incident.public_result = text
        incident.save(update_fields=["public_result", "updated_at"])
        wanted = set(public_photo_ids)
        photos = IncidentPhoto.objects.filter(incident=incident)
        photos.filter(pk__in=wanted).update(public=True)
        photos.exclude(pk__in=wanted).update(public=False)
        return incident


def incidents_claim_by_phone(*, user: User) -> int:
    """认领: the reports made without an account with `user`'s verified phone become theirs
    (reporter set; the tracking number keeps working). Returns how many. Only for a verified
    phone: the caller (residents.services) has just proven it by SMS code."""
    if not user.phone or user.phone_verified_at is None:
        raise PermissionDeniedError(_("Verify your phone first."))
    with transaction.atomic():
        ids = list(
            Incident.objects.select_for_update()
            .filter(reporter__isnull=True, reporter_phone=user.phone)
            .values_list("pk", flat=True)
        )
        if not ids:
            return 0
        Incident.objects.filter(pk__in=ids).update(reporter=user)
        for incident in Incident.objects.filter(pk__in=ids):
            _event(
                incident,
                actor=user,
                action=Action.CLAIMED_BY_REPORTER,
                from_state=incident.state,
                note=_say(gettext_lazy("The reporter claimed this report for their account.")),
                public=False,
            )
        return len(ids)


def followers_of(incident_ids: Iterable[int]) -> dict[int, int]:
    """How many follow each incident ("N 人关注")."""
    return dict(
        IncidentFollower.objects.filter(incident_id__in=list(incident_ids))
        .values_list("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )


def follower_ids(incident: Incident) -> list[int]:
    return list(
        IncidentFollower.objects.filter(incident=incident).values_list("user_id", flat=True)
    )
