"""The patrol log (巡查日志): start, add GPS points, end. The pure helpers (points, distance)
are incidents.patrols.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from incidents import patrols as patrol_helpers
from incidents.models import (
    PatrolLog,
)
from incidents.services._steps import (
    _fmt,
    _now,
    _optional_text,
)

# --- patrol log (巡查日志) ----------------------------------------------------------------------


def _patrol_locked(patrol_id: int, actor: User) -> PatrolLog:
    """The actor's own patrol, locked. Somebody else's: NotFoundError when they may not see
    it, PermissionDeniedError when they may (a dispatcher only reads patrols)."""
    from incidents.selectors import patrols_visible

    patrol = PatrolLog.objects.select_for_update().filter(pk=patrol_id).first()
    if patrol is None or not patrols_visible(actor).filter(pk=patrol_id).exists():
        raise NotFoundError(_("Patrol not found."))
    if patrol.worker_id != actor.pk:
        raise PermissionDeniedError(_("Only the grid worker on the patrol records it."))
    return patrol


def _add_points(patrol: PatrolLog, points: Sequence, *, now: datetime) -> int:
    """Merge validated points into the track (distance and cells patrolled follow)."""
    from grids.locator import locate

    new = patrol_helpers.clean_points(points, not_before=patrol.started_at, now=now)
    if not new:
        return 0
    merged = patrol_helpers.merge_track(list(patrol.track or []), new)
    if len(merged) > patrol_helpers.MAX_TRACK_POINTS:
        message = _("The track is full (%(n)s points).") % {"n": patrol_helpers.MAX_TRACK_POINTS}
        raise ValidationFailed(message, extra={"points": [message]})
    added = len(merged) - len(patrol.track or [])
    patrol.track = merged
    patrol.distance_m = round(patrol_helpers.track_distance_m(merged), 1)
    located = (locate(p[0], p[1]).cell_id for p in new)
    cell_ids = {cell_id for cell_id in located if cell_id is not None}
    if cell_ids:
        patrol.cells.add(*cell_ids)
    return added


def patrol_start(
    *,
    actor: User,
    cell_ids: Sequence[int] | None = None,
    notes: str = "",
    points: Sequence = (),
) -> PatrolLog:
    """A grid worker starts a patrol (巡查). Requires the grid worker role; one open patrol per
    worker (ConflictError for a second: the user row is locked, and a partial unique index
    backs it). `cell_ids` (default: all the worker's cells) must be the worker's own cells;
    `points` may carry the first GPS fix."""
    if not actor.is_authenticated or not actor.has_role(RoleCode.GRID_WORKER):
        raise PermissionDeniedError(_("Only grid workers keep a patrol log."))
    from grids.models import GridWorker

    worker = GridWorker.objects.filter(user=actor).first()
    own_cells = set(worker.cells.values_list("pk", flat=True)) if worker else set()
    chosen = set(own_cells if cell_ids is None else cell_ids)
    if not chosen <= own_cells:
        message = _("Choose among your own grid cells.")
        raise ValidationFailed(message, extra={"cells": [message]})
    text = _optional_text(notes, "notes")
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        open_patrol = PatrolLog.objects.filter(worker=actor, ended_at__isnull=True).first()
        if open_patrol is not None:
            raise ConflictError(
                _("You are already on a patrol (started %(at)s): end it first.")
                % {"at": _fmt(open_patrol.started_at)}
            )
        now = _now()
        region_code = actor.scope_region.code if actor.scope_region is not None else ""
        patrol = PatrolLog(worker=actor, started_at=now, region_code=region_code, notes=text)
        try:
            with transaction.atomic():
                patrol.save()
        except IntegrityError as exc:  # another request of the same worker won the race
            raise ConflictError(_("You are already on a patrol: end it first.")) from exc
        if chosen:
            patrol.cells.add(*chosen)
        if points:
            _add_points(patrol, points, now=now)
            patrol.save(update_fields=["track", "distance_m", "updated_at"])
        return patrol


def patrol_add_points(*, patrol_id: int, actor: User, points: Sequence) -> PatrolLog:
    """The patrol page sends the GPS fixes of the last ~30 s (or one added by hand). Only the
    worker on the patrol, only while it is open (ConflictError after the end). Points are
    [lat, lng, time]; a bad one rejects the batch (ValidationFailed); a repeated time (a
    retried request) is ignored. Distance and the cells patrolled are updated."""
    with transaction.atomic():
        patrol = _patrol_locked(patrol_id, actor)
        if not patrol.is_open:
            raise ConflictError(_("This patrol has ended."))
        _add_points(patrol, points, now=_now())
        patrol.save(update_fields=["track", "distance_m", "updated_at"])
        return patrol


def patrol_end(
    *, patrol_id: int, actor: User, notes: str | None = None, points: Sequence = ()
) -> PatrolLog:
    """The worker ends the patrol, with notes (replacing the start's when given) and the last
    points. ConflictError when it has already ended."""
    with transaction.atomic():
        patrol = _patrol_locked(patrol_id, actor)
        if not patrol.is_open:
            raise ConflictError(_("This patrol has ended."))
        now = _now()
        if points:
            _add_points(patrol, points, now=now)
        if notes is not None:
            patrol.notes = _optional_text(notes, "notes")
        patrol.ended_at = now
        patrol.save()
        return patrol
