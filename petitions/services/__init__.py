"""Every write to petitions, by stage. Each transition is one service: it runs in
`transaction.atomic`, locks the petition (core.workflow.lock), checks permission, scope and
state, applies the move (core.workflow.move along models.GRAPH), writes a PetitionEvent
(core.workflow.record, PetitionAction) and sends notifications (the inbox row in the
transaction, SMS by a task after commit, see core.services).

- `_steps`: lock, state check and move, event, current deadline, telling petitioner/officers;
- `intake`: validate and file a submission, find the same matter ("file once");
- `merging`: what follows a match (merge, refuse after re-examination, suggestion) and the
  officer's decisions on it (confirm, dismiss, undo);
- `handling`: accept, transfer, objection, not taken, start of handling, extension;
- `answers`: reply, review, re-examination (one `_answer`), their requests, hearing, rating,
  delivery of the written opinions;
- `closing`: close; `links`: mediation and incidents; `sweep`: the deadline sweep.

The permission predicates live in petitions.policies and the current deadline in
petitions.deadlines; both are re-exported here for old imports.
"""

from core.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationFailed
from petitions.deadlines import current_due
from petitions.policies import (
    can_answer,
    can_see_id_number,
    can_see_phone,
    closable,
    covers,
    is_officer,
    is_supervisor,
    same_account,
)
from petitions.services._steps import backlog_repeat_threshold, officer_ids_for
from petitions.services.answers import (
    OpinionInput,
    petition_delivery_record,
    petition_hearing_record,
    petition_rate,
    petition_reexam_request,
    petition_reexamine,
    petition_reply,
    petition_review,
    petition_review_request,
)
from petitions.services.closing import _closable, petition_close
from petitions.services.handling import (
    petition_accept,
    petition_decline,
    petition_extension_decide,
    petition_extension_request,
    petition_start_handling,
    petition_transfer,
    petition_transfer_object,
)
from petitions.services.intake import (
    ATTACHMENT_EXTENSIONS,
    MAX_ATTACHMENTS,
    MAX_ATTACHMENTS_TOTAL_BYTES,
    MAX_JOINT_VISIT_REPRESENTATIVES,
    MAX_PETITIONERS,
    TRACKING_ALPHABET,
    PetitionerInput,
    find_same_matter,
    petition_file,
)
from petitions.services.links import (
    RespondentInput,
    mediation_rooms,
    petition_refer_to_mediation,
    petition_turn_into_incident,
)
from petitions.services.merging import (
    petition_merge_confirm,
    petition_merge_dismiss,
    petition_merge_undo,
)
from petitions.services.sweep import petitions_sweep_deadlines

__all__ = [
    "ATTACHMENT_EXTENSIONS",
    "MAX_ATTACHMENTS",
    "MAX_ATTACHMENTS_TOTAL_BYTES",
    "MAX_JOINT_VISIT_REPRESENTATIVES",
    "MAX_PETITIONERS",
    "TRACKING_ALPHABET",
    "ConflictError",
    "NotFoundError",
    "OpinionInput",
    "PermissionDeniedError",
    "PetitionerInput",
    "RespondentInput",
    "ValidationFailed",
    "_closable",
    "backlog_repeat_threshold",
    "can_answer",
    "can_see_id_number",
    "can_see_phone",
    "closable",
    "covers",
    "current_due",
    "find_same_matter",
    "is_officer",
    "is_supervisor",
    "mediation_rooms",
    "officer_ids_for",
    "petition_accept",
    "petition_close",
    "petition_decline",
    "petition_delivery_record",
    "petition_extension_decide",
    "petition_extension_request",
    "petition_file",
    "petition_hearing_record",
    "petition_merge_confirm",
    "petition_merge_dismiss",
    "petition_merge_undo",
    "petition_rate",
    "petition_reexam_request",
    "petition_reexamine",
    "petition_refer_to_mediation",
    "petition_reply",
    "petition_review",
    "petition_review_request",
    "petition_start_handling",
    "petition_transfer",
    "petition_transfer_object",
    "petition_turn_into_incident",
    "petitions_sweep_deadlines",
    "same_account",
]
