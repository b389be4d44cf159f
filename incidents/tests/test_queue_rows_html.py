"""The dispatch queue's rows written in Python (incidents/queue_html.py, issue #8) are the
HTML the old `_queue_rows.html` template loop wrote, byte for byte: kept as
incidents/tests/templates/old_queue_rows.html and rendered here as the reference, for a varied
set of rows, in both languages, and for what the page and the htmx partial really send."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template import VariableDoesNotExist, engines
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from incidents import page_selectors, queue_html, selectors, views
from incidents.forms import BulkAssignForm
from incidents.models import IncidentState
from incidents.queue_html import queue_rows_html, workload_html
from incidents.selectors import QueueRow, RowPerson, RowRef, WorkerLoad
from incidents.tests.factories import make_incident

S = IncidentState
BACKEND = "accounts.backends.PhoneOrUsernameBackend"
OLD_TEMPLATE = Path(__file__).parent / "templates" / "old_queue_rows.html"
OLD_WORKLOAD = Path(__file__).parent / "templates" / "old_workload.html"
NOW = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
NASTY = "<script>alert('x')</script> & \"q\""


# What queue.html wrote for the bulk form's fields before they were kept per user.
OLD_BULK_FIELDS = """  <div>
    <label for="{{ bulk_form.assignee.id_for_label }}">{{ bulk_form.assignee.label }}</label>
    {{ bulk_form.assignee }}
  </div>
  <div>
    <label for="{{ bulk_form.note.id_for_label }}">{{ bulk_form.note.label }}</label>
    {{ bulk_form.note }}
  </div>"""


def _old(rows: list) -> str:
    """What the old template loop wrote for these rows (the project's template engine)."""
    template = engines["django"].from_string(OLD_TEMPLATE.read_text(encoding="utf-8"))
    return template.render({"rows": rows})


def _row(pk: int, **fields) -> QueueRow:
    values = {
        "pk": pk,
        "tracking_number": f"GG2026030100{pk}",
        "description": "路灯不亮",
        "state": S.DISPATCHED,
        "urgent": False,
        "channel": "resident_web",
        "address": "西桥路1号",
        "lat": 24.505,
        "lng": 117.605,
        "region_code": "350602001001",
        "handling_level": "grid",
        "handling_department": "",
        "claimable": False,
        "parked": False,
        "extension_requested": False,
        "escalation_level": 0,
        "reopen_count": 0,
        "due_at": NOW + timedelta(hours=3),
        "created_at": NOW - timedelta(days=1),
        "category": RowRef("0102", "路灯", "路灯"),
        "grid_cell": RowRef("350602001001001", "西桥1网格"),
        "region": RowRef("", "西桥社区"),
        "handling_region": RowRef("", "西桥社区"),
        "assignee": RowPerson(11, "张三"),
        "is_open": True,
        "is_overdue": False,
        "past_due": False,
    }
    values.update(fields)
    return QueueRow(**values)


def _varied_rows() -> list[QueueRow]:
    late = NOW - timedelta(hours=5, minutes=7)
    return [
        # Overdue, urgent, assigned; a hostile number, category, cell and assignee name.
        _row(
            123456,
            tracking_number=f"GG{NASTY}",
            urgent=True,
            due_at=late,
            is_overdue=True,
            past_due=True,
            category=RowRef("0102", NASTY, f"路灯 {NASTY}"),
            grid_cell=RowRef("c1", f"网格 {NASTY}"),
            assignee=RowPerson(7, f"王<script>&{NASTY}"),
        ),
        # Waiting for dispatch, open for claiming, parked and extension asked for, not due yet.
        _row(
            2,
            state=S.VERIFIED,
            assignee=None,
            claimable=True,
            parked=True,
            extension_requested=True,
        ),
        # Parked past its deadline: not flagged overdue.
        _row(3, state=S.ACCEPTED, parked=True, due_at=late, past_due=True),
        # Handled by a department, unassigned, no cell: the community's name.
        _row(
            4,
            state=S.ACCEPTED,
            assignee=None,
            handling_level="department",
            handling_department=f"城管局 {NASTY}",
            grid_cell=None,
            region=RowRef("", f"东街道 {NASTY}"),
        ),
        # Handled by a street, unassigned, no cell and a region without a name.
        _row(
            5,
            assignee=None,
            handling_level="street",
            handling_region=RowRef("", f"<街道> & {NASTY}"),
            grid_cell=None,
            region=RowRef("", ""),
        ),
        # A handling level without department or region.
        _row(6, assignee=None, handling_level="district", handling_region=None),
        # A cell without a name falls back to the region.
        _row(7, grid_cell=RowRef("c7", ""), assignee=None, handling_level=""),
        # Before dispatch the handling unit is not shown; no due date.
        _row(8, state=S.VERIFYING, assignee=None, due_at=None, extension_requested=True),
        _row(9, state=S.REPORTED, assignee=None, handling_level="", due_at=None, urgent=True),
        # Closed rows: no deadline shown even with a past due date.
        _row(10, state=S.CLOSED, is_open=False, due_at=late, past_due=False),
        _row(11, state=S.RATED, is_open=False, due_at=None, assignee=RowPerson(3, "李&四")),
        # Resolved, waiting to be checked, overdue and urgent and parked flags all at once.
        _row(
            12,
            state=S.RESOLVED,
            urgent=True,
            parked=True,
            extension_requested=True,
            due_at=late,
            is_overdue=True,
        ),
        # A value the choices do not know is shown as it is.
        _row(13, state="mystery<&>", handling_level="galaxy<&>", assignee=None),
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_python_rows_are_the_old_templates_html(language):
    with translation.override(language):
        rows = views._queue_row_texts(_varied_rows(), NOW)
        new = queue_rows_html(rows)
        old = _old(rows)
    assert new == old
    assert new.count("<tr ") == len(rows)
    # Escaped, never raw.
    assert "<script>" not in new
    assert "&lt;script&gt;" in new and "&amp;" in new


def test_a_row_without_region_shows_a_dash():
    """The old template failed on it (`default:incident.region.name` is resolved even when
    the cell has a name, and None has no name: VariableDoesNotExist, a 500); the Python rows
    show the cell, else a dash."""
    without_cell = _row(1, grid_cell=None, region=None)
    with_cell = _row(2, region=None)
    with translation.override("en"):
        rows = views._queue_row_texts([without_cell, with_cell], NOW)
        with pytest.raises(VariableDoesNotExist):
            _old(rows[:1])
        html = queue_rows_html(rows)
    cells = re.findall(r"</span></td>\n  <td>([^<]*)</td>", html)
    assert cells == ["—", "西桥1网格"]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_no_rows_is_the_old_empty_row(language):
    with translation.override(language):
        new = queue_rows_html([])
        old = _old([])
    assert new == old
    assert 'id="queue-empty"' in new


@pytest.mark.parametrize("time_zone", ["Asia/Shanghai", "UTC"])
def test_deadline_title_is_in_the_current_time_zone(time_zone):
    with translation.override("en"), timezone.override(time_zone):
        rows = views._queue_row_texts(
            [_row(1, due_at=datetime(2026, 3, 1, 20, 5, tzinfo=UTC))], NOW
        )
        html = queue_rows_html(rows)
        assert html == _old(rows)
    expected = "2026-03-02 04:05" if time_zone == "Asia/Shanghai" else "2026-03-01 20:05"
    assert f'title="{expected}"' in html


def _captured_rows(monkeypatch) -> list:
    """Record the rows the views hand to queue_rows_html."""
    seen: list = []

    def recording(rows):
        seen.append(list(rows))
        return queue_rows_html(seen[-1])

    monkeypatch.setattr(queue_html, "queue_rows_html", recording)
    return seen


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_partial_and_page_send_the_old_rows(city, monkeypatch, language):
    now = timezone.now()
    make_incident(city, state=S.VERIFIED, assignee=None, urgent=True)
    make_incident(city, state=S.DISPATCHED, assignee=city.worker, due_at=now - timedelta(hours=2))
    make_incident(city, state=S.ACCEPTED, assignee=city.worker2, parked=True)
    make_incident(city, state=S.VERIFYING, assignee=None, due_at=None, extension_requested=True)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(city.dispatcher, backend=BACKEND)
    seen = _captured_rows(monkeypatch)

    response = client.get(reverse("incidents:queue_rows"), {"open": "true"})
    assert response.status_code == 200
    with translation.override(language):
        old = _old(seen[-1])
    assert len(seen[-1]) == 4
    assert response.content.decode() == old

    response = client.get(reverse("incidents:queue"), {"open": "true"})
    assert response.status_code == 200
    with translation.override(language):
        old = _old(seen[-1])
    body = re.search(
        r'<tbody id="queue-rows"[^>]*>\n    (.*?)\n  </tbody>', response.content.decode(), re.S
    )
    assert body is not None
    assert body.group(1) == old


def test_empty_partial_is_the_old_empty_row(city, monkeypatch):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(city.dispatcher, backend=BACKEND)
    seen = _captured_rows(monkeypatch)
    response = client.get(reverse("incidents:queue_rows"), {"open": "true"})
    assert seen == [[]]
    with translation.override("zh-hans"):
        assert response.content.decode() == _old([])


# --- the page's other parts ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_workload_panel_is_the_workload_template(language):
    """The panel and the workload page's table are written in Python (workload_html): the
    HTML the old _workload.html template wrote (kept as incidents/tests/templates/
    old_workload.html)."""
    loads = [
        WorkerLoad(1, f"网格员 {NASTY}", True, [], to_verify=2, assigned=13, to_check=1, overdue=3),
        WorkerLoad(22, "李&四", False, [], to_verify=0, assigned=0, to_check=0, overdue=0),
        WorkerLoad(333, "王五", False, [], to_verify=1, assigned=1200, to_check=0, overdue=0),
    ]
    template = engines["django"].from_string(OLD_WORKLOAD.read_text(encoding="utf-8"))
    with translation.override(language):
        for workload in (loads, []):
            new = workload_html(workload)
            assert new == template.render({"workload": workload})
    assert "<script>" not in workload_html(loads)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_bulk_fields_are_the_forms_html_and_follow_the_staff(city, language):
    page_selectors.clear_pickers()
    with translation.override(language):
        old = (
            engines["django"]
            .from_string(OLD_BULK_FIELDS)
            .render({"bulk_form": BulkAssignForm(user=city.dispatcher)})
        )
        assert "  " + views._queue_bulk_fields_html(city.dispatcher) == old
    assert f'<option value="{city.worker.pk}">' in old
    # A renamed person is a changed user: the kept HTML is built again.
    city.worker.display_name = "新名字<&>"
    city.worker.save()
    with translation.override(language):
        html = views._queue_bulk_fields_html(city.dispatcher)
    assert "新名字&lt;&amp;&gt;" in html


def test_fragment_is_the_workload_panel_of_the_region(city, monkeypatch):
    """The panel htmx loads after the queue page (queue_workload) is the old _workload.html's
    HTML, and the workload page shows the same table."""
    make_incident(city, state=S.DISPATCHED, assignee=city.worker)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(city.dispatcher, backend=BACKEND)
    response = client.get(reverse("incidents:queue_workload"))
    assert response.status_code == 200
    region = page_selectors.workload_region(city.dispatcher)
    with translation.override("zh-hans"):
        panel = (
            engines["django"]
            .from_string(OLD_WORKLOAD.read_text(encoding="utf-8"))
            .render({"workload": selectors.workload_per_worker(region, with_cells=False)})
        )
    assert f'data-user-id="{city.worker.pk}"' in panel
    assert response.content.decode() == panel
    page = client.get(reverse("incidents:workload"), {"region": region.code})
    assert page.status_code == 200
    with translation.override("zh-hans"):
        table = workload_html(selectors.workload_per_worker(region))
    assert f'data-user-id="{city.worker.pk}"' in table
    assert table in page.content.decode()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_span_text_says_what_timesince_and_timeuntil_say(language):
    """The deadline column's words, kept per language and minute count, are timesince's and
    timeuntil's own, on both sides of the four-week line (calendar months) and of each unit."""
    from django.utils.timesince import timesince, timeuntil

    from incidents.queue_html import span_text

    now = timezone.now().replace(microsecond=123456)
    spans = [0, 1, 59, 60, 61, 119, 3599, 3600, 3661, 86399, 86400, 90061, 6 * 86400 + 7]
    spans += [27 * 86400 - 1, 27 * 86400, 28 * 86400, 31 * 86400 + 5, 400 * 86400, -5, -3600]
    with translation.override(language):
        for seconds in spans:
            for micro in (0, 999999):
                moment = now - timedelta(seconds=seconds, microseconds=micro)
                assert span_text(moment, now) == timesince(moment, now), seconds
                later = now + timedelta(seconds=seconds, microseconds=micro)
                assert span_text(now, later) == timeuntil(later, now), seconds
