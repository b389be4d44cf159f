"""URL memo: `reverse()` once per process for "the page of object <pk>" links (issue 16).

Not a URLconf (the project's is governance.urls): a helper for code that builds many links to
the same named route with only the id changing (a notification per incident, a queue page of
50 rows). `reverse()` walks the resolver each time; profiling showed it in the worker's report
step and in the queue page (docs/performance.md). Instead, the route is reversed once with a
sentinel id and the sentinel is replaced by each pk:

    incident_url = reverse_for_pk("incidents:detail")
    incident_url(42)  # "/incidents/42/"

Contract: the route takes exactly one argument, an integer pk, and its URL contains that
argument as written (no slug, no encoding). The memo is keyed by route name, script prefix and
URLconf, so a deployment under a sub-path and a test's `override_settings(ROOT_URLCONF=...)`
each get their own; nothing else can make a memo stale, so it is never invalidated.
`fallback(pk)` is used (and nothing memoised) while the route cannot be reversed: e.g. a fresh
worker whose sweep must not pay for loading the URLconf.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

__all__ = ["URL_SENTINEL", "clear", "reverse_for_pk"]

# Stands for the pk while the route is reversed; never a real id (9 digits, no zero).
URL_SENTINEL = 987654321
_SENTINEL_TEXT = str(URL_SENTINEL)

_lock = threading.Lock()
_memo: dict[tuple[str, str, str], str] = {}  # (name, script prefix, urlconf) -> URL with sentinel


def _pattern(name: str) -> str:
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    key = (name, get_script_prefix(), str(urlconf))
    pattern = _memo.get(key)
    if pattern is None:
        pattern = reverse(name, args=[URL_SENTINEL])  # NoReverseMatch: nothing memoised
        if pattern.count(_SENTINEL_TEXT) != 1:
            raise ValueError(f"{name}: the sentinel id does not appear once in {pattern}")
        with _lock:
            _memo[key] = pattern
    return pattern


def reverse_for_pk(
    name: str, *, fallback: Callable[[int], str] | None = None
) -> Callable[[int], str]:
    """A function pk -> the URL of route `name` for that pk, equal to
    `reverse(name, args=[pk])`. Cheap to call: create it at module level and call it per row.
    The route is resolved on the first call (not at import, when the URLconf may not be
    loaded yet), then memoised. With `fallback`, a route that does not reverse (NoReverseMatch)
    gives `fallback(pk)` instead of raising."""

    def url(pk: int) -> str:
        try:
            pattern = _pattern(name)
        except NoReverseMatch:
            if fallback is None:
                raise
            return fallback(pk)
        return pattern.replace(_SENTINEL_TEXT, str(int(pk)))

    url.__name__ = f"url_of_{name.replace(':', '_')}"
    url.__doc__ = f"The URL of {name} for a pk (core.urls.reverse_for_pk)."
    return url


def clear() -> None:
    """Forget every memoised route (tests that change the URLconf in place)."""
    with _lock:
        _memo.clear()
