"""The move table of the mediation app: each action on a case or a session, mapped once to its
service call. The pages (mediation.views: `case_action`, `session_action`) and the API (the
`Case*Api`/`Session*Api` classes of mediation.apis) both go through it, so a move is written
once.

`CASE_MOVES[action](actor, case_id, data)` and `SESSION_MOVES[action](actor, session_id, data)`
take plain data: ids (never model instances) and the validated fields under the API's names
(`mediator`, `party`, `reason`, `starts_at`, ...). The pages turn their forms' cleaned data
into that shape (views.cases._move_data); the API serializers already have it. Each returns
what its service returns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from accounts.models import User
from mediation import services

Perform = Callable[[User, int, Mapping[str, Any]], Any]


def _accept(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_accept(actor=actor, case_id=case_id, mediator_id=data.get("mediator"))


def _assign(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_assign_mediator(actor=actor, case_id=case_id, mediator_id=data["mediator"])


def _decline(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_decline(actor=actor, case_id=case_id, reason=data["reason"])


def _schedule(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.session_schedule(
        actor=actor,
        case_id=case_id,
        starts_at=data["starts_at"],
        duration_minutes=data["duration_minutes"],
        place=data["place"],
        mediator_id=data.get("mediator"),
    )


def _agreement(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.agreement_record(
        actor=actor,
        case_id=case_id,
        form=data["form"],
        facts=data["facts"],
        disputed_matters=data["disputed_matters"],
        responsibilities=data["responsibilities"],
        terms=data["terms"],
        performance_method=data["performance_method"],
        performance_deadline=data["performance_deadline"],
    )


def _sign(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.agreement_sign(
        actor=actor,
        case_id=case_id,
        party_id=data.get("party"),
        method=data["method"],
        signed_at=data.get("signed_at"),
    )


def _seal(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.agreement_seal(actor=actor, case_id=case_id, sealed_at=data.get("sealed_at"))


def _extend(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_extend(
        actor=actor,
        case_id=case_id,
        days=data["days"],
        parties_consent=data["parties_consent"],
        note=data["note"],
    )


def _withdraw(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    """A party refuses (with `party`) or the applicant withdraws (without)."""
    return services.case_withdraw(
        actor=actor, case_id=case_id, reason=data["reason"], party_id=data.get("party")
    )


def _fail(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_fail(actor=actor, case_id=case_id, reason=data["reason"])


def _confirmation(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_request_confirmation(
        actor=actor, case_id=case_id, court=data["court"], note=data["note"]
    )


def _follow_up(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_follow_up(
        actor=actor, case_id=case_id, performance=data["performance"], result=data["result"]
    )


def _close(actor: User, case_id: int, data: Mapping[str, Any]) -> Any:
    return services.case_close(actor=actor, case_id=case_id, note=data["note"])


# Keys: the page actions (selectors.case_actions_for, the case page's forms).
CASE_MOVES: dict[str, Perform] = {
    "accept": _accept,
    "assign": _assign,
    "decline": _decline,
    "schedule": _schedule,
    "agreement": _agreement,
    "sign": _sign,
    "seal": _seal,
    "extend": _extend,
    "refuse": _withdraw,
    "withdraw": _withdraw,
    "fail": _fail,
    "confirmation": _confirmation,
    "follow_up": _follow_up,
    "close": _close,
}


def _session_start(actor: User, session_id: int, data: Mapping[str, Any]) -> Any:
    return services.session_start(actor=actor, session_id=session_id)


def _session_cancel(actor: User, session_id: int, data: Mapping[str, Any]) -> Any:
    return services.session_cancel(actor=actor, session_id=session_id, reason=data["reason"])


def _session_minutes(actor: User, session_id: int, data: Mapping[str, Any]) -> Any:
    return services.session_record_minutes(
        actor=actor,
        session_id=session_id,
        minutes=data["minutes"],
        attendees=data["attendees"],
    )


SESSION_MOVES: dict[str, Perform] = {
    "start": _session_start,
    "cancel": _session_cancel,
    "minutes": _session_minutes,
}
