"""The dispatch queue's table rows, written in Python (docs/performance.md).

The same HTML the `_queue_rows.html` loop wrote (incidents/tests/test_queue_rows_html.py
compares the two byte for byte, in both languages), without 50 rows through the template
language: the translated words, the state and handling-level labels are worked out once per
page, each row's values are escaped and put into a few fixed strings.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from incidents.models import HandlingLevel, IncidentState
from incidents.selectors import QueueRow

# States in which the handling unit is not shown yet (the template's test, word for word).
_BEFORE_DISPATCH = frozenset({"reported", "verifying", "verified"})
_MUTED_DASH = '<span class="muted">—</span>'
_IS_OVERDUE = ' class="is-overdue"'
_OVERDUE_CELL = ' class="overdue"'


# A span shorter than four weeks never holds a calendar month, so timesince's words for it
# depend only on its whole minutes: they are worked out once per language and minute count
# (timesince cost ~50 µs a row, 50 rows a page; the deadline column of every page).
_SHORT_SPAN_SECONDS = 27 * 24 * 3600
_EPOCH = datetime(2000, 3, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=8192)
def _span_words(language: str, minutes: int) -> str:
    return timesince(_EPOCH - timedelta(minutes=minutes), _EPOCH)


def span_text(start: datetime, end: datetime) -> str:
    """`timesince(start, end)`, word for word (so `timeuntil(d, now)` is `span_text(now, d)`)."""
    delta = end - start
    seconds = delta.days * 86400 + delta.seconds  # timesince ignores the microseconds
    if seconds < _SHORT_SPAN_SECONDS:
        return _span_words(get_language() or "", max(seconds, 0) // 60)
    return timesince(start, end)


def _labels(choices: Any) -> dict[str, str]:
    """value → escaped label, in the active language (what get_FOO_display() says)."""
    return {value: escape(str(label)) for value, label in choices.choices}


def _local_minute(moment: Any, zone: Any) -> str:
    """`{{ moment|date:'Y-m-d H:i' }}` of an aware datetime: in `zone` (the current time
    zone, looked up once per page), to the minute."""
    local = moment.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d} {local.hour:02d}:{local.minute:02d}"


def queue_rows_html(rows: Iterable[QueueRow]) -> SafeString:
    """The `<tr>`s of the queue's table body for the rows (with their texts filled in by
    incidents.views._queue_row_texts), or the "no incidents" row when there are none.

    Every value that comes from a row is escaped here; the words from the catalogue are
    written as the template's `{% translate %}` wrote them (translations are trusted)."""
    state_labels = _labels(IncidentState)
    level_labels = _labels(HandlingLevel)
    urgent = f' <span class="flag flag-urgent">{_("urgent")}</span>'
    parked = f' <span class="flag flag-parked">{_("parked")}</span>'
    extension = f' <span class="flag">{_("extension requested")}</span>'
    claimable = _("open for claiming")
    zone = timezone.get_current_timezone()
    parts: list[str] = []
    for row in rows:
        pk = row.pk
        number = escape(row.tracking_number)
        state = row.state
        state_html = escape(state)
        state_label = state_labels.get(state)
        if state_label is None:  # not a known state: the display says the value
            state_label = state_html
        flags = (
            (urgent if row.urgent else "")
            + (parked if row.parked else "")
            + (extension if row.extension_requested else "")
        )
        place = (row.grid_cell.name if row.grid_cell else "") or (
            row.region.name if row.region else ""
        )
        where = escape(place) if place else "—"
        if row.assignee:
            handler = escape(str(row.assignee))
        elif row.claimable:
            handler = claimable
        elif row.handling_level and state not in _BEFORE_DISPATCH:
            level = row.handling_level
            handler = level_labels.get(level) or escape(level)
            if row.handling_department:
                handler += " · " + escape(row.handling_department)
            elif row.handling_region:
                handler += " · " + escape(row.handling_region.name)
        else:
            handler = _MUTED_DASH
        if row.is_open and row.due_at:
            deadline = (
                f'<span class="deadline{" overdue" if row.is_overdue else ""}"'
                f' title="{_local_minute(row.due_at, zone)}">{escape(row.deadline_text)}</span>'
            )
        else:
            deadline = _MUTED_DASH
        parts.append(
            f'\n<tr data-incident-id="{pk}" data-tracking-number="{number}"'
            f"{_IS_OVERDUE if row.is_overdue else ''}>\n"
            f'  <td><input type="checkbox" class="row-select" name="incident" value="{pk}"'
            f' form="bulk-form" aria-label="{escape(row.select_label)}"></td>\n'
            f'  <td><a href="{escape(row.url)}" class="incident-link">{number}</a></td>\n'
            f"  <td>{escape(row.category.display_name)}</td>\n"
            f'  <td><span class="state state-{state_html}" data-state="{state_html}">'
            f"{state_label}</span>{flags}</td>\n"
            f"  <td>{where}</td>\n"
            f"  <td>{handler}</td>\n"
            f"  <td>{deadline}</td>\n"
            "</tr>\n"
        )
    if not parts:
        parts.append(
            '\n<tr id="queue-empty"><td colspan="7" class="muted">'
            f"{_('No incidents match.')}</td></tr>\n"
        )
    parts.append("\n")
    # Every row value above went through escape(); the rest are fixed strings and catalogue words.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


def workload_html(workload: Iterable[Any]) -> SafeString:
    """The workload panel of the queue page (views.queue_workload sends it; htmx loads it
    after the page): what `{% include "incidents/_workload.html" %}` writes
    (incidents/tests/test_queue_rows_html.py compares the two), without a template loop over
    every grid worker of the region (a street has about a hundred)."""
    off_duty = f' <span class="muted">({_("off duty")})</span>'
    parts = [
        '<div class="table-scroll">\n'
        '<table class="workload-table" id="workload-table">\n'
        "  <thead><tr>\n"
        f'    <th scope="col">{_("Grid worker")}</th>\n'
        f'    <th scope="col">{_("To verify")}</th>\n'
        f'    <th scope="col">{_("Handling")}</th>\n'
        f'    <th scope="col">{_("To check")}</th>\n'
        f'    <th scope="col">{_("Total")}</th>\n'
        f'    <th scope="col">{_("Overdue")}</th>\n'
        "  </tr></thead>\n"
        "  <tbody>\n"
        "  "
    ]
    empty = True
    for load in workload:
        empty = False
        overdue = load.overdue
        parts.append(
            f'\n    <tr data-user-id="{load.user_id}">\n'
            f"      <td>{escape(load.name)}{'' if load.on_duty else off_duty}</td>\n"
            f"      <td>{load.to_verify}</td>\n"
            f"      <td>{load.assigned}</td>\n"
            f"      <td>{load.to_check}</td>\n"
            f"      <td><strong>{load.total}</strong></td>\n"
            f"      <td{_OVERDUE_CELL if overdue else ''}>{overdue}</td>\n"
            "    </tr>\n  "
        )
    if empty:
        parts.append(
            '\n    <tr><td colspan="6" class="muted">'
            f"{_('No grid workers in this region.')}</td></tr>\n  "
        )
    parts.append("\n  </tbody>\n</table>\n</div>\n")
    # The worker's name went through escape(); the counts are integers.
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703
