"""Counts reused for a minute, keyed by the query and the facts' watermark."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

from governance import aggregates
from governance.kpis.query import KpiQuery

Counts = TypeVar("Counts")  # what a compute function returns: counts per group, a series ...


def cache_seconds() -> int:
    """How long counts are reused (settings.GOVERNANCE_KPI_CACHE_SECONDS; 60 by default, 0
    under tests): the facts move once a minute anyway, and a wall of large screens polling
    the same figures then costs one query a minute."""
    from django.conf import settings

    default = 0 if getattr(settings, "TESTING", False) else 60
    return int(getattr(settings, "GOVERNANCE_KPI_CACHE_SECONDS", default))


_page_marks = threading.local()


@contextmanager
def one_watermark_read() -> Iterator[None]:
    """Within the block (one page: governance.dashboards), the facts' watermark is read once
    rather than once per cached block (a dashboard has several; docs/performance.md)."""
    _page_marks.active, _page_marks.has_mark = True, False
    try:
        yield
    finally:
        _page_marks.active, _page_marks.has_mark = False, False


def facts_watermark() -> datetime | None:
    """governance.aggregates.facts_as_of, once per one_watermark_read() block."""
    if not getattr(_page_marks, "active", False):
        return aggregates.facts_as_of()
    if not _page_marks.has_mark:
        _page_marks.mark, _page_marks.has_mark = aggregates.facts_as_of(), True
    return _page_marks.mark


def _cached_counts(query: KpiQuery, compute: Callable[[KpiQuery], Counts], kind: str) -> Counts:
    seconds = cache_seconds()
    if seconds <= 0:
        return compute(query)
    import hashlib

    from django.core.cache import cache

    mark = facts_watermark()
    raw = f"{kind}|{sorted(query.params().items())}|{mark.isoformat() if mark else ''}"
    key = "governance:kpi:" + hashlib.sha256(raw.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute(query)
        cache.set(key, value, seconds)
    return value
