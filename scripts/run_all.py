#!/usr/bin/env python3
"""Run the whole embedded portal in the foreground: web, Celery worker and Celery beat.

Used by `make run` (after `make setup`). Each process's output is prefixed with its name.
Ctrl-C (or SIGTERM) stops all three; if one of them exits, the others are stopped too and the
exit status is passed on. Standard library only: it runs before anything is imported from Django.

Environment: PORT (default 8000), HOST (default 127.0.0.1), WORKER_CONCURRENCY (default 2), and
everything governance/settings.py reads (see README).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess  # nosec B404 # starts our own web, worker and beat
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
COLOURS = {"web": "36", "worker": "35", "beat": "33", "banner": "32"}
STOP_GRACE_SECONDS = 15

print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    prefix = f"{name:<6} |"
    if sys.stdout.isatty():
        prefix = f"\033[{COLOURS.get(name, '0')}m{prefix}\033[0m"
    with print_lock:
        sys.stdout.write(f"{prefix} {line}\n")
        sys.stdout.flush()


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pump(name: str, process: subprocess.Popen) -> None:
    if process.stdout is None:
        return
    for raw in iter(process.stdout.readline, b""):
        say(name, raw.decode("utf-8", errors="replace").rstrip("\n"))


def start(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(  # noqa: S603 - our own fixed commands  # nosec B603
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches us only; we stop the children in order
    )
    threading.Thread(target=pump, args=(name, process), daemon=True).start()
    return process


def stop_all(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                # The main process only: it shuts its own children down (Celery's warm shutdown).
                os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(name, "did not stop in time; killing it")
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_web(url: str, process: subprocess.Popen, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - our own local URL  # nosec B310
                return True
        except urllib.error.HTTPError:
            return True  # it answers (503 until the worker's first heartbeat)
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))
    if not port_is_free(host, port):
        print(f"Port {port} on {host} is in use. Try: PORT={port + 1} make run", file=sys.stderr)
        return 2
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")
    # The demo on a laptop: staff demo logins sign in with the password alone unless asked
    # (TWO_FACTOR_ENFORCED=1 make run). Production refuses the setting off (settings_checks).
    env.setdefault("TWO_FACTOR_ENFORCED", "0")
    concurrency = env.get("WORKER_CONCURRENCY", "2")
    celery = [PYTHON, "-m", "celery", "-A", "governance"]
    commands = {
        "web": [PYTHON, "manage.py", "runserver", f"{host}:{port}", "--noreload"],
        "worker": [*celery, "worker", "--loglevel=INFO", f"--concurrency={concurrency}"],
        "beat": [*celery, "beat", "--loglevel=INFO"],
    }
    processes: dict[str, subprocess.Popen] = {}
    stopping = threading.Event()

    def on_signal(signum, _frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    exit_code = 0
    try:
        for name, command in commands.items():
            processes[name] = start(name, command, env)
        url = f"http://{host}:{port}/"
        if wait_for_web(f"{url}healthz", processes["web"]):
            # A first heartbeat now, so /healthz turns green without waiting for beat's 30 s.
            heartbeat = [*celery, "call", "core.tasks.heartbeat"]
            subprocess.run(heartbeat, cwd=ROOT, env=env, capture_output=True, check=False)  # noqa: S603  # nosec B603 # fixed command
            banner_command = [PYTHON, "manage.py", "portal_banner", "--url", url]
            banner = subprocess.run(  # noqa: S603 - our own fixed command  # nosec B603
                banner_command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            if env["TWO_FACTOR_ENFORCED"] in ("0", "false", "False", "no", "off"):
                print(
                    "Two-factor sign-in is off for the demo: TWO_FACTOR_ENFORCED=1 make run "
                    "to enrol an authenticator app as the roles of the security policy must."
                )
            for line in (banner.stdout + banner.stderr).splitlines():
                say("banner", line)
        while not stopping.is_set():
            for name, process in processes.items():
                code = process.poll()
                if code is not None:
                    say(name, f"exited with status {code}; stopping the others")
                    exit_code = code if code > 0 else 1
                    stopping.set()
                    break
            stopping.wait(0.5)
    finally:
        say("banner", "stopping web, worker and beat ...")
        stop_all(processes)
        say("banner", "stopped")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
