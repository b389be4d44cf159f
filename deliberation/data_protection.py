"""What audit's personal-data jobs do with deliberation (audit.registry; registered at ready()).

Retention: the participants of a closed or cancelled consultation meeting lose their names
("已匿名") once the retention period after the meeting has passed; the minutes and decisions stay
(they are public records of the community). Proposals, comments, supports and ballots reference
accounts (no free personal data of other people); their free text is masked on public pages
(selectors.public_text). Nothing of deliberation is encrypted at rest.
"""

from __future__ import annotations

from audit.registry import RetentionTarget, register_retention
from audit.retention import ANONYMISED
from deliberation.models import MeetingParticipant, MeetingState


def anonymise_meetings(ids: list[int]) -> None:
    MeetingParticipant.objects.filter(meeting_id__in=ids).update(name=ANONYMISED, user=None)


def register() -> None:
    register_retention(
        RetentionTarget(
            "deliberation.meeting",
            [MeetingState.CLOSED, MeetingState.CANCELLED],
            "held_at",
            anonymise_meetings,
        )
    )
