"""GET requests lists up to 1,000 requests from plain values() rows (docs/performance.md):
the entries are exactly the ones request_entry writes from the incidents, in one query."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from incidents.models import Incident, IncidentState
from integrations import open311, selectors
from integrations.tests.conftest import IN_A1_1
from integrations.tests.test_open311 import BASE, as_json, report

S = IncidentState


def _variety(kit, city) -> None:
    """Requests in every shape an entry can take: with a partner ticket (media_url, partner's
    deadline), invalid with a reason, closed with a result, handled by a department or by a
    region, with no address, without a cell."""
    first = report(kit, code="0101", media_url="https://partner.example/p.jpg")
    report(kit, code="0102", description="联系 13912345678", address_string="胜利路12号")
    third = report(kit, code="0101", at=IN_A1_1)
    fourth = report(kit, code="0102")
    fifth = report(kit, code="0101")
    now = timezone.now()
    Incident.objects.filter(pk=first.pk).update(
        state=S.DISPATCHED, resolve_due_at=now + timedelta(days=3), handling_department="城管执法"
    )
    Incident.objects.filter(pk=third.pk).update(
        state=S.INVALID, invalid_reason="重复 13800138000", closed_at=now
    )
    Incident.objects.filter(pk=fourth.pk).update(
        state=S.CLOSED, result="已清理", closed_at=now, handling_region=city.a1
    )
    Incident.objects.filter(pk=fifth.pk).update(address="", grid_cell=None, resolve_due_at=None)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_list_rows_write_the_same_entries_as_the_incidents(kit, city, language):
    _variety(kit, city)
    filters = selectors.RequestFilters()
    with translation.override(language):
        expected = [
            open311.request_entry(incident, absolute=lambda url: url)
            for incident in selectors.open311_requests(filters)
        ]
        entries = open311.request_entries(selectors.open311_request_rows(filters))
    assert len(entries) == 5
    assert entries == expected
    assert {e["status"] for e in entries} == {"open", "closed"}
    assert any(e["media_url"] for e in entries) and any(e["agency_responsible"] for e in entries)


def test_the_list_is_one_query_whatever_its_length(client, kit, city):
    _variety(kit, city)
    with CaptureQueriesContext(connection) as context:
        response = client.get(f"{BASE}/requests.json")
    assert response.status_code == 200
    assert len(as_json(response)) == 5
    assert len(context.captured_queries) == 1
    for _ in range(5):
        report(kit, code="0102")
    with CaptureQueriesContext(connection) as context:
        response = client.get(f"{BASE}/requests.json")
    assert len(as_json(response)) == 10
    assert len(context.captured_queries) == 1
