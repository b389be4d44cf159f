"""The steps every petition service shares: the lock, the state check and move, the timeline
event (through core.workflow), the current deadline, and telling the petitioner and the
officers (inbox row in the transaction, SMS by a task after commit, see core.services)."""

from collections.abc import Sequence
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import RoleCode, User
from accounts.selectors import user_scope
from core import workflow
from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError
from core.services import notification_send, sms_queue
from petitions import deadlines, personal_data
from petitions.models import (
    GRAPH,
    Petition,
    PetitionAction,
    PetitionEvent,
    PetitionPolicy,
    PetitionState,
)
from petitions.policies import covers, is_officer

S = PetitionState


def backlog_repeat_threshold(policy: PetitionPolicy | None = None) -> int:
    """A petition raised again this many times joins the backlog (积案): PetitionPolicy."""
    return int((policy or PetitionPolicy.current()).backlog_repeats)


def _require_officer(actor: User, petition: Petition, *, receiving_unit: bool = False) -> None:
    if not is_officer(actor):
        raise PermissionDeniedError(_("Only petition officers may do this."))
    if receiving_unit:
        if not user_scope(actor).covers_code(petition.handling_region_code):
            raise NotFoundError(_("Petition not found."))
    elif not covers(actor, petition):
        raise NotFoundError(_("Petition not found."))


def _require_owner_or_officer(actor: User, petition: Petition) -> None:
    if petition.owner_id is not None and petition.owner_id == actor.pk:
        return
    _require_officer(actor, petition)


def _lock(petition_id: int) -> Petition:
    """The petition, locked until the transaction ends (core.workflow.lock)."""
    return workflow.lock(Petition, petition_id, not_found=NotFoundError(_("Petition not found.")))


def _conflict(petition: Petition, action: str, to_state: str | None) -> ConflictError:
    """How petitions word a refused move (core.workflow's `conflict` factory)."""
    return ConflictError(
        _("A petition that is %(state)s cannot become %(target)s.")
        % {"state": petition.get_state_display(), "target": S(to_state).label if to_state else ""}
    )


def _check_move(petition: Petition, to_state: str, action: str) -> None:
    """Refuse (409) unless the graph lets `action` move the petition to `to_state` now: for a
    service that checks the state before it changes anything else."""
    if not GRAPH.can(action, petition.state, to_state):
        raise _conflict(petition, action, to_state)


def _event(
    petition: Petition,
    *,
    actor: User | None,
    action: PetitionAction,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> PetitionEvent:
    return workflow.record(
        PetitionEvent,
        petition,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data,
    )


def _move(
    petition: Petition,
    to_state: str,
    *,
    actor: User | None,
    action: PetitionAction,
    note: str = "",
    public: bool = True,
    data: dict | None = None,
) -> PetitionEvent:
    """Move along the graph (core.workflow.move; no save) and write the event of the move."""
    from_state = workflow.move(petition, GRAPH, action, to_state, conflict=_conflict)
    return _event(
        petition,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        public=public,
        data=data,
    )


def _refresh_due(petition: Petition) -> None:
    due = deadlines.current_due(petition)
    if due != petition.due_at:
        petition.due_at = due
        petition.warned_for = None
        petition.overdue = False
        petition.overdue_since = None


def _mark_backlog(petition: Petition, reason: str, now: datetime) -> None:
    if not petition.backlog:
        petition.backlog = True
        petition.backlog_since = now
        petition.backlog_reason = reason
        petition.backlog_resolved_at = None


def _detail_url(petition: Petition) -> str:
    return reverse("petitions:detail", args=[petition.pk])


def _petitioner_mobiles(petition: Petition) -> list[str]:
    return [p.phone for p in petition.petitioners.all() if personal_data.is_mobile(p.phone)]


def _tell_petitioner(petition: Petition, *, key: str, title: str, body: str = "") -> None:
    """Inbox message to the petitioner's account and an SMS to the first mobile (after commit).
    Texts are rendered in the portal's default language (Chinese)."""
    if petition.owner_id:
        with _default_language():
            notification_send(
                user_ids=[petition.owner_id],
                title=title,
                body=body,
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-{key}",
            )
    mobiles = _petitioner_mobiles(petition)
    if mobiles:
        sms_queue(
            phone=mobiles[0],
            text=f"{title} {body}".strip(),
            dedupe_key=f"petition-{petition.pk}-{key}",
        )


def officer_ids_for(
    petition: Petition, *, roles: Sequence[str] = (RoleCode.PETITION_OFFICER,)
) -> list[int]:
    """Active users holding one of `roles` whose region covers the petition."""
    candidates = (
        User.objects.filter(is_active=True, roles__code__in=list(roles))
        .select_related("scope_region")
        .distinct()
    )
    result = []
    for user in candidates:
        if user.scope_region is None:
            continue
        prefix = user.scope_region.prefix
        if petition.region_code.startswith(prefix) or (
            petition.handling_region_code and petition.handling_region_code.startswith(prefix)
        ):
            result.append(user.pk)
    return result


def _default_language():
    """Stored texts (notifications, SMS, written notices) are in the portal's default language
    (Chinese), whatever the language of the request that caused them."""
    return translation.override(settings.LANGUAGE_CODE)
