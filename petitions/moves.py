"""One move table for the pages and the API: what each petition action reads and which service
it calls, written once. `petitions.views` takes the form, the done message and `run_action`
from here; `petitions.apis` takes `run_action` and gives each move its input serializer (same
keys, checked at import).

The keys are the URL-visible action names (`/petitions/<id>/<key>/`, `/api/v1/petitions/<id>/
<key>/`) and what `selectors.petition_actions` offers. They are imperative; the timeline event a
move records (`event`, a PetitionAction) is what happened, in the past tense. Most pairs read
alike (accept → accepted, transfer → transferred); those that do not:

    object            → transfer_objected        (the receiving unit objects, Art. 23)
    start             → handling_started
    decline           → not_taken
    reply             → replied;  review → reviewed;  reexamine → reexamined
    hearing           → hearing                  (no state change)
    refer_mediation   → referred_to_mediation;   to_incident → turned_into_incident
    undo_merge        → merge_undone (and duplicate_unmerged on the open petition)
    delivery          → opinion_delivered
    extension_decide  → extended, or extension_refused
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from accounts.models import User
from petitions import forms, services
from petitions.models import Petition, PetitionAction

Perform = Callable[[User, int, Mapping[str, Any]], Petition]


@dataclass(frozen=True)
class PetitionMove:
    """One action: the page's form (the API's serializer has the same fields), the service
    call, the event it records, and the page's message when it is done."""

    form: type[django_forms.Form]
    perform: Perform
    event: PetitionAction
    done: str | Promise


def _opinion(data: Mapping[str, Any]) -> services.OpinionInput:
    return services.OpinionInput(
        request=data["request"],
        facts_and_reasons=data["facts_and_reasons"],
        decision=data["decision"],
        legal_basis=data["legal_basis"],
        outcome=data["outcome"],
        unit=data.get("unit", ""),
        delivery_manner=data.get("delivery_manner", ""),
    )


def _refer_mediation(actor: User, pk: int, data: Mapping[str, Any]) -> Petition:
    room = data.get("room")
    respondent = services.RespondentInput(
        name=data.get("respondent_name", ""),
        phone=data.get("respondent_phone", ""),
        address=data.get("respondent_address", ""),
    )
    return services.petition_refer_to_mediation(
        actor=actor,
        petition_id=pk,
        room_id=getattr(room, "pk", room),
        room_name=data.get("room_name", ""),
        respondent=respondent if respondent.name.strip() else None,
        note=data.get("note", ""),
    )


def _merge_decision(service: Callable[..., Petition]) -> Perform:
    def perform(actor: User, pk: int, data: Mapping[str, Any]) -> Petition:
        return service(
            actor=actor, petition_id=pk, suggestion_id=data["suggestion"], note=data.get("note", "")
        )

    return perform


