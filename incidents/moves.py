"""The moves of the loop a person makes, written once for the pages and the API.

`PERFORM[action](user, incident_id, data)` calls the action's one service. `data` is the
move's validated input, named as the API's input serializers name it (incidents.apis.MOVES):
`note`, `reason`, `photos`, `verifier`, `category` (a Category), `result`, `until`,
`resolve_by`, `rating`, `comment`, and for dispatch/reassign `assignee`, `level`, `region`
(an id), `department`, `to_pool`. A page's form gives its cleaned data
(`PortalForm.move_data()`); the detail page (incidents.views.PAGE_ACTIONS) and the API
(incidents.apis.MOVES) only add how the input is asked for and what is said afterwards.

Services are looked up on `incidents.services` at call time, so a test that patches one
patches both the page and the API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accounts.models import User
from incidents import services
from incidents.models import Action, Incident

__all__ = ["PERFORM", "Perform", "target_kwargs"]

Perform = Callable[[User, int, Mapping[str, Any]], Incident]


def target_kwargs(data: Mapping[str, Any]) -> dict[str, Any]:
    """Where dispatch and reassign send the incident: a person, a unit or the claim pool."""
    return {
        "assignee_id": data.get("assignee"),
        "level": data.get("level", ""),
        "region_id": data.get("region"),
        "department": data.get("department", ""),
        "to_pool": data.get("to_pool", False),
        "note": data.get("note", ""),
    }


def _photos(data: Mapping[str, Any]) -> list:
    return data.get("photos") or []


PERFORM: dict[Action, Perform] = {
    Action.ASSIGN_VERIFIER: lambda user, pk, d: services.incident_assign_verifier(
        incident_id=pk, actor=user, verifier_id=d["verifier"], note=d.get("note", "")
    ),
    Action.VERIFY: lambda user, pk, d: services.incident_verify(
        incident_id=pk,
        actor=user,
        note=d.get("note", ""),
        category_id=d["category"].pk if d.get("category") else None,
        photos=_photos(d),
    ),
    Action.FIX_ON_SPOT: lambda user, pk, d: services.incident_fix_on_spot(
        incident_id=pk, actor=user, result=d["result"], photos=_photos(d)
    ),
    Action.MARK_INVALID: lambda user, pk, d: services.incident_mark_invalid(
        incident_id=pk, actor=user, reason=d["reason"]
    ),
    Action.DISPATCH: lambda user, pk, d: services.incident_dispatch(
        incident_id=pk, actor=user, **target_kwargs(d)
    ),
    Action.CLAIM: lambda user, pk, d: services.incident_claim(incident_id=pk, actor=user),
    Action.ACCEPT: lambda user, pk, d: services.incident_accept(
        incident_id=pk, actor=user, note=d.get("note", "")
    ),
    Action.RETURN: lambda user, pk, d: services.incident_return(
        incident_id=pk, actor=user, reason=d["reason"]
    ),
    Action.REASSIGN: lambda user, pk, d: services.incident_reassign(
        incident_id=pk, actor=user, **target_kwargs(d)
    ),
    Action.ESCALATE: lambda user, pk, d: services.incident_escalate(
        incident_id=pk, actor=user, reason=d["reason"]
    ),
    Action.REQUEST_EXTENSION: lambda user, pk, d: services.incident_request_extension(
        incident_id=pk, actor=user, until=d["until"], reason=d["reason"]
    ),
    Action.APPROVE_EXTENSION: lambda user, pk, d: services.incident_approve_extension(
        incident_id=pk, actor=user, note=d.get("note", "")
    ),
    Action.REJECT_EXTENSION: lambda user, pk, d: services.incident_reject_extension(
        incident_id=pk, actor=user, reason=d["reason"]
    ),
    Action.PARK: lambda user, pk, d: services.incident_park(
        incident_id=pk, actor=user, reason=d["reason"]
    ),
    Action.UNPARK: lambda user, pk, d: services.incident_unpark(
        incident_id=pk, actor=user, resolve_by=d.get("resolve_by"), note=d.get("note", "")
    ),
    Action.RESOLVE: lambda user, pk, d: services.incident_resolve(
        incident_id=pk, actor=user, result=d["result"], photos=_photos(d)
    ),
    Action.CHECK: lambda user, pk, d: services.incident_check(
        incident_id=pk, actor=user, note=d.get("note", ""), photos=_photos(d)
    ),
    Action.REWORK: lambda user, pk, d: services.incident_rework(
        incident_id=pk, actor=user, reason=d["reason"], photos=_photos(d)
    ),
    Action.SEND_FEEDBACK: lambda user, pk, d: services.incident_send_feedback(
        incident_id=pk, actor=user
    ),
    Action.RATE: lambda user, pk, d: services.incident_rate(
        actor=user, incident_id=pk, rating=d["rating"], comment=d.get("comment", "")
    ),
    Action.REOPEN: lambda user, pk, d: services.incident_reopen(
        incident_id=pk, actor=user, note=d.get("note", "")
    ),
    Action.CLOSE: lambda user, pk, d: services.incident_close(
        incident_id=pk, actor=user, note=d.get("note", "")
    ),
}
