"""The volunteers' sweep (Celery beat): no-shows, unfilled places, reminders, duty shifts, and
the purge of GPS tracks past their retention (PIPL Art. 28). Each step is idempotent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import Notice, notifications_send_many
from core.workflow import check_bulk
from volunteers.models import (
    CLAIM_GRAPH,
    CheckIn,
    Claim,
    ClaimAction,
    ClaimEvent,
    ClaimState,
    DutyPost,
    PatrolTask,
    TaskState,
    Volunteer,
)

NO_SHOW_AFTER = timedelta(minutes=30)  # not checked in 30 minutes after the start
WARN_UNFILLED_BEFORE = timedelta(hours=24)
REMIND_BEFORE = timedelta(hours=2)
SHIFT_DAYS_AHEAD = 7


def track_retention_days() -> int:
    return int(getattr(settings, "VOLUNTEER_TRACK_RETENTION_DAYS", 90))


@dataclass
class SweepResult:
    no_shows: int = 0
    warned: int = 0
    reminded: int = 0
    shifts: int = 0
    purged: int = 0


def claims_mark_no_show(now) -> int:
    """A place not checked in 30 minutes after the start is a no-show: the place is freed
    (a latecomer may claim it while the task runs) and the volunteer's reliability drops."""
    count = 0
    states = check_bulk(CLAIM_GRAPH, ClaimAction.NO_SHOW, [ClaimState.CLAIMED], ClaimState.NO_SHOW)
    ids = list(
        Claim.objects.filter(
            state__in=states, task__starts_at__lte=now - NO_SHOW_AFTER
        ).values_list("pk", flat=True)[:500]
    )
    for claim_id in ids:
        with transaction.atomic():
            claim = Claim.objects.select_for_update().filter(pk=claim_id, state__in=states).first()
            if claim is None:
                continue
            claim.state = ClaimState.NO_SHOW
            claim.save(update_fields=["state", "updated_at"])
            PatrolTask.objects.filter(pk=claim.task_id).update(taken=F("taken") - 1)
            Volunteer.objects.filter(pk=claim.volunteer_id).update(
                no_show_count=F("no_show_count") + 1
            )
            ClaimEvent.objects.create(
                claim=claim,
                actor=None,
                action=ClaimAction.NO_SHOW,
                from_state=ClaimState.CLAIMED,
                to_state=ClaimState.NO_SHOW,
            )
            count += 1
    return count


def tasks_warn_unfilled(now) -> int:
    """Tell the poster, once, of a task starting within 24 hours with places free."""
    tasks = list(
        PatrolTask.objects.filter(
            state=TaskState.OPEN,
            unfilled_warned_at__isnull=True,
            starts_at__gt=now,
            starts_at__lte=now + WARN_UNFILLED_BEFORE,
            taken__lt=F("places"),
        )[:500]
    )
    notices = [
        Notice(
            user_id=task.posted_by_id,
            title=_("%(free)s of %(places)s places still free: %(title)s")
            % {"free": task.places - task.taken, "places": task.places, "title": task.title},
            url=f"/volunteers/tasks/{task.pk}/",
            dedupe_key=f"volunteer-unfilled-{task.pk}",
        )
        for task in tasks
    ]
    with transaction.atomic():
        notifications_send_many(notices)
        PatrolTask.objects.filter(
            pk__in=[t.pk for t in tasks], unfilled_warned_at__isnull=True
        ).update(unfilled_warned_at=now)
    return len(tasks)


def claims_remind(now) -> int:
    """Remind each volunteer, once, two hours before their slot."""
    claims = list(
        Claim.objects.filter(
            state=ClaimState.CLAIMED,
            reminded_at__isnull=True,
            task__state=TaskState.OPEN,
            task__starts_at__gt=now,
            task__starts_at__lte=now + REMIND_BEFORE,
        ).select_related("task", "volunteer")[:1000]
    )
    notices = [
        Notice(
            user_id=claim.volunteer.user_id,
            title=_("Reminder: %(title)s starts at %(at)s")
            % {
                "title": claim.task.title,
                "at": timezone.localtime(claim.task.starts_at).strftime("%H:%M"),
            },
            url=f"/volunteers/claims/{claim.pk}/",
            dedupe_key=f"volunteer-remind-{claim.pk}-{claim.claimed_at.timestamp():.0f}",
        )
        for claim in claims
    ]
    with transaction.atomic():
        notifications_send_many(notices)
        Claim.objects.filter(pk__in=[c.pk for c in claims], reminded_at__isnull=True).update(
            reminded_at=now
        )
    return len(claims)


def shifts_generate_all() -> int:
    from volunteers.services.patrols import shifts_generate

    return sum(
        shifts_generate(post_id=pk, days=SHIFT_DAYS_AHEAD)
        for pk in DutyPost.objects.filter(active=True).values_list("pk", flat=True)
    )


def tracks_purge(now) -> int:
    """Past the retention period the raw whereabouts go: the patrol log's track and the
    check-ins' coordinates; the cells covered and the times stay (coverage figures)."""
    from incidents.models import PatrolLog

    cutoff = now - timedelta(days=track_retention_days())
    with transaction.atomic():
        purged = (
            PatrolLog.objects.filter(volunteer_claim__isnull=False, started_at__lt=cutoff)
            .exclude(track=[])
            .update(track=[])
        )
        CheckIn.objects.filter(at__lt=cutoff, lat__isnull=False).update(lat=None, lng=None)
    return purged


def volunteers_sweep(now=None) -> SweepResult:
    now = now or timezone.now()
    return SweepResult(
        no_shows=claims_mark_no_show(now),
        warned=tasks_warn_unfilled(now),
        reminded=claims_remind(now),
        shifts=shifts_generate_all(),
        purged=tracks_purge(now),
    )
