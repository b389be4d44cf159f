"""The fault scenarios of `make chaos` (bench/chaos.sh sets the environment and the servers'
data): gunicorn + a real Celery worker (prefork x2) + Celery beat on 127.0.0.1, reports sent
over HTTP as the demo city's grid worker (a grid worker's own report is verified at once and
routed by the worker to `dispatched`), then for each scenario a fault:

  redis_down   Redis stopped while 1,000 reports arrive; every POST must answer 201; Redis
               back, all must be dispatched within 60 s.
  worker_kill  100 SIGKILLs of the worker (pool processes, every 10th the whole worker, then
               restarted) while reports arrive; every incident dispatched exactly once, one
               start of verification, no duplicate notification.
  redis_flush  the worker stopped, reports queued, FLUSHALL, the worker back: after the stuck
               window and one sweep interval no incident is stuck.
  pg_restart   PostgreSQL stopped for a few seconds under load, then started: answers are 201
               or 503 (never a 500 or a dropped connection), the web recovers by itself, and
               no incident is half written.

Then runs tests/test_schemathesis.py and tests/test_access_matrix.py with
GRIDGOV_RELIABILITY_DIR and merges their figures. Writes bench/results/reliability.json and
prints the table. Everything it starts, it stops. Only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

from loadgen import Session  # noqa: E402 - bench/ on the path first
from scenarios import (  # noqa: E402
    celery_worker_command,
    children,
    git_commit,
    gunicorn_env,
    machine,
    spawn,
)

RESULTS = ROOT / "bench" / "results"
VENV = ROOT / ".venv" / "bin"
WORK = Path(os.environ.get("CHAOS_WORK", "/tmp"))
WEB_PORT = int(os.environ.get("CHAOS_WEB_PORT", "58443"))
REDIS_PORT = int(os.environ.get("CHAOS_REDIS_PORT", "56443"))
PG_DATA = os.environ.get("CHAOS_PG_DATA", "")
PG_OPTS = os.environ.get("CHAOS_PG_OPTS", "")
PG_USER = os.environ.get("CHAOS_PG_USER", "postgres")
PASSWORD = "Demo-2026!"
REPORTER = "gridworker"

REDIS_DOWN_REPORTS = int(os.environ.get("CHAOS_REDIS_DOWN_REPORTS", "1000"))
REDIS_DOWN_WINDOW_S = 60
KILLS = 100
KILL_REPORTS = 200
FLUSH_REPORTS = 200
PG_DOWN_S = 6


def log(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes ----------------------------------------------------------------------------------


class Servers:
    """gunicorn, the Celery worker and beat: each in its own session, stopped by pid."""

    def __init__(self) -> None:
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.worker_starts = 0

    def _remember(self, process: subprocess.Popen) -> None:
        with open(WORK / "pids", "a") as handle:  # chaos.sh kills what is left on exit
            handle.write(f"{process.pid}\n")

    def start_web(self) -> None:
        self.web = spawn(
            [str(VENV / "gunicorn"), "-c", "gunicorn.conf.py"],
            WORK / "gunicorn.log",
            gunicorn_env(WEB_PORT, 2, 4),
        )
        self._remember(self.web)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.web.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {WORK}/gunicorn.log")
            try:
                status, _ = Session(WEB_PORT).request("GET", "/accounts/login/")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise SystemExit("gunicorn not ready in 90 s")

    def start_worker(self, timeout: float = 90) -> None:
        self.worker_starts += 1
        log_path = WORK / f"celery-{self.worker_starts}.log"
        self.worker = spawn(
            celery_worker_command(
                f"chaos{self.worker_starts}",
                processes=2,
                loglevel="info",
                extra=["--without-heartbeat"],
            ),
            log_path,
        )
        self._remember(self.worker)
        deadline = time.monotonic() + timeout
        while " ready." not in log_path.read_text(errors="replace"):
            if self.worker.poll() is not None:
                raise SystemExit(f"the worker exited; see {log_path}")
            if time.monotonic() > deadline:
                raise SystemExit(f"the worker was not ready in {timeout} s; see {log_path}")
            time.sleep(0.1)

    def start_beat(self) -> None:
        self.beat = spawn(
            [
                str(VENV / "celery"),
                *("-A", "governance", "beat", "-l", "info"),
                *("-s", str(WORK / "celerybeat-schedule")),
            ],
            WORK / "beat.log",
        )
        self._remember(self.beat)

    def pool_children(self) -> list[int]:
        return children(self.worker.pid) if self.worker and self.worker.poll() is None else []

    def kill_worker_group(self) -> None:
        """SIGKILL the worker and its pool processes (a container killed)."""
        if self.worker is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=30)

    def stop_worker(self) -> None:
        """Warm shutdown (SIGTERM), as on a deploy."""
        if self.worker is None or self.worker.poll() is not None:
            return
        self.worker.send_signal(signal.SIGTERM)
        try:
            self.worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill_worker_group()

    def stop(self) -> None:
        for process in (self.web, self.worker, self.beat):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (self.web, self.worker, self.beat):
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def redis_stop() -> None:
    import redis

    with contextlib.suppress(redis.ConnectionError):  # the shutdown closes the connection
        redis.Redis(port=REDIS_PORT).shutdown(nosave=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            redis.Redis(port=REDIS_PORT, socket_connect_timeout=0.5).ping()
        except redis.ConnectionError:
            return
        time.sleep(0.1)
    raise SystemExit("redis did not stop")


def redis_start() -> None:
    import redis

    subprocess.run(
        [
            "redis-server",
            "--port",
            str(REDIS_PORT),
            "--bind",
            "127.0.0.1",
            "--daemonize",
            "yes",
            "--save",
            "",
            "--appendonly",
            "no",
            "--pidfile",
            str(WORK / "redis.pid"),
            "--dir",
            str(WORK),
            "--logfile",
            str(WORK / "redis.log"),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    for _ in range(100):
        try:
            if redis.Redis(port=REDIS_PORT).ping():
                return
        except redis.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("redis did not come back")


def pg_ctl(*args: str) -> None:
    command = ["/usr/local/bin/pg_ctl", "-D", PG_DATA, *args]
    if os.getuid() == 0:
        command = ["runuser", "-u", PG_USER, "--", *command]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, timeout=120)


# --- load ---------------------------------------------------------------------------------------


class Reporter:
    """Reports as the demo grid worker, over HTTP, from threads (each its own connection)."""

    def __init__(self) -> None:
        from grids.models import GridCell
        from incidents.models import Category

        session = Session(WEB_PORT)
        session.login(REPORTER, PASSWORD)
        self.cookies = session.cookies
        self.points = []
        for geometry in GridCell.objects.filter(
            community__code="350602001001", active=True
        ).values_list("geometry", flat=True):
            ring = geometry["coordinates"][0]
            lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
            self.points.append(((min(lats) + max(lats)) / 2, (min(lngs) + max(lngs)) / 2))
        self.categories = list(
            Category.objects.filter(active=True, parent__isnull=False).values_list(
                "code", flat=True
            )
        )
        if not self.points or not self.categories:
            raise SystemExit("the demo city has no cells or categories")
        self.counter = 0
        self.lock = threading.Lock()

    def body(self, rng: random.Random) -> bytes:
        with self.lock:
            self.counter += 1
            number = self.counter
        lat, lng = rng.choice(self.points)
        return json.dumps(
            {
                "category": rng.choice(self.categories),
                "description": f"故障演练上报 {number}:路灯不亮,影响夜间通行。",
                "lat": round(lat, 7),
                "lng": round(lng, 7),
                "address": f"演练路{number % 500}号",
            },
            ensure_ascii=False,
        ).encode()

    def send(
        self, count: int, *, threads: int = 8, rate: float | None = None, stop=None
    ) -> tuple[list[int], dict[str, int]]:
        """POST `count` reports (paced at `rate`/s if given); returns (ids accepted, codes)."""
        ids: list[int] = []
        codes: dict[str, int] = {}
        lock = threading.Lock()
        start = time.monotonic()

        def client(k: int) -> None:
            rng = random.Random(k * 7919 + int(start))
            session = Session(WEB_PORT, self.cookies)
            for i in range(k, count, threads):
                if stop is not None and stop.is_set():
                    return
                if rate:
                    wait = start + i / rate - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)
                try:
                    status, data = session.request(
                        "POST",
                        "/api/v1/incidents",
                        self.body(rng),
                        {"Content-Type": "application/json"},
                    )
                    key = str(status)
                except OSError as exc:
                    status, data, key = 0, b"", f"error:{type(exc).__name__}"
                    session = Session(WEB_PORT, self.cookies)
                with lock:
                    codes[key] = codes.get(key, 0) + 1
                    if status == 201:
                        ids.append(json.loads(data)["id"])

        workers = [threading.Thread(target=client, args=(k,)) for k in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        return ids, codes


def dispatched_count(ids: list[int]) -> int:
    from django.db import close_old_connections

    from incidents.models import Incident

    close_old_connections()
    return Incident.objects.filter(pk__in=ids, dispatched_at__isnull=False).count()


def wait_dispatched(ids: list[int], timeout: float) -> tuple[int, float | None]:
    """Poll until every id is dispatched or `timeout` s pass: (dispatched, seconds or None)."""
    began = time.monotonic()
    done = 0
    while True:
        done = dispatched_count(ids)
        if done == len(ids):
            return done, round(time.monotonic() - began, 1)
        if time.monotonic() - began > timeout:
            return done, None
        time.sleep(1)


def queue_length() -> int:
    import redis

    client = redis.Redis.from_url(os.environ["CELERY_BROKER_URL"])
    return int(client.llen("celery")) + int(client.llen("outbound"))


# --- checks -------------------------------------------------------------------------------------


def loop_integrity(ids: list[int]) -> dict:
    """Per incident: dispatched, exactly one start of verification and one dispatch in the
    timeline, the dispatch notified, no notification twice."""
    from django.db.models import Count, Q

    from core.models import Notification
    from incidents.models import Incident, IncidentEvent

    rows = Incident.objects.filter(pk__in=ids).annotate(
        starts=Count("events", filter=Q(events__action="start_verification")),
        dispatches=Count("events", filter=Q(events__action="dispatch")),
    )
    states: dict[str, int] = {}
    duplicates = lost = 0
    for row in rows.values("pk", "state", "starts", "dispatches"):
        states[row["state"]] = states.get(row["state"], 0) + 1
        if row["starts"] > 1 or row["dispatches"] > 1:
            duplicates += 1
        if row["state"] != "dispatched" or row["dispatches"] == 0:
            lost += 1
    keys = [
        f"incident:{incident_id}:e{event_id}"
        for incident_id, event_id in IncidentEvent.objects.filter(
            incident_id__in=ids, action="dispatch"
        ).values_list("incident_id", "pk")
    ]
    notified = set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    doubled = (
        Notification.objects.filter(dedupe_key__in=keys)
        .values("user_id", "dedupe_key")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    return {
        "incidents": len(ids),
        "states": states,
        "duplicates": duplicates + doubled,
        "lost": lost + (len(ids) - sum(states.values())),
        "dispatches_without_notification": len(keys) - len(notified),
    }


def half_written() -> dict:
    """Incidents whose timeline does not match them: no report event, past `reported` without
    an event leading out of it (the start of verification, a fix on the spot), or in a state
    no event led to. Over every incident of the database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT
              count(*) FILTER (WHERE NOT EXISTS (
                SELECT 1 FROM incidents_incidentevent e
                WHERE e.incident_id = i.id AND e.action = 'report')),
              count(*) FILTER (WHERE i.state <> 'reported' AND NOT EXISTS (
                SELECT 1 FROM incidents_incidentevent e
                WHERE e.incident_id = i.id AND e.from_state = 'reported'
                  AND e.to_state <> 'reported')),
              count(*) FILTER (WHERE i.state IS DISTINCT FROM (
                SELECT e.to_state FROM incidents_incidentevent e
                WHERE e.incident_id = i.id AND e.to_state <> e.from_state
                ORDER BY e.id DESC LIMIT 1)),
              count(*)
            FROM incidents_incident i
            """
        )
        no_report, no_start, state_mismatch, total = cursor.fetchone()
    return {
        "incidents_checked": total,
        "without_report_event": no_report,
        "past_reported_without_event": no_start,
        "state_not_from_timeline": state_mismatch,
        "half_written": no_report + no_start + state_mismatch,
    }


# --- scenarios ----------------------------------------------------------------------------------


def scenario_redis_down(servers: Servers, reporter: Reporter) -> dict:
    log(f"redis_down: stopping Redis, sending {REDIS_DOWN_REPORTS} reports")
    redis_stop()
    began = time.monotonic()
    ids, codes = reporter.send(REDIS_DOWN_REPORTS, threads=8)
    sent_s = round(time.monotonic() - began, 1)
    log(f"redis_down: {len(ids)} accepted in {sent_s} s ({codes}); Redis back")
    redis_start()
    dispatched, all_after = wait_dispatched(ids, REDIS_DOWN_WINDOW_S)
    late, late_after = dispatched, all_after
    if all_after is None:  # not within the window: how long it takes at all (bounded)
        late, late_after = wait_dispatched(ids, 120)
        late_after = None if late_after is None else round(REDIS_DOWN_WINDOW_S + late_after, 1)
    log(f"redis_down: {dispatched} dispatched within {REDIS_DOWN_WINDOW_S} s ({all_after} s)")
    return {
        "sent": REDIS_DOWN_REPORTS,
        "accepted": codes.get("201", 0),
        "dispatched": dispatched,
        "lost": len(ids) - dispatched,
        "status_codes": codes,
        "sending_seconds": sent_s,
        "all_dispatched_after_s": all_after if all_after is not None else late_after,
        "dispatched_eventually": late,
        "window_s": REDIS_DOWN_WINDOW_S,
    }


def scenario_worker_kill(servers: Servers, reporter: Reporter) -> dict:
    log(f"worker_kill: {KILLS} SIGKILLs while {KILL_REPORTS} reports arrive")
    result: dict = {}
    done = threading.Event()

    def load() -> None:
        result["ids"], result["codes"] = reporter.send(KILL_REPORTS, threads=4, rate=3.0)
        done.set()

    sender = threading.Thread(target=load)
    sender.start()
    rng = random.Random(2026)
    kills = {"pool_process": 0, "whole_worker": 0}
    restart_s: list[float] = []
    time.sleep(1.0)
    for _attempt in range(2 * KILLS):  # a kill that found no process is tried again
        k = sum(kills.values())
        if k >= KILLS:
            break
        if k % 10 == 4:
            servers.kill_worker_group()
            kills["whole_worker"] += 1
            began = time.monotonic()
            servers.start_worker()
            restart_s.append(time.monotonic() - began)
        else:
            pool = []
            deadline = time.monotonic() + 10
            while not pool and time.monotonic() < deadline:  # the pool replaces what died
                pool = servers.pool_children()
                time.sleep(0.05)
            if pool:
                try:
                    os.kill(rng.choice(pool), signal.SIGKILL)
                    kills["pool_process"] += 1
                except ProcessLookupError:
                    pass
        time.sleep(rng.uniform(0.3, 0.9))
    sender.join()
    ids = result["ids"]
    log(f"worker_kill: {sum(kills.values())} kills done; waiting for the re-drive")
    _dispatched, after = wait_dispatched(ids, 180)
    integrity = loop_integrity(ids)
    return {
        "kills": sum(kills.values()),
        "kills_by_kind": kills,
        "incidents": len(ids),
        "duplicates": integrity["duplicates"],
        "lost": integrity["lost"],
        "status_codes": result["codes"],
        "all_dispatched_after_s": after,
        "worker_restart_s_mean": round(sum(restart_s) / len(restart_s), 1) if restart_s else None,
        "states": integrity["states"],
        "dispatches_without_notification": integrity["dispatches_without_notification"],
    }


def scenario_redis_flush(servers: Servers, reporter: Reporter) -> dict:
    from django.conf import settings

    log(f"redis_flush: worker stopped, {FLUSH_REPORTS} reports queued, FLUSHALL")
    servers.stop_worker()
    ids, codes = reporter.send(FLUSH_REPORTS, threads=4)
    queued = queue_length()
    import redis

    redis.Redis(port=REDIS_PORT).flushall()
    flushed_at = time.monotonic()
    servers.start_worker()
    # The re-drive picks an incident up once its task is INCIDENT_TASK_STUCK_MINUTES old; one
    # incident sweep interval (60 s) after that, none may be stuck.
    window = settings.INCIDENT_TASK_STUCK_MINUTES * 60 + 60
    dispatched, after = wait_dispatched(ids, window)
    stuck = len(ids) - dispatched
    log(f"redis_flush: {queued} queued tasks flushed; {stuck} stuck after {window} s")
    return {
        "reports": len(ids),
        "status_codes": codes,
        "queued_tasks_flushed": queued,
        "stuck_after_sweep": stuck,
        "all_dispatched_after_s": after,
        "sweep_window_s": window,
        "since_flush_s": round(time.monotonic() - flushed_at, 1),
    }


def scenario_pg_restart(servers: Servers, reporter: Reporter) -> dict:
    log(f"pg_restart: PostgreSQL stopped for {PG_DOWN_S} s under load")
    stop = threading.Event()
    timeline: list[tuple[float, str]] = []
    pages: dict[str, int] = {}
    lock = threading.Lock()
    ids: list[int] = []
    page_bodies_ok = [True]

    def load(k: int) -> None:
        rng = random.Random(k)
        session = Session(WEB_PORT, reporter.cookies)
        while not stop.is_set():
            try:
                if k == 0:  # one client reads a page: the HTML answer while the DB is down
                    status, data = session.request("GET", "/incidents/")
                    with lock:
                        pages[str(status)] = pages.get(str(status), 0) + 1
                        if status == 503 and (b"Traceback" in data or b"503" not in data):
                            page_bodies_ok[0] = False
                    time.sleep(0.2)
                    continue
                status, data = session.request(
                    "POST",
                    "/api/v1/incidents",
                    reporter.body(rng),
                    {"Content-Type": "application/json"},
                )
                key = str(status)
                if status == 503:
                    body = json.loads(data)
                    if set(body) != {"detail"}:
                        key = "503-bad-body"
                elif status == 201:
                    with lock:
                        ids.append(json.loads(data)["id"])
            except (OSError, ValueError) as exc:
                key = f"error:{type(exc).__name__}"
                session = Session(WEB_PORT, reporter.cookies)
            with lock:
                timeline.append((time.monotonic(), key))
            time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(4)
    down_at = time.monotonic()
    pg_ctl("-m", "fast", "-w", "stop")
    time.sleep(PG_DOWN_S)
    pg_ctl("-l", f"{PG_DATA}/server.log", "-w", "-t", "60", "-o", PG_OPTS, "start")
    up_at = time.monotonic()
    time.sleep(10)
    stop.set()
    for thread in threads:
        thread.join()
    codes: dict[str, int] = {}
    for _, key in timeline:
        codes[key] = codes.get(key, 0) + 1
    first_ok_after = next((t - up_at for t, key in timeline if t > up_at and key == "201"), None)
    non_503 = sum(n for key, n in codes.items() if key not in ("201", "503"))
    non_503 += sum(n for key, n in pages.items() if not (key == "503" or key < "400"))
    log(f"pg_restart: answers {codes}, page {pages}; waiting for the worker to drain")
    dispatched, after = wait_dispatched(ids, 120)
    written = half_written()
    return {
        "non_503_errors": non_503,
        "half_written": written["half_written"],
        "status_codes": codes,
        "page_status_codes": pages,
        "page_503_bodies_ok": page_bodies_ok[0],
        "down_s": round(up_at - down_at, 1),
        "first_201_after_up_s": round(first_ok_after, 2) if first_ok_after is not None else None,
        "accepted": len(ids),
        "dispatched": dispatched,
        "all_dispatched_after_s": after,
        "timeline_checks": written,
    }


TEST_FILES = ["tests/test_schemathesis.py", "tests/test_access_matrix.py"]
TESTS_TIMEOUT_S = 900
# Not passed to the test run: it uses the default embedded stack (SQLite + filesystem broker)
# under the work directory, so it can run beside the scenarios (PostgreSQL is restarted there).
TEST_ENV_DROPPED = {
    "DJANGO_ENV",
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "ALLOWED_HOSTS",
    "LOG_LEVEL",
    "INCIDENT_TASK_STUCK_MINUTES",
    "INCIDENT_REDRIVE_SECONDS",
    "LOGIN_FAILURES_PER_IP",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "STATIC_ROOT",
    "MEDIA_ROOT",
    "SMS_FILE_PATH",
}


def start_tests() -> dict:
    """Start the schemathesis and access-matrix tests (with GRIDGOV_RELIABILITY_DIR) in the
    background; finish_tests() collects their figures."""
    out_dir = WORK / "reliability"
    out_dir.mkdir(exist_ok=True)
    var = WORK / "var-tests"
    var.mkdir(exist_ok=True)
    present = [f for f in TEST_FILES if (ROOT / f).exists()]
    env = {key: value for key, value in os.environ.items() if key not in TEST_ENV_DROPPED}
    env.update(
        {
            "GRIDGOV_RELIABILITY_DIR": str(out_dir),
            "GRIDGOV_VAR_DIR": str(var),
            "TEST_SQLITE_NAME": str(var / "test.sqlite3"),
        }
    )
    run: dict = {
        "files": present,
        "missing_files": sorted(set(TEST_FILES) - set(present)),
        "database": "SQLite (the suite's default), beside the scenarios",
        "out_dir": out_dir,
        "process": None,
        "began": time.monotonic(),
    }
    if present:
        log(f"tests started in the background: {' '.join(present)}")
        output = open(WORK / "pytest-reliability.log", "wb")  # noqa: SIM115 - closed in finish
        run["output"] = output
        run["process"] = subprocess.Popen(
            [str(VENV / "pytest"), "-p", "no:xdist", "-q", "-p", "no:cacheprovider", *present],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with open(WORK / "pids", "a") as handle:
            handle.write(f"{run['process'].pid}\n")
    return run


def finish_tests(run: dict) -> dict:
    """Wait for the tests (bounded) and merge the figures they wrote. A missing test file or
    figure is a failure of that part, not a crash."""
    process = run.pop("process")
    out_dir = run.pop("out_dir")
    if process is not None:
        remaining = max(30.0, TESTS_TIMEOUT_S - (time.monotonic() - run["began"]))
        log(f"tests: waiting for them (at most {remaining:.0f} s more)")
        try:
            run["exit_code"] = process.wait(timeout=remaining)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            run["exit_code"] = None
            run["timed_out_after_s"] = TESTS_TIMEOUT_S
        run.pop("output").close()
        lines = (WORK / "pytest-reliability.log").read_text(errors="replace").splitlines()
        run["summary"] = next((line for line in reversed(lines) if line.strip()), "")
        run["failed_tests"] = [line[7:] for line in lines if line.startswith("FAILED ")][:20]
        if run["failed_tests"] or run.get("exit_code"):
            kept = RESULTS / "reliability-tests.log"  # not committed (bench/results/*)
            kept.write_text("\n".join(lines[-400:]))
            log(f"tests failed: {run['failed_tests']}; output in {kept}")
    run["seconds"] = round(time.monotonic() - run.pop("began"), 1)
    figures = {}
    for name, keys in (
        ("schemathesis", ("cases", "server_errors", "schema_violations")),
        ("access_matrix", ("checks", "leaks")),
    ):
        path = out_dir / f"{name}.json"
        try:
            data = json.loads(path.read_text())
            figure = {key: data.get(key) for key in keys}
            figure.update({k: v for k, v in data.items() if k not in keys})
            figure["tests_passed"] = run.get("exit_code") == 0
        except (OSError, ValueError) as exc:
            figure = dict.fromkeys(keys)
            figure["error"] = f"{path.name} not written ({type(exc).__name__})"
            figure["tests_passed"] = False
        figures[name] = figure
    figures["tests_run"] = run
    log(f"tests: {run.get('summary', 'not run')}")
    return figures


# --- report -------------------------------------------------------------------------------------

# key: (figure, comparison, target)
TARGETS = [
    ("redis_down", "accepted", "==", "sent"),
    ("redis_down", "lost", "==", 0),
    ("redis_down", "dispatched", "==", "accepted"),
    ("worker_kill", "kills", ">=", KILLS),
    ("worker_kill", "duplicates", "==", 0),
    ("worker_kill", "lost", "==", 0),
    ("worker_kill", "dispatches_without_notification", "==", 0),
    ("redis_flush", "stuck_after_sweep", "==", 0),
    ("pg_restart", "non_503_errors", "==", 0),
    ("pg_restart", "half_written", "==", 0),
    ("schemathesis", "server_errors", "==", 0),
    ("schemathesis", "schema_violations", "==", 0),
    ("access_matrix", "leaks", "==", 0),
]


def judge(results: dict) -> list[dict]:
    verdicts = []
    for scenario, key, comparison, target in TARGETS:
        figure = results.get(scenario) or {}
        value = figure.get(key)
        wanted = figure.get(target) if isinstance(target, str) else target
        met = None
        if value is not None and wanted is not None:
            met = value >= wanted if comparison == ">=" else value == wanted
        if scenario in ("schemathesis", "access_matrix") and not figure.get("tests_passed"):
            met = False if met is not None or figure.get("error") else met
        verdicts.append(
            {
                "figure": f"{scenario}.{key}",
                "value": value,
                "target": f"{comparison} {target}",
                "met": met,
            }
        )
    return verdicts


def table(verdicts: list[dict]) -> str:
    lines = [f"{'figure':<32} {'value':>8}  {'target':<14} result", "-" * 66]
    for v in verdicts:
        shown = "n/a" if v["value"] is None else v["value"]
        result = {True: "ok", False: "FAILED", None: "not measured"}[v["met"]]
        lines.append(f"{v['figure']:<32} {shown!s:>8}  {v['target']:<14} {result}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--started", type=int, default=int(time.time()))
    parser.add_argument(
        "--only", action="append", default=[], help="run only these scenarios (repeatable)"
    )
    args = parser.parse_args()

    import django

    django.setup()
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict = {}
    servers = Servers()
    scenarios = [
        ("redis_down", scenario_redis_down),
        ("worker_kill", scenario_worker_kill),
        ("redis_flush", scenario_redis_flush),
        ("pg_restart", scenario_pg_restart),
    ]
    tests = start_tests() if not args.only or "tests" in args.only else None
    try:
        servers.start_web()
        servers.start_worker()
        servers.start_beat()
        reporter = Reporter()
        for name, scenario in scenarios:
            if args.only and name not in args.only:
                continue
            began = time.monotonic()
            try:
                results[name] = scenario(servers, reporter)
            except Exception as exc:  # one broken scenario must not lose the others' figures
                log(f"{name}: FAILED to run: {exc!r}")
                results[name] = {"error": repr(exc)}
            results[name]["scenario_seconds"] = round(time.monotonic() - began, 1)
            if servers.worker is None or servers.worker.poll() is not None:
                servers.start_worker()
    finally:
        servers.stop()
    if tests is not None:
        results.update(finish_tests(tests))
    verdicts = judge(results)
    report = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **git_commit(),
        "machine": machine(),
        "duration_s": int(time.time()) - args.started,
        "setup": {
            "database": "PostgreSQL 15 (throwaway, fsync off)",
            "broker": "Redis (throwaway)",
            "web": "gunicorn 2 workers x 4 threads, production settings",
            "worker": "celery prefork x2 + beat",
            "incident_task_stuck_minutes": int(os.environ.get("INCIDENT_TASK_STUCK_MINUTES", 5)),
            "incident_redrive_seconds": float(os.environ.get("INCIDENT_REDRIVE_SECONDS", 15)),
        },
        **results,
        "verdicts": verdicts,
        "all_met": all(v["met"] for v in verdicts),
    }
    # A partial run (--only) never replaces the figures of a whole one.
    target = WORK / "reliability-partial.json" if args.only else RESULTS / "reliability.json"
    target.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print()
    print(table(verdicts))
    print(f"\nwrote {target} ({report['duration_s']} s)")
    if not report["all_met"]:
        sys.exit("chaos: a target was missed (see the table)")


if __name__ == "__main__":
    main()
