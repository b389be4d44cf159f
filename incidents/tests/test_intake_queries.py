"""The lean intake path and the worker's loop steps (issue #8): how many SQL queries a report
costs in the web process and in the worker, and that the number does not grow with the
candidates, their workload or the open incidents. Behaviour only (query counts and answers),
never timing: speed is measured by bench/ (docs/performance.md)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from incidents import tasks
from incidents.models import Category, Incident, IncidentEvent, IncidentState
from incidents.tests.conftest import IN_A1_1
from incidents.tests.factories import make_incident
from integrations.models import WebhookDelivery
from tests.builders import make_grid_worker

S = IncidentState
pytestmark = pytest.mark.django_db
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
# Transaction markers (SAVEPOINT / RELEASE inside the test's transaction; BEGIN / COMMIT in
# production) are not statements that read or write rows.
MARKERS = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "BEGIN", "COMMIT")

# user, roles | INSERT incident, INSERT report event (+ the audit trail's row)
REPORT_STATEMENTS = 5
# lock, reporter's role, the verifier (candidates + workload) | UPDATE, event (+ audit), notice
START_VERIFICATION_STATEMENTS = 7
# lock, the community, the cell's workers | UPDATE, event (+ audit), notice
ROUTE_STATEMENTS = 7
# A grid worker's report, verified and routed in one step (the worker of the cell in person):
# lock, reporter's role, event (+ audit), the cell's workers | UPDATE, event (+ audit), notice
PATROL_STATEMENTS = 9
# The same, routed to a street's unit with two dispatchers: the workload of both instead of
# the cell's workers. The regions and the dispatchers/handlers come from the routing directory
# (incidents.directory); without it (the cache down) 6 more: the community, the street, the
# department's handlers, the street's dispatchers, then for the notice the parent chain and the
# dispatchers along it.
PATROL_TO_UNIT_STATEMENTS = 9
DIRECTORY_READS = 6


def statements(ctx) -> list[str]:
    """The statements that read or write rows, without the session middleware's (the same for
    every request, and it refreshes the session only now and then)."""
    return [
        q["sql"]
        for q in ctx.captured_queries
        if not q["sql"].startswith(MARKERS) and '"django_session"' not in q["sql"]
    ]


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_login(user, backend=BACKEND)
    return client


def body(**overrides) -> dict:
    return {"category": "0102", "description": "垃圾", "lat": IN_A1_1[0], "lng": IN_A1_1[1]} | (
        overrides
    )


def post_report(client, django_capture_on_commit_callbacks, **overrides):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as ctx,
    ):
        response = client.post("/api/v1/incidents", body(**overrides), format="json")
    return response, statements(ctx), callbacks


@pytest.fixture
def warm(city, settings, django_capture_on_commit_callbacks):
    """One report first: the caches (categories, webhook flag, locator, calendar) are filled
    as in a running server. A cache of this test's own: the file cache of the test settings
    is shared with whatever else runs tests on this machine."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "incidents-intake-queries",
        }
    }
    with django_capture_on_commit_callbacks(execute=True):  # the tasks run (eager Celery)
        client_for(city.worker).post("/api/v1/incidents", body(), format="json")
    yield
    from django.core.cache import cache

    cache.clear()


def test_a_report_answers_201_with_a_small_body_and_costs_five_statements(
    city, warm, django_capture_on_commit_callbacks
):
    client = client_for(city.resident)
    response, sql, callbacks = post_report(client, django_capture_on_commit_callbacks)
    assert response.status_code == 201, response.json()
    data = response.json()
    incident = Incident.objects.get(pk=data["id"])
    assert data == {
        "id": incident.pk,
        "tracking_number": incident.tracking_number,
        "state": "reported",
        "channel": "resident_web",
        "created_at": data["created_at"],
        "url": f"/api/v1/incidents/{incident.pk}",
        "web_url": f"/incidents/{incident.pk}/",
        "access_code": data["access_code"],
    }
    assert len(data["access_code"]) == 8 and incident.access_code_hash
    assert len(sql) <= REPORT_STATEMENTS, "\n".join(sql)
    joined = "\n".join(sql)
    # No category query, no tracking-number pre-check, no webhook lookup (nobody subscribes),
    # no second UPDATE for task_enqueued_at (set by the INSERT), no detail query.
    assert "incidents_category" not in joined
    assert "integrations_webhooksubscription" not in joined
    assert not any(s.startswith("UPDATE") for s in sql)
    assert sum(s.startswith("SELECT") for s in sql) == 2  # the user and the user's roles
    # The task is still enqueued on commit, and the sweep can see that it was.
    assert len(callbacks) == 1 and incident.task_enqueued_at is not None
    assert IncidentEvent.objects.filter(incident=incident, action="report").count() == 1
    # The detail is one GET away.
    detail = client.get(data["url"]).json()
    assert detail["tracking_number"] == incident.tracking_number and detail["timeline"]


