"""Transaction helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction


def on_commit_once(func: Callable[[], None]) -> None:
    """transaction.on_commit(func), unless `func` is already registered for the open
    transaction: one message per transaction, however many rows it wrote. Outside a
    transaction it runs at once (as on_commit does)."""
    # run_on_commit holds (savepoint ids, callable, robust) tuples for the open transaction.
    # == rather than `is`: a bound method (token.publish) is a new object on every access.
    if any(
        len(entry) > 1 and entry[1] == func for entry in getattr(connection, "run_on_commit", [])
    ):
        return
    transaction.on_commit(func)


def enqueue_on_commit(task: Any, *ids: int, using: str | None = None) -> None:
    """Send `task.delay(*ids)` once the open transaction commits (at once outside one): the
    `delay_on_commit` of STYLE.md. Tasks take ids, never model instances, and read the rows
    themselves, so what they see is what was committed; a rolled-back transaction sends nothing.

    A broker outage never fails the caller: every task of the project is a
    core.celery_base.GridGovTask, whose `apply_async` logs the failed send, calls the task's
    `publish_failed` hook and opens the circuit breaker; the sweeps re-drive the work. This
    helper adds no error handling of its own on top of that."""

    def send() -> None:
        task.delay(*ids)

    transaction.on_commit(send, using=using)
