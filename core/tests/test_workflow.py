"""core.workflow: the declared graph, the lock, the move, the timeline event, the bulk check.

The graph tests run on the three apps' real declarations (incidents.models.ACTIONS, mediation
and petitions' TRANSITIONS), so the conversion of each app is a mechanical swap; the lock,
move, record and enqueue tests run the steps of an incident service on a real incident.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import transaction

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError
from core.workflow import (
    Graph,
    Move,
    check,
    check_bulk,
    enqueue_on_commit,
    lock,
    move,
    record,
)

# --- the graph ----------------------------------------------------------------------------


def test_move_declarations_give_the_edges():
    graph = Graph(
        {
            "verify": Move(["verifying"], "verified"),
            "note": Move(["verifying", "verified"]),  # a side move: the state stays
            "start": {"reported": {"verifying", "verified"}},
            "escalate": [Move(["verifying"]), Move(["dispatched", "accepted"], "dispatched")],
        }
    )
    assert graph.targets("verify", "verifying") == {"verified"}
    assert graph.targets("verify", "reported") == frozenset()
    assert graph.targets("note", "verified") == {"verified"}
    assert graph.targets("start", "reported") == {"verifying", "verified"}
    assert graph.targets("escalate", "verifying") == {"verifying"}
    assert graph.targets("escalate", "accepted") == {"dispatched"}
    assert graph.sources("escalate") == {"verifying", "dispatched", "accepted"}
    assert graph.can("verify", "verifying")
    assert graph.can("verify", "verifying", "verified")
    assert not graph.can("verify", "verifying", "closed")
    assert not graph.can("verify", "closed")
    assert graph.actions == {"verify", "note", "start", "escalate"}
    assert graph.state_graph()["verifying"] == {"verified", "verifying"}


def test_an_undeclared_action_is_a_bug_not_a_refusal():
    graph = Graph({"verify": Move(["verifying"], "verified")})
    with pytest.raises(KeyError):
        graph.can("vrfy", "verifying")


def test_the_incident_graph_is_models_actions_unchanged():
    from incidents.models import ACTIONS, TRANSITIONS, IncidentState

    graph = Graph(ACTIONS)
    for action, edges in ACTIONS.items():
        for state in IncidentState.values:
            assert graph.targets(action, state) == edges.get(state, frozenset())
        assert graph.sources(action) == set(edges)
    derived = graph.state_graph()
    assert {s: t for s, t in TRANSITIONS.items() if t} == derived


@pytest.mark.parametrize("app", ["mediation", "petitions"])
def test_a_state_graph_serves_every_action(app):
    """Mediation and petitions declare state -> states today: Graph(transitions=...)."""
    from importlib import import_module

    models = import_module(f"{app}.models")
    graph = Graph(transitions=models.TRANSITIONS)
    for source, targets in models.TRANSITIONS.items():
        for target in {*models.TRANSITIONS, *targets}:
            assert graph.can("anything", source, target) == (target in targets)
    assert graph.state_graph() == {s: set(t) for s, t in models.TRANSITIONS.items()}


def test_declared_actions_narrow_a_state_graph():
    graph = Graph(
        {"close": Move(["failed"], "closed")},
        transitions={"failed": {"closed", "applied"}},
    )
    assert graph.targets("close", "failed") == {"closed"}
    assert graph.targets("other", "failed") == {"closed", "applied"}


# --- move and check -------------------------------------------------------------------------

GRAPH = Graph(
    {
        "verify": Move(["verifying"], "verified"),
        "start": {"reported": {"verifying", "verified"}},
        "note": Move(["verifying"]),
    }
)


def test_move_sets_the_state_and_returns_the_previous_one():
    obj = SimpleNamespace(state="verifying")
    assert move(obj, GRAPH, "verify") == "verifying"
    assert obj.state == "verified"
    obj = SimpleNamespace(state="verifying")
    assert move(obj, GRAPH, "note") == "verifying"
    assert obj.state == "verifying"
    obj = SimpleNamespace(status="reported")
    assert move(obj, GRAPH, "start", "verified", field="status") == "reported"
    assert obj.status == "verified"


def test_a_refused_move_raises_a_conflict_and_changes_nothing():
    obj = SimpleNamespace(state="closed")
    with pytest.raises(ConflictError) as refused:
        move(obj, GRAPH, "verify")
    assert refused.value.status_code == 409
    assert refused.value.extra == {"state": ["closed"]}
    assert obj.state == "closed"
    obj = SimpleNamespace(state="reported")
    with pytest.raises(ConflictError):
        move(obj, GRAPH, "start", "closed")  # not a target of the action
    assert obj.state == "reported"


def test_an_ambiguous_move_needs_a_target():
    with pytest.raises(ValueError, match="needs a target"):
        move(SimpleNamespace(state="reported"), GRAPH, "start")


def test_the_app_words_its_own_refusals():
    calls = []

    def conflict(obj, action, target):
        calls.append((obj.state, action, target))
        return ConflictError(f"{action}: no")

    with pytest.raises(ConflictError, match="verify: no"):
        move(SimpleNamespace(state="closed"), GRAPH, "verify", "verified", conflict=conflict)
    with pytest.raises(ConflictError, match="verify: no"):
        check(SimpleNamespace(state="closed"), GRAPH, "verify", conflict=conflict)
    assert calls == [("closed", "verify", "verified"), ("closed", "verify", None)]


def test_check_passes_from_a_source_state_and_names_the_state_otherwise():
    check(SimpleNamespace(state="verifying"), GRAPH, "verify")
    with pytest.raises(ConflictError, match="closed"):
        check(SimpleNamespace(state="closed"), GRAPH, "verify")


def test_the_default_refusal_is_translated():
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(ConflictError) as refused:
        check(SimpleNamespace(state="closed"), GRAPH, "verify")
    assert refused.value.message == "当前状态为“closed”，无法verify。"


def test_check_bulk_guards_the_sweeps_bulk_close():
    from incidents.models import ACTIONS, Action, IncidentState

    graph = Graph(ACTIONS)
    states = check_bulk(graph, Action.CLOSE, [IncidentState.FEEDBACK_SENT], IncidentState.CLOSED)
    assert states == [IncidentState.FEEDBACK_SENT]
    with pytest.raises(ConflictError):
        check_bulk(graph, Action.CLOSE, [IncidentState.RESOLVED], IncidentState.CLOSED)
    with pytest.raises(ConflictError):
        check_bulk(graph, Action.CLOSE, [IncidentState.FEEDBACK_SENT], IncidentState.RATED)
    with pytest.raises(ConflictError):
        check_bulk(graph, Action.CLOSE, [], IncidentState.CLOSED)


# --- lock, record, enqueue on a real incident ----------------------------------------------


@pytest.fixture
def city(db):
    from incidents.tests.factories import build_city

    return build_city()


def test_lock_returns_the_row_or_the_apps_not_found(city):
    from incidents.models import Incident
    from incidents.tests.factories import make_incident

    incident = make_incident(city)
    with transaction.atomic():
        assert lock(Incident, incident.pk) == incident
        assert lock(Incident.objects.filter(region=incident.region), incident.pk) == incident
        assert lock(Incident, incident.pk, of=("self",)).pk == incident.pk
        with pytest.raises(NotFoundError, match="gone"):
            lock(Incident, incident.pk + 1000, not_found=NotFoundError("gone"))
        with pytest.raises(Incident.DoesNotExist):
            lock(Incident, incident.pk + 1000)


def test_a_service_written_with_the_workflow_steps(city, django_capture_on_commit_callbacks):
    """incident_claim's shape: lock, scope/role, state, move, save, event, enqueue on commit."""
    from incidents.models import ACTIONS, Action, Incident, IncidentEvent, IncidentState
    from incidents.tests.factories import make_incident

    graph = Graph(ACTIONS)
    incident = make_incident(city, state=IncidentState.DISPATCHED, assignee=None)
    sent = []
    task = SimpleNamespace(delay=lambda *ids: sent.append(ids))

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = lock(Incident, incident.pk, not_found=NotFoundError("not found"))
        if city.worker is None:  # the app's scope and role checks go here
            raise PermissionDeniedError("no")
        check(locked, graph, Action.CLAIM)
        previous = move(locked, graph, Action.CLAIM, IncidentState.ACCEPTED)
        locked.assignee = city.worker
        locked.save()
        event = record(
            IncidentEvent,
            locked,
            actor=city.worker,
            action=Action.CLAIM,
            from_state=previous,
            to_state=locked.state,
            note="mine",
            public=False,
        )
        enqueue_on_commit(task, locked.pk)
        assert sent == []  # not before the commit

    assert sent == [(incident.pk,)]
    incident.refresh_from_db()
    assert incident.state == IncidentState.ACCEPTED
    stored = IncidentEvent.objects.get(pk=event.pk)
    assert (stored.incident_id, stored.actor, stored.action) == (incident.pk, city.worker, "claim")
    assert (stored.from_state, stored.to_state, stored.note) == ("dispatched", "accepted", "mine")
    assert stored.public is False
    assert stored.data == {}


