"""Every write of the mediation app.

Each service runs in one transaction, locks the rows it changes (select_for_update), checks
permission and state, applies the move declared in mediation.models.GRAPH (TRANSITIONS), writes one
MediationEvent, and enqueues follow-up work (SMS, telling a referring incident the outcome) on
commit. Limits used here:
- a case is normally settled within 30 days (司法部《人民调解工作若干规定》Art. 33; 深圳经济特区
  矛盾纠纷多元化解条例 Art. 25), longer only with the parties' consent: the period and the cap on
  one extension are local practice, read from the admin-edited MediationPolicy;
- the parties may jointly apply for judicial confirmation within 30 days of the agreement taking
  effect (人民调解法 Art. 33);
- a party's refusal stops the mediation (Art. 17); a written agreement takes effect when every
  party has signed, the mediator has signed and the committee has sealed it (Art. 29), on the
  latest of those dates; an oral one when it is recorded (Art. 28, 30).

A package by stage; every public name is re-exported here (`from mediation import services`
and `services.case_accept(...)` keep working):
- `_steps`: the shared steps (lock, state and staff checks, move + timeline row through
  core.workflow, notifications, the incident report enqueued on commit);
- `intake`: apply online, register, refer from an incident or a petition, accept, decline,
  assign a mediator;
- `sessions`: book, cancel, start, minutes;
- `agreements`: record, sign, seal, the agreement taking effect;
- `closing`: extend, withdraw / refuse, fail, judicial confirmation, follow-up, close;
- `sweep`: the deadline sweep and the system steps the tasks run.
Room administration and the rooms CSV import are not workflow: they live in mediation.rooms
(re-exported here too).
"""

from accounts.models import (
    RoleCode,
    User,
)
from mediation.models import (
    AgreementSignature,
    CaseOutcome,
    CaseParty,
    CaseSource,
    CaseState,
    MediationAgreement,
    MediationCase,
    MediationEvent,
    MediationPolicy,
    MediationRoom,
    MediationSession,
    Performance,
    RoomLevel,
    RoomMediator,
    RoomType,
)
from mediation.rooms import (
    CSV_COLUMNS,
    CSV_MAX_BYTES,
    CSV_MAX_ROWS,
    CSV_REQUIRED,
    FALSE_WORDS,
    TRUE_WORDS,
    ImportResult,
    RoomData,
    room_create,
    room_data_clean,
    room_mediator_add,
    room_mediator_remove,
    room_move,
    room_reorder,
    room_set_active,
    room_update,
    rooms_import_csv,
)
from mediation.services._steps import (
    CLOCK_TOLERANCE,
    CONFIRMATION_DAYS,
    MAX_EXTENSION_DAYS,
    MAX_SESSION_MINUTES,
    SETTLE_DAYS,
)
from mediation.services.agreements import (
    agreement_record,
    agreement_seal,
    agreement_sign,
)
from mediation.services.closing import (
    case_close,
    case_extend,
    case_fail,
    case_follow_up,
    case_request_confirmation,
    case_withdraw,
)
from mediation.services.intake import (
    case_accept,
    case_apply_online,
    case_assign_mediator,
    case_create_from_incident,
    case_create_from_petition,
    case_decline,
    case_register,
)
from mediation.services.sessions import (
    session_cancel,
    session_record_minutes,
    session_schedule,
    session_start,
)
from mediation.services.sweep import (
    case_record_system_event,
    case_report_outcome_to_incident,
    cases_sweep_deadlines,
)

__all__ = [
    "CLOCK_TOLERANCE",
    "CONFIRMATION_DAYS",
    "CSV_COLUMNS",
    "CSV_MAX_BYTES",
    "CSV_MAX_ROWS",
    "CSV_REQUIRED",
    "FALSE_WORDS",
    "MAX_EXTENSION_DAYS",
    "MAX_SESSION_MINUTES",
    "SETTLE_DAYS",
    "TRUE_WORDS",
    "AgreementSignature",
    "CaseOutcome",
    "CaseParty",
    "CaseSource",
    "CaseState",
    "ImportResult",
    "MediationAgreement",
    "MediationCase",
    "MediationEvent",
    "MediationPolicy",
    "MediationRoom",
    "MediationSession",
    "Performance",
    "RoleCode",
    "RoomData",
    "RoomLevel",
    "RoomMediator",
    "RoomType",
    "User",
    "agreement_record",
    "agreement_seal",
    "agreement_sign",
    "case_accept",
    "case_apply_online",
    "case_assign_mediator",
    "case_close",
    "case_create_from_incident",
    "case_create_from_petition",
    "case_decline",
    "case_extend",
    "case_fail",
    "case_follow_up",
    "case_record_system_event",
    "case_register",
    "case_report_outcome_to_incident",
    "case_request_confirmation",
    "case_withdraw",
    "cases_sweep_deadlines",
    "room_create",
    "room_data_clean",
    "room_mediator_add",
    "room_mediator_remove",
    "room_move",
    "room_reorder",
    "room_set_active",
    "room_update",
    "rooms_import_csv",
    "session_cancel",
    "session_record_minutes",
    "session_schedule",
    "session_start",
]
