"""The visit sweep with time travel: a reminder before the due date, escalation when overdue
(community's designated staff), a second level a week later (street), each once."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from core.models import Notification
from registry.models import KeyPersonEvent
from registry.services import visit_log
from registry.sweep import visits_sweep
from tests.builders import make_user

pytestmark = pytest.mark.django_db


def _recipients():
    return set(Notification.objects.values_list("user_id", flat=True))


def test_sweep_reminds_then_escalates_once_each(world):
    kp = world.kp
    street_supervisor = make_user("rsup_street", roles=["supervisor"], region=world.street_a)
    due = kp.next_visit_due  # 30 days from today (risk 1)
    today = timezone.localdate()
    assert visits_sweep(today=today) == {"reminded": 0, "escalated": 0}
    with time_machine.travel(timezone.now() + timedelta(days=26), tick=False):
        assert visits_sweep(today=due - timedelta(days=4))["reminded"] == 1
        assert visits_sweep(today=due - timedelta(days=4))["reminded"] == 0
    assert _recipients() == {world.worker.pk}
    Notification.objects.all().delete()
    assert visits_sweep(today=due + timedelta(days=1)) == {"reminded": 0, "escalated": 1}
    assert visits_sweep(today=due + timedelta(days=2)) == {"reminded": 0, "escalated": 0}
    assert _recipients() == {world.worker.pk, world.staff.pk}
    Notification.objects.all().delete()
    assert visits_sweep(today=due + timedelta(days=8))["escalated"] == 1
    assert street_supervisor.pk in _recipients()
    assert world.street.pk in _recipients()  # the street's dispatcher
    kinds = list(KeyPersonEvent.objects.filter(key_person=kp).values_list("kind", flat=True))
    assert kinds.count("escalated") == 2 and kinds.count("reminded") == 1


def test_visit_resets_the_sweep(world):
    kp = world.kp
    due = kp.next_visit_due
    visits_sweep(today=due + timedelta(days=1))
    later = timezone.now() + timedelta(days=31)
    with time_machine.travel(later, tick=False):
        visit_log(actor=world.worker, key_person=kp, observations="稳定", risk_after=1)
        kp.refresh_from_db()
        assert kp.escalation_level == 0 and kp.escalated_for is None
        assert kp.next_visit_due == timezone.localdate() + timedelta(days=30)
        assert visits_sweep(today=timezone.localdate())["escalated"] == 0


def test_sweep_task_runs(world):
    from registry.tasks import sweep_visits

    assert sweep_visits() == {"reminded": 0, "escalated": 0}


def test_closed_key_person_is_not_swept(world):
    from registry.services import key_person_close

    key_person_close(actor=world.worker, key_person=world.kp, reason="搬离")
    assert visits_sweep(today=world.kp.next_visit_due + timedelta(days=10))["escalated"] == 0
