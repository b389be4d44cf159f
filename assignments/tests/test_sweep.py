"""The deadline sweep with time travel: warn, overdue, escalate level by level (like the loop),
idempotent; the Celery task runs it."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from assignments import services, tasks
from assignments.models import AssignmentState
from assignments.tests.builders import issue
from core.models import Notification

pytestmark = pytest.mark.django_db
S = AssignmentState
TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 12, day, hour, tzinfo=TZ)


def inbox(user) -> list[str]:
    return list(
        Notification.objects.filter(user=user).order_by("id").values_list("title", flat=True)
    )


def test_warn_then_overdue_then_escalate_street_district_city(world):
    city_supervisor = world.supervisor_district.__class__.objects.create_user(
        "supervisor_city", scope_region=world.tree["city"]
    )
    from accounts.models import Role

    city_supervisor.roles.add(Role.objects.get_or_create(code="supervisor")[0])
    with time_machine.travel(at(1, 9), tick=False):
        task = issue(world, deadline=at(3, 18))  # visit_check: warn 24 h, escalate every 24 h
        assignment = task.assignments.get()
        services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)
        assert services.assignments_sweep() == {"warned": 0, "overdue": 0, "escalated": 0}
    with time_machine.travel(at(2, 19), tick=False):
        assert services.assignments_sweep()["warned"] == 1
        assert services.assignments_sweep()["warned"] == 0  # once per deadline
    assert any("12-03" in title or "2026-12-03" in title for title in inbox(world.worker_a1))
    with time_machine.travel(at(3, 19), tick=False):
        assert services.assignments_sweep() == {"warned": 0, "overdue": 1, "escalated": 0}
        assert services.assignments_sweep()["overdue"] == 0
    assignment.refresh_from_db()
    assert assignment.state == S.OVERDUE and assignment.ever_overdue
    assert any("逾期" in t or "overdue" in t.lower() for t in inbox(world.dispatcher_a))
    assert inbox(world.supervisor_a) == []
    with time_machine.travel(at(4, 18), tick=False):  # 23 h overdue: not yet
        assert services.assignments_sweep()["escalated"] == 0
    with time_machine.travel(at(4, 20), tick=False):
        assert services.assignments_sweep()["escalated"] == 1
        assert services.assignments_sweep()["escalated"] == 0
    assert len(inbox(world.supervisor_a)) == 1 and inbox(world.supervisor_district) == []
    with time_machine.travel(at(5, 20), tick=False):
        assert services.assignments_sweep()["escalated"] == 1
    assert len(inbox(world.supervisor_district)) == 1
    with time_machine.travel(at(6, 20), tick=False):
        assert services.assignments_sweep()["escalated"] == 1
    assert len(inbox(city_supervisor)) == 1
    with time_machine.travel(at(9, 20), tick=False):
        assert services.assignments_sweep()["escalated"] == 0  # three levels at most
    assignment.refresh_from_db()
    assert assignment.escalation_level == 3
    actions = list(assignment.events.values_list("action", flat=True))
    assert actions == ["issue", "accept", "warn", "overdue", "escalate", "escalate", "escalate"]


def test_an_overdue_task_can_still_be_done_late_and_the_sweep_leaves_it(world):
    with time_machine.travel(at(1, 9), tick=False):
        assignment = issue(world, deadline=at(1, 12)).assignments.get()
    with time_machine.travel(at(1, 13), tick=False):
        tasks.sweep_deadlines()
        services.assignment_accept(assignment_id=assignment.pk, actor=world.worker_a1)
        assignment.refresh_from_db()
        assert assignment.state == S.OVERDUE and assignment.worker == world.worker_a1
        services.assignment_complete(
            assignment_id=assignment.pk,
            actor=world.worker_a1,
            evidence=services.Evidence(note="补做"),
        )
    with time_machine.travel(at(5, 13), tick=False):
        assert tasks.sweep_deadlines() == {"warned": 0, "overdue": 0, "escalated": 0}
    assignment.refresh_from_db()
    assert assignment.state == S.DONE and assignment.ever_overdue


def test_done_and_cancelled_assignments_are_never_flagged(world):
    with time_machine.travel(at(1, 9), tick=False):
        task = issue(world, cells=[world.cell_a1, world.cell_a2], deadline=at(1, 12))
        services.task_cancel(task_id=task.pk, actor=world.dispatcher_a, reason="撤回")
    with time_machine.travel(at(3, 9), tick=False):
        assert services.assignments_sweep() == {"warned": 0, "overdue": 0, "escalated": 0}
