"""What audit's personal-data jobs do with tasks from above (audit.registry; registered at
ready()).

Retention: once an assignment of a service of documents is closed (done or withdrawn) past the
retention period, the addressee loses name, phone, ID number and address ("已匿名").
Key rotation: the addressee's phone and ID number are encrypted at rest (core.crypto).
"""

from __future__ import annotations

from audit.registry import EncryptedField, RetentionTarget, register_encrypted, register_retention
from audit.retention import ANONYMISED


def anonymise_assignments(ids: list[int]) -> None:
    from assignments.models import DocumentService

    DocumentService.objects.filter(task__assignments__in=ids).update(
        addressee_name=ANONYMISED, addressee_phone="", addressee_id_number="", addressee_address=""
    )


def register() -> None:
    from assignments.models import FINAL_STATES

    register_retention(
        RetentionTarget(
            "assignments.assignment",
            [str(s) for s in FINAL_STATES],
            "done_at",
            anonymise_assignments,
        )
    )
    register_encrypted(
        EncryptedField("assignments.DocumentService", "addressee_phone"),
        EncryptedField("assignments.DocumentService", "addressee_id_number"),
    )
