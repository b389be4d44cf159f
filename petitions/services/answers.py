"""The written answers and what the petitioner does with them: the reply (Art. 32), the rating,
review (复查, Art. 35) and re-examination (复核, Art. 36) with their requests and hearings, and
the record of when a written opinion was received (the request windows run from then)."""

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ConflictError, PermissionDeniedError, ValidationFailed
from core.services import notification_send
from petitions import deadlines
from petitions.models import (
    DELIVERED_ON_ISSUE,
    DeliveryManner,
    OpinionKind,
    Outcome,
    Petition,
    PetitionAction,
    PetitionOpinion,
    PetitionState,
    Satisfaction,
)
from petitions.policies import can_answer
from petitions.services._steps import (
    S,
    _check_move,
    _default_language,
    _detail_url,
    _event,
    _lock,
    _move,
    _refresh_due,
    _require_officer,
    _require_owner_or_officer,
    _tell_petitioner,
    officer_ids_for,
)


@dataclass
class OpinionInput:
    request: str
    facts_and_reasons: str
    decision: str
    legal_basis: str
    outcome: str
    unit: str = ""
    # How it reaches the petitioner: online (their portal account) and in person are delivered
    # when issued; post/other wait for the officer to record the day received. Empty: online
    # when the petitioner has a portal account, else by post.
    delivery_manner: str = ""


def _opinion(
    petition: Petition, *, kind: str, opinion: OpinionInput, actor: User, now: datetime
) -> PetitionOpinion:
    errors: dict[str, list[str]] = {}
    for name in ("request", "facts_and_reasons", "decision", "legal_basis"):
        if not (getattr(opinion, name) or "").strip():
            errors[name] = [_("This field is required.")]
    if opinion.outcome not in Outcome.values:
        errors["outcome"] = [_("Choose support, explain or not support (Art. 32).")]
    manner = opinion.delivery_manner or (
        DeliveryManner.ONLINE if petition.owner_id else DeliveryManner.POST
    )
    if manner not in DeliveryManner.values:
        errors["delivery_manner"] = [_("Choose how the opinion reaches the petitioner.")]
    elif manner == DeliveryManner.ONLINE and not petition.owner_id:
        errors["delivery_manner"] = [
            _("Online delivery needs the petitioner's portal account; choose another manner.")
        ]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    if petition.opinions.filter(kind=kind).exists():
        raise ConflictError(_("This opinion has already been issued."))
    return PetitionOpinion.objects.create(
        petition=petition,
        kind=kind,
        unit=(opinion.unit or petition.handling_unit or str(petition.handling_region or "")).strip()
        or _("Petition office"),
        request=opinion.request.strip(),
        facts_and_reasons=opinion.facts_and_reasons.strip(),
        decision=opinion.decision.strip(),
        legal_basis=opinion.legal_basis.strip(),
        outcome=opinion.outcome,
        issued_by=actor,
        issued_at=now,
        issuing_region=actor.scope_region,
        delivery_manner=manner,
        # Online and in person: received when issued; post and other: recorded later.
        delivered_at=now if manner in DELIVERED_ON_ISSUE else None,
    )


def _request_window_due(opinion: PetitionOpinion) -> datetime | None:
    """Art. 35/36: 30 days from the day the petitioner received the written opinion; None
    while its delivery is not recorded (a request is still accepted, see docs/petitions.md)."""
    if opinion.delivered_at is None:
        return None
    return deadlines.review_request_due(opinion.delivered_at)


def _require_unit_above(actor: User, petition: Petition, kind: str) -> None:
    _require_officer(actor, petition)
    if not can_answer(actor, petition, kind):
        if kind == OpinionKind.REVIEW:
            raise PermissionDeniedError(
                _("The review is answered by the unit above the one that replied (Art. 35).")
            )
        raise PermissionDeniedError(
            _("The re-examination is answered by the unit above the one that reviewed (Art. 36).")
        )


