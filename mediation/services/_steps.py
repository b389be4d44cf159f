"""The steps every mediation service shares: lock the case, check who and what state, move it along
the declared graph and record the timeline row, tell the parties and mediators, enqueue the
incident report on commit.
"""

from collections.abc import Sequence
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from core.services import notification_send, sms_queue
from core.workflow import enqueue_on_commit, lock, move, record
from mediation.models import (
    GRAPH,
    CaseState,
    MediationCase,
    MediationEvent,
    MediationSession,
    RoomMediator,
)
from mediation.selectors import cases_visible, user_is_room_staff

# Defaults of MediationPolicy.settle_days / max_extension_days (the services read the policy).
SETTLE_DAYS = 30
CONFIRMATION_DAYS = 30
MAX_EXTENSION_DAYS = 60
# A signature or the seal may be entered a little after the clock says (device clocks differ).
CLOCK_TOLERANCE = timedelta(minutes=5)
MAX_SESSION_MINUTES = 8 * 60


# --- small helpers ------------------------------------------------------------------------


def _case_url(case: MediationCase) -> str:
    return reverse("mediation:case_detail", args=[case.pk])


def _event(
    case: MediationCase,
    *,
    actor: User | None,
    action: str,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    data: dict | None = None,
) -> MediationEvent:
    return record(
        MediationEvent,
        case,
        actor=actor,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
        data=data,
    )


def _move_refused(case: MediationCase, action: str, target: str | None) -> ConflictError:
    return ConflictError(
        _("A case that is “%(state)s” cannot become “%(target)s”.")
        % {
            "state": CaseState(case.state).label,
            "target": CaseState(target).label if target else "",
        }
    )


def _move(
    case: MediationCase,
    *,
    actor: User | None,
    target: str,
    action: str,
    note: str = "",
    data: dict | None = None,
) -> MediationEvent:
    """Apply one move of the declared graph (mediation.models.GRAPH; the caller holds the row
    lock), save the case and record the move on its timeline."""
    source = move(case, GRAPH, action, target, conflict=_move_refused)
    case.save()
    return _event(
        case, actor=actor, action=action, from_state=source, to_state=target, note=note, data=data
    )


def _require_state(case: MediationCase, states: Sequence[str]) -> None:
    if case.state not in states:
        raise ConflictError(
            _("Not possible while the case is “%(state)s”.") % {"state": case.get_state_display()}
        )


def _case_for_update(case_id: int, actor: User | None) -> MediationCase:
    """Lock the case; a user who may not see it gets 404 (its existence is not revealed)."""
    case = lock(MediationCase, case_id, not_found=NotFoundError(_("Mediation case not found.")))
    if actor is not None and not cases_visible(actor).filter(pk=case_id).exists():
        raise NotFoundError(_("Mediation case not found."))
    return case


def _require_staff(actor: User, case: MediationCase) -> None:
    if not user_is_room_staff(actor, case.room_id):
        raise PermissionDeniedError(_("Only the mediators of this room may do that."))


def _required_text(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(message, extra={field_name: [message]})
    return value


def _party_user_ids(case: MediationCase) -> set[int]:
    ids = set(case.parties.exclude(user=None).values_list("user_id", flat=True))
    if case.applicant_user_id:
        ids.add(case.applicant_user_id)
    return ids


def _mediator_user_ids(case: MediationCase) -> set[int]:
    if case.mediator_id:
        return {case.mediator_id}
    return set(
        RoomMediator.objects.filter(room_id=case.room_id, active=True).values_list(
            "user_id", flat=True
        )
    )


def _notify_parties(
    case: MediationCase, *, title: str, body: str = "", key: str, sms_text: str = ""
) -> None:
    """Inbox for parties with an account; SMS to every party's phone (sent after commit)."""
    notification_send(
        user_ids=_party_user_ids(case),
        title=title,
        body=body,
        url=_case_url(case),
        dedupe_key=f"mediation:{case.pk}:{key}",
    )
    if sms_text:
        for party in case.parties.exclude(phone=""):
            sms_queue(
                phone=party.phone,
                text=sms_text,
                dedupe_key=f"mediation:{case.pk}:{key}:party:{party.pk}",
            )


def _notify_mediators(case: MediationCase, *, title: str, body: str = "", key: str) -> None:
    notification_send(
        user_ids=_mediator_user_ids(case),
        title=title,
        body=body,
        url=_case_url(case),
        dedupe_key=f"mediation:{case.pk}:{key}",
    )


def _enqueue_incident_report(case: MediationCase) -> None:
    if case.incident_id is None:
        return
    from mediation.tasks import report_outcome_to_incident

    enqueue_on_commit(report_outcome_to_incident, case.pk)


def _room_mediator(room_id: int, user_id: int | None) -> User:
    membership = (
        RoomMediator.objects.select_related("user")
        # user_id None matches no membership (the column is required): "choose a mediator".
        .filter(room_id=room_id, user_id=user_id, active=True)  # type: ignore[misc]
        .first()
    )
    if membership is None:
        message = _("Choose a mediator of this room.")
        raise ValidationFailed(message, extra={"mediator": [message]})
    return membership.user


def _active_room_mediator_ids(room_id: int) -> set[int]:
    return set(
        RoomMediator.objects.filter(room_id=room_id, active=True).values_list("user_id", flat=True)
    )


def _cancel_planned_sessions(case: MediationCase) -> None:
    case.sessions.filter(state=MediationSession.State.PLANNED).update(
        state=MediationSession.State.CANCELLED, updated_at=timezone.now()
    )


def _conclude(
    case: MediationCase,
    *,
    actor: User | None,
    target: str,
    outcome: str,
    action: str,
    note: str = "",
    data: dict | None = None,
) -> None:
    """The mediation ends (agreement, failure, withdrawal): no more sessions; the incident it
    came from is told on commit."""
    now = timezone.now()
    case.outcome = outcome
    case.concluded_at = now
    case.outcome_note = note
    _move(case, actor=actor, target=target, action=action, note=note, data=data)
    _cancel_planned_sessions(case)
    _enqueue_incident_report(case)
