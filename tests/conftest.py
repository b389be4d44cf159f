"""Fixtures for cross-app tests: a real Celery worker process and a headless Chromium page.

- ``celery_worker_process``: a real ``celery -A governance worker`` subprocess on the broker and
  the test database this test process uses (the SQLite test database is a file for that; see
  governance/settings.py). Eager mode is off while it runs. Mark such tests ``@pytest.mark.worker``.
- ``browser_page``: a Playwright sync ``Page`` in Debian's headless Chromium (/usr/bin/chromium),
  with ``base_url`` set to pytest-django's ``live_server``. Mark such tests
  ``@pytest.mark.browser``; put them in tests/browser/.
- ``login(page, live_server_url, username, password)``: signs in through the login form
  (``from tests.conftest import login``).
- ``wait_until(predicate, timeout=..., message=...)``: bounded polling for asynchronous effects.

Both fixtures fail (never skip) when what they need is missing. Like every transactional test,
they start with the rows data migrations created (roles, categories ...) even after an earlier
transactional test flushed the database (root conftest.py, tests/migration_data.py).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
WORKER_READY_TIMEOUT = float(os.environ.get("TEST_WORKER_READY_TIMEOUT", "90"))
BROWSER_TIMEOUT_MS = 20_000


def wait_until(
    predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.2, message: str = ""
) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout:.0f} s")
        time.sleep(interval)


# --- Celery worker -----------------------------------------------------------------------------


def database_url_for_subprocess() -> str:
    """A DATABASE_URL naming the database this test process uses right now (the test DB)."""
    from django.db import connection

    params = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(params["NAME"])
        if connection.is_in_memory_db():
            pytest.fail(
                "The SQLite test database is in memory; a worker process cannot share it. "
                "governance/settings.py puts it in a file under pytest: is TEST_SQLITE_NAME "
                "set to ':memory:'?"
            )
        return f"sqlite:///{name}"
    if connection.vendor == "postgresql":
        user = quote(params.get("USER") or "", safe="")
        password = quote(params.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = params.get("HOST") or "localhost"
        port = f":{params['PORT']}" if params.get("PORT") else ""
        return f"postgres://{auth}{host}{port}/{quote(str(params['NAME']), safe='')}"
    pytest.fail(f"celery_worker_process does not know the {connection.vendor} database")
    raise AssertionError  # unreachable: pytest.fail raises


def _stop_process_group(process: subprocess.Popen, *, grace: float = 15.0) -> None:
    if process.poll() is not None:
        return
    try:
        os.kill(process.pid, signal.SIGTERM)  # warm shutdown of the worker we started
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class WorkerProcess:
    """What the fixture yields: the process, its log, and a way to read the log."""

    def __init__(self, process: subprocess.Popen, log_path: Path) -> None:
        self.process = process
        self.log_path = log_path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path) -> Iterator[WorkerProcess]:
    """A real Celery worker subprocess sharing this test's database and broker.

    Tasks sent with ``.delay()`` (or on commit) while it runs go through the broker to the
    worker; the test waits for their effects with ``wait_until``. The worker is stopped
    (SIGTERM, then SIGKILL) before the test database is flushed.
    """
    from governance.celery import app

    env = os.environ.copy()
    env.update(
        {
            "DATABASE_URL": database_url_for_subprocess(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "GRIDGOV_VAR_DIR": str(settings.VAR_DIR),
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                "DJANGO_SETTINGS_MODULE", "governance.settings"
            ),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "SMS_FILE_PATH": str(settings.SMS_FILE_PATH),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("PYTEST_XDIST_WORKER", None)
    if getattr(settings, "REDIS_URL", ""):
        env["REDIS_URL"] = settings.REDIS_URL

    # Messages a previous run left on a shared broker would run against this test database.
    try:
        app.control.purge()
    except Exception as exc:  # an unreachable broker fails below, with the worker's own words
        print(f"celery purge before the worker started failed: {exc!r}")

    log_path = tmp_path / "celery-worker.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "governance",
        "worker",
        "--pool=solo",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        f"test-{uuid.uuid4().hex[:8]}@%h",
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = WorkerProcess(process, log_path)
    previous_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + WORKER_READY_TIMEOUT
        while " ready." not in worker.output():
            if not worker.alive:
                pytest.fail(
                    f"The Celery worker exited with {process.returncode} before it was ready:\n"
                    f"{worker.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The Celery worker was not ready within {WORKER_READY_TIMEOUT:.0f} s:\n"
                    f"{worker.output()}"
                )
            time.sleep(0.2)
        yield worker
    finally:
        app.conf.task_always_eager = previous_eager
        _stop_process_group(process)


# --- Headless Chromium -------------------------------------------------------------------------


@pytest.fixture
def browser_page(live_server, transactional_db, tmp_path) -> Iterator[Any]:
    """A Playwright Page in headless Chromium, Chinese locale, base_url = the live server."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: browser tests need it "
            "(apt-get install chromium, or set CHROMIUM_PATH)."
        )
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM calls made by the
    # test itself would otherwise be refused as "async unsafe".
    previous_async_unsafe = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    user_data_dir = tempfile.mkdtemp(prefix="gridgov-chromium-", dir=tmp_path)
    playwright = sync_playwright().start()
    try:
        try:
            context = playwright.chromium.launch_persistent_context(
                user_data_dir,
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                base_url=live_server.url,
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
                viewport={"width": 1280, "height": 900},
            )
        except Exception as exc:
            pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}")
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(BROWSER_TIMEOUT_MS)
            page.set_default_navigation_timeout(BROWSER_TIMEOUT_MS)
            yield page
        finally:
            context.close()
    finally:
        playwright.stop()
        shutil.rmtree(user_data_dir, ignore_errors=True)
        if previous_async_unsafe is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous_async_unsafe


def login(page: Any, live_server_url: str, username: str, password: str) -> None:
    """Sign in through the login form (username or phone) and wait for the signed-in page."""
    from django.urls import reverse
    from playwright.sync_api import expect

    page.goto(f"{live_server_url}{reverse('accounts:login')}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-button")
    expect(page.locator("#logout-button")).to_be_visible()
