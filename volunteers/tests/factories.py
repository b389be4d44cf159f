"""Test data for volunteers: residents who volunteer, organisers, tasks in the small city of
tests.builders (cell A1-1 spans lat 24.500-24.510, lng 117.600-117.610)."""

from __future__ import annotations

from datetime import timedelta
from itertools import count

from django.utils import timezone

from tests.builders import make_user
from volunteers import services
from volunteers.models import PatrolTask, Volunteer

IN_A1_1 = (24.505, 117.605)
OUT_OF_A1_1 = (24.505, 117.645)  # in cell B1-1
_numbers = count(1)


def resident(username: str, community, **extra):
    return make_user(
        username,
        roles=["resident"],
        phone=f"139{next(_numbers):08d}",
        phone_verified_at=timezone.now(),
        home_region=community,
        **extra,
    )


def organiser(username: str, region):
    return make_user(
        username, roles=["dispatcher"], region=region, phone=f"137{next(_numbers):08d}"
    )


def approved_volunteer(username: str, community, approver) -> Volunteer:
    user = resident(username, community)
    volunteer = services.volunteer_apply(
        actor=user, community_id=community.pk, real_name=f"志愿者{username}", skills="巡逻"
    )
    return services.volunteer_approve(actor=approver, volunteer_id=volunteer.pk)


def task(organiser_user, region, cells, *, places=3, starts_in=timedelta(hours=3), hours=2, **kw):
    start = timezone.now() + starts_in
    return services.task_post(
        actor=organiser_user,
        title=kw.pop("title", "夜间巡防"),
        level=kw.pop("level", "community"),
        region_id=region.pk,
        cell_ids=[c.pk for c in cells],
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
        places=places,
        **kw,
    )


def shift_time(task_obj: PatrolTask, minutes: int = 10):
    """A moment `minutes` after the task starts (for time travel)."""
    return task_obj.starts_at + timedelta(minutes=minutes)