@dataclass(frozen=True)
class _Answer:
    """What differs between the three written answers; `_answer` does the rest once."""

    target: PetitionState  # the state it leads to
    action: PetitionAction  # the event it records
    answered_at: str  # the Petition column stamped with the time it was issued
    due: str  # the column holding its deadline (past it: the petition was overdue once)
    window: str | None  # the column of the next request window (None: the answer is final)
    unit_above: bool  # answered by the unit above the one that answered before


_ANSWERS = {
    OpinionKind.REPLY: _Answer(
        S.REPLIED,
        PetitionAction.REPLIED,
        "replied_at",
        "reply_due_at",
        "review_request_due_at",
        False,
    ),
    OpinionKind.REVIEW: _Answer(
        S.REVIEWED,
        PetitionAction.REVIEWED,
        "reviewed_at",
        "review_due_at",
        "reexam_request_due_at",
        True,
    ),
    OpinionKind.REEXAMINATION: _Answer(
        S.REEXAMINED, PetitionAction.REEXAMINED, "reexamined_at", "reexam_due_at", None, True
    ),
}


def _answer(petition: Petition, kind: str, *, actor: User, opinion: OpinionInput) -> Petition:
    """Issue the written opinion of `kind` on the locked `petition`: officer in scope (and, for
    review and re-examination, the unit above), state check, the opinion, the time stamps, the
    next request window (from the day it was received), the move and its event, and the
    petitioner told. Runs in the caller's transaction, after `_lock`."""
    answer = _ANSWERS[OpinionKind(kind)]
    _require_officer(actor, petition)
    _check_move(petition, answer.target, answer.action)
    if answer.unit_above:
        _require_unit_above(actor, petition, kind)
    now = timezone.now()
    issued = _opinion(petition, kind=kind, opinion=opinion, actor=actor, now=now)
    setattr(petition, answer.answered_at, now)
    due = getattr(petition, answer.due)
    on_time = due is None or now <= due
    if kind == OpinionKind.REPLY:  # the reply's timeliness is a KPI (按期办结率)
        petition.replied_on_time = on_time
    if not on_time:
        petition.ever_overdue = True
    if answer.window is not None:
        setattr(petition, answer.window, _request_window_due(issued))
    _move(
        petition,
        answer.target,
        actor=actor,
        action=answer.action,
        data={"outcome": opinion.outcome},
    )
    _refresh_due(petition)
    petition.save()
    with _default_language():
        _tell_answered(petition, kind)
    return petition


def _tell_answered(petition: Petition, kind: str) -> None:
    """The petitioner's message for each written answer (in the portal's language)."""
    number = petition.tracking_number
    if kind == OpinionKind.REPLY:
        _tell_petitioner(
            petition,
            key="replied",
            title=_("Petition %(number)s answered") % {"number": number},
            body=(
                _(
                    "Read the handling opinion and rate it online. "
                    "You may ask for review by %(date)s."
                )
                % {"date": timezone.localtime(petition.review_request_due_at).strftime("%Y-%m-%d")}
                if petition.review_request_due_at
                else _(
                    "The written handling opinion is on its way. You may ask for review "
                    "within 30 days of receiving it."
                )
            ),
        )
    elif kind == OpinionKind.REVIEW:
        _tell_petitioner(
            petition,
            key="reviewed",
            title=_("Review of petition %(number)s answered") % {"number": number},
            body=(
                _("You may ask for re-examination by %(date)s.")
                % {"date": timezone.localtime(petition.reexam_request_due_at).strftime("%Y-%m-%d")}
                if petition.reexam_request_due_at
                else _(
                    "The written review opinion is on its way. You may ask for "
                    "re-examination within 30 days of receiving it."
                )
            ),
        )
    else:
        _tell_petitioner(
            petition,
            key="reexamined",
            title=_("Re-examination of petition %(number)s answered") % {"number": number},
            body=_("The re-examination opinion is final (Art. 36)."),
        )


def petition_reply(*, actor: User, petition_id: int, opinion: OpinionInput) -> Petition:
    """Issue the handling opinion (处理意见书, Art. 32) and reply. Opens the 30 days in which the
    petitioner may ask for review (Art. 35). Petition officer in scope; lock."""
    with transaction.atomic():
        return _answer(_lock(petition_id), OpinionKind.REPLY, actor=actor, opinion=opinion)


