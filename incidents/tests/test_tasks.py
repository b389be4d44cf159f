"""Celery tasks: idempotency, the deadline sweep with time travel, lost-task recovery, and
concurrent claims (threads with their own database connections)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from core.exceptions import ConflictError
from core.models import Notification
from incidents import services, tasks
from incidents.models import Incident, IncidentEvent, IncidentState
from incidents.tests.conftest import IN_A1_1
from incidents.tests.factories import make_incident

S = IncidentState


def _report(city, **kwargs):
    return services.incident_report(
        actor=kwargs.pop("actor", city.resident),
        category=city.categories[kwargs.pop("code", "0102")],
        description="垃圾",
        channel=kwargs.pop("channel", "resident_web"),
        lat=IN_A1_1[0],
        lng=IN_A1_1[1],
        **kwargs,
    )


def _counts(incident, action):
    return (
        IncidentEvent.objects.filter(incident=incident, action=action).count(),
        Notification.objects.count(),
    )


# --- idempotency ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_locate_and_assign_twice_changes_nothing_the_second_time(
    city, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as enqueued:
        incident = _report(city)
    assert len(enqueued) == 1  # the locate task, on commit only
    tasks.locate_and_assign(incident.pk)
    first = (Incident.objects.get(pk=incident.pk).state, *_counts(incident, "start_verification"))
    tasks.locate_and_assign(incident.pk)
    second = (Incident.objects.get(pk=incident.pk).state, *_counts(incident, "start_verification"))
    assert first == second == (S.VERIFYING, 1, 1)


@pytest.mark.django_db
def test_route_twice_dispatches_once(city, django_capture_on_commit_callbacks):
    incident = make_incident(city, state=S.VERIFYING, category="0101")
    with django_capture_on_commit_callbacks() as enqueued:
        services.incident_verify(incident_id=incident.pk, actor=city.worker)
    assert len(enqueued) == 1
    tasks.route(incident.pk)
    tasks.route(incident.pk)
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.assignee == city.handler
    assert _counts(incident, "dispatch") == (1, 1)


@pytest.mark.django_db
def test_send_feedback_twice_tells_the_reporter_once(city):
    incident = make_incident(city, state=S.CHECKED, task_enqueued_at=timezone.now())
    tasks.send_feedback(incident.pk)
    tasks.send_feedback(incident.pk)
    incident.refresh_from_db()
    assert incident.state == S.FEEDBACK_SENT
    assert _counts(incident, "send_feedback") == (1, 1)
    assert Notification.objects.get().user == city.resident


@pytest.mark.django_db
def test_apply_rating_twice_closes_once(city):
    incident = make_incident(city, state=S.RATED, rating=5)
    tasks.apply_rating(incident.pk)
    tasks.apply_rating(incident.pk)
    incident.refresh_from_db()
    assert incident.state == S.CLOSED
    assert IncidentEvent.objects.filter(incident=incident, action="close").count() == 1


@pytest.mark.django_db
def test_apply_rating_twice_reopens_once(city, django_capture_on_commit_callbacks):
    incident = make_incident(city, state=S.RATED, rating=2)
    with django_capture_on_commit_callbacks() as enqueued:
        tasks.apply_rating(incident.pk)
        tasks.apply_rating(incident.pk)
    incident.refresh_from_db()
    assert incident.state == S.REOPENED and incident.reopen_count == 1
    assert len(enqueued) == 1  # one routing task


@pytest.mark.django_db
def test_tasks_for_a_missing_incident_do_nothing(city):
    for task in (tasks.locate_and_assign, tasks.route, tasks.send_feedback, tasks.apply_rating):
        task(987654)
    assert not IncidentEvent.objects.exists()


@pytest.mark.django_db
def test_transient_database_errors_are_retried(city, monkeypatch):
    from django.db import OperationalError

    calls = []

    def flaky(*, incident_id, **options):
        calls.append(incident_id)
        if len(calls) < 3:
            raise OperationalError("database is locked")

    from governance.celery import app

    monkeypatch.setattr(services, "incident_start_verification", flaky)
    propagates = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    try:
        result = tasks.locate_and_assign.apply(args=[1])  # eager: the retries run in place
    finally:
        app.conf.task_eager_propagates = propagates
    assert result.successful() and calls == [1, 1, 1]


# --- the sweep --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sweep_warns_once_before_the_verify_deadline(city, run_on_commit):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        incident = run_on_commit(_report, city)
    incident.refresh_from_db()
    assert incident.warn_at == incident.created_at + timedelta(minutes=48)  # 80 % of 1 h
    with time_machine.travel(start + timedelta(minutes=40), tick=False):
        assert services.incidents_sweep().warned == 0
    with time_machine.travel(start + timedelta(minutes=50), tick=False):
        assert services.incidents_sweep().warned == 1
        assert services.incidents_sweep().warned == 0
    incident.refresh_from_db()
    assert incident.warned_at is not None and incident.warn_at is None
    warning = IncidentEvent.objects.get(incident=incident, action="deadline_warning")
    assert warning.actor is None and not warning.public
    warnings = Notification.objects.filter(dedupe_key__startswith=f"incident:{incident.pk}:warn:")
    assert list(warnings.values_list("user", flat=True)) == [city.worker.pk]


@pytest.mark.django_db
def test_sweep_escalates_an_overdue_verification_to_the_next_level(city, run_on_commit):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        incident = run_on_commit(_report, city)
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        result = services.incidents_sweep()
        assert services.incidents_sweep().escalated == 0
    assert result.escalated == 1
    incident.refresh_from_db()
    assert incident.state == S.VERIFYING and incident.escalation_level == 1
    assert incident.handling_level == "community"
    assert incident.verifier == city.dispatcher  # nearest dispatcher above the community
    event = IncidentEvent.objects.get(incident=incident, action="escalate")
    assert event.actor is None and event.data["to_level"] == "community"
    assert Notification.objects.filter(
        user=city.dispatcher, dedupe_key=f"incident:{incident.pk}:escalate:1"
    ).exists()


@pytest.mark.django_db
def test_sweep_escalates_overdue_handling_to_the_unit_above(city):
    now = timezone.now()
    incident = make_incident(
        city,
        state=S.ACCEPTED,
        due_at=now - timedelta(minutes=1),
        escalate_at=now - timedelta(minutes=1),
    )
    assert services.incidents_sweep(now=now).escalated == 1
    incident.refresh_from_db()
    assert incident.state == S.DISPATCHED and incident.assignee is None
    assert (incident.handling_level, incident.handling_region) == ("community", city.a1)
    assert incident.due_at > now and incident.escalate_at == incident.due_at


@pytest.mark.django_db
def test_sweep_leaves_parked_and_top_level_incidents_alone(city):
    now = timezone.now()
    late = now - timedelta(hours=1)
    parked = make_incident(city, state=S.ACCEPTED, parked=True, due_at=late, escalate_at=late)
    top = make_incident(
        city,
        state=S.DISPATCHED,
        handling_level="district",
        handling_region=city.district,
        due_at=late,
        escalate_at=late,
    )
    services.incidents_sweep(now=now)
    parked.refresh_from_db()
    top.refresh_from_db()
    assert parked.escalation_level == 0 and parked.handling_level == "grid"
    assert top.escalation_level == 0 and top.escalate_at is None  # nowhere to go: stop trying
    assert not IncidentEvent.objects.filter(action="escalate").exists()


@pytest.mark.django_db
def test_sweep_closes_unrated_incidents_after_the_rating_window(city, settings):
    settings.INCIDENT_RATING_WINDOW_DAYS = 7
    start = timezone.now()
    incident = make_incident(city, state=S.CHECKED, task_enqueued_at=start)
    with time_machine.travel(start, tick=False):
        services.incident_send_feedback(incident_id=incident.pk)
    with time_machine.travel(start + timedelta(days=6, hours=23), tick=False):
        assert services.incidents_sweep().closed == 0
    with time_machine.travel(start + timedelta(days=7, minutes=1), tick=False):
        assert services.incidents_sweep().closed == 1
        assert services.incidents_sweep().closed == 0
    incident.refresh_from_db()
    assert incident.state == S.CLOSED and incident.rating is None
    close = IncidentEvent.objects.get(incident=incident, action="close")
    assert close.actor is None and close.from_state == S.FEEDBACK_SENT


@pytest.mark.django_db
def test_sweep_recovers_a_lost_task(city, django_capture_on_commit_callbacks, settings):
    settings.INCIDENT_TASK_STUCK_MINUTES = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        incident = _report(city)  # its locate task is lost: the on-commit callback never runs
    assert Incident.objects.get(pk=incident.pk).state == S.REPORTED
    with time_machine.travel(start + timedelta(minutes=4), tick=False):
        assert services.incidents_sweep().re_enqueued == 0
    with (
        time_machine.travel(start + timedelta(minutes=6), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.incidents_sweep().re_enqueued == 1
    incident.refresh_from_db()
    assert incident.state == S.VERIFYING and incident.verifier == city.worker
    assert incident.task_enqueued_at is None
    located = incident.events.get(action="start_verification")
    assert located.actor is None and located.data["grid_cell"] == city.cell_a1_1.code


@pytest.mark.django_db
def test_sweep_task_runs_every_part(city):
    assert tasks.sweep_deadlines() == {"re_enqueued": 0, "closed": 0, "escalated": 0, "warned": 0}


@pytest.mark.django_db
def test_sweep_queries_grow_only_by_one_update_per_escalation(city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def sweep_with(count: int) -> int:
        now = timezone.now()
        late = now - timedelta(minutes=5)
        for _ in range(count):
            make_incident(city, state=S.ACCEPTED, due_at=late, escalate_at=late)
            make_incident(city, state=S.VERIFYING, warn_at=late)
            make_incident(city, state=S.FEEDBACK_SENT, due_at=late)
        with CaptureQueriesContext(connection) as queries:
            result = services.incidents_sweep(now=now)
        assert (result.escalated, result.warned, result.closed) == (count, count, count)
        return len(queries.captured_queries)

    sweep_with(1)  # warm the working-calendar cache
    few, many = sweep_with(5), sweep_with(25)
    assert many - few == 20  # closing and warning are bulk; escalation: one UPDATE per row


# --- concurrent claims ------------------------------------------------------------------------


def _claim_race(city, claimers: int) -> tuple[list, list, Incident]:
    from tests.builders import make_grid_worker

    workers = [make_grid_worker(f"racer{n}", cells=[city.cell_a1_1]) for n in range(claimers)]
    incident = make_incident(city, state=S.DISPATCHED, assignee=None, claimable=True)
    barrier = threading.Barrier(claimers)
    winners, losers = [], []

    def claim(worker):
        try:
            barrier.wait(timeout=30)
            services.incident_claim(incident_id=incident.pk, actor=worker)
            winners.append(worker)
        except ConflictError as exc:
            losers.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    incident.refresh_from_db()
    return winners, losers, incident


def _assert_one_winner(winners, losers, incident, claimers):
    assert len(winners) == 1, (winners, losers)
    assert len(losers) == claimers - 1
    assert incident.state == S.ACCEPTED and incident.assignee == winners[0]
    assert all(str(winners[0]) in message for message in losers)
    assert IncidentEvent.objects.filter(incident=incident, action="claim").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_sqlite_have_exactly_one_winner(city):
    # SQLite takes the write lock at BEGIN (IMMEDIATE): claims are serialised, the state
    # check refuses every claim after the first.
    winners, losers, incident = _claim_race(city, 6)
    _assert_one_winner(winners, losers, incident, 6)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_on_postgres_have_exactly_one_winner(city):
    # SELECT ... FOR UPDATE: every claimer waits for the row; the first commits, the others
    # see the new state and get a ConflictError naming the winner.
    winners, losers, incident = _claim_race(city, 12)
    _assert_one_winner(winners, losers, incident, 12)
