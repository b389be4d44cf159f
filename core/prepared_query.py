"""Compiled-once SQL for hot reads (issue 16: moved here from incidents.routing, unchanged).

`PreparedQuery(build)` compiles `build(*values)` once per process (and database vendor, alias,
and length of each list argument) with sentinel integers in place of the values, then runs the
SQL with the connection's cursor, swapping the values in. Use it only where profiling showed
Django's compiler to be the cost (docs/performance.md): it relies on the compiler's private API
(`get_compiler().as_sql()`, `select`, `col_count`, `get_converters`), which a Django upgrade
may change; core/tests/test_prepared_query.py pins the behaviour.

Contract: every value is an int or a sequence of ints, and each must reach the SQL as a
parameter (a value folded into the SQL text raises RuntimeError at the first compile).
The compiled form never goes stale by itself: it depends on the query's shape only, never on
data, so there is nothing to invalidate.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

__all__ = ["PreparedQuery"]

# Stands for a variable parameter while a query is compiled; never a real id.
_SENTINEL = -7_391_000_000


class PreparedQuery:
    """A read whose SQL is compiled once per process (and database vendor, and length
    of each list argument), then run with the connection's cursor. The worker's system steps
    run the same few queries for every report; Django's compiler took most of their time
    (docs/performance.md, "core and grids").

    `build(*values)` returns the QuerySet (`values_list`, sliced if need be); each value is an
    int or a list of ints. `rows()` gives tuples as the database driver returns them (ids,
    codes); `dicts()` gives what `values()` gives, the columns' converters applied (dates,
    booleans on SQLite ...)."""

    def __init__(self, build: Callable[..., QuerySet]) -> None:
        self.build = build
        self.compiled: dict[tuple, _Compiled] = {}
        self.lock = threading.Lock()

    def _compile(self, shape: tuple) -> _Compiled:
        counter = iter(range(1, 1_000_000))
        args: list = []
        for length in shape:
            if length is None:
                args.append(_SENTINEL - next(counter))
            else:
                args.append([_SENTINEL - next(counter) for _ in range(length)])
        query = self.build(*args).query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        # Each parameter: ("v", index into the flattened values) or ("c", a constant).
        plan = [("v", _SENTINEL - p - 1) if _is_sentinel(p) else ("c", p) for p in params]
        wanted = sum(1 if n is None else n for n in shape)
        if {index for kind, index in plan if kind == "v"} != set(range(wanted)):
            raise RuntimeError(f"{self.build.__name__}: a parameter is not in the SQL")
        expressions = [column[0] for column in compiler.select[: compiler.col_count]]
        return _Compiled(
            sql=sql,
            plan=plan,
            names=[*query.extra_select, *query.values_select, *query.annotation_select],
            converters=list(compiler.get_converters(expressions).items()),
        )

    def _entry(self, values: tuple) -> _Compiled:
        shape = tuple(None if isinstance(v, int) else len(v) for v in values)
        key = (connection.vendor, connection.alias, shape)
        entry = self.compiled.get(key)
        if entry is None:
            with self.lock:
                entry = self.compiled.setdefault(key, self._compile(shape))
        return entry

    def rows(self, *values: int | Sequence[int]) -> list[tuple]:
        sql, params = self.sql_with_params(*values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def dicts(self, *values: int | Sequence[int]) -> list[dict]:
        """The rows as `values()` gives them (what SQLCompiler.apply_converters does)."""
        entry = self._entry(values)
        result = []
        for row in self.rows(*values):
            if entry.converters:
                converted = list(row)
                for position, (functions, expression) in entry.converters:
                    value = converted[position]
                    for function in functions:
                        value = function(value, expression, connection)
                    converted[position] = value
                row = tuple(converted)
            result.append(dict(zip(entry.names, row, strict=True)))
        return result

    def sql_with_params(self, *values: int | Sequence[int]) -> tuple[str, list]:
        """The compiled SQL and its parameters for these values (for `Model.objects.raw`)."""
        entry = self._entry(values)
        flat: list[int] = []
        for value in values:
            if isinstance(value, int):
                flat.append(value)
            else:
                flat.extend(value)
        return entry.sql, [flat[x] if kind == "v" else x for kind, x in entry.plan]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    plan: list  # per parameter: ("v", index into the values) or ("c", a constant)
    names: list[str]  # the columns' names (values() / values_list() order)
    converters: list  # (position, (functions, expression)): SQLCompiler.get_converters


def _is_sentinel(param) -> bool:
    return type(param) is int and _SENTINEL - 1_000_000 < param < _SENTINEL
