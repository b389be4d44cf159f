"""认领: a resident whose phone is verified (residents app) takes over the mediation
applications made with that phone before they had an account (the applicant party's phone)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.exceptions import PermissionDeniedError
from mediation.models import CaseParty, MediationCase


def cases_claim_by_phone(*, user: User) -> int:
    """The cases with no online applicant whose applicant party has `user`'s verified phone
    become `user`'s applications (the party is linked to the account). Returns how many."""
    if not user.phone or user.phone_verified_at is None:
        raise PermissionDeniedError("phone not verified")
    with transaction.atomic():
        parties = CaseParty.objects.select_for_update(of=("self",)).filter(
            role=CaseParty.Role.APPLICANT,
            phone=user.phone,
            user__isnull=True,
            case__applicant_user__isnull=True,
        )
        case_ids = sorted(set(parties.values_list("case_id", flat=True)))
        if not case_ids:
            return 0
        parties.update(user=user)
        MediationCase.objects.filter(pk__in=case_ids, applicant_user__isnull=True).update(
            applicant_user=user
        )
        return len(case_ids)
