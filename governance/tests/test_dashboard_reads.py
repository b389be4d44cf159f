"""The KPI dashboard's fixed reads (issue #8): within the KPI cache the page costs a fixed
number of queries, the facts' watermark is read once per page, and the region picker and the
overdue board do not grow the query count with their rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from governance import kpis
from governance.tests.test_dashboards import at_now, city, signed_in  # noqa: F401
from incidents.models import Incident

MAX_QUERIES = 12


@pytest.fixture
def kpi_cache(settings):
    settings.GOVERNANCE_KPI_CACHE_SECONDS = 60
    cache.clear()
    yield
    cache.clear()


def _load(client) -> tuple[int, int, str]:
    client.get(reverse("governance:dashboard"))  # fills the KPI cache and the pickers
    with CaptureQueriesContext(connection) as context:
        response = client.get(reverse("governance:dashboard"))
    assert response.status_code == 200
    sql = [q["sql"] for q in context.captured_queries]
    marks = sum("governance_factwatermark" in s for s in sql)
    return len(sql), marks, response.content.decode()


def test_dashboard_reads_are_fixed_within_the_kpi_cache(client, city, at_now, kpi_cache):  # noqa: F811
    signed_in(client, city.supervisor)
    count, marks, html = _load(client)
    assert marks == 1  # once per page, not once per cached block
    assert count <= MAX_QUERIES
    assert 'id="overdue-board"' in html and 'id="kpi-region"' in html
    # More overdue work on the board: the same number of queries.
    overdue = Incident.objects.filter(due_at__isnull=False)[:5]
    Incident.objects.filter(pk__in=[i.pk for i in overdue]).update(
        state="dispatched", due_at=kpis.timezone.now() - timedelta(days=1)
    )
    assert _load(client)[0] == count


def test_watermark_is_read_again_outside_a_page(city, kpi_cache):  # noqa: F811
    with CaptureQueriesContext(connection) as context:
        kpis.facts_watermark()
        kpis.facts_watermark()
    assert len(context.captured_queries) == 2
    with kpis.one_watermark_read(), CaptureQueriesContext(connection) as context:
        first = kpis.facts_watermark()
        assert kpis.facts_watermark() == first
    assert len(context.captured_queries) == 1
