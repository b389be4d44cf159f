"""Every write of deliberation, by subject; re-exported here."""

from deliberation.services.budgets import (
    ballot_cast,
    project_review,
    project_submit,
    round_advance,
    round_create,
)
from deliberation.services.meetings import (
    decision_progress,
    decision_rate,
    meeting_cancel,
    meeting_close,
    meeting_decide,
    meeting_minutes_record,
    meeting_notice_publish,
    meeting_participant_add,
    meeting_plan,
)
from deliberation.services.projects import (
    milestone_add,
    milestone_reach,
    project_complete,
    project_create,
    project_from_budget,
    spending_record,
)
from deliberation.services.proposals import (
    comment_hide,
    comment_show,
    proposal_comment,
    proposal_convert,
    proposal_review,
    proposal_submit,
    proposal_support,
)
from deliberation.services.sweep import deliberation_sweep

__all__ = [
    "ballot_cast",
    "comment_hide",
    "comment_show",
    "decision_progress",
    "decision_rate",
    "deliberation_sweep",
    "meeting_cancel",
    "meeting_close",
    "meeting_decide",
    "meeting_minutes_record",
    "meeting_notice_publish",
    "meeting_participant_add",
    "meeting_plan",
    "milestone_add",
    "milestone_reach",
    "project_complete",
    "project_create",
    "project_from_budget",
    "project_review",
    "project_submit",
    "proposal_comment",
    "proposal_convert",
    "proposal_review",
    "proposal_submit",
    "proposal_support",
    "round_advance",
    "round_create",
    "spending_record",
]
