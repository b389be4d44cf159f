"""Reads: who sees what, the actions offered, timelines, work lists, queue, board, tracking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.exceptions import NotFoundError, ValidationFailed
from incidents import selectors, services
from incidents.models import IncidentState
from incidents.tests.factories import make_incident

S = IncidentState
pytestmark = pytest.mark.django_db


@pytest.fixture
def spread(city):
    """One incident in each area, handled by various people."""
    return {
        "a1": make_incident(city, state=S.VERIFYING, cell="cell_a1_1"),
        "a1_2": make_incident(
            city, state=S.ACCEPTED, cell="cell_a1_2", assignee=city.worker2, verifier=city.worker2
        ),
        "a2": make_incident(city, state=S.VERIFYING, cell="cell_a2_1", verifier=city.dispatcher),
        "b1": make_incident(
            city,
            state=S.VERIFYING,
            cell="cell_b1_1",
            verifier=city.worker_b,
            reporter=city.resident2,
        ),
        "dept_b": make_incident(
            city,
            state=S.DISPATCHED,
            cell="cell_b1_1",
            assignee=None,
            verifier=city.worker_b,
            handling_level="department",
            handling_department="城管执法",
            handling_region=city.district,
            reporter=city.resident2,
        ),
    }


def visible(user) -> set[str]:
    return set(selectors.incidents_visible(user).values_list("pk", flat=True))


def test_each_role_sees_its_scope(city, spread):
    ids = {name: incident.pk for name, incident in spread.items()}
    assert visible(city.admin) == set(ids.values())
    assert visible(city.supervisor) == set(ids.values())  # the whole city
    assert visible(city.dispatcher) == {ids["a1"], ids["a1_2"], ids["a2"]}
    assert visible(city.dispatcher_b) == {ids["b1"], ids["dept_b"]}
    assert visible(city.worker) == {ids["a1"]}  # own cell (and what they verify)
    assert visible(city.worker2) == {ids["a1_2"]}
    assert visible(city.handler) == {ids["dept_b"]}  # sent to 城管执法 in the district
    assert visible(city.resident) == {ids["a1"], ids["a1_2"], ids["a2"]}  # their reports
    assert visible(city.resident2) == {ids["b1"], ids["dept_b"]}


def test_incident_get_for_user_is_404_outside_the_scope(city, spread):
    assert selectors.incident_get_for_user(user=city.worker, incident_id=spread["a1"].pk)
    for outsider in (city.worker_b, city.dispatcher_b, city.resident2, None):
        with pytest.raises(NotFoundError):
            selectors.incident_get_for_user(user=outsider, incident_id=spread["a1"].pk)


def test_actions_follow_role_and_state(city):
    verifying = make_incident(city, state=S.VERIFYING)
    assert selectors.incident_actions_for(city.worker, verifying) == [
        "verify",
        "fix_on_spot",
        "mark_invalid",
    ]
    assert selectors.incident_actions_for(city.dispatcher, verifying) == [
        "assign_verifier",
        "verify",
        "mark_invalid",
        "escalate",
    ]
    assert selectors.incident_actions_for(city.resident, verifying) == []
    assert selectors.incident_actions_for(city.worker_b, verifying) == []

    pool = make_incident(city, state=S.DISPATCHED, assignee=None, claimable=True)
    assert selectors.incident_actions_for(city.worker, pool) == ["claim"]
    accepted = make_incident(city, state=S.ACCEPTED)
    assert selectors.incident_actions_for(city.worker, accepted) == [
        "return",
        "request_extension",
        "resolve",
    ]
    rate = make_incident(city, state=S.FEEDBACK_SENT)
    assert selectors.incident_actions_for(city.resident, rate) == ["rate"]


def test_every_offered_action_is_accepted_by_its_service(city):
    """What the buttons offer, the services allow (no 403/409 behind a button)."""
    incident = make_incident(city, state=S.ACCEPTED)
    offered = selectors.incident_actions_for(city.worker, incident)
    assert "resolve" in offered
    services.incident_resolve(incident_id=incident.pk, actor=city.worker, result="ok")
    incident.refresh_from_db()
    assert "resolve" not in selectors.incident_actions_for(city.worker, incident)


def test_residents_see_only_public_events(city, run_on_commit):
    incident = make_incident(
        city,
        state=S.DISPATCHED,
        category="0101",
        assignee=city.handler,
        handling_department="城管执法",
        handling_level="department",
    )
    services.incident_return(incident_id=incident.pk, actor=city.handler, reason="不归我们")
    staff = list(selectors.incident_timeline_for(city.dispatcher, incident))
    public = list(selectors.incident_timeline_for(city.resident, incident))
    assert [e.action for e in staff] == ["return"]
    assert public == []


def test_my_tasks_lists_each_kind_of_work(city):
    to_verify = make_incident(city, state=S.VERIFYING)
    to_check = make_incident(
        city, state=S.RESOLVED, assignee=city.handler, checker=city.worker, check_required=True
    )
    claimable = make_incident(city, state=S.DISPATCHED, assignee=None, claimable=True)
    assigned = make_incident(city, state=S.ACCEPTED)
    unit = make_incident(
        city,
        state=S.DISPATCHED,
        assignee=None,
        handling_level="department",
        handling_department="城管执法",
        handling_region=city.district,
    )
    tasks = selectors.my_tasks(city.worker)
    assert list(tasks["to_verify"]) == [to_verify]
    assert list(tasks["to_check"]) == [to_check]
    assert list(tasks["claimable"]) == [claimable]
    assert list(tasks["assigned"]) == [assigned]
    assert list(selectors.my_tasks(city.handler)["unit"]) == [unit]


def test_dispatch_queue_filters_and_orders_by_deadline(city, spread):
    now = timezone.now()
    late = make_incident(
        city,
        state=S.DISPATCHED,
        urgent=True,
        due_at=now - timedelta(hours=1),
        description="井盖丢失",
    )
    queue = selectors.dispatch_queue(city.dispatcher, {})
    assert next(iter(queue)) == late  # earliest deadline first
    assert list(selectors.dispatch_queue(city.dispatcher, {"overdue": "true"})) == [late]
    assert list(selectors.dispatch_queue(city.dispatcher, {"urgent": "true"})) == [late]
    assert list(selectors.dispatch_queue(city.dispatcher, {"q": "井盖"})) == [late]
    by_state = selectors.dispatch_queue(city.dispatcher, {"state": ["verifying"]})
    assert {i.pk for i in by_state} == {spread["a1"].pk, spread["a2"].pk}
    by_cell = selectors.dispatch_queue(city.dispatcher, {"grid_cell": "350602001002001"})
    assert list(by_cell) == [spread["a2"]]
    by_community = selectors.dispatch_queue(city.dispatcher, {"community": "350602001002"})
    assert list(by_community) == [spread["a2"]]
    by_class = selectors.dispatch_queue(city.dispatcher, {"category": "01"})
    assert len(by_class) == 4
    today = timezone.localdate().isoformat()
    assert len(selectors.dispatch_queue(city.dispatcher, {"reported_from": today})) == 4
    with pytest.raises(ValidationFailed):
        selectors.dispatch_queue(city.dispatcher, {"state": ["nonsense"]})


def test_dispatch_queue_query_count_does_not_grow_with_rows(city):
    def count_queries() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as context:
            rows = list(selectors.dispatch_queue(city.dispatcher, {}))
            related = [
                (r.category.parent, r.grid_cell, r.region, r.assignee, r.handling_region)
                for r in rows
            ]
            assert len(related) == len(rows)
        return len(context.captured_queries)

    make_incident(city, state=S.ACCEPTED)
    count_queries()  # warm the user's role cache
    few = count_queries()
    for _ in range(20):
        make_incident(city, state=S.ACCEPTED)
    assert count_queries() == few


def test_overdue_board(city):
    now = timezone.now()
    late = make_incident(city, state=S.ACCEPTED, due_at=now - timedelta(hours=2))
    parked = make_incident(city, state=S.ACCEPTED, due_at=now - timedelta(hours=1), parked=True)
    make_incident(city, state=S.ACCEPTED, due_at=now + timedelta(hours=1))
    make_incident(city, state=S.FEEDBACK_SENT, due_at=now - timedelta(hours=3))  # rating window
    make_incident(city, state=S.CLOSED, due_at=now - timedelta(hours=3))
    assert list(selectors.overdue_board(city.dispatcher)) == [late, parked]
    assert list(selectors.overdue_board(city.dispatcher_b)) == []


def test_workload_per_worker(city):
    make_incident(city, state=S.VERIFYING)
    make_incident(city, state=S.ACCEPTED, due_at=timezone.now() - timedelta(hours=1))
    make_incident(city, state=S.ACCEPTED, cell="cell_a1_2", assignee=city.worker2)
    loads = {load.name: load for load in selectors.workload_per_worker(city.street_a)}
    assert set(loads) == {"worker_a1", "worker_a1_2"}
    assert (loads["worker_a1"].to_verify, loads["worker_a1"].assigned) == (1, 1)
    assert loads["worker_a1"].overdue == 1 and loads["worker_a1"].total == 2
    assert loads["worker_a1_2"].assigned == 1
    assert selectors.workload_per_worker(city.b1)[0].name == "worker_b"


def test_tracking_needs_the_number_and_the_access_code(city, run_on_commit):
    incident = make_incident(city, state=S.FEEDBACK_SENT, result="已处理")
    track = selectors.incident_track(incident.tracking_number, incident.access_code)
    assert track.state == "feedback_sent" and track.can_rate and track.result == "已处理"
    messages = set()
    for number, code in [
        (incident.tracking_number, "9999"),
        (incident.tracking_number, "0001"),  # the phone's last digits no longer work
        ("GGNOSUCH22", incident.access_code),
        ("", incident.access_code),
        (incident.tracking_number, ""),
    ]:
        with pytest.raises(NotFoundError) as error:
            selectors.incident_track(number, code)
        messages.add(error.value.message)
    assert len(messages) == 1  # no hint whether the number exists


def test_tracking_shows_public_events_only_and_hides_internal_categories(city):
    incident = make_incident(city, state=S.DISPATCHED, category="1202", assignee=city.worker)
    services.incident_request_extension(
        incident_id=incident.pk,
        actor=city.worker,
        until=timezone.now() + timedelta(days=9),
        reason="内部原因",
    )
    track = selectors.incident_track(incident.tracking_number, incident.access_code)
    assert track.category != city.categories["1202"].name
    assert track.events == []


def test_an_incident_outside_scope_is_a_404_and_an_audited_refusal(city, client):
    from audit.models import AuditEvent, AuditKind

    incident = make_incident(city)  # reported by city.resident
    client.force_login(city.resident2)
    assert client.get(f"/api/v1/incidents/{incident.pk}").status_code == 404
    event = AuditEvent.objects.get(kind=AuditKind.ACCESS_DENIED)
    assert (event.actor_id, event.object_type, event.object_id) == (
        city.resident2.pk,
        "incidents.incident",
        str(incident.pk),
    )
    assert event.details == {"reason": "out_of_scope", "status": 404}
    # A row that does not exist is not a refusal: nothing more is written.
    assert client.get(f"/api/v1/incidents/{incident.pk + 1000}").status_code == 404
    assert AuditEvent.objects.filter(kind=AuditKind.ACCESS_DENIED).count() == 1
