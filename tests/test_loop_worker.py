"""The incident loop end to end with a REAL Celery worker process: every system step (locate
and choose the verifier, route, feedback, apply the rating) runs in the worker, through the
broker, after the services in this process commit."""

from __future__ import annotations

import pytest

from core.models import Notification
from incidents import services
from incidents.models import Incident
from incidents.tests.conftest import IN_A1_1, jpeg_upload
from incidents.tests.factories import build_city
from tests.conftest import wait_until

pytestmark = [pytest.mark.worker]


def _queue() -> list[str]:
    import os

    from django.conf import settings

    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", "")
    return sorted(os.listdir(folder)) if folder and os.path.isdir(folder) else []


def _wait_state(incident: Incident, state: str, worker, **expected) -> Incident:
    def reached():
        current = Incident.objects.get(pk=incident.pk)
        if current.state != state:
            return None
        if any(getattr(current, key) != value for key, value in expected.items()):
            return None
        return current

    return wait_until(
        reached,
        timeout=60,
        message=(
            f"incident {incident.tracking_number} never reached {state} {expected}; it is "
            f"{Incident.objects.get(pk=incident.pk).state}.\nQueue: {_queue()}\n"
            f"Worker log:\n{worker.output()}"
        ),
    )


def _report(city) -> Incident:
    return services.incident_report(
        actor=city.resident,
        category=city.categories["0101"],  # 私搭乱建: department 城管执法
        description="小区楼顶搭建彩钢棚",
        channel="resident_web",
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
        photos=[jpeg_upload()],
    )


def _to_feedback(city, incident: Incident, worker) -> Incident:
    """report → located, verifier chosen (worker) → verify → routed (worker) → accept →
    resolve → check → feedback sent (worker)."""
    incident = _wait_state(incident, "verifying", worker, verifier_id=city.worker.pk)
    assert incident.grid_cell_id == city.cell_a1_1.pk and incident.verify_due_at is not None

    services.incident_verify(incident_id=incident.pk, actor=city.worker, note="现场属实")
    incident = _wait_state(incident, "dispatched", worker, assignee_id=city.handler.pk)
    assert incident.handling_department == "城管执法" and incident.resolve_due_at is not None

    services.incident_accept(incident_id=incident.pk, actor=city.handler)
    services.incident_resolve(
        incident_id=incident.pk, actor=city.handler, result="已拆除", photos=[jpeg_upload()]
    )
    incident = Incident.objects.get(pk=incident.pk)
    assert incident.state == "resolved" and incident.checker_id == city.worker.pk
    services.incident_check(incident_id=incident.pk, actor=city.worker)
    incident = _wait_state(incident, "feedback_sent", worker)
    assert Notification.objects.filter(
        user=city.resident, dedupe_key=f"incident:{incident.pk}:feedback:{incident.reopen_count}"
    ).exists()
    return incident


def test_the_loop_closes_with_a_good_rating(celery_worker_process):
    city = build_city()
    incident = _to_feedback(city, _report(city), celery_worker_process)

    services.incident_rate(actor=city.resident, incident_id=incident.pk, rating=5)
    incident = _wait_state(incident, "closed", celery_worker_process)
    assert incident.rating == 5
    actions = list(incident.events.values_list("action", flat=True))
    assert actions == [
        "report",
        "start_verification",
        "verify",
        "dispatch",
        "accept",
        "resolve",
        "check",
        "send_feedback",
        "rate",
        "close",
    ]
    system = incident.events.filter(actor__isnull=True).values_list("action", flat=True)
    assert sorted(system) == ["close", "dispatch", "send_feedback", "start_verification"]
    log = celery_worker_process.output()
    for task in ("locate_and_assign", "route", "send_feedback", "apply_rating"):
        assert f"incidents.tasks.{task}" in log


def test_a_low_rating_reopens_and_the_worker_dispatches_it_again(celery_worker_process):
    city = build_city()
    incident = _to_feedback(city, _report(city), celery_worker_process)

    services.incident_rate(actor=city.resident, incident_id=incident.pk, rating=1, comment="没拆")
    incident = _wait_state(
        incident, "dispatched", celery_worker_process, reopen_count=1, assignee_id=city.handler.pk
    )
    actions = list(incident.events.values_list("action", flat=True))
    assert actions[-3:] == ["rate", "reopen", "dispatch"]
    assert incident.resolve_due_at > incident.feedback_at

    from incidents.tasks import sweep_deadlines

    sweep_deadlines.delay()

    def swept() -> bool:
        log = celery_worker_process.output()
        name = "incidents.tasks.sweep_deadlines"
        return name in log and "succeeded" in log.split(name)[-1]

    wait_until(
        swept,
        timeout=60,
        message=f"the sweep never ran in the worker:\n{celery_worker_process.output()}",
    )
