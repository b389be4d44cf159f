"""The dispatch queue's workload panel comes after the page (issue #8): the page writes a
placeholder that htmx fills from `incidents:queue_workload` on load and then every minute; the
page itself no longer counts anyone's work."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from accounts.selectors import user_scope
from incidents import page_selectors, views
from incidents.models import IncidentState
from incidents.tests.factories import make_incident
from tests.builders import make_user

S = IncidentState
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
PAGE = reverse("incidents:queue") + "?open=true"
FRAGMENT = reverse("incidents:queue_workload")


def _client(user, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user, backend=BACKEND)
    return client


def _rows(html: str) -> set[str]:
    """The data-user-id of each worker row of a workload table."""
    return set(re.findall(r'<tr data-user-id="(\d+)">', html))


def test_fragment_is_the_table_of_my_streets_workers(city):
    make_incident(city, state=S.DISPATCHED, assignee=city.worker)
    make_incident(city, state=S.ACCEPTED, assignee=city.worker)
    make_incident(city, state=S.DISPATCHED, cell="cell_b1_1", assignee=city.worker_b)
    response = _client(city.dispatcher).get(FRAGMENT)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="workload-table"' in html
    assert "<html" not in html and "<nav" not in html  # a fragment, not a page
    assert _rows(html) == {str(city.worker.pk), str(city.worker2.pk)}
    # worker_a1 handles two incidents: the row says so (to verify, handling, to check, total).
    row = html.split(f'<tr data-user-id="{city.worker.pk}">')[1].split("</tr>")[0]
    assert "<td>2</td>" in row and "<td><strong>2</strong></td>" in row

    other = _client(city.dispatcher_b).get(FRAGMENT).content.decode()
    assert _rows(other) == {str(city.worker_b.pk)}
    assert str(city.worker.pk) not in _rows(other)


def test_fragment_follows_the_language(city):
    html = _client(city.dispatcher, "en").get(FRAGMENT).content.decode()
    assert "Grid worker" in html
    html = _client(city.dispatcher).get(FRAGMENT).content.decode()
    assert "Grid worker" not in html and "网格员" in html


def test_fragment_has_the_queues_access_rule(city, client):
    response = client.get(FRAGMENT)
    assert response.status_code == 302 and "/accounts/login/" in response.url
    for user in (city.resident, city.worker, city.handler):
        assert _client(user).get(FRAGMENT).status_code == 403
    assert _client(city.dispatcher).post(FRAGMENT).status_code == 405
    # A city supervisor sees the first district (as the queue page did).
    html = _client(city.supervisor).get(FRAGMENT).content.decode()
    assert _rows(html) == {str(city.worker.pk), str(city.worker2.pk), str(city.worker_b.pk)}


def test_fragment_without_a_workload_region_is_empty(city):
    nowhere = make_user("dispatcher_nowhere", roles=["dispatcher"], phone="13700000099")
    response = _client(nowhere).get(FRAGMENT)
    assert response.status_code == 204 and response.content == b""
    page = _client(nowhere).get(PAGE).content.decode()
    assert 'id="workload"' not in page and FRAGMENT not in page


def test_page_has_the_placeholder_not_the_counts(city):
    make_incident(city, state=S.DISPATCHED, assignee=city.worker)
    page = _client(city.dispatcher).get(PAGE).content.decode()
    assert 'id="workload"' in page and 'id="workload-heading"' in page
    assert "西桥街道网格员工作量" in page  # the heading names the street
    assert f'hx-get="{FRAGMENT}"' in page
    assert f'hx-trigger="load, every {views.WORKLOAD_REFRESH_SECONDS}s"' in page
    assert 'hx-swap="innerHTML"' in page
    assert "正在加载工作量…" in page  # "Loading the workload…"
    # Without JavaScript: a link to the full workload page of the same region.
    assert f'href="{reverse("incidents:workload")}?region=350602001000"' in page
    assert 'id="workload-table"' not in page and "data-user-id=" not in page
    english = _client(city.dispatcher, "en").get(PAGE).content.decode()
    assert "Loading the workload…" in english and "Open the workload page" in english


def test_page_runs_no_workload_query(city):
    """The panel's two queries (the region's workers, their open work) left the page: it reads
    what the rows partial reads plus the page's own two (pickers token miss aside: warmed)."""
    client = _client(city.dispatcher)
    make_incident(city, state=S.DISPATCHED, assignee=city.worker)
    assert client.get(PAGE).status_code == 200  # warm the per-process caches
    with CaptureQueriesContext(connection) as page:
        assert client.get(PAGE).status_code == 200
    rows_path = reverse("incidents:queue_rows") + "?open=true"
    assert client.get(rows_path).status_code == 200
    with CaptureQueriesContext(connection) as rows:
        assert client.get(rows_path).status_code == 200
    with CaptureQueriesContext(connection) as fragment:
        assert client.get(FRAGMENT).status_code == 200
    sqls = [q["sql"] for q in page.captured_queries]
    assert not any("grids_gridworker" in sql for sql in sqls), sqls
    # The page: the rows partial's queries + the inbox badge. Rendering the panel inline again
    # would add the fragment's workers and counts queries.
    assert len(page) == len(rows) + 1 == 8, sqls
    workload_queries = [q for q in fragment.captured_queries if "grids_gridworker" in q["sql"]]
    assert len(workload_queries) == 1


def test_workload_region_costs_no_query_for_a_street_dispatcher(city):
    user = User.objects.get(pk=city.dispatcher.pk)
    user_scope(user)  # the queue has loaded the scope (and the scope region) already
    with CaptureQueriesContext(connection) as context:
        region = page_selectors.workload_region(user)
    assert region is not None and region.code == "350602001000"
    assert len(context) == 0


@pytest.mark.parametrize("who", ["supervisor", "admin"])
def test_workload_region_of_a_city_wide_user_is_one_query(city, who):
    user = User.objects.get(pk=getattr(city, who).pk)
    user_scope(user)
    with CaptureQueriesContext(connection) as context:
        region = page_selectors.workload_region(user)
    assert region is not None and region.code == "350602000000"  # the first district by code
    # Only "the first visible one": a city-wide scope region is no workload region, so it is
    # not looked up again.
    assert len(context) == 1
