"""What higher apps show on an incident's detail page, without the incident app importing them.

Mediation and petitions sit above incidents (core < accounts < grids < incidents < mediation <
petitions ...): the incident page may not import them. Each registers a provider here at
`ready()`; the page asks `linked_matters()`, which merges what the installed providers return.
A provider takes `(user, incident)` and returns a dict of template context keys, already scoped
to what `user` may see.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from incidents.models import Incident

Provider = Callable[["User", "Incident"], dict[str, Any]]

# The keys the detail template reads, with their value when no provider fills them.
DEFAULTS: dict[str, Any] = {"mediation_case": None, "mediation_case_linked": False, "petitions": []}

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Register (or replace) the provider called `name`; called from an AppConfig.ready()."""
    _providers[name] = provider


def linked_matters(user: User, incident: Incident) -> dict[str, Any]:
    """The matters linked to `incident` that the providers let `user` see."""
    result: dict[str, Any] = {
        key: (list(value) if isinstance(value, list) else value) for key, value in DEFAULTS.items()
    }
    for name in sorted(_providers):
        result.update(_providers[name](user, incident))
    return result
