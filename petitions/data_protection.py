"""What audit's personal-data jobs do with petitions (audit.registry; registered at ready()).

Retention: the petitioners of a closed petition lose their names ("已匿名"), ID numbers, phones
and addresses, with the lookup keys of the duplicate check (petitions.personal_data).
Key rotation: the petitioners' ID numbers are encrypted at rest (core.crypto).
"""

from __future__ import annotations

from audit.registry import EncryptedField, RetentionTarget, register_encrypted, register_retention
from audit.retention import ANONYMISED
from petitions.models import FINAL_STATES, Petitioner


def anonymise_petitions(ids: list[int]) -> None:
    Petitioner.objects.filter(petition_id__in=ids).update(
        name=ANONYMISED,
        id_number_value="",
        id_key="",
        phone="",
        phone_key="",
        address="",
    )


def register() -> None:
    register_retention(
        RetentionTarget("petitions.petition", list(FINAL_STATES), "closed_at", anonymise_petitions)
    )
    register_encrypted(EncryptedField("petitions.Petitioner", "id_number_value"))