def test_the_report_statements_do_not_depend_on_the_city(
    city, warm, django_capture_on_commit_callbacks
):
    client = client_for(city.resident)
    _response, before, _ = post_report(client, django_capture_on_commit_callbacks)
    for n in range(5):
        make_grid_worker(f"extra_{n}", cells=[city.cell_a1_1])
        make_incident(city, state=S.VERIFYING, verifier=city.worker)
    _response, after, _ = post_report(client, django_capture_on_commit_callbacks)
    assert len(after) == len(before)


def test_a_category_switched_off_is_refused_at_once_and_a_new_one_accepted(
    city, warm, django_capture_on_commit_callbacks
):
    client = client_for(city.resident)
    Category.objects.filter(code="0102").update(active=False)  # bulk: no signal ...
    category = Category.objects.get(code="0102")
    category.save()  # ... the admin's save publishes the change
    response, _sql, _ = post_report(client, django_capture_on_commit_callbacks)
    assert response.status_code == 400 and "category" in response.json()["errors"]
    category.active = True
    category.save()
    response, _sql, _ = post_report(client, django_capture_on_commit_callbacks)
    assert response.status_code == 201


def test_a_tracking_number_collision_draws_again_without_a_pre_check(
    city, warm, monkeypatch, django_capture_on_commit_callbacks
):
    from incidents.services import report

    taken = Incident.objects.first().tracking_number
    numbers = iter([taken, taken, "GG23456789"])
    monkeypatch.setattr(report, "tracking_number_new", lambda: next(numbers))
    response, _sql, callbacks = post_report(
        client_for(city.resident), django_capture_on_commit_callbacks
    )
    assert response.status_code == 201, response.json()
    assert response.json()["tracking_number"] == "GG23456789"
    assert Incident.objects.filter(tracking_number=taken).count() == 1
    assert len(callbacks) == 1  # the rolled-back attempts enqueued nothing


def test_a_partner_subscribing_is_seen_by_the_next_report(
    city, warm, django_capture_on_commit_callbacks
):
    from integrations.models import WebhookSubscription
    from integrations.services import partner_create

    client = client_for(city.resident)
    _response, sql, _ = post_report(client, django_capture_on_commit_callbacks)
    assert "integrations_webhooksubscription" not in "\n".join(sql)  # cached: nobody
    partner, _secret = partner_create(
        name="Partner", code="zz12345", kind="hotline_12345", region=city.city
    )
    WebhookSubscription.objects.create(
        partner=partner, url="https://partner.example/hook", scope="region", region=city.city
    )
    response, sql, callbacks = post_report(client, django_capture_on_commit_callbacks)
    assert response.status_code == 201
    assert "integrations_webhooksubscription" in "\n".join(sql)
    assert WebhookDelivery.objects.filter(incident_id=response.json()["id"]).count() == 1
    assert len(callbacks) == 2  # locate_and_assign and the webhook delivery


def run_task(task, incident_id, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        CaptureQueriesContext(connection) as ctx,
    ):
        task(incident_id)
    return statements(ctx), callbacks


def test_the_worker_locates_and_picks_the_least_loaded_verifier_in_a_few_statements(
    city, warm, django_capture_on_commit_callbacks
):
    busy = make_grid_worker("busy", cells=[city.cell_a1_1])
    idle = make_grid_worker("idle", cells=[city.cell_a1_1])
    make_grid_worker("off_duty", cells=[city.cell_a1_1], on_duty=False)
    for _n in range(3):
        make_incident(city, state=S.VERIFYING, verifier=busy)
    make_incident(city, state=S.DISPATCHED, assignee=city.worker)
    make_incident(city, state=S.RESOLVED, checker=city.worker)
    response, _sql, _ = post_report(client_for(city.resident), django_capture_on_commit_callbacks)
    incident_id = response.json()["id"]
    sql, _callbacks = run_task(
        tasks.locate_and_assign, incident_id, django_capture_on_commit_callbacks
    )
    incident = Incident.objects.get(pk=incident_id)
    assert incident.state == S.VERIFYING and incident.verifier_id == idle.pk
    assert len(sql) <= START_VERIFICATION_STATEMENTS, "\n".join(sql)
    assert "incidents_category" not in "\n".join(sql)
    assert incident.verifier.notifications.count() == 1


