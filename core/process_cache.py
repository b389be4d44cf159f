"""Per-process copies of rarely changing data, behind one consistency rule (issue 16).

Some reads are the same small, rarely changing tables on every request or task (the report's
categories, the routing directory, the queue's pickers, the working-day calendar, the webhook
flag). Each web and worker process keeps a copy in memory instead. This module is the one way
to do that:

    CATEGORIES = ProcessCopy(
        "incidents.categories",
        build=lambda: {c.code: c for c in Category.objects.filter(active=True)},
        token=SharedToken("incidents:categories:token"),
        trust_seconds=2.0,
    )
    CATEGORIES.get()            # the copy (built on first use)
    CATEGORIES.invalidate()     # post_save/post_delete receiver: a change was written

**The consistency rule** (docs/performance.md, "Per-process copies"):

- *With a token* (`core.cache.SharedToken`, one key in the shared cache): a change calls
  `invalidate()`, which forgets this process's copy at once and publishes a new token now and
  again when the transaction commits (`on_commit_once`: once per transaction, however many rows
  changed; the second publish covers a process that re-read between the write and the commit).
  Every other process sees the change at its next token read: at most `trust_seconds` after
  the commit (0: at its next `get()`). The process that wrote sees it at once.
- *Without a token*: the copy lives `trust_seconds` (a TTL; None: until `invalidate()` or
  `clear_local()`), and `invalidate()` only reaches this process. Use it only where a stale copy
  for that long is acceptable (the calendar: 30 s).
- *Cache unreachable* (the token read answers None): `get()` builds the value from the database
  on every call and keeps nothing (correct, only slower), or answers None when the copy was
  made with `offline=None`, so that the caller reads the database its own way, or, made with
  `offline="keep"` (a copy too costly to build per call: the locator's index), keeps using this
  process's copy: built once when the cache stops answering, asked again every
  `trust_seconds`, rebuilt at once after a change saved by this process; other processes'
  changes are seen when the cache answers again.
- *Pinned*: inside `with pinned():` a thread reads each copy (and key) once and keeps that
  snapshot until the block ends: one routing decision sees one state of the data and pays one
  token read. A change saved by this process meanwhile (`invalidate()`/`clear_local()`) is seen
  at once; another process's when the block ends. Blocks nest.

Values are shared by the process's threads: read them, never modify them. `per_key=True` keeps
one value per key (`get(key)`, built by `build(key)`, or by the `build` given to that `get`);
`max_entries` bounds that: the whole copy is dropped when it is full (the keys are cheap to
rebuild, and a bounded dict needs no eviction order). `single_build=True` lets one thread
build at a time (a costly build); the threads that waited use what it built.

Tests: every copy registers itself by name; `clear_all_local()` forgets all of them (the root
conftest.py calls it before each test: a rolled-back transaction publishes no token).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from core.cache import SharedToken
from core.transactions import on_commit_once

__all__ = [
    "ProcessCopy",
    "clear_all_local",
    "pinned",
    "registered",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
_ALL = object()  # the key of a copy that is not per key
_MISSING: Any = object()
_OFFLINE_BUILD = "build"
_OFFLINE_KEEP = "keep"
# The token a copy is kept under while the shared cache is down (offline="keep").
_OFFLINE_TOKEN = "offline"  # noqa: S105 - not a secret  # nosec B105

_registry: dict[str, ProcessCopy[Any]] = {}
_registry_lock = threading.Lock()


class _Pins(threading.local):
    """Per thread: the depth of pinned() blocks and the pins. Class defaults, because a missing
    attribute of a threading.local costs an AttributeError on every get() outside a block."""

    depth = 0
    pins: dict | None = None


_local = _Pins()


class ProcessCopy(Generic[T]):
    """One per-process copy (see the module docstring for the consistency rule).

    - `name`: unique, for the registry and the logs;
    - `build()` (or `build(key)` with `per_key=True`): reads the database, returns the value;
    - `token`: a SharedToken every process checks, or None (a TTL copy, this process only);
    - `trust_seconds`: how long a process uses its copy without reading the token again (with
      a token; 0 = read it on every `get`), or the TTL (without one; None = no expiry);
    - `per_key`, `max_entries`: one value per key, at most `max_entries` of them;
    - `offline`: what `get()` does while the shared cache is unreachable: "build" (read the
      database, keep nothing), "keep" (keep this process's copy) or None (answer None; the
      caller reads the database itself);
    - `single_build`: one build at a time (threads that wait use the value just built).
    """

    def __init__(
        self,
        name: str,
        build: Callable[..., T],
        *,
        token: SharedToken | None = None,
        trust_seconds: float | None = 0.0,
        per_key: bool = False,
        max_entries: int | None = None,
        offline: str | None = _OFFLINE_BUILD,
        single_build: bool = False,
    ) -> None:
        if max_entries is not None and not per_key:
            raise ValueError("max_entries needs per_key=True")
        if token is None and trust_seconds == 0:
            raise ValueError("a copy without a token needs trust_seconds > 0 or None")
        if offline not in (_OFFLINE_BUILD, _OFFLINE_KEEP, None):
            raise ValueError('offline is "build", "keep" or None')
        self.name = name
        self.build = build
        self.token = token
        self.trust_seconds = trust_seconds
        self.per_key = per_key
        self.max_entries = max_entries
        self.offline = offline
        self._lock = threading.Lock()
        self._build_lock = threading.Lock() if single_build else None
        self._token: str | None = None  # the token the values were built under
        self._until = 0.0  # monotonic time until which the values are trusted
        self._values: dict[Hashable, T] = {}
        # Bumped by clear_local(): a build that started before it is not kept, and pins drop.
        self.generation = 0
        with _registry_lock:
            _registry[name] = self

    def __repr__(self) -> str:
        return f"<ProcessCopy {self.name}>"

    # --- reading --------------------------------------------------------------------------

    def get(self, key: Hashable = None, *, build: Callable[[], T] | None = None) -> T | None:
        """The value (for `key` with per_key=True), from this process's copy when it is fresh
        under the rule above, else built now. `build` overrides the copy's builder for this
        call (per-key copies whose value depends on more than the key)."""
        slot = key if self.per_key else _ALL
        pins = _pins()
        if pins is None:
            # The common case, without taking the lock: a hit in a trusted copy. Writers replace
            # `_values` by a new dict (and otherwise only add to it), so a reader sees the copy
            # either as it was just before a change or after it, never half of one.
            if time.monotonic() < self._until and (self.token is None or self._token is not None):
                hit = self._values.get(slot, _MISSING)
                if hit is not _MISSING:
                    return hit
            return self._read(slot, key, build, self.generation)
        generation = self.generation
        pinned_entry = pins.get((id(self), slot))
        if pinned_entry is not None and pinned_entry[0] == generation:
            return pinned_entry[1]
        value = self._read(slot, key, build, generation)
        pins[(id(self), slot)] = (generation, value)
        return value

    def _builder(self, key: Hashable, build: Callable[[], T] | None) -> Callable[[], T]:
        if build is not None:
            return build
        if self.per_key:
            return lambda: self.build(key)
        return self.build

    def _read(
        self, slot: Hashable, key: Hashable, build: Callable[[], T] | None, generation: int
    ) -> T | None:
        now = time.monotonic()
        with self._lock:
            trusted = now < self._until and (self.token is None or self._token is not None)
            if trusted and slot in self._values:
                return self._values[slot]
        token: str | None = None
        if self.token is not None:
            if not trusted:
                token = self.token.read()
                if token is None:  # the shared cache is down
                    if self.offline == _OFFLINE_BUILD:
                        return self._builder(key, build)()
                    if self.offline != _OFFLINE_KEEP:
                        return None
                    token = _OFFLINE_TOKEN
            with self._lock:
                if token is not None:
                    if token != self._token:
                        self._token = token
                        self._values = {}
                    self._until = now + (self.trust_seconds or 0.0)
                token = self._token
                if slot in self._values:
                    return self._values[slot]
        else:
            with self._lock:
                if not trusted:
                    self._values = {}
                    self._until = (
                        float("inf") if self.trust_seconds is None else now + self.trust_seconds
                    )
                if slot in self._values:
                    return self._values[slot]
        if self._build_lock is None:
            return self._build(slot, key, build, generation, token)
        with self._build_lock:
            with self._lock:  # another thread may have built it while this one waited
                if self.generation == generation and self._token == token and slot in self._values:
                    return self._values[slot]
            return self._build(slot, key, build, generation, token)

    def _build(
        self,
        slot: Hashable,
        key: Hashable,
        build: Callable[[], T] | None,
        generation: int,
        token: str | None,
    ) -> T:
        value = self._builder(key, build)()
        with self._lock:
            # Not when this process changed data, or another thread saw a newer token, meanwhile.
            if self.generation == generation and self._token == token:
                if self.max_entries is not None and len(self._values) >= self.max_entries:
                    self._values = {}
                self._values[slot] = value
        return value

    # --- changing -------------------------------------------------------------------------

    def clear_local(self) -> None:
        """Forget this process's copy (all keys); pinned snapshots of it are dropped too."""
        with self._lock:
            self._values = {}
            self._token = None
            self._until = 0.0
            self.generation += 1

    def invalidate(self) -> None:
        """The data changed (call it from the post_save/post_delete receivers, or after a bulk
        write): forget the copy here now, publish a new token now, and forget and publish again
        when the transaction commits (once per transaction). Without a token, only this
        process's copy is forgotten (now and on commit)."""
        self.clear_local()
        if self.token is not None:
            self.token.publish()
        # on_commit_once compares with ==: this copy's bound method is equal on every access.
        on_commit_once(self._after_commit)

    def _after_commit(self) -> None:
        self.clear_local()  # a thread of this process may have re-read before the commit
        if self.token is not None:
            self.token.publish()


def _pins() -> dict | None:
    if _local.depth > 0:
        return _local.pins
    return None


@contextmanager
def pinned() -> Iterator[None]:
    """Within the block, this thread reads each copy (and key) at most once: one snapshot per
    decision (see the module docstring). Blocks nest; the snapshot ends with the outermost."""
    depth = _local.depth
    if not depth:
        _local.pins = {}
    _local.depth = depth + 1
    try:
        yield
    finally:
        _local.depth -= 1
        if not _local.depth:
            _local.pins = {}


def registered() -> dict[str, ProcessCopy[Any]]:
    """Every copy created in this process, by name."""
    with _registry_lock:
        return dict(_registry)


def clear_all_local() -> None:
    """Forget every copy of this process (tests, between cases)."""
    for copy in registered().values():
        copy.clear_local()
