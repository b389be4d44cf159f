"""Categories, incidents and their append-only timeline.

The state graph is declared once (ACTIONS, as GRAPH for core.workflow; TRANSITIONS is derived
from it); incidents.services is the only code that moves an incident along it.

- `categories`: HandlingLevel, ESCALATION_ORDER, Category;
- `loop`: IncidentState, Action, ACTIONS, GRAPH, TRANSITIONS, FINAL_STATES, OPEN_STATES,
  TIMED_STATES, Channel;
- `incident`: PUBLIC_ID_ALPHABET, public_id_new (named by migration 0010), Incident;
- `records`: IncidentPolicy, IncidentEvent, IncidentPhoto, PatrolLog.
"""

from incidents.models.categories import ESCALATION_ORDER, Category, HandlingLevel
from incidents.models.incident import PUBLIC_ID_ALPHABET, Incident, public_id_new
from incidents.models.loop import (
    ACTIONS,
    FINAL_STATES,
    GRAPH,
    MERGE_GRAPH,
    MERGEABLE_STATES,
    OPEN_STATES,
    TIMED_STATES,
    TRANSITIONS,
    Action,
    Channel,
    IncidentState,
)
from incidents.models.records import (
    IncidentEvent,
    IncidentFollower,
    IncidentPhoto,
    IncidentPolicy,
    PatrolLog,
)

__all__ = [
    "ACTIONS",
    "ESCALATION_ORDER",
    "FINAL_STATES",
    "GRAPH",
    "MERGEABLE_STATES",
    "MERGE_GRAPH",
    "OPEN_STATES",
    "PUBLIC_ID_ALPHABET",
    "TIMED_STATES",
    "TRANSITIONS",
    "Action",
    "Category",
    "Channel",
    "HandlingLevel",
    "Incident",
    "IncidentEvent",
    "IncidentFollower",
    "IncidentPhoto",
    "IncidentPolicy",
    "IncidentState",
    "PatrolLog",
    "public_id_new",
]
