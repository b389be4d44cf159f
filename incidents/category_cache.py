"""The categories a report may use (active subclasses), by code, kept in each process.

A report looked its category up with one SQL query per request; the categories change a few
times a year (admin edits, `load_categories`). Each process keeps them in memory and re-reads
them all (one query) when the shared token in the cache changes: saving or deleting a category
publishes a new token (at once and again on commit); the process that saved forgets its copy at
once, every other web and worker process sees the change within CHECK_SECONDS (it reads the
token at most once per CHECK_SECONDS, like grids.locator: a Redis round trip on every report
was a tenth of its time). Checking the token is one cache read (Redis in production), much
cheaper than building and running the SQL query. If the cache is down, the categories are read
from the database (correct, only slower).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import transaction

from core.cache import SharedToken
from incidents.models import Category

logger = logging.getLogger(__name__)

TOKEN = SharedToken("incidents:categories:token")
_lock = threading.Lock()
_state: dict = {"token": None, "by_code": {}, "by_id": {}, "until": 0.0}  # nosec B105
# How long a process trusts its copy without reading the shared token again.
CHECK_SECONDS = 2.0


def active_subcategories() -> dict[str, Category]:
    """{code: Category} of the active subclasses (parent set), as of the latest change. The
    instances are shared by the process's threads: read them, never modify them."""
    return _fresh()["by_code"]


def _fresh() -> dict:
    state = _state
    now = time.monotonic()
    if state["token"] is not None and now < state["until"]:
        return state
    token = TOKEN.read()
    if token is not None and token == state["token"]:
        state["until"] = now + CHECK_SECONDS
        return state
    rows = list(Category.objects.filter(active=True, parent__isnull=False).select_related("parent"))
    state = {
        "token": token,
        "by_code": {c.code: c for c in rows},
        "by_id": {c.pk: c for c in rows},
        "until": now + CHECK_SECONDS,
    }
    with _lock:
        _state.update(state)
    return state


def active_subcategory(code: str) -> Category | None:
    return _fresh()["by_code"].get(code)


def active_subcategory_by_id(pk: int | None) -> Category | None:
    return _fresh()["by_id"].get(pk)


def clear_local() -> None:
    """Forget this process's copy (tests: a rolled-back transaction leaves no token change)."""
    with _lock:
        _state.update(token=None, by_code={}, by_id={}, until=0.0)


def invalidate() -> None:
    """A category changed: publish a new token now and again after commit (a process that
    re-read in between saw the old rows)."""
    clear_local()

    def forget_and_publish() -> None:
        clear_local()  # a thread of this process may have re-read before the commit
        TOKEN.publish()

    TOKEN.publish()
    transaction.on_commit(forget_and_publish)


def category_changed(sender, **kwargs) -> None:
    """post_save / post_delete receiver (incidents.apps); raw saves (fixtures) count too."""
    invalidate()
