"""Keeping governance.models.IncidentFact up to date.

Why a fact table: the KPIs count incidents by four different dates (reported, first dispatched,
closed, resolve deadline) and need values only the timeline knows (when the incident was first
dispatched, whether the deadline sweep escalated it). At city scale (1,000,000 incidents) doing
that on the wide incident table means full scans and a subquery over the timeline per incident;
the fact table is narrow, has an index per date, and holds the derived values. See
docs/supervision.md for the measurements.

How it stays fresh: every change of an incident writes a timeline event (IncidentEvent is
append-only and its created_at is indexed), so the beat task `governance.tasks.refresh_facts`
re-derives the facts of every incident with an event since the last run (minus an overlap that
covers transactions committed late). The first run, or `manage.py refresh_kpi_facts --full`,
rebuilds everything. Deriving is idempotent: running twice writes the same rows.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from governance.kpi_sets import ANCHORED_SETS, ANCHORS
from governance.models import FactWatermark, IncidentDailyCount, IncidentFact
from incidents.models import Action, Incident, IncidentEvent, IncidentState

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# Transactions commit a little after their events were stamped: re-read that much before the mark.
OVERLAP = timedelta(minutes=5)
WATERMARK = "incidents"
LOCK_KEY = "governance:facts-refresh-lock"
LOCK_SECONDS = 15 * 60

# The first dispatch: a dispatcher's or the rules' dispatch, or a grid worker's 随手办.
DISPATCH_ACTIONS = (Action.DISPATCH, Action.FIX_ON_SPOT)
HANDLING_STATES = (IncidentState.DISPATCHED, IncidentState.ACCEPTED)
BEFORE_DISPATCH_STATES = (IncidentState.VERIFYING, IncidentState.VERIFIED)
EVENT_ACTIONS = (
    *DISPATCH_ACTIONS,
    Action.ESCALATE,
    Action.REFER_TO_MEDIATION,
    Action.MEDIATION_CONCLUDED,
)
INCIDENT_FIELDS = (
    "pk",
    "region_code",
    "grid_cell_id",
    "category_id",
    "channel",
    "urgent",
    "state",
    "parked",
    "handling_level",
    "handling_region_id",
    "handling_department",
    "assignee_id",
    "created_at",
    "dispatched_at",
    "dispatch_due_at",
    "resolve_due_at",
    "resolved_at",
    "closed_at",
    "rework_count",
    "extension_count",
    "escalation_level",
    "rating",
    "merged_into_id",
)
# A duplicate merged into another report (附议, incidents.services.follows) is received but never
# a closed case: its facts carry this state, so no closed, on-time or open count includes it.
MERGED_FACT_STATE = "merged"
FACT_UPDATE_FIELDS = [
    f.name for f in IncidentFact._meta.concrete_fields if f.name not in ("incident", "refreshed_at")
]


def _chunks(values: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_datetime(str(value))


def _dispatch_due_in_force(first: tuple | None, row: dict) -> datetime | None:
    """The dispatch deadline the first dispatch is judged by: the one in force when it was
    made, which the dispatch event records (`data["dispatch_due_at"]`); a return (退回) or an
    escalation may reset the incident's deadline afterwards. 随手办: none (on time). A dispatch
    recorded before the event carried it: the incident's current deadline (the same value
    unless a return or escalation reset it later)."""
    if first is None:
        return row["dispatch_due_at"]
    action, _at, data = first
    if action == Action.FIX_ON_SPOT:
        return None
    if "dispatch_due_at" in data:
        return _moment(data["dispatch_due_at"])
    return row["dispatch_due_at"]


def _missed_dispatch_deadline(actor_id: int | None, from_state: str, at, data: dict) -> bool:
    """An escalation out of verifying/verified that shows a missed deadline before the first
    dispatch: any by the deadline sweep; one by a person out of `verified` after the dispatch
    deadline it replaced (the event records it) had passed."""
    if from_state not in BEFORE_DISPATCH_STATES:
        return False
    if actor_id is None:
        return True
    replaced = (
        _moment(data.get("dispatch_due_at")) if from_state == IncidentState.VERIFIED else None
    )
    return replaced is not None and at > replaced


def derive_facts(row: dict, events: list[tuple]) -> IncidentFact:
    """The facts of one incident (a values() row) from its relevant timeline events, given as
    (action, actor_id, from_state, created_at, data) in time order."""
    first = next(
        (
            (action, at, data or {})
            for action, _a, _f, at, data in events
            if action in DISPATCH_ACTIONS
        ),
        None,
    )
    first_dispatch = first[1] if first else row["dispatched_at"]
    sweep_escalations = [
        (from_state, at)
        for action, actor_id, from_state, at, _d in events
        if action == Action.ESCALATE and actor_id is None
    ]
    dispatched_on_time = None
    dispatch_due = row["dispatch_due_at"]
    if first_dispatch is not None:
        late_before_dispatch = any(
            action == Action.ESCALATE
            and at <= first_dispatch
            and _missed_dispatch_deadline(actor_id, from_state, at, data or {})
            for action, actor_id, from_state, at, data in events
        )
        dispatch_due = _dispatch_due_in_force(first, row)
        dispatched_on_time = not late_before_dispatch and (
            dispatch_due is None or first_dispatch <= dispatch_due
        )

    merged = bool(row.get("merged_into_id"))
    closed = row["state"] == IncidentState.CLOSED and not merged
    closed_at = row["closed_at"] if closed else None
    closed_on_time = None
    handling_seconds = None
    if closed and closed_at is not None:
        late_in_handling = any(state in HANDLING_STATES for state, _at in sweep_escalations)
        # Settled by a mediation agreement: judged by when it was referred (the mediation has
        # its own limit); otherwise by when it was resolved.
        settled = [
            at
            for action, _a, _f, at, data in events
            if action == Action.MEDIATION_CONCLUDED and (data or {}).get("agreement")
        ]
        referrals = [at for action, _a, _f, at, _d in events if action == Action.REFER_TO_MEDIATION]
        answered = row["resolved_at"] or closed_at
        referred_before = [at for at in referrals if settled and at <= settled[-1]]
        if referred_before:
            answered = referred_before[-1]
        due = row["resolve_due_at"]
        closed_on_time = not late_in_handling and (due is None or answered <= due)
        if first_dispatch is not None and row["resolved_at"] is not None:
            handling_seconds = max(0, int((row["resolved_at"] - first_dispatch).total_seconds()))

    return IncidentFact(
        incident_id=row["pk"],
        region_code=row["region_code"] or "",
        grid_cell_id=row["grid_cell_id"],
        category_id=row["category_id"],
        channel=row["channel"] or "",
        urgent=bool(row["urgent"]),
        state=MERGED_FACT_STATE if merged else row["state"],
        parked=bool(row["parked"]),
        handling_level=row["handling_level"] or "",
        handling_region_id=row["handling_region_id"],
        handling_department=row["handling_department"] or "",
        assignee_id=row["assignee_id"],
        reported_at=row["created_at"],
        first_dispatched_at=first_dispatch,
        dispatch_due_at=dispatch_due,
        dispatched_on_time=dispatched_on_time,
        resolve_due_at=row["resolve_due_at"],
        resolved_at=row["resolved_at"],
        closed_at=closed_at,
        closed_on_time=closed_on_time,
        handling_seconds=handling_seconds,
        reworked=row["rework_count"] > 0,
        extended=row["extension_count"] > 0,
        escalated=row["escalation_level"] > 0,
        rating=row["rating"],
    )


def _local_day(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment is not None else None


def _matches(values: dict[str, Any], condition: dict[str, Any]) -> bool:
    """Evaluate a set's condition (kpi_sets.ANCHORED_SETS: exact, __isnull, __gte) on one fact."""
    for lookup, expected in condition.items():
        name, _, operator = lookup.partition("__")
        value = values[name]
        if operator == "isnull":
            if (value is None) != expected:
                return False
        elif operator == "gte":
            if value is None or value < expected:
                return False
        elif value != expected:
            return False
    return True


