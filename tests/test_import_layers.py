"""No import circles but services ⇄ tasks (issue 16; docs/architecture.md, "Layers").

import-linter's `layers` contract (pyproject.toml, `make lint-arch`) keeps the apps' order; it
has no contract for cycles, so this test builds the same import graph with grimp (import-linter's
own graph library) and looks for strongly connected components among the apps' modules.
Function-level (lazy) imports count: they hide a dependency without removing it. Imports under
`if TYPE_CHECKING:` do not. Tests and migrations are left out.

The one circle allowed is HackSoft's idiom within one app: `<app>.services` imports
`<app>.tasks` to enqueue on commit and the task imports the service inside its body. Any other
circle fails, except those listed in KNOWN_CYCLES, which the issue-16 restructuring removes;
the list may only shrink (a second test fails when a listed circle no longer exists, so that
the entry is deleted).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import grimp
import pytest

APPS = (
    "core",
    "accounts",
    "audit",
    "grids",
    "incidents",
    "mediation",
    "petitions",
    "integrations",
    "governance",
)
ROOT = Path(__file__).resolve().parent.parent

# Modules that play the services part of the services ⇄ tasks idiom under another name.
SERVICES_ALIASES = {"governance.exports"}  # governance's export jobs: exports ⇄ tasks

# Circles still to remove, each as its set of modules. Issue 16 removed every circle there was
# at 632d878 (section B); keep it empty.
KNOWN_CYCLES: list[frozenset[str]] = []


def _is_app_code(module: str) -> bool:
    parts = module.split(".")
    return "tests" not in parts and "migrations" not in parts


def _is_services_tasks_pair(importer: str, imported: str) -> bool:
    """<app>.services[.<stage>] ⇄ <app>.tasks (services may become a package)."""
    first, second = importer.split("."), imported.split(".")
    if first[0] != second[0] or len(first) < 2 or len(second) < 2:
        return False
    roles = set()
    for parts in (first, second):
        module = ".".join(parts[:2])
        roles.add("services" if module in SERVICES_ALIASES else parts[1])
    return roles == {"services", "tasks"}


def _graph() -> dict[str, set[str]]:
    import sys

    if str(ROOT) not in sys.path:  # pragma: no cover - pytest runs from the project root
        sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*APPS, exclude_type_checking_imports=True, cache_dir=None)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        if not _is_app_code(module):
            continue
        edges[module] = {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if _is_app_code(imported) and not _is_services_tasks_pair(module, imported)
        }
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterable[str]]] = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


@pytest.fixture(scope="module")
def cycles() -> list[frozenset[str]]:
    return _cycles(_graph())


def test_the_cycle_finder_sees_a_circle_and_allows_services_tasks():
    edges = {
        "a.services": {"a.tasks", "b.models"},
        "a.tasks": {"a.services"},
        "b.models": {"b.selectors"},
        "b.selectors": {"b.models"},
    }
    edges = {
        module: {i for i in imported if not _is_services_tasks_pair(module, i)}
        for module, imported in edges.items()
    }
    assert _cycles(edges) == [frozenset({"b.models", "b.selectors"})]
    assert _is_services_tasks_pair("incidents.services.sweep", "incidents.tasks")
    assert _is_services_tasks_pair("governance.tasks", "governance.exports")
    assert not _is_services_tasks_pair("incidents.services", "mediation.tasks")
    assert not _is_services_tasks_pair("incidents.services", "incidents.services")


def test_no_import_circles_but_services_tasks(cycles):
    new = [cycle for cycle in cycles if not any(cycle <= known for known in KNOWN_CYCLES)]
    assert not new, "new import circles:\n" + "\n".join(" ⇄ ".join(sorted(cycle)) for cycle in new)


def test_the_known_circles_are_still_there(cycles):
    """When a known circle is gone, delete its KNOWN_CYCLES entry (the list only shrinks)."""
    gone = [known for known in KNOWN_CYCLES if not any(cycle & known for cycle in cycles)]
    assert not gone, "remove from KNOWN_CYCLES:\n" + "\n".join(
        " ⇄ ".join(sorted(known)) for known in gone
    )
