"""Fault behaviours that the normal suite can show (docs/reliability.md, "Faults"); the rest is
measured by `make chaos` (bench/chaos.py). The faults are real: a database that cannot be
reached, a broker and a cache on a port nobody listens on, an SMS gateway (a local HTTP server)
that answers 500 or answers slowly, and SIGTERM to a real worker process."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.test import Client

from core.models import SmsMessage
from core.services import sms_queue
from core.tasks import SMS_RETRY_BASE_SECONDS, SMS_RETRY_MAX_SECONDS, sms_retry_delay
from governance.celery import app, broker_breaker
from incidents import services
from incidents.models import Incident
from incidents.tasks import NOT_SENT
from incidents.tests.conftest import IN_A1_1
from incidents.tests.factories import build_city
from tests.conftest import wait_until


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _report(city, actor=None) -> Incident:
    return services.incident_report(
        actor=actor or city.resident,
        category=city.categories["0101"],
        description="楼道堆放杂物,堵塞消防通道",
        channel="resident_web",
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
    )


# --- the database down: 503, not a stack trace -------------------------------------------------


@contextlib.contextmanager
def database_unreachable() -> Iterator[None]:
    """The default database cannot be reached until the block ends (then it reconnects)."""
    saved = dict(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = "/nonexistent-gridgov-dir/down.sqlite3"
    else:
        connection.settings_dict["HOST"] = "127.0.0.1"
        connection.settings_dict["PORT"] = str(_closed_port())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)


@pytest.mark.django_db(transaction=True)
def test_database_down_answers_503_then_recovers_by_itself():
    city = build_city()
    client = Client(raise_request_exception=False)
    client.force_login(city.dispatcher)
    assert client.get("/api/v1/incidents").status_code == 200

    with database_unreachable():
        api = client.get("/api/v1/incidents")
        page = client.get("/incidents/")
        post = client.post(
            "/api/v1/incidents",
            data={"category": "0101", "description": "x", "lat": 1, "lng": 1},
            content_type="application/json",
        )

    assert api.status_code == 503 and post.status_code == 503
    assert api.json().keys() == {"detail"} and post.json().keys() == {"detail"}
    assert int(api["Retry-After"]) > 0
    assert page.status_code == 503 and int(page["Retry-After"]) > 0
    body = page.content.decode()
    assert "Traceback" not in body and "OperationalError" not in body
    assert "try again" in body
    # back: the next request reconnects by itself
    assert client.get("/api/v1/incidents").status_code == 200


# --- the broker down: the report is stored, the re-drive sends it later ------------------------


@contextlib.contextmanager
def broker_unreachable() -> Iterator[None]:
    """Tasks are really sent (not eager) to a Redis broker on a port nobody listens on."""
    previous = (app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options)
    previous_env = os.environ.get("CELERY_BROKER_URL")
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    os.environ["CELERY_BROKER_URL"] = url  # Celery reads it before the setting
    app.conf.broker_url = url
    app.conf.broker_transport_options = {}
    app.conf.task_always_eager = False
    app._pool = None
    app.amqp._producer_pool = None
    broker_breaker.reset()
    try:
        yield
    finally:
        if previous_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = previous_env
        app.conf.broker_url, app.conf.task_always_eager, app.conf.broker_transport_options = (
            previous
        )
        app._pool = None
        app.amqp._producer_pool = None
        broker_breaker.reset()


@pytest.mark.django_db(transaction=True)
def test_broker_down_the_report_is_stored_and_re_driven_once_it_is_back():
    city = build_city()
    with broker_unreachable():
        incident = _report(city)  # the on-commit send fails: logged, not raised
        other = _report(city)  # the breaker is open: not even tried
    incident.refresh_from_db()
    other.refresh_from_db()
    assert incident.state == other.state == "reported"
    assert incident.task_enqueued_at == NOT_SENT == other.task_enqueued_at

    # The broker is back (eager here): the re-drive (beat) sends both at once, no waiting for
    # the stuck window.
    from incidents.tasks import redrive

    assert redrive() == 2
    for row in (incident, other):
        row.refresh_from_db()
        assert row.state == "verifying"
        assert row.verifier_id == city.worker.pk


@pytest.mark.django_db(transaction=True)
def test_broker_down_the_report_api_answers_201():
    city = build_city()
    client = Client()
    client.force_login(city.resident)
    with broker_unreachable():
        response = client.post(
            "/api/v1/incidents",
            data={
                "category": "0101",
                "description": "路灯不亮",
                "lat": IN_A1_1[0],
                "lng": IN_A1_1[1],
            },
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert incident.task_enqueued_at == NOT_SENT
    assert incident.events.filter(action="report").count() == 1


def test_a_cache_outage_is_a_miss_not_an_error():
    from core.cache import ResilientRedisCache

    cache = ResilientRedisCache(
        f"redis://127.0.0.1:{_closed_port()}/1",
        {"OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1}},
    )
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is False
    assert cache.incr("k", 3) == 3  # a rate limit counts from the first hit
    cache.set("k", 1)
    assert cache.get_many(["k"]) == {}
    assert cache.delete("k") is False


# --- worker settings: SIGKILL re-queues, SIGTERM finishes --------------------------------------


def test_incident_tasks_are_re_queued_when_their_worker_dies():
    from incidents import tasks

    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_cancel_long_running_tasks_on_connection_loss is True
    for name in ("locate_and_assign", "route", "send_feedback", "apply_rating", "redrive"):
        assert getattr(tasks, name).acks_late is True


def test_outbound_sends_have_their_own_queue():
    router = app.amqp.router
    for name in ("core.tasks.sms_send", "integrations.tasks.webhook_deliver"):
        assert router.route({}, name)["queue"].name == "outbound"
    for name in ("incidents.tasks.locate_and_assign", "incidents.tasks.route"):
        assert router.route({}, name)["queue"].name == "celery"
    assert set(app.amqp.queues) >= {"celery", "outbound"}  # a plain worker consumes both


# --- the SMS gateway failing: backoff, and the loop goes on ------------------------------------


def test_sms_retry_backs_off_exponentially_capped_with_jitter():
    import random

    rng = random.Random(7)
    for retries in range(12):
        step = min(SMS_RETRY_MAX_SECONDS, SMS_RETRY_BASE_SECONDS * 2**retries)
        draws = [sms_retry_delay(retries, rng) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in draws)
        assert len(set(draws)) > 10  # jittered, not one value
    assert max(sms_retry_delay(30, rng) for _ in range(50)) <= SMS_RETRY_MAX_SECONDS


def test_webhook_retry_is_jittered_and_capped(settings):
    from integrations.services import retry_delay_jittered, retry_delay_seconds

    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    for attempts in (1, 2, 5, 20):
        step = retry_delay_seconds(attempts)
        draws = {retry_delay_jittered(attempts) for _ in range(40)}
        assert all(step / 2 <= d <= step for d in draws) and len(draws) > 5
    assert retry_delay_seconds(20) == 3600


class _Gateway(http.server.BaseHTTPRequestHandler):
    status = 500
    delay = 0.0
    requests: list[float] = []

    def do_POST(self):
        type(self).requests.append(time.monotonic())
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(type(self).delay)
        self.send_response(type(self).status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"ok": type(self).status < 300}).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def sms_gateway(monkeypatch, settings) -> Iterator[type[_Gateway]]:
    """A local SMS gateway (the outside world), used by this process and by a worker started
    after it (through the environment)."""
    handler = type("Gateway", (_Gateway,), {"requests": [], "status": 500, "delay": 0.0})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    for key, value in (
        ("SMS_BACKEND", "core.sms.HttpGatewayBackend"),
        ("SMS_GATEWAY_URL", url),
        ("SMS_GATEWAY_TOKEN", "test-token"),
    ):
        monkeypatch.setenv(key, value)
        setattr(settings, key, value)
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.worker
def test_a_failing_sms_gateway_backs_off_and_never_holds_up_the_loop(
    sms_gateway, celery_worker_process
):
    city = build_city()
    sms_gateway.status = 500
    with transaction.atomic():
        message = sms_queue(phone="13800009999", text="您的事件已受理")
    wait_until(lambda: sms_gateway.requests, timeout=60, message="the gateway got no request")
    incident = _report(city)

    def located():
        row = Incident.objects.get(pk=incident.pk)
        return row if row.state == "verifying" else None

    wait_until(located, timeout=60, message=celery_worker_process.output())
    message.refresh_from_db()
    # The loop went on while the SMS waits for its retry (30 s away, with jitter).
    assert message.status == SmsMessage.Status.PENDING
    assert message.attempts >= 1 and "500" in message.last_error
    assert len(sms_gateway.requests) == 1
    log = celery_worker_process.output()
    assert "core.tasks.sms_send" in log and "retry" in log.lower()


@pytest.mark.worker
def test_sigterm_lets_the_task_in_hand_finish(sms_gateway, celery_worker_process):
    build_city()
    sms_gateway.status = 200
    sms_gateway.delay = 3.0  # a slow gateway: the task is still in hand when SIGTERM comes
    with transaction.atomic():
        message = sms_queue(phone="13800009998", text="处理结果已反馈")
    wait_until(lambda: sms_gateway.requests, timeout=60, message=celery_worker_process.output())
    os.kill(celery_worker_process.process.pid, signal.SIGTERM)  # a deploy stops the worker
    celery_worker_process.process.wait(timeout=60)

    message.refresh_from_db()
    assert message.status == SmsMessage.Status.SENT, celery_worker_process.output()
    assert message.attempts == 1 and len(sms_gateway.requests) == 1
    assert celery_worker_process.process.returncode == 0
    assert "succeeded" in celery_worker_process.output()
