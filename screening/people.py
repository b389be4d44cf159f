"""The registry's people as screening sees them: whether a linked person is a key person (a risk
factor set by the services). Until registry.Person / registry.KeyPerson exist on this branch
nothing is linked and nobody is a key person."""

from __future__ import annotations

from collections.abc import Iterable


def any_key_person(person_ids: Iterable[int]) -> bool:
    return False
