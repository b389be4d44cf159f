"""Every write of the incident loop: one service per move of models.ACTIONS (GRAPH).

Each service runs in `transaction.atomic`, locks the incident row (`select_for_update`), checks
scope (NotFoundError outside it), role (PermissionDeniedError) and state (ConflictError, against
models.GRAPH and policies.ready), applies the move, writes one IncidentEvent (the timeline),
notifies in-app (one bulk INSERT, deduplicated per event by a unique key) and enqueues the
follow-up Celery task on commit (setting `task_enqueued_at`, which the sweep watches).
`actor=None` means the system (a Celery task); only system steps accept it.
Photos are checked and re-encoded before the transaction (incidents.photos); files stored inside
a transaction that then fails are deleted again, so bad input never leaves anything behind.

The package, by stage of the loop (import from here; the modules are the layout):
- `_steps`: the shared steps (lock, load, move, event, notify, enqueue, wording, text checks);
- `deadlines`: stage limits, warning and escalation alarms, resolve deadlines;
- `report`, `verify`, `dispatch`, `handling` (escalation, extension, parking), `resolve`
  (resolve, check, rework, feedback, rating, reopen, close, 随手办);
- `links`: the hooks the mediation app calls;
- `sweep`: the minute deadline sweep (bulk);
- `patrols`: the patrol log.
"""

from incidents.services._steps import (
    MAX_TEXT,
    _now,
    track_url,
)
from incidents.services.deadlines import (
    ESCALATABLE_STATES,
    URGENT_LIMITS,
    check_limit_for,
    refresh_alarms,
    resolve_due_for,
    stage_due,
    warn_time,
)
from incidents.services.dispatch import (
    incident_accept,
    incident_claim,
    incident_dispatch,
    incident_partner_deadline_restore,
    incident_reassign,
    incident_return,
    incident_route,
)
from incidents.services.handling import (
    EscalationContext,
    incident_approve_extension,
    incident_escalate,
    incident_park,
    incident_reject_extension,
    incident_request_extension,
    incident_unpark,
)
from incidents.services.links import incident_mediation_concluded, incident_mediation_referred
from incidents.services.patrols import patrol_add_points, patrol_end, patrol_start
from incidents.services.report import (
    CALL_CHANNELS,
    PARTNER_CHANNELS,
    PHONE_PATTERN,
    TRACKING_ALPHABET,
    TRACKING_PREFIX,
    TRACKING_RANDOM_LENGTH,
    incident_access_code_resend,
    incident_report,
    tracking_number_new,
)
from incidents.services.resolve import (
    incident_can_be_rated,
    incident_check,
    incident_close,
    incident_fix_on_spot,
    incident_rate,
    incident_reopen,
    incident_resolve,
    incident_rework,
    incident_send_feedback,
)
from incidents.services.sweep import (
    STUCK_TASKS,
    SWEEP_BATCH,
    SweepResult,
    incidents_close_unrated,
    incidents_escalate_overdue,
    incidents_re_enqueue_stuck,
    incidents_sweep,
    incidents_warn_due,
)
from incidents.services.verify import (
    incident_assign_verifier,
    incident_mark_invalid,
    incident_start_verification,
    incident_verify,
)

__all__ = [
    "CALL_CHANNELS",
    "ESCALATABLE_STATES",
    "MAX_TEXT",
    "PARTNER_CHANNELS",
    "PHONE_PATTERN",
    "STUCK_TASKS",
    "SWEEP_BATCH",
    "TRACKING_ALPHABET",
    "TRACKING_PREFIX",
    "TRACKING_RANDOM_LENGTH",
    "URGENT_LIMITS",
    "EscalationContext",
    "SweepResult",
    "_now",
    "check_limit_for",
    "incident_accept",
    "incident_access_code_resend",
    "incident_approve_extension",
    "incident_assign_verifier",
    "incident_can_be_rated",
    "incident_check",
    "incident_claim",
    "incident_close",
    "incident_dispatch",
    "incident_escalate",
    "incident_fix_on_spot",
    "incident_mark_invalid",
    "incident_mediation_concluded",
    "incident_mediation_referred",
    "incident_park",
    "incident_partner_deadline_restore",
    "incident_rate",
    "incident_reassign",
    "incident_reject_extension",
    "incident_reopen",
    "incident_report",
    "incident_request_extension",
    "incident_resolve",
    "incident_return",
    "incident_rework",
    "incident_route",
    "incident_send_feedback",
    "incident_start_verification",
    "incident_unpark",
    "incident_verify",
    "incidents_close_unrated",
    "incidents_escalate_overdue",
    "incidents_re_enqueue_stuck",
    "incidents_sweep",
    "incidents_warn_due",
    "patrol_add_points",
    "patrol_end",
    "patrol_start",
    "refresh_alarms",
    "resolve_due_for",
    "stage_due",
    "track_url",
    "tracking_number_new",
    "warn_time",
]
