"""Pages of the mediation app. Thin: validate the form, call one service (case and session
actions through the move table, mediation.moves), show its error.

A package by subject: `admin_rooms` (room administration, the rooms map), `cases` (lists,
applying and registering, the case page and its actions, the printable agreement), `referral`
(an incident referred to a room), `reports` (calendar, statistics). mediation.urls uses the
names re-exported here.
"""

from mediation.views.admin_rooms import (
    room_create,
    room_edit,
    room_import,
    room_map,
    room_mediator_add,
    room_mediator_remove,
    room_move,
    room_toggle,
    rooms,
    rooms_geojson,
)
from mediation.views.cases import (
    agreement_print,
    apply,
    case_action,
    case_create,
    case_detail,
    case_list,
    home,
    my_cases,
    session_action,
)
from mediation.views.referral import refer
from mediation.views.reports import calendar, stats

__all__ = [
    "agreement_print",
    "apply",
    "calendar",
    "case_action",
    "case_create",
    "case_detail",
    "case_list",
    "home",
    "my_cases",
    "refer",
    "room_create",
    "room_edit",
    "room_import",
    "room_map",
    "room_mediator_add",
    "room_mediator_remove",
    "room_move",
    "room_toggle",
    "rooms",
    "rooms_geojson",
    "session_action",
    "stats",
]
