"""The shared token of the incident pages' and routing's per-process copies (issue 16, B1).

The queue's pickers (incidents.page_selectors) and the routing directory (incidents.directory)
are `core.process_cache.ProcessCopy`s kept under one token, PICKERS_TOKEN: saving or deleting
a grid cell, a region or a user, or changing a user's roles, publishes a new token (at once
and again on commit: the receivers connected in incidents.apps) and forgets this process's
copies at once. Both modules import this one; neither imports the other.
"""

from __future__ import annotations

from typing import Any

from core import process_cache
from core.cache import SharedToken
from core.transactions import on_commit_once

__all__ = ["PICKERS_TOKEN", "clear_pickers", "pickers_changed"]

PICKERS_TOKEN = SharedToken("incidents:pickers:token")


def clear_pickers() -> None:
    """Forget this process's copies kept under PICKERS_TOKEN (the queue's pickers and the
    routing directory): a change saved by this process, and between tests, where a
    rolled-back transaction changes no token."""
    for copy in process_cache.registered().values():
        if copy.token is PICKERS_TOKEN:
            copy.clear_local()


def pickers_changed(sender: Any = None, **kwargs: Any) -> None:
    """post_save / post_delete / m2m_changed receiver (incidents.apps). A sign-in (which
    only stamps last_login) changes nothing the pickers show."""
    update_fields = kwargs.get("update_fields")
    if update_fields and set(update_fields) <= {"last_login"}:
        return
    clear_pickers()
    PICKERS_TOKEN.publish()
    # Once more when the transaction commits (another process may have rebuilt from the
    # uncommitted state meanwhile); one message per transaction, however many rows it wrote.
    on_commit_once(PICKERS_TOKEN.publish)
