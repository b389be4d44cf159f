"""The deadline sweep (every 5 minutes, mediation.tasks.sweep_deadlines) and the system steps the
tasks run: settle-deadline warnings and overdue notices, judicial-confirmation and follow-up
reminders, the re-drive of lost incident reports, and telling the referring incident the outcome.

Each reminder is claimed by setting its *_reminded_at column in a conditional UPDATE, so two
sweeps running at once, or a sweep run twice, send it once; notifications also carry dedupe keys.
"""

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import notification_send, sms_queue
from mediation.models import (
    MEDIATING_STATES,
    CaseAction,
    CaseOutcome,
    CaseState,
    MediationCase,
    MediationPolicy,
)
from mediation.services._steps import _case_url, _event, _mediator_user_ids, _party_user_ids

logger = logging.getLogger(__name__)

BATCH = 500
# A concluded case whose incident has not been told after this long had its task lost.
REDRIVE_AFTER = timedelta(minutes=10)


def _claim(case_id: int, column: str, now, **conditions) -> MediationCase | None:
    """Set `column` if still empty (and the conditions hold); the winner gets the case."""
    claimed = MediationCase.objects.filter(
        pk=case_id, **{f"{column}__isnull": True}, **conditions
    ).update(**{column: now})
    if not claimed:
        return None
    return MediationCase.objects.select_related("room").get(pk=case_id)


def _remind_settle(case_id: int, now) -> bool:
    with transaction.atomic():
        case = _claim(case_id, "settle_reminded_at", now, state__in=MEDIATING_STATES)
        if case is None:
            return False
        due = timezone.localtime(case.due_at).strftime("%Y-%m-%d")
        notification_send(
            user_ids=_mediator_user_ids(case),
            title=_("Case %(number)s is due to be settled by %(due)s")
            % {"number": case.case_number, "due": due},
            body=_("Settle it, record the parties' consent to an extension, or end it."),
            url=_case_url(case),
            dedupe_key=f"mediation:{case.pk}:settle-warning:{case.due_at:%Y%m%d}",
        )
        _event(case, actor=None, action=CaseAction.SETTLE_REMINDER, note=due)
    return True


def _notify_overdue(case_id: int, now) -> bool:
    with transaction.atomic():
        case = _claim(case_id, "overdue_notified_at", now, state__in=MEDIATING_STATES)
        if case is None:
            return False
        MediationCase.objects.filter(pk=case.pk, settle_reminded_at__isnull=True).update(
            settle_reminded_at=now
        )
        due = timezone.localtime(case.due_at).strftime("%Y-%m-%d")
        notification_send(
            user_ids=_mediator_user_ids(case),
            title=_("Case %(number)s passed its settle deadline (%(due)s)")
            % {"number": case.case_number, "due": due},
            body=_(
                "Without the parties' consent to continue, the mediation should end "
                "(深圳经济特区矛盾纠纷多元化解条例 Art. 25)."
            ),
            url=_case_url(case),
            dedupe_key=f"mediation:{case.pk}:overdue:{case.due_at:%Y%m%d}",
        )
        _event(case, actor=None, action=CaseAction.OVERDUE, note=due)
    return True


def _remind_confirmation(case_id: int, now) -> bool:
    with transaction.atomic():
        case = _claim(case_id, "confirmation_reminded_at", now, state=CaseState.AGREEMENT_REACHED)
        if case is None:
            return False
        due = timezone.localtime(case.confirmation_due_at).strftime("%Y-%m-%d")
        title = _("Judicial confirmation of case %(number)s: apply by %(due)s") % {
            "number": case.case_number,
            "due": due,
        }
        body = _(
            "If you want the court to confirm your mediation agreement, apply to the court "
            "together within 30 days of it taking effect (人民调解法 Art. 33)."
        )
        notification_send(
            user_ids=_party_user_ids(case) | _mediator_user_ids(case),
            title=title,
            body=body,
            url=_case_url(case),
            dedupe_key=f"mediation:{case.pk}:confirmation-reminder",
        )
        for party in case.parties.exclude(phone=""):
            sms_queue(
                phone=party.phone,
                text=title,
                dedupe_key=f"mediation:{case.pk}:confirmation-reminder:party:{party.pk}",
            )
        _event(case, actor=None, action=CaseAction.CONFIRMATION_REMINDER, note=due)
    return True


def _remind_follow_up(case_id: int, now) -> bool:
    with transaction.atomic():
        case = _claim(
            case_id,
            "follow_up_reminded_at",
            now,
            state__in=[CaseState.AGREEMENT_REACHED, CaseState.CONFIRMATION_REQUESTED],
        )
        if case is None:
            return False
        due = timezone.localtime(case.follow_up_due_at).strftime("%Y-%m-%d")
        notification_send(
            user_ids=_mediator_user_ids(case),
            title=_("Follow-up visit due for case %(number)s (%(due)s)")
            % {"number": case.case_number, "due": due},
            body=_("Visit the parties and record how the agreement is performed."),
            url=_case_url(case),
            dedupe_key=f"mediation:{case.pk}:follow-up-reminder",
        )
        _event(case, actor=None, action=CaseAction.FOLLOW_UP_REMINDER, note=due)
    return True