def _contributions(values: dict[str, Any]) -> dict[tuple[date, str], Counter]:
    """What one fact adds to the daily counts: {(local day, region code): {column: n}}."""

    result: dict[tuple[date, str], Counter] = {}
    for anchor, field_name in ANCHORS.items():
        day = _local_day(values[field_name])
        if day is None:
            continue
        counts = result.setdefault((day, values["region_code"] or ""), Counter())
        for key, (set_anchor, condition) in ANCHORED_SETS.items():
            if set_anchor == anchor and _matches(values, condition):
                counts[key] += 1
        if anchor == "closed" and values["handling_seconds"] is not None:
            counts["handling_seconds"] += values["handling_seconds"]
    return result


DAILY_INPUT_FIELDS = (
    "region_code",
    "reported_at",
    "first_dispatched_at",
    "closed_at",
    "escalated",
    "dispatched_on_time",
    "extended",
    "closed_on_time",
    "urgent",
    "reworked",
    "handling_level",
    "handling_seconds",
    "rating",
)


def _apply_daily_deltas(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> int:
    """Move the daily counts by (new facts − old facts) of the same incidents, in the caller's
    transaction: O(changed incidents), whatever the table size. Returns rows touched."""
    delta: dict[tuple[date, str], Counter] = defaultdict(Counter)
    for values, sign in [*((v, -1) for v in old), *((v, 1) for v in new)]:
        for key, counts in _contributions(values).items():
            for column, n in counts.items():
                delta[key][column] += sign * n
    delta = {key: counts for key, counts in delta.items() if any(counts.values())}
    if not delta:
        return 0
    codes_by_day: dict[date, set[str]] = defaultdict(set)
    for day, code in delta:
        codes_by_day[day].add(code)
    wanted = Q()
    for day, codes in codes_by_day.items():
        wanted |= Q(day=day, region_code__in=sorted(codes))
    existing = {
        (row.day, row.region_code): row
        for row in IncidentDailyCount.objects.select_for_update().filter(wanted)
    }
    columns = [*_daily_columns()]
    created: list[IncidentDailyCount] = []
    updated: list[IncidentDailyCount] = []
    emptied: list[int] = []
    repair: set[date] = set()
    for key, counts in delta.items():
        row = existing.get(key) or IncidentDailyCount(day=key[0], region_code=key[1])
        for column, n in counts.items():
            setattr(row, column, getattr(row, column) + n)
        if any(getattr(row, column) < 0 for column in columns):
            repair.add(key[0])  # the table was out of step: recount that day from the facts
        elif row.pk is None:
            created.append(row)
        elif any(getattr(row, column) for column in columns):
            updated.append(row)
        else:
            emptied.append(row.pk)
    if created:
        IncidentDailyCount.objects.bulk_create(created, batch_size=1000)
    if updated:
        IncidentDailyCount.objects.bulk_update(updated, columns, batch_size=1000)
    if emptied:
        IncidentDailyCount.objects.filter(pk__in=emptied).delete()
    if repair:
        logger.warning("KPI daily counts out of step on %s: recounted", sorted(repair))
        daily_counts_recompute(days=repair)
    return len(delta)


def _daily_columns() -> list[str]:
    return [*ANCHORED_SETS, "handling_seconds"]


def _refresh_batch(ids: list[int], *, daily: bool = True) -> int:
    """Re-derive the facts of these incidents and (with `daily`) move the daily counts by the
    difference, in one transaction. Returns how many facts were written."""
    rows = list(Incident.objects.filter(pk__in=ids).values(*INCIDENT_FIELDS))
    events: dict[int, list[tuple]] = defaultdict(list)
    for incident_id, action, actor_id, from_state, created_at, data in (
        IncidentEvent.objects.filter(incident_id__in=ids, action__in=EVENT_ACTIONS)
        .order_by("created_at", "id")
        .values_list("incident_id", "action", "actor_id", "from_state", "created_at", "data")
    ):
        events[incident_id].append((action, actor_id, from_state, created_at, data))
    facts = [derive_facts(row, events.get(row["pk"], [])) for row in rows]
    now = timezone.now()
    for fact in facts:
        fact.refreshed_at = now
    with transaction.atomic():
        if daily:
            old = list(
                IncidentFact.objects.select_for_update()
                .filter(pk__in=ids)
                .values(*DAILY_INPUT_FIELDS)
            )
        IncidentFact.objects.bulk_create(
            facts,
            update_conflicts=True,
            unique_fields=["incident"],
            update_fields=[*FACT_UPDATE_FIELDS, "refreshed_at"],
            batch_size=500,
        )
        if daily:
            new = [{name: getattr(f, name) for name in DAILY_INPUT_FIELDS} for f in facts]
            _apply_daily_deltas(old, new)
    return len(facts)


def incident_facts_refresh(*, incident_ids: Iterable[int]) -> int:
    """Re-derive the facts of these incidents and move the daily counts accordingly
    (idempotent: a second run finds no difference). Returns how many facts were written."""
    written = 0
    for chunk in _chunks(sorted(set(incident_ids)), BATCH_SIZE):
        written += _refresh_batch(chunk)
    return written


def incident_facts_rebuild(*, now: datetime | None = None) -> int:
    """Derive the facts of every incident and every daily count, then set the watermark
    (first run, repairs)."""
    now = now or timezone.now()
    written = 0
    last_pk = 0
    while True:
        ids = list(
            Incident.objects.filter(pk__gt=last_pk)
            .order_by("pk")
            .values_list("pk", flat=True)[:BATCH_SIZE]
        )
        if not ids:
            break
        written += _refresh_batch(ids, daily=False)
        last_pk = ids[-1]
    daily_counts_recompute(days=None)
    FactWatermark.objects.update_or_create(
        name=WATERMARK, defaults={"value": now, "full_rebuild_at": now}
    )
    return written


def incident_facts_refresh_recent(*, now: datetime | None = None) -> int:
    """The beat step: re-derive the facts of incidents with a timeline event since the last run
    (a full rebuild when there was no run yet). Returns how many facts were written."""
    now = now or timezone.now()
    mark = FactWatermark.objects.filter(name=WATERMARK).first()
    if mark is None:
        return incident_facts_rebuild(now=now)
    since = mark.value - OVERLAP
    ids = (
        IncidentEvent.objects.filter(created_at__gte=since)
        .values_list("incident_id", flat=True)
        .distinct()
    )
    written = incident_facts_refresh(incident_ids=ids.iterator(chunk_size=5000))
    FactWatermark.objects.filter(pk=mark.pk).update(value=now)
    return written


def _days_q(field_name: str, days: list[date]) -> Q:
    """The local days as few datetime ranges as possible (consecutive days merged)."""
    tz = timezone.get_current_timezone()
    q = Q()
    run_start: date | None = None
    previous: date | None = None
    for day in [*sorted(days), None]:
        # previous is set whenever run_start is (said for the type checker)
        if (
            run_start is not None
            and previous is not None
            and (day is None or day != previous + timedelta(days=1))
        ):
            q |= Q(
                **{
                    f"{field_name}__gte": datetime.combine(run_start, time.min, tzinfo=tz),
                    f"{field_name}__lt": datetime.combine(
                        previous + timedelta(days=1), time.min, tzinfo=tz
                    ),
                }
            )
            run_start = None
        if day is not None and run_start is None:
            run_start = day
        previous = day
    return q


def daily_counts_recompute(*, days: Iterable[date] | None) -> int:
    """Sum the facts of these local days (None: all) per day and community into
    IncidentDailyCount, replacing what was there. Returns the number of rows written."""

    tz = timezone.get_current_timezone()
    day_list = sorted(set(days)) if days is not None else None
    rows: dict[tuple[date, str], dict[str, Any]] = defaultdict(dict)
    for anchor, field_name in ANCHORS.items():
        facts = IncidentFact.objects.filter(**{f"{field_name}__isnull": False})
        if day_list is not None:
            facts = facts.filter(_days_q(field_name, day_list))
        aggregates: dict[str, Any] = {
            f"n_{key}": Count("pk", filter=Q(**condition))
            for key, (set_anchor, condition) in ANCHORED_SETS.items()
            if set_anchor == anchor
        }
        if anchor == "closed":
            aggregates["n_handling_seconds"] = Sum(
                "handling_seconds", filter=Q(handling_seconds__isnull=False), default=0
            )
        grouped = (
            facts.annotate(day=TruncDate(field_name, tzinfo=tz))
            .values("day", "region_code")
            .annotate(**aggregates)
            .order_by()
        )
        for row in grouped:
            target = rows[(row["day"], row["region_code"])]
            target.update({k[2:]: v for k, v in row.items() if k.startswith("n_")})
    with transaction.atomic():
        stale = IncidentDailyCount.objects.all()
        if day_list is not None:
            stale = stale.filter(day__in=day_list)
        stale.delete()
        IncidentDailyCount.objects.bulk_create(
            [
                IncidentDailyCount(day=day, region_code=code, **counts)
                for (day, code), counts in rows.items()
            ],
            batch_size=2000,
        )
    return len(rows)


def facts_refresh_locked(*, full: bool = False) -> int | None:
    """Run a refresh unless another one is running (beat may fire while a long one runs).
    Returns None when skipped."""
    if not cache.add(LOCK_KEY, "1", LOCK_SECONDS):
        return None
    try:
        if full:
            return incident_facts_rebuild()
        return incident_facts_refresh_recent()
    finally:
        cache.delete(LOCK_KEY)


def facts_as_of() -> datetime | None:
    """When the facts were last brought up to date (shown beside the figures)."""
    return FactWatermark.objects.filter(name=WATERMARK).values_list("value", flat=True).first()
