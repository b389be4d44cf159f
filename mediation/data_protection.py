"""What audit's personal-data jobs do with mediation cases (audit.registry; registered at
ready()).

Retention: the parties of a closed case lose their names ("已匿名"), ID numbers, phones and
addresses, the agreement its parties' details, the parties' signatures their names.
Key rotation: the parties' ID numbers are encrypted at rest (core.crypto).
"""

from __future__ import annotations

from audit.registry import EncryptedField, RetentionTarget, register_encrypted, register_retention
from audit.retention import ANONYMISED
from mediation.models import FINAL_STATES, AgreementSignature, CaseParty, MediationAgreement


def anonymise_cases(ids: list[int]) -> None:
    CaseParty.objects.filter(case_id__in=ids).update(
        name=ANONYMISED, id_number="", phone="", address=""
    )
    MediationAgreement.objects.filter(case_id__in=ids).update(parties_details=ANONYMISED)
    AgreementSignature.objects.filter(agreement__case_id__in=ids, party__isnull=False).update(
        signer_name=ANONYMISED
    )


def register() -> None:
    register_retention(
        RetentionTarget("mediation.mediationcase", list(FINAL_STATES), "closed_at", anonymise_cases)
    )
    register_encrypted(EncryptedField("mediation.CaseParty", "id_number"))
