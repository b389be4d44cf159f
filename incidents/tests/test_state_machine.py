"""A hypothesis state machine over the incident loop.

Random moves (every action of models.ACTIONS, through its service) by random users — in scope
and out of scope, of every role — on a few incidents, interleaved with the system steps the
Celery tasks run (locate and choose the verifier, route, send feedback, apply the rating) and the
deadline sweep after a jump in time (time-machine). After every step the invariants hold:

- only legal moves succeed: a move succeeds only from a state ACTIONS allows it from, only for
  a user who sees the incident and whose role allows it (an independent table below: residents
  and outsiders never move anything but the reporter's own rating), and it leads to a state
  ACTIONS allows; a refused move raises the right ApplicationError (404 outside scope, 403 for
  the wrong role, 409 for the wrong state, or 400 for bad input) and changes nothing; system
  steps never raise;
- at most one open assignment per incident (one assignee, never both assigned and in the
  claim pool; accepted and resolved work has its assignee; nothing before dispatch has one);
- the timeline's last state change is `incident.state`, and the timeline is one unbroken chain
  (each row starts where the previous ended): every state change has exactly one event;
- the deadline the state needs is set (verify, dispatch, resolve, check, rating window), and
  none is running in a state that waits for nobody.

Bounded and deterministic for CI (derandomized, no example database).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from core.exceptions import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationFailed,
)
from incidents import policies, services, tasks
from incidents.models import (
    ACTIONS,
    Action,
    Channel,
    HandlingLevel,
    Incident,
    IncidentEvent,
    IncidentState,
)
from incidents.selectors import incident_actions_for, incident_is_visible
from incidents.tests.conftest import IN_A1_1, IN_A1_2, IN_B1_1, jpeg_upload

pytestmark = pytest.mark.django_db

S = IncidentState
A = Action
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday morning

USERS = (
    "resident",
    "resident2",
    "worker",
    "worker2",
    "worker_b",
    "dispatcher",
    "dispatcher_b",
    "handler",
    "supervisor",
    "admin",
)
# Who could ever make each move (an independent statement of the rules, coarser than
# incidents.policies): residents never move anything but their own rating.
STAFF = {"worker", "worker2", "worker_b", "dispatcher", "dispatcher_b", "handler", "admin"}
MANAGERS = {"dispatcher", "dispatcher_b", "supervisor", "admin"}
DISPATCHERS = {"dispatcher", "dispatcher_b", "admin"}
MAY_EVER = {
    A.ASSIGN_VERIFIER: DISPATCHERS,
    A.VERIFY: STAFF,  # the verifier named (any staff of the area) or a dispatcher
    A.MARK_INVALID: STAFF,
    A.DISPATCH: DISPATCHERS,
    A.CLAIM: {"worker", "worker2", "worker_b", "admin"},
    A.ACCEPT: STAFF,
    A.RETURN: STAFF,
    A.REASSIGN: DISPATCHERS,
    A.ESCALATE: MANAGERS,
    A.REQUEST_EXTENSION: STAFF,
    A.APPROVE_EXTENSION: MANAGERS,
    A.REJECT_EXTENSION: MANAGERS,
    A.PARK: MANAGERS,
    A.UNPARK: MANAGERS,
    A.RESOLVE: STAFF,
    A.CHECK: STAFF,
    A.REWORK: STAFF,
    A.SEND_FEEDBACK: DISPATCHERS,
    A.RATE: {"resident"},  # the reporter of every incident here
    A.REOPEN: DISPATCHERS,
    A.CLOSE: DISPATCHERS,
    A.FIX_ON_SPOT: {"worker", "worker2", "worker_b"},
    A.REFER_TO_MEDIATION: STAFF | {"supervisor"},
}
USER_ACTIONS = sorted(MAY_EVER)
MOVES_BY_RULE = [action for action in USER_ACTIONS if action != A.REFER_TO_MEDIATION]
# Every move of the graph is exercised: the user moves above, plus the system's own.
SYSTEM_ACTIONS = {A.START_VERIFICATION, A.MEDIATION_CONCLUDED}
assert set(ACTIONS) == set(USER_ACTIONS) | SYSTEM_ACTIONS

TEXT = "现场情况说明"
# Moves that end the loop early or go round in it: the_loop_goes_on leaves them to the others.
DETOURS = {
    A.MARK_INVALID,
    A.FIX_ON_SPOT,
    A.CLOSE,
    A.ESCALATE,
    A.PARK,
    A.RETURN,
    A.REASSIGN,
    A.REFER_TO_MEDIATION,
}
SYSTEM_STEPS = {
    "locate": services.incident_start_verification,
    "route": services.incident_route,
    "send_feedback": services.incident_send_feedback,
    "apply_rating": lambda incident_id: tasks.apply_rating.run(incident_id),
}
REFUSALS = (NotFoundError, PermissionDeniedError, ConflictError, ValidationFailed)


class IncidentLoop(RuleBasedStateMachine):
    city = None  # set by the test (built once; each run rolls its own writes back)
    succeeded: Counter = Counter()  # moves that succeeded, over all runs
    states_seen: set = set()

    incidents = Bundle("incidents")

    def __init__(self) -> None:
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self._traveller = time_machine.travel(START, tick=False)
        self.clock = self._traveller.start()
        self.users = {name: getattr(self.city, name) for name in USERS}

    def teardown(self) -> None:
        # Every state the incidents passed through (before the run is rolled back).
        self.states_seen.update(IncidentEvent.objects.values_list("to_state", flat=True))
        self._traveller.stop()
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- set-up: a few reports -------------------------------------------------------------

    @initialize(target=incidents)
    def report_in_a1(self):
        return self._report(self.city.resident, IN_A1_1, Channel.RESIDENT_WEB)

    @initialize(target=incidents)
    def report_in_b1(self):
        return self._report(self.city.resident, IN_B1_1, Channel.RESIDENT_WEB)

    @initialize(target=incidents)
    def report_on_patrol(self):
        return self._report(self.city.worker2, IN_A1_2, Channel.PATROL)

    def _report(self, actor, point, channel) -> int:
        incident = services.incident_report(
            actor=actor,
            category=self.city.categories["0102"],
            description="垃圾堆积",
            channel=channel,
            lat=point[0],
            lng=point[1],
            reporter_phone="13800000001" if channel != Channel.PATROL else "",
        )
        return incident.pk

    # --- the system's steps (Celery tasks): never raise -------------------------------------

    @rule(
        incident_id=incidents,
        step=st.sampled_from(["locate", "route", "send_feedback", "apply_rating"]),
    )
    def a_task_runs(self, incident_id, step):
        """A Celery task of the loop runs (again, or too late: each is idempotent)."""
        self._system(SYSTEM_STEPS[step], incident_id)

    def _system(self, step, incident_id: int) -> None:
        last = self._last_event_id()
        step(incident_id=incident_id)
        self._new_rows_follow_the_graph(last)

    @staticmethod
    def _last_event_id() -> int:
        return IncidentEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    @staticmethod
    def _new_rows_follow_the_graph(after_id: int) -> None:
        """Every timeline row written since `after_id` is a move of the graph (a warning or a
        partner's deadline stays where it is)."""
        for event in IncidentEvent.objects.filter(pk__gt=after_id):
            if event.action in ACTIONS:
                assert event.to_state in ACTIONS[event.action].get(event.from_state, ()), (
                    f"{event.action}: {event.from_state} -> {event.to_state} is not in the graph"
                )
            else:
                assert event.action in (A.DEADLINE_WARNING, A.PARTNER_DEADLINE), event.action
                assert event.from_state == event.to_state

    @rule(
        minutes=st.sampled_from([5, 30, 50, 61, 130, 60 * 24, 60 * 24 * 8, 60 * 24 * 40]),
    )
    def time_passes_and_the_sweep_runs(self, minutes):
        self.clock.shift(timedelta(minutes=minutes))
        last = self._last_event_id()
        services.incidents_sweep()
        self._new_rows_follow_the_graph(last)

    # --- mediation (called by the mediation app) --------------------------------------------

    @rule(
        incident_id=incidents,
        who=st.sampled_from(USERS),
        case_id=st.integers(min_value=1, max_value=2),
    )
    def refer_to_mediation(self, incident_id, who, case_id):
        self._attempt(
            A.REFER_TO_MEDIATION,
            incident_id,
            who,
            lambda user: services.incident_mediation_referred(
                incident_id=incident_id, actor=user, case_id=case_id, room_name="西桥调解室"
            ),
        )

    @rule(
        incident_id=incidents,
        case_id=st.integers(min_value=1, max_value=2),
        agreement=st.booleans(),
    )
    def mediation_concluded(self, incident_id, case_id, agreement):
        incident = Incident.objects.get(pk=incident_id)
        events = incident.events.count()
        try:
            services.incident_mediation_concluded(
                incident_id=incident_id, case_id=case_id, agreement_reached=agreement
            )
        except ConflictError:
            # Not waiting for this case, or no longer mediating: nothing changed.
            assert Incident.objects.get(pk=incident_id).state == incident.state
            assert incident.events.count() == events
            return
        after = Incident.objects.get(pk=incident_id)
        if incident.state == S.MEDIATING:
            assert incident.mediation_case_id == case_id
            assert after.state == (S.CLOSED if agreement else S.DISPATCHED)
        else:  # the second call for the same case changes nothing
            assert after.state == incident.state

    # --- every user move ----------------------------------------------------------------------

    @rule(
        incident_id=incidents,
        action=st.sampled_from(MOVES_BY_RULE),
        who=st.sampled_from(USERS),
        data=st.data(),
    )
    def a_user_moves(self, incident_id, action, who, data):
        call = self._call_for(action, incident_id, data)
        self._attempt(action, incident_id, who, call)

    @rule(incident_id=incidents, data=st.data())
    def a_user_makes_a_move_offered_to_them(self, incident_id, data):
        """Most random moves are refused; this one takes a move the pages offer (a button),
        so the runs reach deep into the loop. An offered move is refused at most for its input
        (400), never for scope, role or state."""
        self._offered_move(incident_id, data, skip=())

    @rule(data=st.data())
    def the_loop_goes_on(self, data):
        """On every incident the tasks run and then an offered move that does not end the loop
        early is made (the runs get far into the loop)."""
        for incident_id in Incident.objects.order_by("id").values_list("id", flat=True):
            for step in SYSTEM_STEPS.values():
                self._system(step, incident_id)
            self._offered_move(incident_id, data, skip=DETOURS)

    def _offered_move(self, incident_id, data, *, skip) -> None:
        incident = Incident.objects.get(pk=incident_id)
        offers = {
            name: offered
            for name in USERS
            if (
                offered := [
                    a for a in incident_actions_for(self.users[name], incident) if a not in skip
                ]
            )
        }
        if not offers:
            return
        who = data.draw(st.sampled_from(sorted(offers)), label="who")
        action = data.draw(st.sampled_from(offers[who]), label="offered")
        if action == A.REFER_TO_MEDIATION:
            self.refer_to_mediation(incident_id, who, 1)
            return
        self._attempt(
            action, incident_id, who, self._call_for(action, incident_id, data), offered=True
        )

    def _call_for(self, action: str, incident_id: int, data):
        """The service call for `action` with plausible (sometimes unsuitable) input."""
        # Mostly staff of the area, now and then somebody unsuitable (a 400).
        pick_user = st.sampled_from(
            ["worker", "worker", "worker2", "worker_b", "dispatcher", "handler", "resident"]
        ).map(lambda name: self.users[name].pk)
        kw = {"incident_id": incident_id}
        if action == A.ASSIGN_VERIFIER:
            verifier = data.draw(pick_user, label="verifier")
            return lambda user: services.incident_assign_verifier(
                **kw, actor=user, verifier_id=verifier, note=TEXT
            )
        if action in (A.DISPATCH, A.REASSIGN):
            kind = data.draw(st.sampled_from(["person", "pool", "unit"]), label="target")
            target: dict = {}
            if kind == "person":
                target["assignee_id"] = data.draw(pick_user, label="assignee")
            elif kind == "pool":
                target["to_pool"] = True
            else:
                target["level"] = data.draw(st.sampled_from(HandlingLevel.values), label="level")
                if target["level"] == HandlingLevel.DEPARTMENT:
                    target["department"] = "城管执法"
            service = (
                services.incident_dispatch if action == A.DISPATCH else services.incident_reassign
            )
            return lambda user: service(**kw, actor=user, note=TEXT, **target)
        if action == A.REQUEST_EXTENSION:
            hours = data.draw(st.sampled_from([-1, 2, 24 * 10, 24 * 60]), label="hours")
            return lambda user: services.incident_request_extension(
                **kw,
                actor=user,
                until=services._now() + timedelta(hours=hours),
                reason=TEXT,
            )
        if action == A.UNPARK:
            days = data.draw(st.sampled_from([None, 3]), label="days")
            return lambda user: services.incident_unpark(
                **kw,
                actor=user,
                resolve_by=None if days is None else services._now() + timedelta(days=days),
            )
        if action == A.RATE:
            rating = data.draw(st.integers(min_value=1, max_value=5), label="rating")
            return lambda user: services.incident_rate(
                **kw, actor=user, rating=rating, comment=TEXT
            )
        if action == A.FIX_ON_SPOT:
            return lambda user: services.incident_fix_on_spot(
                **kw, actor=user, result=TEXT, photos=[jpeg_upload()]
            )
        if action == A.RESOLVE:
            return lambda user: services.incident_resolve(
                **kw, actor=user, result=TEXT, photos=[jpeg_upload()]
            )
        simple = {
            A.VERIFY: lambda user: services.incident_verify(**kw, actor=user, note=TEXT),
            A.MARK_INVALID: lambda user: services.incident_mark_invalid(
                **kw, actor=user, reason=TEXT
            ),
            A.CLAIM: lambda user: services.incident_claim(**kw, actor=user),
            A.ACCEPT: lambda user: services.incident_accept(**kw, actor=user, note=TEXT),
            A.RETURN: lambda user: services.incident_return(**kw, actor=user, reason=TEXT),
            A.ESCALATE: lambda user: services.incident_escalate(**kw, actor=user, reason=TEXT),
            A.APPROVE_EXTENSION: lambda user: services.incident_approve_extension(
                **kw, actor=user, note=TEXT
            ),
            A.REJECT_EXTENSION: lambda user: services.incident_reject_extension(
                **kw, actor=user, reason=TEXT
            ),
            A.PARK: lambda user: services.incident_park(**kw, actor=user, reason=TEXT),
            A.CHECK: lambda user: services.incident_check(**kw, actor=user, note=TEXT),
            A.REWORK: lambda user: services.incident_rework(**kw, actor=user, reason=TEXT),
            A.SEND_FEEDBACK: lambda user: services.incident_send_feedback(**kw, actor=user),
            A.REOPEN: lambda user: services.incident_reopen(**kw, actor=user, note=TEXT),
            A.CLOSE: lambda user: services.incident_close(**kw, actor=user, note=TEXT),
        }
        return simple[action]

    def _attempt(
        self, action: str, incident_id: int, who: str, call, *, offered: bool = False
    ) -> None:
        user = self.users[who]
        incident = Incident.objects.get(pk=incident_id)
        events = list(incident.events.order_by("id").values_list("id", flat=True))
        last = self._last_event_id()
        visible = incident_is_visible(user, incident)
        allowed = policies.allowed(action, user, incident)
        legal_from_here = incident.state in ACTIONS[action]
        same_referral = (
            action == A.REFER_TO_MEDIATION
            and incident.state == S.MEDIATING
            and incident.mediation_case_id is not None
        )
        try:
            call(user)
        except ApplicationError as error:
            assert isinstance(error, REFUSALS), f"{action} by {who}: {error!r}"
            if offered:
                assert isinstance(error, ValidationFailed), f"offered {action}: {error!r}"
            after = Incident.objects.get(pk=incident_id)
            assert after.state == incident.state, f"a refused {action} moved the incident"
            assert list(after.events.order_by("id").values_list("id", flat=True)) == events
            if action == A.FIX_ON_SPOT and not user.has_role("grid_worker"):
                assert isinstance(error, PermissionDeniedError)
            elif same_referral:
                assert isinstance(error, ConflictError | NotFoundError | PermissionDeniedError)
            elif not visible:
                assert isinstance(error, NotFoundError), f"{action} by {who}: {error!r}"
            elif not allowed:
                assert isinstance(error, PermissionDeniedError), f"{action} by {who}: {error!r}"
            elif not legal_from_here:
                assert isinstance(error, ConflictError), f"{action} by {who}: {error!r}"
            return
        after = Incident.objects.get(pk=incident_id)
        new_events = list(after.events.filter(pk__gt=max(events, default=0)).order_by("id"))
        if same_referral and after.state == incident.state:
            assert not new_events  # the same case again: nothing happens
            return
        assert who in MAY_EVER[action], f"{who} may never {action}, yet it succeeded"
        assert visible and allowed and legal_from_here, (
            f"{action} by {who} from {incident.state} succeeded "
            f"(visible={visible}, allowed={allowed})"
        )
        assert new_events and new_events[0].action == action
        assert new_events[0].from_state == incident.state
        self._new_rows_follow_the_graph(last)
        self.succeeded[action] += 1

    # --- invariants ---------------------------------------------------------------------------

    @invariant()
    def one_open_assignment_at_most(self):
        for incident in Incident.objects.all():
            assert not (incident.assignee_id and incident.claimable), incident.tracking_number
            if incident.state in (S.REPORTED, S.VERIFYING, S.VERIFIED):
                assert incident.assignee_id is None and not incident.claimable, incident.state
            if incident.state in (S.ACCEPTED, S.RESOLVED):
                assert incident.assignee_id is not None, incident.state
            if incident.claimable:
                assert incident.state == S.DISPATCHED

    @invariant()
    def the_timeline_is_one_chain_ending_in_the_state(self):
        for incident in Incident.objects.all():
            rows = list(
                IncidentEvent.objects.filter(incident=incident)
                .order_by("id")
                .values_list("action", "from_state", "to_state")
            )
            assert rows and rows[0] == (A.REPORT, "", S.REPORTED)
            for (_a, _f, previous_to), (action, from_state, _t) in pairwise(rows):
                assert from_state == previous_to, f"{action} starts at {from_state}"
            assert rows[-1][2] == incident.state

    @invariant()
    def deadlines_are_set_when_the_state_needs_them(self):
        for i in Incident.objects.all():
            where = f"{i.tracking_number} {i.state}"
            if i.state == S.VERIFYING:
                assert i.verify_due_at and i.due_at, where
            elif i.state == S.VERIFIED:
                assert i.dispatch_due_at and i.due_at, where
            elif i.state in (S.DISPATCHED, S.ACCEPTED):
                assert i.resolve_due_at and i.due_at == i.resolve_due_at, where
            elif i.state == S.RESOLVED and i.check_required:
                assert i.check_due_at and i.due_at == i.check_due_at, where
            elif i.state == S.FEEDBACK_SENT:
                assert i.rate_due_at and i.due_at == i.rate_due_at, where
            elif i.state in (S.RATED, S.REOPENED, S.MEDIATING, S.CHECKED):
                assert i.due_at is None, where
            if i.state in (S.INVALID, S.CLOSED):
                assert i.due_at is None and i.closed_at, where
            if i.parked or i.due_at is None:
                assert i.warn_at is None and i.escalate_at is None, where


def test_the_incident_loop_keeps_its_invariants(city):
    IncidentLoop.city = city
    IncidentLoop.succeeded = Counter()
    IncidentLoop.states_seen = set()
    try:
        run_state_machine_as_test(
            IncidentLoop,
            settings=settings(
                max_examples=50,
                stateful_step_count=25,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                print_blob=False,
                # A failure is reported with its steps as found: shrinking a 25-step run of
                # database work takes minutes.
                phases=[Phase.explicit, Phase.generate],
            ),
        )
    finally:
        IncidentLoop.city = None
    # The runs went through the loop, not round its first steps.
    succeeded, seen = IncidentLoop.succeeded, IncidentLoop.states_seen
    assert len(succeeded) >= 12, dict(succeeded)
    assert {S.ACCEPTED, S.RESOLVED, S.FEEDBACK_SENT, S.CLOSED, S.MEDIATING} <= seen, seen
