"""core.process_cache: one consistency rule for every per-process copy."""

from __future__ import annotations

import itertools
import threading
import uuid

import pytest
from django.db import transaction

from core import process_cache
from core.cache import SharedToken
from core.process_cache import ProcessCopy, clear_all_local, pinned, registered


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(process_cache.time, "monotonic", clock)
    return clock


def _counter():
    counter = itertools.count(1)
    return lambda *key: (next(counter), *key)


def _token() -> SharedToken:
    return SharedToken(f"test:process-cache:{uuid.uuid4().hex}")


def _other_process_publishes(token: SharedToken) -> None:
    """What invalidate() in another process does to this one: only the shared token changes."""
    token.publish()


def test_a_copy_is_built_once_and_shared(clock):
    copy = ProcessCopy("test.once", _counter(), token=_token())
    assert copy.get() == (1,)
    assert copy.get() == (1,)
    assert registered()["test.once"] is copy


def test_another_processs_change_is_seen_at_the_next_token_read(clock):
    token = _token()
    copy = ProcessCopy("test.token", _counter(), token=token, trust_seconds=2.0)
    assert copy.get() == (1,)
    _other_process_publishes(token)
    clock.now += 1.9
    assert copy.get() == (1,)  # trusted without reading the token
    clock.now += 0.2
    assert copy.get() == (2,)  # within trust_seconds of the change


def test_with_no_trust_window_the_token_is_read_on_every_get(clock):
    token = _token()
    copy = ProcessCopy("test.notrust", _counter(), token=token)
    assert copy.get() == (1,)
    _other_process_publishes(token)
    assert copy.get() == (2,)


def test_invalidate_publishes_now_and_on_commit_once(db, clock, django_capture_on_commit_callbacks):
    token = _token()
    copy = ProcessCopy("test.invalidate", _counter(), token=token, trust_seconds=60.0)
    assert copy.get() == (1,)
    before = token.read()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        copy.invalidate()
        copy.invalidate()  # however many rows changed: one publish on commit
        published_now = token.read()
        assert published_now != before
        assert copy.get() == (2,)  # this process sees it at once, trust window or not
    assert len(callbacks) == 1
    assert token.read() != published_now  # published again after commit
    assert copy.get() == (3,)  # a copy read before the commit is forgotten


def test_a_build_that_raced_a_local_change_is_not_kept(clock):
    token = _token()
    copy: ProcessCopy = ProcessCopy("test.race", None, token=token)  # type: ignore[arg-type]
    values = iter([1, 2])

    def build():
        value = next(values)
        if value == 1:
            copy.clear_local()  # this process saved a change while the first build ran
        return value

    copy.build = build
    assert copy.get() == 1  # the caller gets what it built ...
    assert copy.get() == 2  # ... but it was not kept


def test_per_key_copies_and_their_bound(clock):
    copy = ProcessCopy("test.perkey", _counter(), token=_token(), per_key=True, max_entries=2)
    assert copy.get("a") == (1, "a")
    assert copy.get("b") == (2, "b")
    assert copy.get("a") == (1, "a")
    assert copy.get("c") == (3, "c")  # full: the copy was dropped, then c stored
    assert copy.get("a") == (4, "a")
    assert copy.get("x", build=lambda: "built for this call") == "built for this call"
    assert copy.get("x") == "built for this call"
    with pytest.raises(ValueError):
        ProcessCopy("test.bad", _counter(), token=_token(), max_entries=3)


def test_a_copy_without_token_lives_trust_seconds(db, clock):
    copy = ProcessCopy("test.ttl", _counter(), trust_seconds=30.0)
    assert copy.get() == (1,)
    clock.now += 29
    assert copy.get() == (1,)
    clock.now += 2
    assert copy.get() == (2,)
    copy.invalidate()  # outside a transaction: at once, this process only
    assert copy.get() == (3,)
    forever = ProcessCopy("test.forever", _counter(), trust_seconds=None)
    assert forever.get() == (1,)
    clock.now += 10**9
    assert forever.get() == (1,)
    with pytest.raises(ValueError):
        ProcessCopy("test.never", _counter(), trust_seconds=0)


class DownToken(SharedToken):
    def read(self):
        return None


def test_while_the_cache_is_down_the_database_is_read_every_time(clock):
    copy = ProcessCopy("test.down", _counter(), token=DownToken("down"), trust_seconds=2.0)
    assert copy.get() == (1,)
    assert copy.get() == (2,)
    quiet = ProcessCopy("test.down.none", _counter(), token=DownToken("down"), offline=None)
    assert quiet.get() is None


def test_pinned_reads_one_snapshot_per_block(clock):
    token = _token()
    reads = []

    class CountingToken(SharedToken):
        def read(self):
            reads.append(1)
            return super().read()

    counting = CountingToken(token.name)
    copy = ProcessCopy("test.pinned", _counter(), token=counting)
    with pinned():
        assert copy.get() == (1,)
        _other_process_publishes(token)
        assert copy.get() == (1,)  # another process's change: when the block ends
        with pinned():
            assert copy.get() == (1,)
        assert copy.get() == (1,)
        assert len(reads) == 1
        copy.clear_local()  # this process's own change: at once
        assert copy.get() == (2,)
    _other_process_publishes(token)
    assert copy.get() == (3,)


def test_pins_are_per_thread(clock):
    copy = ProcessCopy("test.threads", _counter(), token=_token())
    seen = []
    with pinned():
        assert copy.get() == (1,)
        copy.clear_local()

        def other_thread():
            seen.append(copy.get())

        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert seen == [(2,)]


def test_clear_all_local_forgets_every_copy(clock):
    first = ProcessCopy("test.all.1", _counter(), token=_token(), trust_seconds=60)
    second = ProcessCopy("test.all.2", _counter(), trust_seconds=60)
    assert (first.get(), second.get()) == ((1,), (1,))
    clear_all_local()
    assert (first.get(), second.get()) == ((2,), (2,))


def test_offline_keep_holds_the_local_copy_while_the_cache_is_down(clock):
    class SwitchToken(SharedToken):
        down = False

        def read(self):
            return None if self.down else super().read()

    token = SwitchToken(f"test:process-cache:{uuid.uuid4().hex}")
    copy = ProcessCopy("test.keep", _counter(), token=token, trust_seconds=2.0, offline="keep")
    assert copy.get() == (1,)
    token.down = True
    clock.now += 3
    assert copy.get() == (2,)  # the cache stopped answering: built once
    clock.now += 3
    assert copy.get() == (2,)  # and kept
    copy.clear_local()  # this process's own change: at once
    assert copy.get() == (3,)
    token.down = False
    clock.now += 3
    assert copy.get() == (4,)  # the cache answers again: another process may have changed it
    with pytest.raises(ValueError):
        ProcessCopy("test.keep.bad", _counter(), token=_token(), offline="sometimes")


def test_single_build_builds_once_for_concurrent_readers(settings):
    # An in-memory cache: the threads race for the build, not for the file cache's files (a
    # file-cache error under load reads as an outage, and an outage builds every time).
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    builds = []
    started = threading.Event()

    def slow_build():
        builds.append(1)
        started.wait(0.05)
        return len(builds)

    token = _token()
    token.read()  # the token exists before the race: only the build is under test
    copy = ProcessCopy("test.single", slow_build, token=token, single_build=True)
    results = []
    threads = [threading.Thread(target=lambda: results.append(copy.get())) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert builds == [1] and results == [1] * 8
