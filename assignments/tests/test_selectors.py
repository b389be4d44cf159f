"""Scoped reads: 我的任务, the office's tasks, who sees an assignment, the masked addressee, the
campaign board."""

from datetime import timedelta

import pytest
from django.utils import timezone

from assignments import selectors, services
from assignments.tests.builders import SERVICE, issue, issue_service
from audit.models import AuditEvent
from core.exceptions import NotFoundError

pytestmark = pytest.mark.django_db


def test_my_tasks_lists_own_and_my_cells_unaccepted_ones(world):
    mine = issue(world, cells=[world.cell_a1]).assignments.get()
    named = issue(world, cells=[], workers=[world.worker_a1]).assignments.get()
    other = issue(world, cells=[world.cell_a2]).assignments.get()
    assert set(selectors.assignments_mine(world.worker_a1)) == {mine, named}
    assert set(selectors.assignments_mine(world.worker_a2)) == {other}
    services.assignment_accept(assignment_id=mine.pk, actor=world.worker_a1)
    assert selectors.my_open_count(world.worker_a1) == 2
    assert list(selectors.assignments_mine(world.resident)) == []


def test_the_office_sees_its_tasks_and_nobody_elses(world):
    task_a = issue(world)
    task_court = issue(world, issuer=world.court, cells=[world.cell_b])
    assert set(selectors.tasks_for_office(world.dispatcher_a)) == {task_a}
    assert set(selectors.tasks_for_office(world.court)) == {task_court}  # its own office only
    assert set(selectors.tasks_for_office(world.supervisor_district)) == {task_a, task_court}
    assert list(selectors.tasks_for_office(world.dispatcher_b)) == []
    assert list(selectors.tasks_for_office(world.worker_a1)) == []
    with pytest.raises(NotFoundError):
        selectors.task_get_for_user(user=world.dispatcher_b, task_id=task_a.pk)


def test_who_may_open_an_assignment(world):
    court_task = issue(world, issuer=world.court, cells=[world.cell_b]).assignments.get()
    # street B's dispatcher sees it (their area), street A's does not
    assert selectors.assignment_get_for_user(user=world.dispatcher_b, assignment_id=court_task.pk)
    for user in (world.dispatcher_a, world.worker_a1, world.resident, world.supervisor_a):
        with pytest.raises(NotFoundError):
            selectors.assignment_get_for_user(user=user, assignment_id=court_task.pk)
    assert set(selectors.assignments_visible(world.worker_b)) == {court_task}


def test_the_addressee_is_masked_unless_the_viewer_may_see_it_and_unmasking_is_audited(world):
    assignment = issue_service(world).assignments.get()
    masked = selectors.addressee_for_viewer(assignment, world.supervisor_a)
    assert masked.masked and masked.name == "林**" and SERVICE.addressee_phone not in masked.phone
    assert "3栋201" not in masked.address
    full = selectors.addressee_for_viewer(assignment, world.worker_a1)
    assert not full.masked and full.phone == SERVICE.addressee_phone
    assert AuditEvent.objects.filter(kind="unmasked", actor=world.worker_a1).exists()
    assert not selectors.addressee_for_viewer(assignment, world.court).masked


def test_campaign_progress_per_cell_and_worker(world):
    campaign = services.campaign_create(
        actor=world.dispatcher_a,
        title="燃气安全专项排查",
        region_id=world.tree["street_a"].pk,
        deadline=timezone.now() + timedelta(days=3),
    )
    task = issue(
        world, cells=[world.cell_a1, world.cell_a2], campaign_id=campaign.pk, deadline=None
    )
    done = task.assignments.get(cell=world.cell_a1)
    services.assignment_accept(assignment_id=done.pk, actor=world.worker_a1)
    services.assignment_complete(
        assignment_id=done.pk, actor=world.worker_a1, evidence=services.Evidence(note="ok")
    )
    late = task.assignments.get(cell=world.cell_a2)
    services.assignments_sweep(now=timezone.now() + timedelta(days=4))
    late.refresh_from_db()
    progress = selectors.campaign_progress(campaign)
    assert (progress["total"].total, progress["total"].done, progress["total"].overdue) == (2, 1, 1)
    by_cell = {row.label: (row.done, row.overdue) for row in progress["by_cell"]}
    assert by_cell == {world.cell_a1.name: (1, 0), world.cell_a2.name: (0, 1)}
    by_worker = {row.label: row.done for row in progress["by_worker"]}
    assert by_worker[str(world.worker_a1)] == 1 and by_worker["—"] == 0
    assert list(selectors.campaigns_for_user(world.dispatcher_b)) == []
    assert list(selectors.campaigns_for_user(world.supervisor_district)) == [campaign]
