"""The dispatch queue's narrow rows: one query of the columns a row shows, no model instances
(incidents.selectors.dispatch_queue_values gives the rows of the user's queue)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from core.prepared_query import PreparedQuery
from incidents.models import FINAL_STATES, HandlingLevel, Incident, IncidentState

S = IncidentState


# --- the queue's narrow rows ------------------------------------------------------------------

# The columns one queue row shows (HTML table and API list): one narrow query, no model
# instances. 150 columns over 10 joined tables cost more to build and read than the database
# takes to answer (docs/performance.md).
QUEUE_COLUMNS = (
    "id",
    "tracking_number",
    "description",
    "state",
    "urgent",
    "channel",
    "address",
    "lat",
    "lng",
    "region_code",
    "handling_level",
    "handling_department",
    "claimable",
    "parked",
    "extension_requested",
    "escalation_level",
    "reopen_count",
    "followers_count",
    "due_at",
    "created_at",
    "category__code",
    "category__name",
    "category__name_en",
    "grid_cell_id",
    "grid_cell__code",
    "grid_cell__name",
    "region_id",
    "region__name",
    "handling_region_id",
    "handling_region__name",
    "assignee_id",
    "assignee__display_name",
    "assignee__username",
)
# Where the deadline that runs in each state is a working deadline (the rating window of
# feedback_sent is not "overdue": it simply closes). Same rule as page_selectors.is_overdue.
_WORKING_DEADLINE_STATES = frozenset(
    {S.VERIFYING, S.VERIFIED, S.REOPENED, S.DISPATCHED, S.ACCEPTED, S.RESOLVED}
)


@dataclass(frozen=True, slots=True)
class RowRef:
    """A related row as the queue shows it (code and name)."""

    code: str
    name: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class RowPerson:
    id: int
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(slots=True)
class QueueRow:
    """One row of the dispatch queue, read by the table template and the queue API with the
    same names as the Incident it stands for."""

    pk: int
    tracking_number: str
    description: str
    state: str
    urgent: bool
    channel: str
    address: str
    lat: float | None
    lng: float | None
    region_code: str
    handling_level: str
    handling_department: str
    claimable: bool
    parked: bool
    extension_requested: bool
    escalation_level: int
    reopen_count: int
    due_at: datetime | None
    created_at: datetime
    category: RowRef
    grid_cell: RowRef | None
    region: RowRef | None
    handling_region: RowRef | None
    assignee: RowPerson | None
    is_open: bool
    is_overdue: bool  # the page's flag (working deadline passed, not parked)
    past_due: bool  # the API's `overdue` (open and past due_at)
    # Filled by the page (incidents.views): the texts of the row.
    url: str = ""
    select_label: str = ""
    deadline_text: str = ""
    followers: int = 0  # 附议: "N 人关注" (Incident.followers_count)

    @property
    def id(self) -> int:
        return self.pk

    def get_state_display(self) -> str:
        return _label(IncidentState, self.state)

    def get_handling_level_display(self) -> str:
        return _label(HandlingLevel, self.handling_level)


def choice_label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


_label = choice_label  # the old private name


class QueuePages:
    """The queue for a Paginator, ids first: the count and a page's ids are read from the
    incident table alone (the filters' joins only), then the page's narrow rows by id.

    One query per page with the joins in it made PostgreSQL choose the deadline index over
    the whole city (joins run in the written order, settings.py) and read the city's rows for a
    street's page; the ids alone take the street's open incidents from the region index and
    sort them (docs/performance.md). One more query, whatever the page's size."""

    def __init__(self, queryset: QuerySet[Incident]) -> None:
        self.ids = queryset.select_related(None).values_list("id", flat=True)

    def count(self) -> int:
        return self.ids.order_by().count()

    def __len__(self) -> int:
        return self.count()

    def __iter__(self):
        return iter(self[:])

    def __getitem__(self, key: slice) -> list[dict]:
        if not isinstance(key, slice):
            raise TypeError("QueuePages takes slices")
        ids = list(self.ids[key])
        if not ids:
            return []
        found = {row["id"]: row for row in _QUEUE_ROWS.dicts(ids)}
        return [found[pk] for pk in ids if pk in found]


# A page's rows by id (five joins, 27 columns): building the SQL cost nearly half the read
# (docs/performance.md, "Incidents web"); compiled once per process, database and number of
# ids (core.prepared_query), the same dicts values() gives (incidents/tests/
# test_queue_queries.py compares them).
_QUEUE_ROWS = PreparedQuery(
    lambda ids: Incident.objects.filter(pk__in=ids).order_by().values(*QUEUE_COLUMNS)
)


def queue_rows(values: Any, *, now: datetime | None = None) -> list[QueueRow]:
    """QueueRow objects from dispatch_queue_values() rows (a page of them)."""
    now = now or timezone.now()
    english = (get_language() or "").startswith("en")
    final = FINAL_STATES
    rows = []
    for v in values:
        state = v["state"]
        due_at = v["due_at"]
        name = v["category__name"]
        if english and v["category__name_en"]:
            name = v["category__name_en"]
        is_open = state not in final
        assignee = None
        if v["assignee_id"] is not None:
            assignee = RowPerson(
                v["assignee_id"], v["assignee__display_name"] or v["assignee__username"]
            )
        rows.append(
            QueueRow(
                pk=v["id"],
                tracking_number=v["tracking_number"],
                description=v["description"],
                state=state,
                urgent=v["urgent"],
                channel=v["channel"],
                address=v["address"],
                lat=v["lat"],
                lng=v["lng"],
                region_code=v["region_code"],
                handling_level=v["handling_level"],
                handling_department=v["handling_department"],
                claimable=v["claimable"],
                parked=v["parked"],
                extension_requested=v["extension_requested"],
                escalation_level=v["escalation_level"],
                reopen_count=v["reopen_count"],
                followers=v["followers_count"],
                due_at=due_at,
                created_at=v["created_at"],
                category=RowRef(v["category__code"], v["category__name"], name),
                grid_cell=RowRef(v["grid_cell__code"], v["grid_cell__name"])
                if v["grid_cell_id"] is not None
                else None,
                region=RowRef("", v["region__name"]) if v["region_id"] is not None else None,
                handling_region=RowRef("", v["handling_region__name"])
                if v["handling_region_id"] is not None
                else None,
                assignee=assignee,
                is_open=is_open,
                is_overdue=bool(
                    state in _WORKING_DEADLINE_STATES
                    and due_at is not None
                    and due_at < now
                    and not v["parked"]
                ),
                past_due=bool(due_at and is_open and due_at < now),
            )
        )
    return rows
