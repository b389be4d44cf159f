"""The celery_worker_process fixture runs a real worker on this test's database and broker."""

import pytest

from core.models import WorkerHeartbeat
from tests.conftest import wait_until


@pytest.mark.worker
def test_worker_process_runs_a_task_sent_with_delay(celery_worker_process):
    from core.tasks import heartbeat
    from governance.celery import app

    assert app.conf.task_always_eager is False
    assert not WorkerHeartbeat.objects.exists()

    heartbeat.delay()

    beat = wait_until(
        lambda: WorkerHeartbeat.objects.first(),
        timeout=30,
        message=f"the worker never wrote a heartbeat:\n{celery_worker_process.output()}",
    )
    assert beat.seen_at is not None
    assert "core.tasks.heartbeat" in celery_worker_process.output()
    assert celery_worker_process.alive
