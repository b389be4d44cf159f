"""The project's Celery task base class and its broker-outage behaviour (issue 16: moved here
from governance.celery, which keeps the Celery `app` and re-exports these names).

Every task of the project is a `GridGovTask` (governance.celery makes it the app's `task_cls`):
sending it never fails the caller when the broker is unreachable (docs/reliability.md,
"Faults"). The database is the source of truth: a report is stored and answered 201 even while
Redis is down; the send is logged, the task's `publish_failed` hook may leave a mark for the
re-drive, and the beat sweeps re-enqueue the work once the broker is back. After a failed send
the process does not try the broker again for BROKER_RETRY_AFTER seconds (a circuit breaker,
`broker_breaker`), so requests do not wait on a dead broker.

Lower apps import from here, never from governance (the project package sits at the top of
the layers: docs/architecture.md). `queue_backlog()` asks the current Celery app (the one
governance.celery configures).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from celery import Task, current_app
from kombu.exceptions import OperationalError as KombuOperationalError

__all__ = [
    "BROKER_ERRORS",
    "BROKER_RETRY_AFTER",
    "GridGovTask",
    "broker_breaker",
    "queue_backlog",
]

logger = logging.getLogger("governance.celery")

BROKER_RETRY_AFTER = float(os.environ.get("CELERY_BROKER_RETRY_AFTER", "5"))
BROKER_ERRORS: tuple[type[BaseException], ...] = (KombuOperationalError, OSError)
try:  # the Redis transport's own errors, when the Redis client is installed
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    BROKER_ERRORS += (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover - redis is a pinned requirement
    pass


class _Breaker:
    """Process-wide: after a failed send, skip the broker for BROKER_RETRY_AFTER seconds."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_until = 0.0

    def is_open(self) -> bool:
        return time.monotonic() < self.open_until

    def trip(self) -> None:
        with self.lock:
            self.open_until = time.monotonic() + BROKER_RETRY_AFTER

    def reset(self) -> None:
        with self.lock:
            self.open_until = 0.0


broker_breaker = _Breaker()


class GridGovTask(Task):
    """A task whose sending survives a broker outage (see the module docstring)."""

    def apply_async(
        self,
        args=None,
        kwargs=None,
        task_id=None,
        producer=None,
        link=None,
        link_error=None,
        shadow=None,
        **options,
    ):
        if self.app.conf.task_always_eager:
            return super().apply_async(
                args, kwargs, task_id, producer, link, link_error, shadow, **options
            )
        if broker_breaker.is_open():
            self._not_sent(args, kwargs, "broker unreachable (retrying after a pause)")
            return None
        try:
            return super().apply_async(
                args, kwargs, task_id, producer, link, link_error, shadow, **options
            )
        except BROKER_ERRORS as exc:
            broker_breaker.trip()
            self._not_sent(args, kwargs, f"{type(exc).__name__}: {exc}")
            return None

    def _not_sent(self, args, kwargs, reason: str) -> None:
        logger.warning("task %s%s not sent: %s", self.name, tuple(args or ()), reason)
        try:
            self.publish_failed(tuple(args or ()), dict(kwargs or {}))
        except Exception:  # the hook is best effort: the sweeps re-drive in any case
            logger.exception("task %s: publish_failed hook failed", self.name)

    def publish_failed(self, args: tuple, kwargs: dict) -> None:
        """Called when the task could not be sent. Override to mark the work for re-drive."""


def queue_backlog(queue: str = "celery") -> int:
    """Messages waiting in the broker's `queue` (0 when eager, on a transport that cannot say,
    or when the broker is unreachable). The re-drive uses it not to send a backlog twice."""
    app = current_app
    if app.conf.task_always_eager or broker_breaker.is_open():
        return 0
    try:
        with app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
    except Exception as exc:  # an estimate: unknown means no backlog
        logger.info("queue %s: length unknown (%s)", queue, type(exc).__name__)
        return 0
