"""What audit's personal-data jobs do with screened disputes (audit.registry; registered at
ready()).

Retention: the parties of a closed dispute lose their names ("已匿名") and phones.
Key rotation: the parties' names and phones are encrypted at rest (core.crypto).
"""

from __future__ import annotations

from audit.registry import EncryptedField, RetentionTarget, register_encrypted, register_retention
from audit.retention import ANONYMISED
from screening.models import FINAL_STATES, DisputeParty


def anonymise_disputes(ids: list[int]) -> None:
    for party in DisputeParty.objects.filter(dispute_id__in=ids):
        party.name = ANONYMISED
        party.phone = ""
        party.save(update_fields=["name", "phone"])


def register() -> None:
    register_retention(
        RetentionTarget("screening.dispute", list(FINAL_STATES), "closed_at", anonymise_disputes)
    )
    register_encrypted(EncryptedField("screening.DisputeParty", "name"))
    register_encrypted(EncryptedField("screening.DisputeParty", "phone"))
