"""The moves of a dispute, one table the pages and the API share: action → the service call,
its label and its success message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.models import User
from screening import policies, services
from screening.models import GRAPH, Dispute

Run = Callable[[User, int, dict[str, Any]], Dispute]

MOVES: dict[str, Run] = {
    "mediate_on_spot": lambda actor, pk, d: services.dispute_mediate_on_spot(
        actor=actor, dispute_id=pk, note=d.get("note", "")
    ),
    "assess": lambda actor, pk, d: services.dispute_assess(
        actor=actor,
        dispute_id=pk,
        factor_codes=d.get("factors") or [],
        note=d.get("note", ""),
        lower_reason=d.get("lower_reason", ""),
    ),
    "raise_level": lambda actor, pk, d: services.dispute_raise_level(
        actor=actor, dispute_id=pk, level=d.get("level", ""), reason=d.get("reason", "")
    ),
    "route": lambda actor, pk, d: services.dispute_route(
        actor=actor,
        dispute_id=pk,
        target=d.get("target", ""),
        unit=d.get("unit", ""),
        note=d.get("note", ""),
        room_id=d.get("room") or None,
    ),
    "follow_up": lambda actor, pk, d: services.dispute_follow_up(
        actor=actor, dispute_id=pk, note=d.get("note", "")
    ),
    "close": lambda actor, pk, d: services.dispute_close(
        actor=actor, dispute_id=pk, outcome=d.get("outcome", ""), note=d.get("note", "")
    ),
    "visit": lambda actor, pk, d: services.dispute_visit(
        actor=actor, dispute_id=pk, note=d.get("note", "")
    ),
    "link_escalation": lambda actor, pk, d: services.dispute_link_escalation(
        actor=actor, dispute_id=pk, incident_id=d.get("incident") or 0, note=d.get("note", "")
    ),
}

LABELS = {
    "mediate_on_spot": _("Record on-the-spot mediation"),
    "assess": _("Assess the risk"),
    "raise_level": _("Raise the level"),
    "route": _("Route the dispute"),
    "follow_up": _("Record a follow-up"),
    "close": _("Close the dispute"),
    "visit": _("Record the visit back"),
    "link_escalation": _("Link a later criminal incident"),
}
DONE = {
    "mediate_on_spot": _("On-the-spot mediation recorded."),
    "assess": _("Risk assessed."),
    "raise_level": _("Level raised; the alert was sent if it is red or orange."),
    "route": _("Dispute routed."),
    "follow_up": _("Follow-up recorded."),
    "close": _("Dispute closed."),
    "visit": _("Visit back recorded."),
    "link_escalation": _("Criminal incident linked."),
}


def actions_for(user: User, dispute: Dispute) -> list[str]:
    """The moves `user` may make on `dispute` now (the dispute is already one they see)."""
    return [
        action
        for action in MOVES
        if policies.may_act(user, action)
        and GRAPH.can(action, dispute.state)
        and not (action == "link_escalation" and dispute.escalated_incident_id)
    ]


def run(action: str, *, actor: User, dispute: Dispute, data: dict[str, Any]) -> Dispute:
    return MOVES[action](actor, dispute.pk, data)
