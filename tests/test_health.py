"""/healthz: 200 only when the database, the broker and a recently seen worker are all fine."""

import json
import os
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from core.models import WorkerHeartbeat
from tests.conftest import database_url_for_subprocess

BASE_DIR = Path(settings.BASE_DIR)


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz_in_subprocess(env_overrides: dict[str, str]) -> tuple[int, dict]:
    """GET /healthz in a fresh process configured by the environment, like a new server."""
    code = (
        "import json, django\n"
        "django.setup()\n"
        "from django.test import Client\n"
        "response = Client().get('/healthz')\n"
        "print(json.dumps({'status': response.status_code, 'body': response.json()}))\n"
    )
    env = {**os.environ, "GRIDGOV_VAR_DIR": str(settings.VAR_DIR), **env_overrides}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    return report["status"], report["body"]


@pytest.mark.django_db
class TestHealthz:
    def test_503_without_a_heartbeat(self, client):
        response = client.get("/healthz")
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "down"
        assert body["checks"]["database"] == {"ok": True}
        assert body["checks"]["broker"]["ok"] is True
        assert body["checks"]["worker"] == {"ok": False, "error": "no heartbeat yet"}

    def test_200_after_the_heartbeat_task_ran(self, client):
        from core.tasks import heartbeat

        heartbeat.delay()  # eager here; the worker test below runs it for real
        response = client.get("/healthz")
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["status"] == "ok"
        assert body["checks"]["worker"]["ok"] is True
        assert body["checks"]["worker"]["age_seconds"] < 5

    def test_503_when_the_last_heartbeat_is_too_old(self, client):
        WorkerHeartbeat.objects.create(hostname="old-worker", seen_at=timezone.now())
        later = timezone.now() + timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE + 5)
        with time_machine.travel(later, tick=False):
            response = client.get("/healthz")
        assert response.status_code == 503
        assert response.json()["checks"]["worker"]["ok"] is False

    def test_needs_no_login_and_is_never_cached(self, client):
        response = client.get("/healthz")
        assert response["Content-Type"] == "application/json"
        assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
class TestHealthzInAFreshProcess:
    """The same server code, started against a broker or a database that is not there."""

    @pytest.fixture(autouse=True)
    def fresh_heartbeat(self):
        WorkerHeartbeat.objects.create(hostname="worker-1", seen_at=timezone.now())

    def base_env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        }

    def test_200_with_the_real_database_and_broker(self):
        status, body = healthz_in_subprocess(self.base_env())
        assert status == 200, body

    def test_503_when_the_broker_is_unreachable(self):
        env = {**self.base_env(), "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed_port()}/0"}
        status, body = healthz_in_subprocess(env)
        assert status == 503
        assert body["checks"]["broker"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["worker"]["ok"] is True

    def test_503_when_the_database_is_unreachable(self):
        env = {
            **self.base_env(),
            "DATABASE_URL": f"postgres://gridgov:secret@127.0.0.1:{closed_port()}/gridgov",
        }
        status, body = healthz_in_subprocess(env)
        assert status == 503
        assert body["checks"]["database"]["ok"] is False
        assert body["checks"]["worker"]["ok"] is False
        assert "secret" not in json.dumps(body)  # no connection details leak


@pytest.mark.worker
def test_200_once_a_real_worker_ran_the_heartbeat(celery_worker_process, client):
    from core.tasks import heartbeat
    from tests.conftest import wait_until

    assert client.get("/healthz").status_code == 503
    heartbeat.delay()
    wait_until(
        lambda: client.get("/healthz").status_code == 200,
        timeout=30,
        message=f"/healthz never became healthy:\n{celery_worker_process.output()}",
    )
