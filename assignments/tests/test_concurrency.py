"""Several workers of one cell accept the same assignment at once: exactly one gets it (the row
lock and the state check), the others are refused, one accept on the timeline."""

import threading

import pytest
from django.db import connection

from assignments import services
from assignments.models import AssignmentEvent
from assignments.tests.builders import issue
from core.exceptions import ConflictError, PermissionDeniedError
from tests.builders import make_grid_worker


def _race(world, racers: int):
    workers = [make_grid_worker(f"racer{n}", cells=[world.cell_a1]) for n in range(racers)]
    assignment = issue(world).assignments.get()
    barrier = threading.Barrier(racers)
    winners, losers = [], []

    def accept(worker):
        try:
            barrier.wait(timeout=30)
            services.assignment_accept(assignment_id=assignment.pk, actor=worker)
            winners.append(worker)
        except (ConflictError, PermissionDeniedError) as exc:
            losers.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assignment.refresh_from_db()
    assert len(winners) == 1, (winners, losers)
    assert len(losers) == racers - 1
    assert assignment.worker == winners[0] and assignment.state == "accepted"
    assert AssignmentEvent.objects.filter(assignment=assignment, action="accept").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_on_sqlite_have_exactly_one_winner(world):
    _race(world, 5)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_accepts_on_postgres_have_exactly_one_winner(world):
    _race(world, 10)
