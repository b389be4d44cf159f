"""Statutory deadlines of the 信访工作条例 (calendar days; a last day that is a public holiday or
weekend moves to the next working day). One function per rule, so each is tested on its own."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.calendar import add_calendar_days_statutory, add_working_days

if TYPE_CHECKING:
    from petitions.models import Petition

# Art. 22-23: tell the petitioner within 15 days of receipt (or of a transfer's arrival).
TELL_WITHIN_DAYS = 15
# Art. 23: a unit that is not responsible objects to a transfer within 5 working days.
OBJECT_WITHIN_WORKING_DAYS = 5
# Art. 34: finish and reply within 60 days of acceptance; one extension of at most 30 days.
REPLY_WITHIN_DAYS = 60
MAX_EXTENSION_DAYS = 30
# Art. 35-36: review / re-examination requested within 30 days, answered within 30 days.
REQUEST_REVIEW_WITHIN_DAYS = 30
ANSWER_REVIEW_WITHIN_DAYS = 30


def warn_before_days(policy=None) -> int:
    """Officers are warned this many days before a deadline (PetitionPolicy.warn_days, admin
    data: local practice)."""
    if policy is None:
        from petitions.models import PetitionPolicy

        policy = PetitionPolicy.current()
    return int(policy.warn_days)


def accept_due(received_at: datetime) -> datetime:
    return add_calendar_days_statutory(received_at, TELL_WITHIN_DAYS)


def objection_due(transferred_at: datetime) -> datetime:
    return add_working_days(transferred_at, OBJECT_WITHIN_WORKING_DAYS)


def reply_due(accepted_at: datetime, extension_days: int = 0) -> datetime:
    """The extension lengthens the statutory period (60 + n days) and the holiday rule applies
    once, to the last day of the whole period."""
    return add_calendar_days_statutory(accepted_at, REPLY_WITHIN_DAYS + extension_days)


def review_request_due(replied_at: datetime) -> datetime:
    return add_calendar_days_statutory(replied_at, REQUEST_REVIEW_WITHIN_DAYS)


def review_due(review_requested_at: datetime) -> datetime:
    return add_calendar_days_statutory(review_requested_at, ANSWER_REVIEW_WITHIN_DAYS)


def reexam_request_due(reviewed_at: datetime) -> datetime:
    return add_calendar_days_statutory(reviewed_at, REQUEST_REVIEW_WITHIN_DAYS)


def reexam_due(reexam_requested_at: datetime, hearing_days: int = 0) -> datetime:
    """Art. 36: the time a hearing takes is not counted."""
    return add_calendar_days_statutory(
        reexam_requested_at, ANSWER_REVIEW_WITHIN_DAYS + hearing_days
    )


def current_due(petition: Petition) -> datetime | None:
    """The deadline the unit is working against in the current state."""
    from petitions.models import PetitionState as S

    if petition.state in (S.RECEIVED, S.TRANSFERRED):
        return petition.accept_due_at
    if petition.state in (S.ACCEPTED, S.IN_HANDLING, S.EXTENDED):
        return petition.reply_due_at
    if petition.state == S.REVIEW_REQUESTED:
        return petition.review_due_at
    if petition.state == S.REEXAM_REQUESTED:
        return petition.reexam_due_at
    return None