def test_the_verifier_query_does_not_grow_with_the_candidates(
    city, warm, django_capture_on_commit_callbacks
):
    def one_report() -> list[str]:
        response, _sql, _ = post_report(
            client_for(city.resident), django_capture_on_commit_callbacks
        )
        sql, _ = run_task(
            tasks.locate_and_assign, response.json()["id"], django_capture_on_commit_callbacks
        )
        return sql

    before = one_report()
    for n in range(6):
        worker = make_grid_worker(f"more_{n}", cells=[city.cell_a1_1])
        make_incident(city, state=S.VERIFYING, verifier=worker)
    assert len(one_report()) == len(before)


def test_a_patrol_report_is_verified_and_routed_by_one_task_in_a_few_statements(
    city, warm, django_capture_on_commit_callbacks
):
    response, sql, callbacks = post_report(
        client_for(city.worker), django_capture_on_commit_callbacks
    )
    assert response.status_code == 201 and response.json()["channel"] == "patrol"
    assert len(sql) <= REPORT_STATEMENTS + 1, "\n".join(sql)  # + the open patrol, if any
    incident_id = response.json()["id"]
    sql, callbacks = run_task(
        tasks.locate_and_assign, incident_id, django_capture_on_commit_callbacks
    )
    incident = Incident.objects.get(pk=incident_id)
    # Verified at once and routed in the same task: no second trip through the broker.
    assert incident.state == S.DISPATCHED and incident.assignee_id == city.worker.pk
    assert incident.dispatched_at is not None and incident.task_enqueued_at is None
    assert callbacks == []
    assert list(
        IncidentEvent.objects.filter(incident=incident).values_list("action", flat=True)
    ) == ["report", "start_verification", "dispatch"]
    # lock, reporter's role, cell's workers, ONE UPDATE, two events (+ audit), the notice: no
    # second lock, no second UPDATE; the community comes from the routing directory
    # (incidents.directory, built by the warm-up report), as does everything routing reads
    # about regions and roles
    assert len(sql) == PATROL_STATEMENTS, "\n".join(sql)
    assert sum(statement.startswith("UPDATE") for statement in sql) == 1
    joined = "\n".join(sql)
    assert "incidents_category" not in joined
    assert 'FROM "grids_region"' not in joined
    assert city.worker.notifications.filter(dedupe_key__startswith=f"incident:{incident_id}:")


def test_a_patrol_report_routed_to_a_unit_reads_no_region_or_role_rows(
    city, warm, monkeypatch, django_capture_on_commit_callbacks
):
    """Issue #8: the worker's routing reads the regions and who holds which role where from the
    process's directory; the workload of the candidates stays a live read."""
    from incidents import directory
    from incidents.page_selectors import PICKERS_TOKEN
    from tests.builders import make_user

    second = make_user("dispatcher_a2", roles=["dispatcher"], region=city.street_a)
    directory.current()  # built again after the change, as the next step of a worker would
    client = client_for(city.worker)

    def step() -> tuple[Incident, list[str]]:
        # 0107 (abandoned vehicle): street level, 交警 (nobody here): the street's dispatchers
        response, _sql, _ = post_report(client, django_capture_on_commit_callbacks, category="0107")
        incident_id = response.json()["id"]
        sql, _ = run_task(tasks.locate_and_assign, incident_id, django_capture_on_commit_callbacks)
        return Incident.objects.get(pk=incident_id), sql

    incident, sql = step()
    # Two dispatchers with the same workload: nobody stands out, the street's unit gets it and
    # both hear of it.
    assert incident.state == S.DISPATCHED and incident.assignee_id is None
    assert (incident.handling_level, incident.handling_region_id) == ("street", city.street_a.pk)
    notified = {city.dispatcher.pk, second.pk}
    assert (
        set(
            city.dispatcher.notifications.model.objects.filter(
                dedupe_key__startswith=f"incident:{incident.pk}:"
            ).values_list("user_id", flat=True)
        )
        == notified
    )
    assert len(sql) == PATROL_TO_UNIT_STATEMENTS, "\n".join(sql)
    joined = "\n".join(sql)
    assert 'FROM "grids_region"' not in joined and "\"role_id\" = 'dispatcher'" not in joined
    # The workload of the two dispatchers: a live read.
    workload = [q for q in sql if 'FROM "accounts_user" ' in q]
    assert len(workload) == 1 and "COUNT(" in workload[0], workload

    monkeypatch.setattr(PICKERS_TOKEN, "read", lambda: None)  # the cache is down
    incident, sql_without = step()
    assert incident.assignee_id is None and incident.handling_region_id == city.street_a.pk
    assert len(sql_without) == PATROL_TO_UNIT_STATEMENTS + DIRECTORY_READS, "\n".join(sql_without)


