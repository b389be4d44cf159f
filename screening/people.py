"""The registry's people as screening sees them: a party may be linked to a person record the
actor sees (registry.selectors.scoped), and a linked person who is an active key person
(registry.KeyPerson) ticks the "key person" risk factor by itself."""

from __future__ import annotations

from collections.abc import Iterable

from accounts.models import User
from registry.models import KeyPerson, Person
from registry.selectors import scoped


def persons_visible(user: User, person_ids: Iterable[int | None]) -> dict[int, Person]:
    """The persons among `person_ids` that `user` may see, by id."""
    ids = {int(pk) for pk in person_ids if pk}
    if not ids:
        return {}
    return {p.pk: p for p in scoped(Person, user).filter(pk__in=ids)}


def any_key_person(person_ids: Iterable[int | None]) -> bool:
    ids = [int(pk) for pk in person_ids if pk]
    return (
        bool(ids)
        and KeyPerson.objects.filter(person_id__in=ids, status=KeyPerson.Status.ACTIVE).exists()
    )
