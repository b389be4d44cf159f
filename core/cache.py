"""The Redis cache, tolerant of a Redis outage (docs/reliability.md, "Faults").

Django's RedisCache raises on a connection error, which would turn every request that reads a
rate-limit counter or the locator's freshness token into a 500 while Redis is down. Here an
unreachable Redis behaves like an empty cache: reads miss, writes are dropped, `add` answers
False and `incr` counts from the given delta (so rate limits let requests through rather than
refuse everybody). Each outage is logged at most once every few seconds per process.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

LOG_EVERY_SECONDS = 10.0


def _errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError)


class ResilientRedisCache(RedisCache):
    _last_logged = 0.0

    def _down(self, operation: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_logged >= LOG_EVERY_SECONDS:
            ResilientRedisCache._last_logged = now
            logger.warning("cache unavailable (%s: %s); working without it", operation, exc)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _errors() as exc:
            self._down("add", exc)
            return False

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _errors() as exc:
            self._down("get", exc)
            return default

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except _errors() as exc:
            self._down("set", exc)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _errors() as exc:
            self._down("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _errors() as exc:
            self._down("delete", exc)
            return False

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _errors() as exc:
            self._down("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _errors() as exc:
            self._down("has_key", exc)
            return False

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _errors() as exc:
            self._down("incr", exc)
            return delta

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _errors() as exc:
            self._down("set_many", exc)
            return list(data)

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except _errors() as exc:
            self._down("delete_many", exc)

    def clear(self):
        try:
            return super().clear()
        except _errors() as exc:
            self._down("clear", exc)
            return False


class SharedToken:
    """A version token in the shared cache, for data each process keeps a copy of (the
    report's categories, the queue's pickers): a change publishes a new token, and a process
    whose copy was built under another token builds it again.

    Keyed per database: test processes running in parallel share a file cache, not a database.
    `read()` answers None while the cache is unreachable (the caller then reads the database);
    `publish()` logs and carries on (the copies then live until the cache answers again)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def key(self) -> str:
        from django.db import connection

        return f"{self.name}:{connection.settings_dict.get('NAME')}"

    def read(self) -> str | None:
        """The current token (one is made if there is none yet), or None without a cache."""
        import uuid

        from django.core.cache import cache

        key = self.key()
        try:
            token = cache.get(key)
            if token is None:
                token = uuid.uuid4().hex
                if not cache.add(key, token, None):
                    token = cache.get(key)
            return token
        except Exception:  # an outage must not stop the caller
            logger.warning("%s: shared cache unavailable; reading the database", self.name)
            return None

    def publish(self) -> None:
        """A new token: every process's copy is out of date."""
        import uuid

        from django.core.cache import cache

        try:
            cache.set(self.key(), uuid.uuid4().hex, None)
        except Exception:
            logger.warning("%s: could not publish the change to the shared cache", self.name)
