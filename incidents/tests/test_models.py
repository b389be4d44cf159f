"""The state graph and the timeline."""

from __future__ import annotations

import itertools

import pytest

from incidents.models import ACTIONS, TRANSITIONS, Action, IncidentEvent, IncidentState
from incidents.tests.factories import make_incident

S = IncidentState


def test_the_graph_is_derived_from_the_actions():
    assert set(TRANSITIONS) == set(IncidentState.values)
    for action, moves in ACTIONS.items():
        assert action in Action.values
        for source, targets in moves.items():
            assert targets <= TRANSITIONS[source]
    assert TRANSITIONS[S.INVALID] == TRANSITIONS[S.CLOSED] == set()


def test_the_designed_loop_is_in_the_graph():
    loop = [
        S.REPORTED,
        S.VERIFYING,
        S.VERIFIED,
        S.DISPATCHED,
        S.ACCEPTED,
        S.RESOLVED,
        S.CHECKED,
        S.FEEDBACK_SENT,
        S.RATED,
        S.CLOSED,
    ]
    for here, there in itertools.pairwise(loop):
        assert there in TRANSITIONS[here], (here, there)
    assert S.INVALID in TRANSITIONS[S.VERIFYING]
    assert S.DISPATCHED in TRANSITIONS[S.RESOLVED]  # rework
    assert S.REOPENED in TRANSITIONS[S.RATED] and S.DISPATCHED in TRANSITIONS[S.REOPENED]
    assert S.VERIFIED in TRANSITIONS[S.REPORTED]  # a grid worker's own report
    assert S.RESOLVED in TRANSITIONS[S.REPORTED]  # 随手办


def test_every_state_can_reach_an_end():
    ends = {S.INVALID, S.CLOSED}
    for state in IncidentState.values:
        seen, todo = set(), [state]
        while todo:
            here = todo.pop()
            seen.add(here)
            todo.extend(TRANSITIONS[here] - seen)
        assert seen & ends, state


@pytest.mark.django_db
def test_events_are_append_only(city):
    incident = make_incident(city)
    event = IncidentEvent.objects.create(incident=incident, action="report", to_state="reported")
    event.note = "changed"
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()
