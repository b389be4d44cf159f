"""How a mediation ends and what follows: extend the settle deadline, a party withdraws or refuses,
the mediation fails, judicial confirmation is requested, the follow-up visit, closing.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.calendar import add_calendar_days_statutory
from core.exceptions import (
    ConflictError,
    PermissionDeniedError,
    ValidationFailed,
)
from mediation.models import (
    CaseAction,
    CaseOutcome,
    CaseState,
    MediationAgreement,
    MediationCase,
    MediationPolicy,
    Performance,
)
from mediation.selectors import user_is_room_staff
from mediation.services._steps import (
    _case_for_update,
    _conclude,
    _event,
    _move,
    _notify_mediators,
    _notify_parties,
    _party_user_ids,
    _require_staff,
    _require_state,
    _required_text,
)

# --- deadlines, endings -------------------------------------------------------------------


@transaction.atomic
def case_extend(
    *, actor: User, case_id: int, days: int, parties_consent: bool, note: str
) -> MediationCase:
    """Extend the settle deadline; only with the consent of the parties (深圳条例 Art. 25),
    which is recorded in the timeline. One extension is at most MediationPolicy
    .max_extension_days (admin-edited)."""
    note = _required_text(note, "note", _("Record how the parties consented."))
    if not parties_consent:
        message = _("An extension needs the consent of the parties.")
        raise ValidationFailed(message, extra={"parties_consent": [message]})
    max_days = MediationPolicy.current().max_extension_days
    if not 1 <= int(days) <= max_days:
        message = _("Extend by 1 to %(max)s days.") % {"max": max_days}
        raise ValidationFailed(message, extra={"days": [message]})
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION))
    previous = case.due_at
    case.due_at = add_calendar_days_statutory(case.due_at or timezone.now(), int(days))
    case.extension_days += int(days)
    case.settle_reminded_at = None
    case.overdue_notified_at = None
    case.save()
    _event(
        case,
        actor=actor,
        action=CaseAction.EXTENDED,
        note=note,
        data={
            "days": int(days),
            "from": previous.isoformat() if previous else None,
            "to": case.due_at.isoformat(),
        },
    )
    return case


@transaction.atomic
def case_withdraw(
    *, actor: User, case_id: int, reason: str, party_id: int | None = None
) -> MediationCase:
    """Mediation stops when a party refuses it (人民调解法 Art. 17). A mediator records which
    party refused; the applicant may withdraw their own application. Planned sessions are
    cancelled; the referring incident is told."""
    reason = _required_text(reason, "reason", _("Give the reason."))
    case = _case_for_update(case_id, actor)
    staff = user_is_room_staff(actor, case.room_id)
    is_applicant = case.applicant_user_id is not None and case.applicant_user_id == actor.pk
    if not (staff or is_applicant):
        raise PermissionDeniedError(_("Only a party or the room's mediators may do that."))
    party = None
    if party_id is not None:
        party = case.parties.filter(pk=party_id).first()
        if party is None:
            message = _("This person is not a party to the case.")
            raise ValidationFailed(message, extra={"party": [message]})
    elif staff and not is_applicant:
        message = _("Say which party refused mediation.")
        raise ValidationFailed(message, extra={"party": [message]})
    _require_state(
        case, (CaseState.APPLIED, CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION)
    )
    note = f"{party.name}: {reason}" if party else reason
    _conclude(
        case,
        actor=actor,
        target=CaseState.WITHDRAWN,
        outcome=CaseOutcome.WITHDRAWN,
        action=CaseAction.PARTY_REFUSED if party else CaseAction.WITHDRAWN,
        note=note,
        data={"party_id": party_id},
    )
    _notify_parties(
        case,
        title=_("Mediation case %(number)s stopped") % {"number": case.case_number},
        body=note,
        key="withdrawn",
    )
    _notify_mediators(
        case,
        title=_("Mediation case %(number)s stopped") % {"number": case.case_number},
        body=note,
        key="withdrawn:mediator",
    )
    return case


@transaction.atomic
def case_fail(*, actor: User, case_id: int, reason: str) -> MediationCase:
    """No agreement could be reached: the mediation ends, and the parties are told they may
    still go to arbitration, administrative routes or court (Art. 26)."""
    reason = _required_text(reason, "reason", _("Give the reason."))
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.ACCEPTED, CaseState.SCHEDULED, CaseState.IN_SESSION))
    _conclude(
        case,
        actor=actor,
        target=CaseState.FAILED,
        outcome=CaseOutcome.FAILED,
        action=CaseAction.FAILED,
        note=reason,
    )
    _notify_parties(
        case,
        title=_("Mediation case %(number)s ended without agreement") % {"number": case.case_number},
        body=_("You may still seek arbitration, an administrative decision or go to court."),
        key="failed",
    )
    return case


@transaction.atomic
def case_request_confirmation(
    *, actor: User, case_id: int, court: str, note: str = ""
) -> MediationCase:
    """The parties jointly applied to the court for judicial confirmation, within 30 days of
    the written agreement taking effect (人民调解法 Art. 33)."""
    court = _required_text(court, "court", _("Name the court."))
    case = _case_for_update(case_id, actor)
    staff = user_is_room_staff(actor, case.room_id)
    if not (staff or actor.pk in _party_user_ids(case)):
        raise PermissionDeniedError(_("Only a party or the room's mediators may do that."))
    _require_state(case, (CaseState.AGREEMENT_REACHED,))
    agreement = MediationAgreement.objects.filter(case=case).first()
    if agreement is None or agreement.form != MediationAgreement.Form.WRITTEN:
        raise ConflictError(_("Judicial confirmation needs a written agreement."))
    if case.confirmation_due_at is None or timezone.now() > case.confirmation_due_at:
        raise ConflictError(_("The 30 days for applying for judicial confirmation have passed."))
    case.confirmation_requested_at = timezone.now()
    case.confirmation_court = court[:100]
    _move(
        case,
        actor=actor,
        target=CaseState.CONFIRMATION_REQUESTED,
        action=CaseAction.CONFIRMATION_REQUESTED,
        note=f"{court} {note}".strip(),
    )
    return case


@transaction.atomic
def case_follow_up(*, actor: User, case_id: int, performance: str, result: str) -> MediationCase:
    """The follow-up visit on how the agreement is performed (Art. 31)."""
    if performance not in Performance.values:
        message = _("Say whether the agreement was performed.")
        raise ValidationFailed(message, extra={"performance": [message]})
    result = _required_text(result, "result", _("Write the result of the visit."))
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    _require_state(case, (CaseState.AGREEMENT_REACHED, CaseState.CONFIRMATION_REQUESTED))
    case.followed_up_at = timezone.now()
    case.follow_up_performance = performance
    case.follow_up_result = result
    _move(
        case,
        actor=actor,
        target=CaseState.FOLLOWED_UP,
        action=CaseAction.FOLLOWED_UP,
        note=result,
        data={"performance": performance},
    )
    return case


@transaction.atomic
def case_close(*, actor: User, case_id: int, note: str = "") -> MediationCase:
    """Archive a case whose mediation has ended (followed up, failed or withdrawn)."""
    case = _case_for_update(case_id, actor)
    _require_staff(actor, case)
    case.closed_at = timezone.now()
    _move(
        case,
        actor=actor,
        target=CaseState.CLOSED,
        action=CaseAction.CLOSED,
        note=(note or "").strip(),
    )
    return case
