"""The incident loop: states, actions and the graph, declared once (ACTIONS, as GRAPH for
core.workflow; TRANSITIONS is derived from it), and the report channels."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from core.workflow import Graph


class IncidentState(models.TextChoices):
    REPORTED = "reported", _("reported")
    VERIFYING = "verifying", _("verifying")
    INVALID = "invalid", _("invalid")
    VERIFIED = "verified", _("verified")
    DISPATCHED = "dispatched", _("dispatched")
    ACCEPTED = "accepted", _("accepted")
    RESOLVED = "resolved", _("resolved")
    CHECKED = "checked", _("checked")
    FEEDBACK_SENT = "feedback_sent", _("feedback sent")
    RATED = "rated", _("rated")
    REOPENED = "reopened", _("reopened")
    MEDIATING = "mediating", _("in mediation")
    CLOSED = "closed", _("closed")


class Action(models.TextChoices):
    """Every move of the loop; one service in incidents.services per action."""

    REPORT = "report", _("report")
    START_VERIFICATION = "start_verification", _("located, verifier assigned")
    ASSIGN_VERIFIER = "assign_verifier", _("assign verifier")
    VERIFY = "verify", _("verify")
    MARK_INVALID = "mark_invalid", _("mark invalid")
    DISPATCH = "dispatch", _("dispatch")
    CLAIM = "claim", _("claim")
    ACCEPT = "accept", _("accept")
    RETURN = "return", _("return")
    REASSIGN = "reassign", _("reassign")
    ESCALATE = "escalate", _("escalate")
    REQUEST_EXTENSION = "request_extension", _("request extension")
    APPROVE_EXTENSION = "approve_extension", _("approve extension")
    REJECT_EXTENSION = "reject_extension", _("reject extension")
    PARK = "park", _("park")
    UNPARK = "unpark", _("unpark")
    RESOLVE = "resolve", _("resolve")
    CHECK = "check", _("check")
    REWORK = "rework", _("rework")
    SEND_FEEDBACK = "send_feedback", _("send feedback")
    RATE = "rate", _("rate")
    REOPEN = "reopen", _("reopen")
    CLOSE = "close", _("close")
    FIX_ON_SPOT = "fix_on_spot", _("fixed on the spot")
    REFER_TO_MEDIATION = "refer_to_mediation", _("refer to mediation")
    MEDIATION_CONCLUDED = "mediation_concluded", _("mediation concluded")
    # 附议: a duplicate closed into an open incident (MERGE_GRAPH), and the row the open one
    # gets (not a move).
    MERGE = "merge", _("merge into another report")
    MERGED_IN = "merged_in", _("duplicate merged in")
    # Not a move (an internal row): the reporter claimed the report for their account.
    CLAIMED_BY_REPORTER = "claimed_by_reporter", _("claimed by the reporter")
    # Not a move: the deadline sweep's warning (an internal timeline row).
    DEADLINE_WARNING = "deadline_warning", _("deadline warning")
    # Not a move: a reporting partner's own deadline recorded at report (an internal row).
    PARTNER_DEADLINE = "partner_deadline", _("partner's deadline")
    # Not a move: a new tracking access code sent to the reporter's phone (an internal row).
    ACCESS_CODE_SENT = "access_code_sent", _("new access code sent")


def _moves(sources, target: str | None = None) -> dict[str, frozenset[str]]:
    """Each source state → `target` (None: the state stays as it is, a side move)."""
    return {source: frozenset({target or source}) for source in sources}


_HANDLING = (IncidentState.DISPATCHED, IncidentState.ACCEPTED)

# The loop, declared once: action -> {state it may start from: states it may lead to}.
# incidents.services checks every move against it (GRAPH, through core.workflow), the sweep's
# bulk close included; TRANSITIONS is derived from it.
ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    Action.START_VERIFICATION: {
        IncidentState.REPORTED: frozenset({IncidentState.VERIFYING, IncidentState.VERIFIED})
    },
    Action.ASSIGN_VERIFIER: _moves(
        [IncidentState.REPORTED, IncidentState.VERIFYING], IncidentState.VERIFYING
    ),
    Action.VERIFY: _moves([IncidentState.VERIFYING], IncidentState.VERIFIED),
    Action.MARK_INVALID: _moves(
        [IncidentState.REPORTED, IncidentState.VERIFYING], IncidentState.INVALID
    ),
    Action.DISPATCH: _moves(
        [IncidentState.VERIFIED, IncidentState.REOPENED], IncidentState.DISPATCHED
    ),
    Action.CLAIM: _moves([IncidentState.DISPATCHED], IncidentState.ACCEPTED),
    Action.ACCEPT: _moves([IncidentState.DISPATCHED], IncidentState.ACCEPTED),
    Action.RETURN: _moves(_HANDLING, IncidentState.VERIFIED),
    Action.REASSIGN: _moves(_HANDLING, IncidentState.DISPATCHED),
    # One level up: verification and check change hands in place; handling goes to the unit.
    Action.ESCALATE: {
        **_moves([IncidentState.VERIFYING, IncidentState.VERIFIED, IncidentState.RESOLVED]),
        **_moves(_HANDLING, IncidentState.DISPATCHED),
    },
    Action.REQUEST_EXTENSION: _moves(_HANDLING),
    Action.APPROVE_EXTENSION: _moves(_HANDLING),
    Action.REJECT_EXTENSION: _moves(_HANDLING),
    Action.PARK: _moves(_HANDLING),
    Action.UNPARK: _moves(_HANDLING),
    Action.RESOLVE: _moves([IncidentState.ACCEPTED], IncidentState.RESOLVED),
    Action.CHECK: _moves([IncidentState.RESOLVED], IncidentState.CHECKED),
    Action.REWORK: _moves([IncidentState.RESOLVED], IncidentState.DISPATCHED),
    Action.SEND_FEEDBACK: _moves(
        [IncidentState.RESOLVED, IncidentState.CHECKED], IncidentState.FEEDBACK_SENT
    ),
    Action.RATE: _moves([IncidentState.FEEDBACK_SENT], IncidentState.RATED),
    Action.REOPEN: _moves([IncidentState.RATED], IncidentState.REOPENED),
    Action.CLOSE: _moves([IncidentState.FEEDBACK_SENT, IncidentState.RATED], IncidentState.CLOSED),
    # 随手办: a new report (reported) or one the grid worker came to verify (verifying).
    Action.FIX_ON_SPOT: _moves(
        [IncidentState.REPORTED, IncidentState.VERIFYING], IncidentState.RESOLVED
    ),
    Action.REFER_TO_MEDIATION: _moves(
        [IncidentState.VERIFIED, *_HANDLING, IncidentState.REOPENED], IncidentState.MEDIATING
    ),
    Action.MEDIATION_CONCLUDED: {
        IncidentState.MEDIATING: frozenset({IncidentState.CLOSED, IncidentState.DISPATCHED})
    },
}


GRAPH = Graph(ACTIONS)

# Merging a duplicate into an open incident (staff, with a reason): its own small graph on the
# workflow core, kept apart from ACTIONS because it needs a second incident (the one it joins)
# and closes the loop without a result, which the loop's invariants (tests/test_state_machine)
# do not model. A merged incident is closed with `merged_into` set; the KPIs count it as merged.
MERGEABLE_STATES = [
    IncidentState.REPORTED,
    IncidentState.VERIFYING,
    IncidentState.VERIFIED,
    IncidentState.DISPATCHED,
    IncidentState.ACCEPTED,
]
MERGE_ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    Action.MERGE: _moves(MERGEABLE_STATES, IncidentState.CLOSED),
}
MERGE_GRAPH = Graph(MERGE_ACTIONS)


def _state_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {state: set() for state in IncidentState.values}
    for moves in ACTIONS.values():
        for source, targets in moves.items():
            graph[source] |= set(targets)
    return graph


# The state graph (state -> states it may move to), derived from ACTIONS.
TRANSITIONS: dict[str, set[str]] = _state_graph()
FINAL_STATES = [IncidentState.INVALID, IncidentState.CLOSED]
OPEN_STATES = [s for s in IncidentState.values if s not in FINAL_STATES]
# States in which somebody is working on it against a deadline (the sweep watches these).
TIMED_STATES = [
    IncidentState.VERIFYING,
    IncidentState.VERIFIED,
    IncidentState.DISPATCHED,
    IncidentState.ACCEPTED,
    IncidentState.RESOLVED,
    IncidentState.FEEDBACK_SENT,
]


class Channel(models.TextChoices):
    PATROL = "patrol", _("grid worker patrol")
    RESIDENT_WEB = "resident_web", _("resident web")
    HOTLINE_12345 = "hotline_12345", _("12345 hotline")
    DIVERSION_110 = "diversion_110", _("110 diversion")
    API = "api", _("API")
    OPEN311 = "open311", _("Open311 API")
    PETITION = "petition", _("petition referral")
