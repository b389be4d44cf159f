"""The sets every KPI counts, and their conditions on the facts (or the incidents)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.exceptions import ValidationFailed
from governance.kpi_sets import ANCHORED_SETS, ANCHORS, OPEN_DUE_PIECES
from governance.kpis.query import KpiQuery
from incidents.models import OPEN_STATES
from incidents.selectors import DEADLINE_STATES

# --- the sets every KPI counts ------------------------------------------------------------------


@dataclass(frozen=True)
class KpiSet:
    key: str
    name: Promise
    definition: Promise


SETS: dict[str, KpiSet] = {
    s.key: s
    for s in [
        KpiSet(
            "reported",
            pgettext_lazy("supervision", "Reported"),
            gettext_lazy("Incidents reported in the period (any state)."),
        ),
        KpiSet(
            "dispatched",
            pgettext_lazy("supervision", "Dispatched"),
            gettext_lazy(
                "Incidents first dispatched in the period (a 随手办 counts as dispatched)."
            ),
        ),
        KpiSet(
            "dispatched_on_time",
            pgettext_lazy("supervision", "Dispatched on time"),
            gettext_lazy(
                "Of those, first dispatched by the dispatch deadline, with no automatic "
                "escalation for a missed verify or dispatch deadline before."
            ),
        ),
        KpiSet(
            "extended",
            pgettext_lazy("supervision", "Extended"),
            gettext_lazy(
                "Of the incidents first dispatched in the period, those with an approved extension."
            ),
        ),
        KpiSet(
            "closed",
            pgettext_lazy("supervision", "Closed"),
            gettext_lazy("Incidents closed in the period (invalid reports excluded)."),
        ),
        KpiSet(
            "closed_on_time",
            pgettext_lazy("supervision", "Closed on time"),
            gettext_lazy(
                "Closed in the period, resolved by the resolve deadline in force (approved "
                "extensions move it) and never escalated by the deadline sweep while being "
                "handled; settled by mediation: referred before the deadline."
            ),
        ),
        KpiSet(
            "due_to_close",
            pgettext_lazy("supervision", "Due to close"),
            gettext_lazy(
                "Closed in the period, plus open incidents whose resolve deadline fell in the "
                "period (up to now)."
            ),
        ),
        KpiSet(
            "deferred",
            pgettext_lazy("supervision", "Deferred"),
            gettext_lazy("Due to close but parked (挂账) with a written explanation."),
        ),
        KpiSet(
            "due_net",
            pgettext_lazy("supervision", "Due to close − deferred"),
            gettext_lazy("Due to close, parked ones left out."),
        ),
        KpiSet(
            "urgent_due",
            pgettext_lazy("supervision", "Urgent due to close"),
            gettext_lazy("Urgent incidents due to close in the period (parked ones included)."),
        ),
        KpiSet(
            "urgent_closed",
            pgettext_lazy("supervision", "Urgent closed"),
            gettext_lazy("Urgent incidents closed in the period."),
        ),
        KpiSet(
            "urgent_closed_on_time",
            pgettext_lazy("supervision", "Urgent closed on time"),
            gettext_lazy("Urgent incidents closed on time in the period."),
        ),
        KpiSet(
            "reworked",
            pgettext_lazy("supervision", "Reworked"),
            gettext_lazy("Closed in the period after at least one rework (返工)."),
        ),
        KpiSet(
            "closed_in_grid",
            pgettext_lazy("supervision", "Solved in the grid"),
            gettext_lazy("Closed in the period with the grid as the handling level."),
        ),
        KpiSet(
            "handled",
            pgettext_lazy("supervision", "Closed with a handling time"),
            gettext_lazy(
                "Closed in the period, dispatched and resolved (mediation-only cases left out)."
            ),
        ),
        KpiSet(
            "rated",
            pgettext_lazy("supervision", "Rated"),
            gettext_lazy("Closed in the period with a rating by the reporter."),
        ),
        KpiSet(
            "satisfied",
            pgettext_lazy("supervision", "Rated 4 or 5"),
            gettext_lazy("Closed in the period, rated 4 or 5 stars."),
        ),
        KpiSet(
            "escalated",
            pgettext_lazy("supervision", "Escalated"),
            gettext_lazy(
                "Reported in the period and escalated at least once (by a person or the sweep)."
            ),
        ),
        KpiSet(
            "overdue_now",
            pgettext_lazy("supervision", "Overdue now"),
            gettext_lazy(
                "Open now and past the current verify, dispatch, resolve or check deadline "
                "(parked ones included); the period does not apply."
            ),
        ),
    ]
}


def set_q(key: str, query: KpiQuery, *, prefix: str = "") -> Q:
    """The condition for the set `key` over the query's period: on IncidentFact (prefix "") or
    on Incident through its fact (prefix "kpi_fact__"). Not for live sets."""

    def q(**kwargs: Any) -> Q:
        return Q(**{f"{prefix}{name}": value for name, value in kwargs.items()})

    def anchored(anchor: str) -> Q:
        field_name = ANCHORS[anchor]
        return q(**{f"{field_name}__gte": query.start_at, f"{field_name}__lt": query.end_at})

    open_due = q(
        state__in=OPEN_STATES,
        resolve_due_at__gte=query.start_at,
        resolve_due_at__lt=query.due_end_at,
    )
    if key in ANCHORED_SETS:
        anchor, condition = ANCHORED_SETS[key]
        return anchored(anchor) & q(**condition)
    if key in OPEN_DUE_PIECES:
        return open_due & q(**OPEN_DUE_PIECES[key])
    if key == "due_to_close":
        return set_q("closed", query, prefix=prefix) | open_due
    if key == "deferred":
        return open_due & q(parked=True)
    if key == "due_net":
        return set_q("closed", query, prefix=prefix) | (open_due & q(parked=False))
    if key == "urgent_due":
        return (set_q("closed", query, prefix=prefix) | open_due) & q(urgent=True)
    raise ValidationFailed(_("Unknown KPI set."), extra={"kpi": [_("Unknown KPI set.")]})


def live_q(key: str, query: KpiQuery) -> Q:
    """Live sets, on Incident (time passes without any event: overdue is read live)."""
    if key == "overdue_now":
        return Q(state__in=DEADLINE_STATES, due_at__lt=query.now)
    raise ValidationFailed(_("Unknown KPI set."), extra={"kpi": [_("Unknown KPI set.")]})


def _any_period_q(query: KpiQuery) -> Q:
    """Rows any fact-based set may count (lets the database use the date indexes)."""
    s, e = query.start_at, query.end_at
    return (
        Q(reported_at__gte=s, reported_at__lt=e)
        | Q(first_dispatched_at__gte=s, first_dispatched_at__lt=e)
        | Q(closed_at__gte=s, closed_at__lt=e)
        | Q(resolve_due_at__gte=s, resolve_due_at__lt=query.due_end_at, state__in=OPEN_STATES)
    )