def test_the_route_task_still_routes_a_verified_incident_left_pending(
    city, warm, django_capture_on_commit_callbacks
):
    """Called without route_now (as before), verification enqueues `route`; that task (or
    the sweep's re-send of it) dispatches the incident once."""
    from incidents import services

    response, _sql, _ = post_report(client_for(city.worker), django_capture_on_commit_callbacks)
    incident_id = response.json()["id"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        incident = services.incident_start_verification(incident_id=incident_id)
    assert incident.state == S.VERIFIED and incident.task_enqueued_at is not None
    assert len(callbacks) == 1
    sql, _callbacks = run_task(tasks.route, incident_id, django_capture_on_commit_callbacks)
    assert Incident.objects.get(pk=incident_id).state == S.DISPATCHED
    assert len(sql) <= ROUTE_STATEMENTS, "\n".join(sql)
    run_task(tasks.route, incident_id, django_capture_on_commit_callbacks)
    assert IncidentEvent.objects.filter(incident_id=incident_id, action="dispatch").count() == 1


def test_the_small_answer_is_what_the_documented_serializer_writes(city):
    from incidents.serializers import IncidentCreatedSerializer, incident_created_data

    for state in (S.REPORTED, S.DISPATCHED):
        incident = make_incident(city, state=state)
        assert incident_created_data(incident) == IncidentCreatedSerializer(incident).data


def test_the_nearest_dispatchers_are_found_up_the_tree(city, warm, monkeypatch):
    from incidents import routing
    from incidents.page_selectors import PICKERS_TOKEN
    from tests.builders import make_user

    # A community without dispatchers: its street's (one level up) are the nearest, from the
    # routing directory (incidents.directory, built by the warm-up report): no query.
    with CaptureQueriesContext(connection) as ctx:
        found = routing.nearest_dispatcher_ids(city.a1)
    assert found == [city.dispatcher.pk] and ctx.captured_queries == []
    # By id as well; a dispatcher of the community itself is nearer than the street's.
    own = make_user("dispatcher_a1", roles=["dispatcher"], region=city.a1)
    assert routing.nearest_dispatcher_ids(city.a1.pk) == [own.pk]
    # Nobody in the street either: the district's, then nobody at all.
    for user in (own, city.dispatcher):
        user.is_active = False
        user.save()
    assert routing.nearest_dispatcher_ids(city.a1) == []
    district_dispatcher = make_user("dispatcher_d", roles=["dispatcher"], region=city.district)
    assert routing.nearest_dispatcher_ids(city.a1) == [district_dispatcher.pk]
    # Without the directory (the cache is down): two statements whatever the depth, the chain
    # of parents, then the dispatchers along it.
    monkeypatch.setattr(PICKERS_TOKEN, "read", lambda: None)
    with CaptureQueriesContext(connection) as ctx:
        assert routing.nearest_dispatcher_ids(city.a1) == [district_dispatcher.pk]
    assert len(ctx.captured_queries) == 2
    assert routing.nearest_dispatcher_ids(None) == []


def test_the_compiled_routing_reads_answer_like_the_orm(city):
    from accounts.models import User
    from incidents import routing

    make_grid_worker("off_duty_a1", cells=[city.cell_a1_1], on_duty=False)
    for on_duty in (True, False):
        workers = User.objects.filter(
            grid_worker__cells=city.cell_a1_1, is_active=True, roles__code="grid_worker"
        )
        if on_duty:
            workers = workers.filter(grid_worker__on_duty=True)
        expected = sorted(set(workers.values_list("pk", flat=True)))
        assert routing.cell_worker_ids(city.cell_a1_1.pk, on_duty_only=on_duty) == expected
    assert len(routing.cell_worker_ids(city.cell_a1_1.pk, on_duty_only=False)) == 2
    assert routing.cell_worker_ids(None) == []
    make_incident(city, state=S.VERIFYING, verifier=city.worker)
    make_incident(city, state=S.DISPATCHED, assignee=city.worker)
    counts = routing.open_task_counts([city.worker.pk, city.worker2.pk, city.worker.pk])
    assert counts[city.worker.pk] == 2 and counts[city.worker2.pk] == 0
    # Lists of another length compile again and answer the same.
    assert routing.open_task_counts([city.worker.pk])[city.worker.pk] == 2
    assert routing.dispatcher_ids_at(city.street_a) == [city.dispatcher.pk]
