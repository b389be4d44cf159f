"""Transaction helpers shared by the apps."""

from collections.abc import Callable

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
