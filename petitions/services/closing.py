"""Closing a petition (办结) once nothing more may be asked."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError
from petitions.models import (
    Petition,
    PetitionAction,
)
from petitions.policies import closable
from petitions.services._steps import (
    S,
    _check_move,
    _lock,
    _move,
    _refresh_due,
    _require_officer,
)

# Kept for old imports: the predicate lives in petitions.policies (selectors read it too).
_closable = closable


def petition_close(*, actor: User | None, petition_id: int, note: str = "") -> Petition:
    """Close (办结): a re-examined petition at once; a replied or reviewed one when the window to
    ask further has passed (or the petitioner said they are satisfied). `actor` None is the
    system (the sweep). Lock."""
    with transaction.atomic():
        petition = _lock(petition_id)
        if actor is not None:
            _require_officer(actor, petition)
        _check_move(petition, S.CLOSED, PetitionAction.CLOSED)
        now = timezone.now()
        if not closable(petition, now):
            raise ConflictError(
                _("The petitioner may still ask for review or re-examination; close it later.")
            )
        petition.closed_at = now
        if petition.backlog and petition.backlog_resolved_at is None:
            petition.backlog_resolved_at = now
        _move(petition, S.CLOSED, actor=actor, action=PetitionAction.CLOSED, note=note.strip())
        _refresh_due(petition)
        petition.save()
    return petition