def test_record_leaves_the_models_defaults_and_takes_extra_columns(city):
    from incidents.models import IncidentEvent
    from incidents.tests.factories import make_incident

    incident = make_incident(city)
    event = record(
        IncidentEvent, incident, actor=None, action="deadline_warning", data={"level": 1}
    )
    event.refresh_from_db()
    assert event.public is True  # the column's default
    assert (event.from_state, event.to_state, event.actor) == ("", "", None)
    assert event.data == {"level": 1}


def test_record_finds_each_apps_foreign_key():
    from core.workflow import _subject_field
    from incidents.models import Incident, IncidentEvent
    from mediation.models import MediationCase, MediationEvent
    from petitions.models import Petition, PetitionEvent

    assert _subject_field(IncidentEvent, Incident) == "incident"
    assert _subject_field(MediationEvent, MediationCase) == "case"
    assert _subject_field(PetitionEvent, Petition) == "petition"
    with pytest.raises(TypeError, match="subject_field"):
        _subject_field(IncidentEvent, Petition)


def test_nothing_is_enqueued_when_the_transaction_rolls_back(
    db, django_capture_on_commit_callbacks
):
    sent = []
    task = SimpleNamespace(delay=lambda *ids: sent.append(ids))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                enqueue_on_commit(task, 1, 2)
                raise RuntimeError("rolled back")
        except RuntimeError:
            pass
    assert callbacks == []
    assert sent == []
