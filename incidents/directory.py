"""The routing directory: the region tree and who holds the dispatcher and department-handler
roles where, kept in each process (issue #8; docs/performance.md, "Routing reads").

Routing a report read the same small, rarely changing tables on every step: the community row,
its parents (with their boundaries), the chain of parent ids twice, the dispatchers along it
three times, the department's handlers: about half the worker step's queries
(docs/performance.md, "Incidents web"). Each process keeps
a snapshot instead, built with two queries (every region without its boundary; the active
dispatchers' and department handlers' role rows with their scope and department), and builds
it again when the queue's pickers' token changes (incidents.caches.PICKERS_TOKEN: published
at once and on commit whenever a grid cell, a region or a user is saved or deleted, or a
user's roles change). It is a `core.process_cache.ProcessCopy` (token read on every lookup,
`offline=None`): `current()` answers None while the cache is down and the callers
(incidents.routing) then read the database as before.

What is NOT here: workload (open tasks per person) and grid workers on duty, which change with
every incident and stay live reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS

from accounts.models import RoleCode, User
from core import process_cache
from grids.models import Region
from incidents.caches import PICKERS_TOKEN

# Every column of a region but its boundary (a GeoJSON polygon: the bulk of the row).
REGION_FIELDS: tuple[str, ...] = tuple(
    f.attname for f in Region._meta.concrete_fields if f.name != "boundary"
)
_ID, _PARENT, _LEVEL = (REGION_FIELDS.index(name) for name in ("id", "parent_id", "level"))


@dataclass(frozen=True)
class Directory:
    """One process's snapshot. Shared by the process's threads: never modified once built."""

    regions: dict[int, tuple]  # id → the row, in REGION_FIELDS order
    dispatchers_at: dict[int, tuple[int, ...]]  # scope region id → active dispatchers, sorted
    handlers: dict[str, tuple[tuple[int, str], ...]]  # department → (user id, scope prefix)

    def region(self, region_id: int | None) -> Region | None:
        """A Region instance of the snapshot's row (boundary deferred: reading it is a query),
        new for each call (the caller may set attributes on it), or None if unknown."""
        row = self.regions.get(region_id) if region_id is not None else None
        if row is None:
            return None
        return Region.from_db(DEFAULT_DB_ALIAS, REGION_FIELDS, row)

    def level(self, region_id: int) -> str:
        return self.regions[region_id][_LEVEL]

    def chain(self, region_id: int) -> list[int]:
        """The region's id and its ancestors' ids, nearest first (an unknown id: itself)."""
        row = self.regions.get(region_id)
        if row is None:
            return [region_id]
        return [region_id, *self.ancestors(row[_PARENT], seen={region_id})]

    def ancestors(self, region_id: int | None, *, seen: set[int] | None = None) -> Iterator[int]:
        """`region_id` and the ids above it while they are known (a cycle stops the walk)."""
        seen = set(seen or ())
        while region_id is not None and region_id in self.regions and region_id not in seen:
            seen.add(region_id)
            yield region_id
            region_id = self.regions[region_id][_PARENT]

    def knows_chain_from(self, region_id: int | None) -> bool:
        """Every region from `region_id` up to the root is in the snapshot."""
        seen: set[int] = set()
        while region_id is not None:
            if region_id not in self.regions or region_id in seen:
                return False
            seen.add(region_id)
            region_id = self.regions[region_id][_PARENT]
        return True

    def region_at_level(self, parent_id: int | None, level: str | None) -> Region | None:
        """The first region at `level` from `parent_id` up (the caller checked the chain)."""
        for pk in self.ancestors(parent_id):
            if self.level(pk) == level:
                return self.region(pk)
        return None

    def nearest_dispatcher_ids(self, region_id: int) -> list[int]:
        """Dispatchers of the region, else of the nearest region above it that has any."""
        for pk in self.chain(region_id):
            found = self.dispatchers_at.get(pk)
            if found:
                return list(found)
        return []

    def department_handler_ids(self, department: str, region_code: str) -> list[int]:
        """Handlers of `department` whose scope covers the region code."""
        if not region_code:
            return []
        return sorted(
            {
                pk
                for pk, prefix in self.handlers.get(department, ())
                if region_code.startswith(prefix)
            }
        )


def build() -> Directory:
    """Two queries: the regions, then the role rows of active dispatchers and handlers."""
    regions = {row[_ID]: row for row in Region.objects.order_by().values_list(*REGION_FIELDS)}
    staff = (
        User.roles.through.objects.filter(
            role_id__in=[RoleCode.DISPATCHER, RoleCode.DEPARTMENT_HANDLER],
            user__is_active=True,
            user__scope_region__isnull=False,
        )
        .order_by()
        .values_list(
            "user_id",
            "role_id",
            "user__scope_region_id",
            "user__department",
            "user__scope_region__code",  # joined: a region added since the first query counts
            "user__scope_region__level",
        )
    )
    dispatchers: dict[int, set[int]] = {}
    handlers: dict[str, set[tuple[int, str]]] = {}
    for user_id, role, region_id, department, code, level in staff:
        if role == RoleCode.DISPATCHER:
            dispatchers.setdefault(region_id, set()).add(user_id)
        else:
            handlers.setdefault(department, set()).add(
                (user_id, code[: Region.PREFIX_LENGTH[level]])
            )
    return Directory(
        regions=regions,
        dispatchers_at={pk: tuple(sorted(ids)) for pk, ids in dispatchers.items()},
        handlers={name: tuple(sorted(rows)) for name, rows in handlers.items()},
    )


DIRECTORY: process_cache.ProcessCopy[Directory] = process_cache.ProcessCopy(
    "incidents.directory", build, token=PICKERS_TOKEN, offline=None
)

# Within the block (or the decorated call), this thread's reads use one snapshot: the token is
# read once for a whole routing decision instead of once per lookup (a Redis round trip each).
# A change saved by this process meanwhile (clear()) is still seen at once; another process's
# when the block ends. Blocks nest. (core.process_cache.pinned: every copy, not only this one.)
pinned = process_cache.pinned


def clear() -> None:
    """Forget this process's snapshot (incidents.caches.clear_pickers does it: a change saved
    by this process, and between tests, where a rolled-back transaction changes no token)."""
    DIRECTORY.clear_local()


def current() -> Directory | None:
    """This process's snapshot as of the shared token, built again if the token changed; None
    while the cache is unreachable (the caller then reads the database)."""
    return DIRECTORY.get()
