"""Mediation (人民调解): rooms, their mediators, cases, sessions, agreements and the timeline.

A package by subject: `rooms` (rooms, room mediators, types and levels), `cases` (the case
graph TRANSITIONS/GRAPH, the CaseAction vocabulary, cases, parties, the timeline, the policy)
and `agreements` (sessions, the agreement and its signatures). Every name is re-exported here:
`from mediation.models import X` keeps working, and Django finds the models (app_label
"mediation") because this module imports them.
"""

from mediation.models.agreements import AgreementSignature, MediationAgreement, MediationSession
from mediation.models.cases import (
    EVENT_ACTION_LABELS,
    FINAL_STATES,
    GRAPH,
    MEDIATING_STATES,
    OPEN_STATES,
    TRANSITIONS,
    C,
    CaseAction,
    CaseOutcome,
    CaseParty,
    CaseSource,
    CaseState,
    MediationCase,
    MediationEvent,
    MediationPolicy,
    Performance,
    can_move,
    id_number_validator,
    viewer_sees_contacts,
)
from mediation.models.rooms import (
    PROPOSAL_ORDER,
    ROOM_LEVEL_ALIASES,
    ROOM_LEVEL_REGION_LEVEL,
    ROOM_TYPE_ALIASES,
    MediationRoom,
    RoomLevel,
    RoomMediator,
    RoomType,
    region_code_at_level,
)

__all__ = [
    "EVENT_ACTION_LABELS",
    "FINAL_STATES",
    "GRAPH",
    "MEDIATING_STATES",
    "OPEN_STATES",
    "PROPOSAL_ORDER",
    "ROOM_LEVEL_ALIASES",
    "ROOM_LEVEL_REGION_LEVEL",
    "ROOM_TYPE_ALIASES",
    "TRANSITIONS",
    "AgreementSignature",
    "C",
    "CaseAction",
    "CaseOutcome",
    "CaseParty",
    "CaseSource",
    "CaseState",
    "MediationAgreement",
    "MediationCase",
    "MediationEvent",
    "MediationPolicy",
    "MediationRoom",
    "MediationSession",
    "Performance",
    "RoomLevel",
    "RoomMediator",
    "RoomType",
    "can_move",
    "id_number_validator",
    "region_code_at_level",
    "viewer_sees_contacts",
]
