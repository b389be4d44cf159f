"""Every write of volunteers, by stage: people (applications, teams, 2+N), patrols (tasks,
duty posts, claims, check-ins, hazards), records (service records, certificates, points),
sweep (the periodic task)."""

from volunteers.services.patrols import (
    claim_check_in,
    claim_check_out,
    claim_checkpoint,
    claim_report_hazard,
    claim_track,
    claim_withdraw,
    post_save,
    shifts_generate,
    task_cancel,
    task_claim,
    task_post,
)
from volunteers.services.people import (
    cell_pairing_set,
    team_member_add,
    team_member_remove,
    team_save,
    volunteer_apply,
    volunteer_approve,
    volunteer_decline,
)
from volunteers.services.records import (
    certificate_issue,
    points_for_record,
    points_redeem,
    record_confirm,
    record_correct,
)
from volunteers.services.sweep import SweepResult, volunteers_sweep

__all__ = [
    "SweepResult",
    "cell_pairing_set",
    "certificate_issue",
    "claim_check_in",
    "claim_check_out",
    "claim_checkpoint",
    "claim_report_hazard",
    "claim_track",
    "claim_withdraw",
    "points_for_record",
    "points_redeem",
    "post_save",
    "record_confirm",
    "record_correct",
    "shifts_generate",
    "task_cancel",
    "task_claim",
    "task_post",
    "team_member_add",
    "team_member_remove",
    "team_save",
    "volunteer_apply",
    "volunteer_approve",
    "volunteer_decline",
    "volunteers_sweep",
]
