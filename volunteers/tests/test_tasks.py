"""The sweep, with time travel: no-shows free the place and count against reliability, the poster
hears of unfilled places, volunteers are reminded before their slot, duty shifts open for the
week, and GPS tracks go after the retention period. Running it twice changes nothing more."""

from datetime import time, timedelta

import pytest
import time_machine
from django.utils import timezone

from core.models import Notification
from volunteers import services
from volunteers.models import CheckIn, ClaimState, PatrolTask
from volunteers.services.sweep import volunteers_sweep
from volunteers.tasks import sweep
from volunteers.tests import factories as f

pytestmark = pytest.mark.django_db


def test_unfilled_warning_and_reminder_once(world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]], places=3)
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    with time_machine.travel(task.starts_at - timedelta(hours=1), tick=False):
        result = volunteers_sweep()
        assert (result.warned, result.reminded) == (1, 1)
        again = volunteers_sweep()
        assert (again.warned, again.reminded) == (0, 0)
    assert Notification.objects.filter(user=world["organiser"], title__contains="2").count() == 1
    assert (
        Notification.objects.filter(user=world["volunteer"].user)
        .filter(url=f"/volunteers/claims/{claim.pk}/")
        .count()
        == 1
    )


def test_no_show_frees_the_place_and_counts(world):
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]], places=1)
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    with time_machine.travel(task.starts_at + timedelta(minutes=31), tick=False):
        assert sweep()["no_shows"] == 1
        assert volunteers_sweep().no_shows == 0
        claim.refresh_from_db()
        task.refresh_from_db()
        assert claim.state == ClaimState.NO_SHOW and task.taken == 0
        latecomer = f.approved_volunteer("late", world["a1"], world["organiser"])
        services.task_claim(actor=latecomer.user, task_id=task.pk)
    volunteer = world["volunteer"]
    volunteer.refresh_from_db()
    assert volunteer.no_show_count == 1 and volunteer.reliability == 0


def test_duty_post_shifts_are_generated(world):
    post = services.post_save(
        actor=world["organiser"],
        name="西桥守望岗",
        kind="watch",
        region_id=world["a1"].pk,
        lat=24.505,
        lng=117.605,
        shift_start=time(19, 0),
        shift_end=time(21, 0),
        places=2,
    )
    first = volunteers_sweep().shifts
    assert first >= 6
    assert volunteers_sweep().shifts == 0
    shift = PatrolTask.objects.filter(post=post).order_by("starts_at").first()
    claim = services.task_claim(actor=world["volunteer"].user, task_id=shift.pk)
    with time_machine.travel(shift.starts_at + timedelta(minutes=1), tick=False):
        with pytest.raises(Exception):
            services.claim_check_in(
                actor=world["volunteer"].user, claim_id=claim.pk, lat=24.52, lng=117.605
            )
        services.claim_check_in(
            actor=world["volunteer"].user, claim_id=claim.pk, lat=24.5051, lng=117.6051
        )


def test_tracks_are_purged_after_retention(world, settings):
    settings.VOLUNTEER_TRACK_RETENTION_DAYS = 90
    task = f.task(world["organiser"], world["a1"], [world["cell_a1_1"]])
    claim = services.task_claim(actor=world["volunteer"].user, task_id=task.pk)
    with time_machine.travel(f.shift_time(task), tick=False):
        services.claim_check_in(
            actor=world["volunteer"].user, claim_id=claim.pk, lat=f.IN_A1_1[0], lng=f.IN_A1_1[1]
        )
    with time_machine.travel(task.starts_at + timedelta(days=89), tick=False):
        assert volunteers_sweep().purged == 0
    with time_machine.travel(task.starts_at + timedelta(days=91), tick=False):
        assert volunteers_sweep().purged == 1
    claim.refresh_from_db()
    assert claim.patrol.track == []
    assert claim.patrol.cells.count() == 1  # the cells covered stay, for coverage
    row = CheckIn.objects.get()
    assert row.lat is None and row.cell_id == world["cell_a1_1"].pk


def test_coverage_counts_everyone_patrolling(world):
    from incidents.models import PatrolLog
    from volunteers import kpis

    patrol = PatrolLog.objects.create(
        worker=world["organiser"], region_code=world["a1"].code, started_at=timezone.now()
    )
    patrol.cells.add(world["cell_a1_2"])
    figures = kpis.figures(world["street_a"].prefix, region=world["street_a"])
    assert (figures.cells, figures.covered_24h, figures.covered_7d) == (3, 1, 1)
    rows = kpis.drill_down(world["street_a"])
    assert [r.covered_24h for r in rows] == [1, 0]
