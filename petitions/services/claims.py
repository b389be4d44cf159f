"""认领: a resident whose phone is verified (residents app) takes over the petitions filed with
that phone before they had an account (a petitioner's phone, matched by its lookup key)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import User
from core.exceptions import PermissionDeniedError
from petitions import personal_data
from petitions.models import Petition


def petitions_claim_by_phone(*, user: User) -> int:
    """The petitions without an owner with a petitioner of `user`'s verified phone become
    `user`'s (owner set). Returns how many."""
    if not user.phone or user.phone_verified_at is None:
        raise PermissionDeniedError("phone not verified")
    key = personal_data.lookup_key("phone", personal_data.normalise_phone(user.phone))
    with transaction.atomic():
        ids = sorted(
            set(
                Petition.objects.select_for_update(of=("self",))
                .filter(owner__isnull=True, petitioners__phone_key=key)
                .values_list("pk", flat=True)
            )
        )
        if not ids:
            return 0
        Petition.objects.filter(pk__in=ids).update(owner=user)
        return len(ids)
