"""Every write of tasks from above, by stage: issuing (and campaigns), the work on one
assignment, the deadline sweep."""

from assignments.services.issuing import (
    ServiceInput,
    campaign_create,
    task_cancel,
    task_issue,
)
from assignments.services.sweep import assignments_sweep
from assignments.services.work import (
    Evidence,
    assignment_accept,
    assignment_cancel,
    assignment_complete,
    assignment_reassign,
    assignment_reopen,
    assignment_return,
)

__all__ = [
    "Evidence",
    "ServiceInput",
    "assignment_accept",
    "assignment_cancel",
    "assignment_complete",
    "assignment_reassign",
    "assignment_reopen",
    "assignment_return",
    "assignments_sweep",
    "campaign_create",
    "task_cancel",
    "task_issue",
]