def cases_sweep_deadlines() -> dict[str, int]:
    """Settle-deadline warnings and overdue notices (30-day limit), judicial-confirmation
    reminders to the parties before the 30-day window closes, follow-up reminders, and a re-drive
    of incident outcome reports whose task was lost. Returns how many of each were sent."""
    from mediation.tasks import report_outcome_to_incident

    now = timezone.now()
    policy = MediationPolicy.current()
    counts = {"settle": 0, "overdue": 0, "confirmation": 0, "follow_up": 0, "redriven": 0}
    cases = MediationCase.objects

    warn_ids = cases.filter(
        state__in=MEDIATING_STATES,
        due_at__gt=now,
        due_at__lte=now + timedelta(days=policy.settle_warning_days),
        settle_reminded_at__isnull=True,
    ).values_list("pk", flat=True)[:BATCH]
    counts["settle"] = sum(_remind_settle(pk, now) for pk in list(warn_ids))

    overdue_ids = cases.filter(
        state__in=MEDIATING_STATES, due_at__lte=now, overdue_notified_at__isnull=True
    ).values_list("pk", flat=True)[:BATCH]
    counts["overdue"] = sum(_notify_overdue(pk, now) for pk in list(overdue_ids))

    confirmation_ids = cases.filter(
        state=CaseState.AGREEMENT_REACHED,
        confirmation_due_at__gt=now,
        confirmation_due_at__lte=now + timedelta(days=policy.confirmation_warning_days),
        confirmation_reminded_at__isnull=True,
    ).values_list("pk", flat=True)[:BATCH]
    counts["confirmation"] = sum(_remind_confirmation(pk, now) for pk in list(confirmation_ids))

    follow_up_ids = cases.filter(
        state__in=[CaseState.AGREEMENT_REACHED, CaseState.CONFIRMATION_REQUESTED],
        follow_up_due_at__lte=now + timedelta(days=1),
        follow_up_reminded_at__isnull=True,
    ).values_list("pk", flat=True)[:BATCH]
    counts["follow_up"] = sum(_remind_follow_up(pk, now) for pk in list(follow_up_ids))

    lost_ids = cases.filter(
        ~Q(outcome="") | Q(state=CaseState.DECLINED),
        incident__isnull=False,
        incident_notified_at__isnull=True,
        concluded_at__lte=now - REDRIVE_AFTER,
    ).values_list("pk", flat=True)[:BATCH]
    for pk in list(lost_ids):
        report_outcome_to_incident.delay(pk)
        counts["redriven"] += 1
    if any(counts.values()):
        logger.info("mediation sweep: %s", counts)
    return counts


def case_report_outcome_to_incident(*, case_id: int) -> None:
    """Tell the referring incident how the mediation ended: an agreement closes it, anything
    else sends it back to its handling unit (incidents.services.incident_mediation_concluded).
    Runs once per case (incident_notified_at); does nothing for a case still being mediated.
    A refusal by the incident (it moved on meanwhile) is recorded, not raised; a locked
    database (OperationalError) is raised for the task to retry."""
    from incidents.services import incident_mediation_concluded

    with transaction.atomic():
        case = MediationCase.objects.select_for_update().filter(pk=case_id).first()
        if case is None or case.incident_id is None or case.incident_notified_at:
            return
        if not case.outcome and case.state != CaseState.DECLINED:
            return  # still being mediated
        agreement = case.outcome == CaseOutcome.AGREEMENT
        if agreement:
            note = _("Mediation agreement (%(number)s): %(terms)s") % {
                "number": case.case_number,
                "terms": case.agreement.terms,
            }
        elif case.state == CaseState.DECLINED:
            note = _("Mediation declined (%(number)s): %(reason)s") % {
                "number": case.case_number,
                "reason": case.decline_reason,
            }
        else:
            note = _("Mediation ended without agreement (%(number)s): %(reason)s") % {
                "number": case.case_number,
                "reason": case.outcome_note,
            }
        result_note = ""
        try:
            with transaction.atomic():
                incident_mediation_concluded(
                    incident_id=case.incident_id,
                    case_id=case.pk,
                    agreement_reached=agreement,
                    note=note,
                )
        except ApplicationError as exc:
            # The incident moved on meanwhile (e.g. closed by hand): nothing to retry.
            logger.warning("case %s: incident %s refused: %s", case.pk, case.incident_id, exc)
            result_note = exc.message
        case.incident_notified_at = timezone.now()
        case.save(update_fields=["incident_notified_at", "updated_at"])
        _event(case, actor=None, action=CaseAction.INCIDENT_NOTIFIED, note=result_note)


def case_record_system_event(*, case_id: int, action: str, note: str = "") -> None:
    """A timeline row written by the system (reminders, the incident being told)."""
    case = MediationCase.objects.get(pk=case_id)
    _event(case, actor=None, action=action, note=note)
