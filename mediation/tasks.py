"""Celery tasks of the mediation app: ids in, state re-read, idempotent.

sweep_deadlines runs every 5 minutes (settings.CELERY_BEAT_SCHEDULE). Each reminder is claimed
by setting its *_reminded_at column in a conditional UPDATE, so two sweeps running at once, or a
sweep run twice, send it once; notifications also carry dedupe keys.
"""

import logging
from datetime import timedelta

from celery import shared_task
from django.db import OperationalError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.exceptions import ApplicationError
from core.services import notification_send, sms_queue
from mediation.models import (
    MEDIATING_STATES,
    CaseOutcome,
    CaseState,
    MediationCase,
    MediationEvent,
    MediationPolicy,
    RoomMediator,
)

logger = logging.getLogger(__name__)

BATCH = 500
# A concluded case whose incident has not been told after this long had its task lost.
REDRIVE_AFTER = timedelta(minutes=10)


def _mediator_ids(case: MediationCase) -> set[int]:
    if case.mediator_id:
        return {case.mediator_id}
    return set(
        RoomMediator.objects.filter(room_id=case.room_id, active=True).values_list(
            "user_id", flat=True
        )
    )


def _party_user_ids(case: MediationCase) -> set[int]:
    ids = set(case.parties.exclude(user=None).values_list("user_id", flat=True))
    if case.applicant_user_id:
        ids.add(case.applicant_user_id)
    return ids


def _claim(case_id: int, column: str, now, **conditions) -> MediationCase | None:
    """Set `column` if still empty (and the conditions hold); the winner gets the case."""
    claimed = MediationCase.objects.filter(
        pk=case_id, **{f"{column}__isnull": True}, **conditions
    ).update(**{column: now})
    if not claimed:
        return None
    return MediationCase.objects.select_related("room").get(pk=case_id)


def _system_event(case: MediationCase, action: str, note: str = "") -> None:
    MediationEvent.objects.create(case=case, actor=None, action=action, note=note)


def _url(case: MediationCase) -> str:
    return reverse("mediation:case_detail", args=[case.pk])


def _remind_settle(case_id: int, now) -> bool:
    with transaction.atomic():
        case = _claim(case_id, "settle_reminded_at", now, state__in=MEDIATING_STATES)
        if case is None:
            return False
        due = timezone.localtime(case.due_at).strftime("%Y-%m-%d")
        notification_send(
            user_ids=_mediator_ids(case),
            title=_("Case %(number)s is due to be settled by %(due)s")
            % {"number": case.case_number, "due": due},
            body=_("Settle it, record the parties' consent to an extension, or end it."),
            url=_url(case),
            dedupe_key=f"mediation:{case.pk}:settle-warning:{case.due_at:%Y%m%d}",
        )
        _system_event(case, "settle_reminder", due)
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
            user_ids=_mediator_ids(case),
            title=_("Case %(number)s passed its settle deadline (%(due)s)")
            % {"number": case.case_number, "due": due},
            body=_(
                "Without the parties' consent to continue, the mediation should end "
                "(深圳经济特区矛盾纠纷多元化解条例 Art. 25)."
            ),
            url=_url(case),
            dedupe_key=f"mediation:{case.pk}:overdue:{case.due_at:%Y%m%d}",
        )
        _system_event(case, "overdue", due)
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
            user_ids=_party_user_ids(case) | _mediator_ids(case),
            title=title,
            body=body,
            url=_url(case),
            dedupe_key=f"mediation:{case.pk}:confirmation-reminder",
        )
        for party in case.parties.exclude(phone=""):
            sms_queue(
                phone=party.phone,
                text=title,
                dedupe_key=f"mediation:{case.pk}:confirmation-reminder:party:{party.pk}",
            )
        _system_event(case, "confirmation_reminder", due)
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
            user_ids=_mediator_ids(case),
            title=_("Follow-up visit due for case %(number)s (%(due)s)")
            % {"number": case.case_number, "due": due},
            body=_("Visit the parties and record how the agreement is performed."),
            url=_url(case),
            dedupe_key=f"mediation:{case.pk}:follow-up-reminder",
        )
        _system_event(case, "follow_up_reminder", due)
    return True


@shared_task(name="mediation.tasks.sweep_deadlines", ignore_result=True)
def sweep_deadlines() -> dict[str, int]:
    """Settle-deadline warnings and overdue notices (30-day limit), judicial-confirmation
    reminders to the parties before the 30-day window closes, follow-up reminders, and a re-drive
    of incident outcome reports whose task was lost. Returns how many of each were sent."""
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


@shared_task(
    name="mediation.tasks.report_outcome_to_incident",
    bind=True,
    ignore_result=True,
    max_retries=5,
    acks_late=True,
)
def report_outcome_to_incident(self, case_id: int) -> None:
    """Tell the referring incident how the mediation ended: an agreement closes it, anything
    else sends it back to its handling unit (incidents.services.incident_mediation_concluded).
    Runs once per case (incident_notified_at); only a locked database is retried."""
    from incidents.services import incident_mediation_concluded

    try:
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
            _system_event(case, "incident_notified", result_note)
    except OperationalError as exc:  # a locked SQLite file or a dropped connection
        raise self.retry(exc=exc, countdown=min(600, 15 * 2**self.request.retries)) from exc
