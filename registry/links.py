"""What higher apps show on a key person's page (linked incidents, mediation cases), without
registry importing them: registry sits below incidents and mediation. Each registers a provider
here from its AppConfig.ready(); the page asks `linked_matters(user, person)`.

A provider takes `(user, person)` and returns a list of LinkedMatter, already scoped to what
`user` may see in that app (the provider uses its own app's selectors). How matters are found
is the provider's choice; the two ways registry offers:
- `person.phone_key` / `person.id_key`: the same keyed hashes incidents' reporters and
  petitions' petitioners can be compared with (registry.personal_data.lookup_key), so a matter
  reported from the person's phone is found without decrypting anything;
- `PersonLink` rows: an explicit link a worker made (target "incident" / "mediation_case" and
  the id), for matters about the person that they did not report themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User
    from registry.models import Person


@dataclass(frozen=True)
class LinkedMatter:
    kind: str  # "incident", "mediation_case" …: the provider's name for its matters
    label: str  # what the page shows: a tracking number, a case number
    title: str  # a short description (already masked by the provider)
    url: str
    status: str = ""


Provider = Callable[["User", "Person"], list[LinkedMatter]]

_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    """Register (or replace) the provider called `name`; called from an AppConfig.ready()."""
    _providers[name] = provider


def provider_names() -> list[str]:
    return sorted(_providers)


def explicit_ids(person: Person, target: str) -> list[int]:
    """The ids of the `target` matters a worker linked to `person` (PersonLink)."""
    return list(person.links.filter(target=target).values_list("target_id", flat=True))


def linked_matters(user: User, person: Person) -> dict[str, list[LinkedMatter]]:
    """The matters linked to `person` that the providers let `user` see, by provider name."""
    return {name: list(_providers[name](user, person)) for name in sorted(_providers)}