def petition_rate(
    *, actor: User, petition_id: int, satisfaction: str, comment: str = ""
) -> Petition:
    """The petitioner rates the answer online (Art. 21), once. Owner only; lock."""
    if satisfaction not in Satisfaction.values:
        raise ValidationFailed(
            _("Choose a rating."), extra={"satisfaction": [_("Choose a rating.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        if petition.owner_id is None or petition.owner_id != actor.pk:
            raise PermissionDeniedError(_("Only the petitioner rates the answer."))
        if petition.replied_at is None or petition.state == S.MERGED:
            raise ConflictError(_("There is no answer to rate yet."))
        if petition.satisfaction:
            raise ConflictError(_("This petition has already been rated."))
        petition.satisfaction = satisfaction
        petition.satisfaction_comment = (comment or "").strip()
        petition.rated_at = timezone.now()
        _event(
            petition,
            actor=actor,
            action=PetitionAction.RATED,
            data={"satisfaction": satisfaction},
        )
        petition.save()
    return petition


# ---------------------------------------------------------------------------------------------
# Review (复查) and re-examination (复核).


def petition_review_request(*, actor: User, petition_id: int, reason: str) -> Petition:
    """The petitioner (online, or an officer recording a written request) asks for review within
    30 days of the reply (Art. 35); the answer is due 30 days later. Lock."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Say what you disagree with."), extra={"reason": [_("Say what you disagree with.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_owner_or_officer(actor, petition)
        _check_move(petition, S.REVIEW_REQUESTED, PetitionAction.REVIEW_REQUESTED)
        now = timezone.now()
        # The window runs from the day the reply was received; a request before its delivery
        # is recorded is accepted (it shows the petitioner has the reply).
        if petition.review_request_due_at and now > petition.review_request_due_at:
            raise ConflictError(
                _("Review must be requested within 30 days of receiving the reply (Art. 35).")
            )
        petition.review_requested_at = now
        petition.review_due_at = deadlines.review_due(now)
        petition.raised_again_after_reply = True
        _move(
            petition,
            S.REVIEW_REQUESTED,
            actor=actor,
            action=PetitionAction.REVIEW_REQUESTED,
            note=reason.strip(),
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition),
                title=_("Review requested for %(number)s") % {"number": petition.tracking_number},
                body=reason.strip(),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-review-requested",
            )
    return petition


def petition_review(*, actor: User, petition_id: int, opinion: OpinionInput) -> Petition:
    """The review opinion (复查意见, Art. 35); opens 30 days for re-examination. The unit above the
    one that replied; officer; lock."""
    with transaction.atomic():
        return _answer(_lock(petition_id), OpinionKind.REVIEW, actor=actor, opinion=opinion)


def petition_reexam_request(*, actor: User, petition_id: int, reason: str) -> Petition:
    """Re-examination requested within 30 days of the review answer (Art. 36). Lock."""
    if not (reason or "").strip():
        raise ValidationFailed(
            _("Say what you disagree with."), extra={"reason": [_("Say what you disagree with.")]}
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_owner_or_officer(actor, petition)
        _check_move(petition, S.REEXAM_REQUESTED, PetitionAction.REEXAM_REQUESTED)
        now = timezone.now()
        if petition.reexam_request_due_at and now > petition.reexam_request_due_at:
            raise ConflictError(
                _(
                    "Re-examination must be requested within 30 days of receiving the review "
                    "opinion (Art. 36)."
                )
            )
        petition.reexam_requested_at = now
        petition.reexam_due_at = deadlines.reexam_due(now, petition.hearing_days)
        _move(
            petition,
            S.REEXAM_REQUESTED,
            actor=actor,
            action=PetitionAction.REEXAM_REQUESTED,
            note=reason.strip(),
        )
        _refresh_due(petition)
        petition.save()
        with _default_language():
            notification_send(
                user_ids=officer_ids_for(petition),
                title=_("Re-examination requested for %(number)s")
                % {"number": petition.tracking_number},
                body=reason.strip(),
                url=_detail_url(petition),
                dedupe_key=f"petition-{petition.pk}-reexam-requested",
            )
    return petition


def petition_hearing_record(
    *, actor: User, petition_id: int, days: int, note: str = ""
) -> Petition:
    """A hearing held during re-examination: its days are not counted (Art. 36), so the answer
    deadline moves by that many days. Petition officer in scope; lock."""
    if not isinstance(days, int) or days < 1 or days > 365:
        raise ValidationFailed(
            _("Enter the number of hearing days."),
            extra={"days": [_("Enter the number of hearing days.")]},
        )
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        if petition.state != S.REEXAM_REQUESTED:
            raise ConflictError(_("A hearing is recorded only during re-examination."))
        _require_unit_above(actor, petition, OpinionKind.REEXAMINATION)
        petition.hearing_days += days
        if petition.reexam_requested_at is None:  # set when it became reexam_requested
            raise AssertionError("set when it became reexam_requested")
        petition.reexam_due_at = deadlines.reexam_due(
            petition.reexam_requested_at, petition.hearing_days
        )
        _event(
            petition,
            actor=actor,
            action=PetitionAction.HEARING,
            note=note.strip(),
            data={"days": days},
        )
        _refresh_due(petition)
        petition.save()
    return petition


def petition_reexamine(*, actor: User, petition_id: int, opinion: OpinionInput) -> Petition:
    """The re-examination opinion (复核意见, Art. 36): final; the same facts and reasons are not
    taken again. The unit above the reviewer; petition officer in scope; lock. The sweep
    closes it."""
    with transaction.atomic():
        return _answer(_lock(petition_id), OpinionKind.REEXAMINATION, actor=actor, opinion=opinion)


def petition_delivery_record(
    *, actor: User, petition_id: int, kind: str, delivered_on: date, manner: str
) -> Petition:
    """Record the day the petitioner received a written opinion (post, in person, other) sent
    other than online. For the reply and the review opinion the request window (Art. 35/36:
    30 days from receipt) now runs from that day. Once per opinion; petition officer in scope;
    lock."""
    errors: dict[str, list[str]] = {}
    if kind not in OpinionKind.values:
        errors["kind"] = [_("Choose the written opinion.")]
    if manner not in DeliveryManner.values or manner == DeliveryManner.ONLINE:
        errors["manner"] = [_("Choose how the opinion was delivered.")]
    if not isinstance(delivered_on, date):
        errors["delivered_on"] = [_("Enter the day the petitioner received it.")]
    elif delivered_on > timezone.localdate():
        errors["delivered_on"] = [_("The day received cannot be in the future.")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], extra=errors)
    with transaction.atomic():
        petition = _lock(petition_id)
        _require_officer(actor, petition)
        opinion = petition.opinions.filter(kind=kind).first()
        if opinion is None:
            raise ConflictError(_("This opinion has not been issued."))
        if opinion.delivered_at is not None:
            raise ConflictError(_("The delivery of this opinion is already recorded."))
        if delivered_on < timezone.localtime(opinion.issued_at).date():
            message = _("The opinion cannot be received before it was issued.")
            raise ValidationFailed(message, extra={"delivered_on": [message]})
        delivered_at = timezone.make_aware(datetime.combine(delivered_on, time(12, 0)))
        opinion.delivered_at = delivered_at
        opinion.delivery_manner = manner
        opinion.delivery_recorded_by = actor
        opinion.save(update_fields=["delivered_at", "delivery_manner", "delivery_recorded_by"])
        due = _request_window_due(opinion)
        if kind == OpinionKind.REPLY and petition.state == S.REPLIED:
            petition.review_request_due_at = due
        elif kind == OpinionKind.REVIEW and petition.state == S.REVIEWED:
            petition.reexam_request_due_at = due
        _event(
            petition,
            actor=actor,
            action=PetitionAction.OPINION_DELIVERED,
            note=str(DeliveryManner(manner).label),
            data={"kind": kind, "manner": manner, "delivered_on": delivered_on.isoformat()},
        )
        petition.save()
    return petition
