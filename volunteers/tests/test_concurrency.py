"""500 claims race for 50 places: exactly 50 winners, no place over-filled. Runs on SQLite here
(one write transaction at a time) and on PostgreSQL in CI (row locks; the conditional UPDATE is
re-checked after a concurrent one commits)."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.utils import timezone

from accounts.models import Role, User
from core.exceptions import ConflictError
from volunteers import services
from volunteers.models import Claim, ClaimState, Volunteer, VolunteerState
from volunteers.tests import factories as f

CLAIMS = 500
PLACES = 50
THREADS = 16


@pytest.mark.django_db(transaction=True)
def test_500_claims_race_for_50_places(region_tree):
    organiser = f.organiser("race_org", region_tree["street_a"])
    Role.objects.get_or_create(code="volunteer")
    users = User.objects.bulk_create(
        [
            User(
                username=f"racer{i}",
                phone_verified_at=timezone.now(),
                home_region=region_tree["a1"],
            )
            for i in range(CLAIMS)
        ]
    )
    users = list(User.objects.filter(username__startswith="racer").order_by("pk"))
    Volunteer.objects.bulk_create(
        [
            Volunteer(
                user=user,
                community=region_tree["a1"],
                region_code=region_tree["a1"].code,
                real_name=user.username,
                state=VolunteerState.APPROVED,
                number=f"ZYRACE{user.pk}",
            )
            for user in users
        ]
    )
    task = f.task(organiser, region_tree["a1"], [region_tree["cell_a1_1"]], places=PLACES)
    barrier = threading.Barrier(THREADS)
    lock = threading.Lock()
    outcomes = {"won": 0, "full": 0, "other": []}

    def claim(user_id: int) -> None:
        try:
            user = User.objects.get(pk=user_id)
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            try:
                services.task_claim(actor=user, task_id=task.pk)
                with lock:
                    outcomes["won"] += 1
            except ConflictError:
                with lock:
                    outcomes["full"] += 1
            except BaseException as exc:
                with lock:
                    outcomes["other"].append(repr(exc))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        list(pool.map(claim, [u.pk for u in users]))

    assert outcomes["other"] == []
    assert outcomes["won"] == PLACES
    assert outcomes["full"] == CLAIMS - PLACES
    task.refresh_from_db()
    assert task.taken == PLACES
    assert Claim.objects.filter(task=task, state=ClaimState.CLAIMED).count() == PLACES
    # a withdrawn place goes to the next claimant, never beyond the places
    loser = next(u for u in users if not Claim.objects.filter(volunteer__user=u).exists())
    winner_claim = Claim.objects.filter(task=task).first()
    services.claim_withdraw(actor=winner_claim.volunteer.user, claim_id=winner_claim.pk)
    services.task_claim(actor=loser, task_id=task.pk)
    task.refresh_from_db()
    assert task.taken == PLACES
