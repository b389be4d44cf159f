"""The dispatch queue's data and HTML, written in Python (docs/performance.md).

The queue page's views (incidents.views.queue) call `queue_page_context()`: the rows, the
filter box and the bulk form, with the per-user HTML kept in the pickers' per-process copy.

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

from django import forms
from django.core.paginator import Paginator
from django.forms.utils import flatatt
from django.http import HttpRequest, QueryDict
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import ValidationFailed
from core.urls import reverse_for_pk
from incidents import page_selectors, selectors
from incidents.filters import IncidentFilter
from incidents.forms import BulkAssignForm
from incidents.models import HandlingLevel, Incident, IncidentState
from incidents.selectors import QueueRow

QUEUE_PAGE_SIZE = 50
QUEUE_REFRESH_SECONDS = 10

# States in which the handling unit is not shown yet (the template's test, word for word).
_BEFORE_DISPATCH = frozenset({"reported", "verifying", "verified"})
_MUTED_DASH = '<span class="muted">—</span>'
_IS_OVERDUE = ' class="is-overdue"'
_OVERDUE_CELL = ' class="overdue"'


# A span shorter than four weeks never holds a calendar month, so timesince's words for it
# depend only on its whole minutes: they are worked out once per language and minute count
# (timesince was a measurable share of every queue page: docs/performance.md, "Incidents web").
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
    followers = _("%(n)s people follow it")
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
            + (
                f' <span class="flag flag-followers">{followers % {"n": row.followers}}</span>'
                if row.followers
                else ""
            )
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
    """The workload table: the queue page's panel (views.queue_workload sends it; htmx loads
    it after the page) and the workload page (workload.html shows it). What the old
    `_workload.html` template wrote (incidents/tests/test_queue_rows_html.py compares the
    two), without a template loop over every grid worker of the region."""
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


# --- the queue page: filters, bulk form, rows ------------------------------------------------


def queue_filters(request: HttpRequest) -> QueryDict:
    """The queue's filters; with none given, the open incidents."""
    params = request.GET.copy()
    params.pop("page", None)
    if not any(value for key, values in params.lists() for value in values):
        params = QueryDict(mutable=True)
        params["open"] = "true"
    return params


class QuickSelect(forms.Select):
    """A single Select written in Python: the same HTML as Django's widget templates, without
    a template include per option (the queue's pickers have up to 500 options)."""

    def render(self, name: str, value: Any, attrs: Any = None, renderer: Any = None) -> str:
        chosen = set(self.format_value(value))
        parts = [
            format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))
        ]
        for option, label in self.choices:
            option = "" if option is None else str(option)
            selected = option in chosen
            if selected:  # like Django's Select: the first match only
                chosen.discard(option)
            template = (
                '\n  <option value="{}" selected>{}</option>\n'
                if selected
                else '\n  <option value="{}">{}</option>\n'
            )
            parts.append(format_html(template, option, label))
        parts.append("\n</select>")
        # Every part went through format_html.
        return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703


def queue_filter_html(params: QueryDict, user: User) -> str:
    """The filter box's fields. For the default view (open incidents: what a dispatcher
    opens) rendered once per user and language and kept with the pickers it shows
    (page_selectors.cached_per_user: a changed cell, region, user or role renders it again);
    other queries (searches, one-off filters) are rendered each time, so the process keeps a
    bounded number of them."""

    def build() -> str:
        return render_to_string(
            "incidents/_queue_filters.html", {"filter_form": queue_filter_form(params, user)}
        )

    query = params.urlencode()
    if query != "open=true":
        return build()
    return page_selectors.cached_per_user(user, f"filter-html|{get_language()}|{query}", build)


def queue_filter_form(params: QueryDict, user: User) -> Any:
    """The engine's FilterSet form, with pickers instead of code boxes (presentation only:
    the values stay the codes the FilterSet expects)."""
    form = IncidentFilter(params, queryset=Incident.objects.none()).form
    anything = [("", _("All"))]
    # The pickers are kept per process until a category, cell, region or user changes.
    categories = page_selectors.category_options(user)
    large = {c.parent.code: c.parent.display_name for c in categories if c.parent}
    form.fields["category"].widget = QuickSelect(
        choices=anything
        + [(code, name) for code, name in sorted(large.items())]
        + [(c.code, f"· {c.display_name}") for c in categories]
    )
    form.fields["grid_cell"].widget = QuickSelect(
        choices=anything + page_selectors.cell_options(user)
    )
    form.fields["community"].widget = QuickSelect(
        choices=anything + page_selectors.community_options(user)
    )
    for name in ("reported_from", "reported_to"):
        form.fields[name].widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return form


def queue_bulk_fields_html(user: User) -> str:
    """The bulk form's two fields (the person to assign to, a note), as the page showed
    `{{ bulk_form.assignee }}` and `{{ bulk_form.note }}`. The page's form is never bound and
    its only variable part is the list of people (page_selectors.staff_options, kept per
    process until a user, a region or a role changes), so the HTML is kept with it, per user
    and language: the long <select> is not rendered through the widget templates each time."""

    def build() -> str:
        form = BulkAssignForm(user=user)
        assignee, note = form["assignee"], form["note"]
        return format_html(
            '<div>\n    <label for="{}">{}</label>\n    {}\n  </div>\n'
            '  <div>\n    <label for="{}">{}</label>\n    {}\n  </div>',
            assignee.id_for_label,
            assignee.label,
            assignee,
            note.id_for_label,
            note.label,
            note,
        )

    return page_selectors.cached_per_user(user, f"bulk-html|{get_language()}", build)


_detail_url = reverse_for_pk("incidents:detail")


def queue_row_texts(rows: list[QueueRow], now: Any) -> list[QueueRow]:
    """The per-row texts of the table, computed once per page (the same words the shared
    _state/_deadline includes say, without an include and a URL lookup per row)."""
    select = _("Select %(no)s")
    overdue = _("overdue by %(late)s")
    left = _("%(left)s left")
    for row in rows:
        row.url = _detail_url(row.pk)
        row.select_label = select % {"no": row.tracking_number}
        if row.due_at is not None:
            if row.is_overdue:
                row.deadline_text = overdue % {"late": span_text(row.due_at, now)}
            else:
                row.deadline_text = left % {"left": span_text(now, row.due_at)}
    return rows


def queue_page_context(request: HttpRequest, *, with_form: bool = True) -> dict:
    """The queue's rows (narrow rows: selectors.queue_rows) and, for the full page, the filter
    form (the htmx rows partial does not show it)."""
    user = request.user
    params = queue_filters(request)
    error = ""
    try:
        queryset = selectors.dispatch_queue_values(user, params)
    except ValidationFailed as exc:
        error = exc.message
        queryset = selectors.QueuePages(Incident.objects.none())
    paginator = Paginator(queryset, QUEUE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    now = timezone.now()
    query = params.urlencode()
    if request.GET.get("page"):
        query = f"{query}&page={page.number}" if query else f"page={page.number}"
    rows = queue_row_texts(selectors.queue_rows(page.object_list, now=now), now)
    context = {
        "page": page,
        # The table body, written in Python (incidents/queue_html.py: the same HTML the
        # template loop wrote, at a fraction of its cost).
        "rows_html": queue_rows_html(rows),
        "filter_error": error,
        "query": query,
        "filter_query": params.urlencode(),
        "now": now,
        "refresh_seconds": QUEUE_REFRESH_SECONDS,
    }
    if with_form:
        context["filter_html"] = queue_filter_html(params, user)
    return context