MOVES: dict[str, PetitionMove] = {
    "accept": PetitionMove(
        forms.AcceptForm,
        lambda actor, pk, data: services.petition_accept(
            actor=actor,
            petition_id=pk,
            note=data.get("note", ""),
            handling_unit=data.get("handling_unit", ""),
        ),
        PetitionAction.ACCEPTED,
        gettext_lazy("Accepted; the petitioner is told."),
    ),
    "transfer": PetitionMove(
        forms.TransferForm,
        lambda actor, pk, data: services.petition_transfer(
            actor=actor,
            petition_id=pk,
            to_region=data["to_region"],
            unit_name=data["unit_name"],
            note=data.get("note", ""),
        ),
        PetitionAction.TRANSFERRED,
        gettext_lazy("Transferred; the petitioner is told."),
    ),
    "decline": PetitionMove(
        forms.DeclineForm,
        lambda actor, pk, data: services.petition_decline(
            actor=actor,
            petition_id=pk,
            reason=data["reason"],
            legal_basis=data.get("legal_basis", ""),
        ),
        PetitionAction.NOT_TAKEN,
        gettext_lazy("Recorded as not taken; the petitioner is told."),
    ),
    "object": PetitionMove(
        forms.ReasonForm,
        lambda actor, pk, data: services.petition_transfer_object(
            actor=actor, petition_id=pk, reason=data["reason"]
        ),
        PetitionAction.TRANSFER_OBJECTED,
        gettext_lazy("Objection recorded; the petition goes back to the sender."),
    ),
    "start": PetitionMove(
        forms.EmptyForm,
        lambda actor, pk, data: services.petition_start_handling(actor=actor, petition_id=pk),
        PetitionAction.HANDLING_STARTED,
        gettext_lazy("Handling started."),
    ),
    "extension_request": PetitionMove(
        forms.ExtensionRequestForm,
        lambda actor, pk, data: services.petition_extension_request(
            actor=actor, petition_id=pk, days=data["days"], reason=data["reason"]
        ),
        PetitionAction.EXTENSION_REQUESTED,
        gettext_lazy("Extension requested from the head of the unit."),
    ),
    "extension_decide": PetitionMove(
        forms.ExtensionDecideForm,
        lambda actor, pk, data: services.petition_extension_decide(
            actor=actor, petition_id=pk, approve=data["approve"], note=data.get("note", "")
        ),
        PetitionAction.EXTENDED,
        gettext_lazy("Decision on the extension recorded."),
    ),
    "reply": PetitionMove(
        forms.OpinionForm,
        lambda actor, pk, data: services.petition_reply(
            actor=actor, petition_id=pk, opinion=_opinion(data)
        ),
        PetitionAction.REPLIED,
        gettext_lazy("Reply issued."),
    ),
    "rate": PetitionMove(
        forms.RateForm,
        lambda actor, pk, data: services.petition_rate(
            actor=actor,
            petition_id=pk,
            satisfaction=data["satisfaction"],
            comment=data.get("comment", ""),
        ),
        PetitionAction.RATED,
        gettext_lazy("Thank you for your rating."),
    ),
    "review_request": PetitionMove(
        forms.ReasonForm,
        lambda actor, pk, data: services.petition_review_request(
            actor=actor, petition_id=pk, reason=data["reason"]
        ),
        PetitionAction.REVIEW_REQUESTED,
        gettext_lazy("Review requested."),
    ),
    "review": PetitionMove(
        forms.OpinionForm,
        lambda actor, pk, data: services.petition_review(
            actor=actor, petition_id=pk, opinion=_opinion(data)
        ),
        PetitionAction.REVIEWED,
        gettext_lazy("Review opinion issued."),
    ),
    "reexam_request": PetitionMove(
        forms.ReasonForm,
        lambda actor, pk, data: services.petition_reexam_request(
            actor=actor, petition_id=pk, reason=data["reason"]
        ),
        PetitionAction.REEXAM_REQUESTED,
        gettext_lazy("Re-examination requested."),
    ),
    "hearing": PetitionMove(
        forms.HearingForm,
        lambda actor, pk, data: services.petition_hearing_record(
            actor=actor, petition_id=pk, days=data["days"], note=data.get("note", "")
        ),
        PetitionAction.HEARING,
        gettext_lazy("Hearing recorded."),
    ),
    "reexamine": PetitionMove(
        forms.OpinionForm,
        lambda actor, pk, data: services.petition_reexamine(
            actor=actor, petition_id=pk, opinion=_opinion(data)
        ),
        PetitionAction.REEXAMINED,
        gettext_lazy("Re-examination opinion issued."),
    ),
    "close": PetitionMove(
        forms.NoteForm,
        lambda actor, pk, data: services.petition_close(
            actor=actor, petition_id=pk, note=data.get("note", "")
        ),
        PetitionAction.CLOSED,
        gettext_lazy("Petition closed."),
    ),
    "refer_mediation": PetitionMove(
        forms.MediationReferralForm,
        _refer_mediation,
        PetitionAction.REFERRED_TO_MEDIATION,
        gettext_lazy("Referred to mediation."),
    ),
    "to_incident": PetitionMove(
        forms.IncidentForm,
        lambda actor, pk, data: services.petition_turn_into_incident(
            actor=actor,
            petition_id=pk,
            category=data["category"],
            lat=data.get("lat"),
            lng=data.get("lng"),
            address=data.get("address", ""),
            note=data.get("note", ""),
        ),
        PetitionAction.TURNED_INTO_INCIDENT,
        gettext_lazy("Incident reported."),
    ),
    "undo_merge": PetitionMove(
        forms.ReasonForm,
        lambda actor, pk, data: services.petition_merge_undo(
            actor=actor, petition_id=pk, reason=data["reason"]
        ),
        PetitionAction.MERGE_UNDONE,
        gettext_lazy("Merge undone; the submission is now a petition of its own."),
    ),
    "merge_confirm": PetitionMove(
        forms.MergeDecisionForm,
        _merge_decision(services.petition_merge_confirm),
        PetitionAction.MERGE_CONFIRMED,
        gettext_lazy("Repeat confirmed."),
    ),
    "merge_dismiss": PetitionMove(
        forms.MergeDecisionForm,
        _merge_decision(services.petition_merge_dismiss),
        PetitionAction.MERGE_DISMISSED,
        gettext_lazy("Possible repeat dismissed; the petition goes on as its own."),
    ),
    "delivery": PetitionMove(
        forms.DeliveryForm,
        lambda actor, pk, data: services.petition_delivery_record(
            actor=actor,
            petition_id=pk,
            kind=data["kind"],
            delivered_on=data["delivered_on"],
            manner=data["manner"],
        ),
        PetitionAction.OPINION_DELIVERED,
        gettext_lazy("Delivery of the written opinion recorded."),
    ),
}
# Shown per possible repeat on the page, not in the generic action list.
SUGGESTION_ACTIONS = ("merge_confirm", "merge_dismiss")


def run_action(action: str, *, actor: User, petition: Petition, data: Mapping[str, Any], form=None):
    """Call the service behind `action` (shared by the pages and the API). `form` is unused
    (kept for old callers)."""
    move = MOVES.get(action)
    if move is None:
        raise Http404
    return move.perform(actor, petition.pk, data)
