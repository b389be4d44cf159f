"""Every write of screening: register a dispute, the "4+2" moves, the alerts, the sweeps and the
monthly reports.

Each move runs in one transaction: lock the dispute (core.workflow.lock), check the viewer sees
it (selectors.disputes_visible) and their role (policies), move it along models.GRAPH, save,
write one DisputeEvent, and put notifications in the inbox / SMS queue (the SMS leaves from a
task on commit: core.services.sms_queue). Nothing is half-written: a refusal raises before any
save, and the transaction rolls the rest back.

Alerts and SMS name the dispute's number, colour, kind and community: never a party's name or
phone (those stay on the scoped, masked pages).

A package by stage; every public name is re-exported here (`from screening import services` and
`services.dispute_register(...)` keep working): `_steps` (shared steps and the alert), `intake`
(logging), `flow` (the moves), `sweep` (the two sweeps), `reports` (monthly reports).
"""

from screening.services._steps import alert_recipient_ids
from screening.services.flow import (
    dispute_assess,
    dispute_close,
    dispute_follow_up,
    dispute_link_escalation,
    dispute_mediate_on_spot,
    dispute_raise_level,
    dispute_route,
    dispute_visit,
)
from screening.services.intake import dispute_register
from screening.services.reports import report_submit
from screening.services.sweep import (
    dispute_flag_overdue,
    disputes_sweep_deadlines,
    report_due_day,
    reports_sweep_missing,
)

__all__ = [
    "alert_recipient_ids",
    "dispute_assess",
    "dispute_close",
    "dispute_flag_overdue",
    "dispute_follow_up",
    "dispute_link_escalation",
    "dispute_mediate_on_spot",
    "dispute_raise_level",
    "dispute_register",
    "dispute_route",
    "dispute_visit",
    "disputes_sweep_deadlines",
    "report_due_day",
    "report_submit",
    "reports_sweep_missing",
]
