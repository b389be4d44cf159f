"""The categories a report may use (active subclasses), by code, kept in each process.

A report looked its category up with one SQL query per request; the categories change a few
times a year (admin edits, `load_categories`). Each process keeps them in memory and re-reads
them all (one query) when the shared token in the cache changes: saving or deleting a category
publishes a new token (at once and again on commit); the process that saved forgets its copy at
once, every other web and worker process sees the change within CHECK_SECONDS (it reads the
token at most once per CHECK_SECONDS, like grids.locator: a Redis round trip on every report
was a tenth of its time). Checking the token is one cache read (Redis in production), much
cheaper than building and running the SQL query. If the cache is down, the categories are read
from the database (correct, only slower). The copy is a `core.process_cache.ProcessCopy`.
"""

from __future__ import annotations

from typing import TypedDict

from core.cache import SharedToken
from core.process_cache import ProcessCopy
from incidents.models import Category

TOKEN = SharedToken("incidents:categories:token")
# How long a process trusts its copy without reading the shared token again.
CHECK_SECONDS = 2.0


class _Categories(TypedDict):
    by_code: dict[str, Category]
    by_id: dict[int, Category]


def _build() -> _Categories:
    rows = list(Category.objects.filter(active=True, parent__isnull=False).select_related("parent"))
    return {"by_code": {c.code: c for c in rows}, "by_id": {c.pk: c for c in rows}}


CATEGORIES: ProcessCopy[_Categories] = ProcessCopy(
    "incidents.categories", _build, token=TOKEN, trust_seconds=CHECK_SECONDS
)


def _fresh() -> _Categories:
    categories = CATEGORIES.get()
    assert categories is not None  # offline="build": never None  # nosec B101
    return categories


def active_subcategories() -> dict[str, Category]:
    """{code: Category} of the active subclasses (parent set), as of the latest change. The
    instances are shared by the process's threads: read them, never modify them."""
    return _fresh()["by_code"]


def active_subcategory(code: str) -> Category | None:
    return _fresh()["by_code"].get(code)


def active_subcategory_by_id(pk: int | None) -> Category | None:
    if pk is None:
        return None
    return _fresh()["by_id"].get(pk)


def clear_local() -> None:
    """Forget this process's copy (tests: a rolled-back transaction leaves no token change)."""
    CATEGORIES.clear_local()


def invalidate() -> None:
    """A category changed: forget the copy here, publish a new token now and again after
    commit (a process that re-read in between saw the old rows)."""
    CATEGORIES.invalidate()


def category_changed(sender, **kwargs) -> None:
    """post_save / post_delete receiver (incidents.apps); raw saves (fixtures) count too."""
    invalidate()
