"""The dispatch queue at scale (issue #8): the page, its htmx rows partial and the API read a
fixed number of SQL queries (≤ 12) whatever the number of rows; the narrow rows say what the
full incidents said; the per-process pickers follow changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from grids.models import GridCell
from incidents import selectors
from incidents.models import IncidentState
from incidents.serializers import IncidentListSerializer
from incidents.tests.factories import make_incident
from tests.builders import make_user

S = IncidentState
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
MAX_QUERIES = 12
PATHS = {
    "page": reverse("incidents:queue") + "?open=true",
    "rows": reverse("incidents:queue_rows") + "?open=true",
    "api": reverse("api-incident-queue") + "?open=true",
}


def _client(user) -> Client:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client


def _rows_shown(name: str, response) -> int:
    if name == "api":
        return len(response.json()["results"])
    return response.content.decode().count("data-incident-id=")


def _queries(client: Client, name: str) -> tuple[int, int]:
    """(queries, rows) of one request, after a first one that warms the per-process caches
    (role cache, pickers, categories) as a running server has them."""
    assert client.get(PATHS[name]).status_code == 200
    with CaptureQueriesContext(connection) as context:
        response = client.get(PATHS[name])
    assert response.status_code == 200
    return len(context.captured_queries), _rows_shown(name, response)


def _many(city, n: int) -> None:
    now = timezone.now()
    people = [city.worker, city.worker2, None]
    states = [S.VERIFYING, S.VERIFIED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED]
    for i in range(n):
        make_incident(
            city,
            state=states[i % len(states)],
            cell="cell_a1_1" if i % 2 else "cell_a1_2",
            assignee=people[i % 3],
            urgent=i % 7 == 0,
            parked=i % 11 == 0,
            due_at=now + timedelta(hours=i - n // 2),
        )


@pytest.mark.parametrize("name", ["page", "rows", "api"])
def test_queue_queries_do_not_grow_with_rows(city, name):
    client = _client(city.dispatcher)
    make_incident(city, state=S.VERIFIED, assignee=None)
    one, rows = _queries(client, name)
    assert rows == 1
    _many(city, 60)
    fifty, rows = _queries(client, name)
    assert rows == 50  # one page
    assert fifty == one
    assert fifty <= MAX_QUERIES


def test_queue_page_has_at_most_twelve_queries_for_a_supervisor_too(city):
    _many(city, 20)
    count, rows = _queries(_client(city.supervisor), "page")
    assert rows == 20
    assert count <= MAX_QUERIES


def test_api_rows_are_the_list_serializer_rows(city):
    """The narrow API rows are, field for field, what IncidentListSerializer writes."""
    _many(city, 12)
    make_incident(city, state=S.CLOSED, due_at=None, grid_cell=None, handling_region=None)
    user = city.dispatcher
    incidents = list(selectors.dispatch_queue(user, {}))
    full = IncidentListSerializer(incidents, many=True, context={"staff": True}).data
    response = _client(user).get(reverse("api-incident-queue"), {"page_size": 100})
    assert response.json()["results"] == [dict(row) for row in full]


def test_narrow_rows_flag_overdue_like_the_page_did(city):
    from incidents import page_selectors

    now = timezone.now()
    _many(city, 15)
    incidents = list(selectors.dispatch_queue(city.dispatcher, {}))
    rows = selectors.queue_rows(selectors.dispatch_queue_values(city.dispatcher, {}), now=now)
    assert [r.pk for r in rows] == [i.pk for i in incidents]
    assert [r.is_overdue for r in rows] == [
        page_selectors.is_overdue(i, now=now) for i in incidents
    ]
    assert any(r.is_overdue for r in rows) and not all(r.is_overdue for r in rows)
    assert [str(r.assignee) if r.assignee else None for r in rows] == [
        str(i.assignee) if i.assignee else None for i in incidents
    ]


def test_pickers_follow_changes(city):
    """Cells, communities and people are kept per process until one of them changes."""
    client = _client(city.dispatcher)
    page = client.get(reverse("incidents:queue")).content.decode()
    assert "新名字的网格" not in page and "新来的网格员" not in page
    cell = GridCell.objects.get(code="350602001001001")
    cell.name = "新名字的网格"
    cell.save()
    make_user(
        "newcomer",
        roles=["grid_worker"],
        region=city.dispatcher.scope_region,
        display_name="新来的网格员",
    )
    page = client.get(reverse("incidents:queue")).content.decode()
    assert '<option value="350602001001001">新名字的网格</option>' in page
    assert "新来的网格员" in page  # the bulk-assign picker


@pytest.mark.parametrize("count", [1, 7, 50])
def test_compiled_rows_are_what_values_gives(city, count):
    """A page's rows, read with the SQL and converters compiled once (selectors._QUEUE_ROWS,
    a routing.PreparedQuery), are the dicts `values(*QUEUE_COLUMNS)` gives: types (aware
    datetimes, booleans, floats) and the NULLs of rows without a cell, a region or an
    assignee."""
    _many(city, count)
    make_incident(city, state=S.CLOSED, due_at=None, grid_cell=None, handling_region=None)
    ids = list(selectors.Incident.objects.order_by("-id").values_list("id", flat=True)[:count])
    expected = list(
        selectors.Incident.objects.filter(pk__in=ids).order_by().values(*selectors.QUEUE_COLUMNS)
    )
    got = selectors._QUEUE_ROWS.dicts(ids)
    key = lambda row: row["id"]  # noqa: E731
    assert sorted(got, key=key) == sorted(expected, key=key)
    assert [list(row) for row in got] == [list(selectors.QUEUE_COLUMNS)] * len(got)
    assert any(row["assignee_id"] is None for row in got)
    moment = got[0]["created_at"]
    assert moment.tzinfo is not None
    assert {type(row["urgent"]) for row in got} == {bool}
    # The same number of ids again: the compiled entry is reused, not rebuilt.
    size = len(selectors._QUEUE_ROWS.compiled)
    selectors._QUEUE_ROWS.dicts(ids)
    assert len(selectors._QUEUE_ROWS.compiled) == size
