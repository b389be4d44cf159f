"""The vocabularies of petitions: channels, kinds, levels, states and the state graph (declared
once: TRANSITIONS, as core.workflow's GRAPH), the timeline's actions (PetitionAction), opinion
kinds, outcomes and delivery manners."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.workflow import Graph


class PetitionChannel(models.TextChoices):
    """Art. 17: information network, letter, phone, fax, visit."""

    WEB = "web", _("online")
    LETTER = "letter", _("letter")
    PHONE = "phone", _("phone call")
    FAX = "fax", _("fax")
    VISIT = "visit", _("visit")


OFFICER_CHANNELS = [
    PetitionChannel.LETTER,
    PetitionChannel.PHONE,
    PetitionChannel.FAX,
    PetitionChannel.VISIT,
]


class PetitionKind(models.TextChoices):
    """Art. 29-31."""

    SUGGESTION = "suggestion", _("suggestion or opinion")
    ACCUSATION = "accusation", _("accusation or complaint")
    REQUEST = "request", _("appeal or request")


class PetitionLevel(models.TextChoices):
    """The level where the matter arose."""

    VILLAGE = "village", _("village / community")
    TOWNSHIP = "township", _("township / street")
    COUNTY = "county", _("county / district")
    CITY = "city", _("city")


REGION_LEVEL_TO_PETITION_LEVEL = {
    "community": PetitionLevel.VILLAGE,
    "street": PetitionLevel.TOWNSHIP,
    "district": PetitionLevel.COUNTY,
    "city": PetitionLevel.CITY,
    "province": PetitionLevel.CITY,
}


class PetitionState(models.TextChoices):
    RECEIVED = "received", _("received")
    MERGED = "merged", _("merged into an open petition")
    ACCEPTED = "accepted", _("accepted")
    TRANSFERRED = "transferred", _("transferred")
    NOT_TAKEN = "not_taken", _("not taken")
    IN_HANDLING = "in_handling", _("in handling")
    EXTENDED = "extended", _("extended")
    REPLIED = "replied", _("replied")
    REVIEW_REQUESTED = "review_requested", _("review requested")
    REVIEWED = "reviewed", _("reviewed")
    REEXAM_REQUESTED = "reexam_requested", _("re-examination requested")
    REEXAMINED = "reexamined", _("re-examined")
    CLOSED = "closed", pgettext_lazy("petition state", "closed")


S = PetitionState
# The allowed moves, declared once.
TRANSITIONS: dict[str, set[str]] = {
    # Intake registers every submission as received, then merges it into an open petition of
    # the same matter ("file once") or refuses it after re-examination (Art. 36) at once.
    S.RECEIVED: {S.ACCEPTED, S.TRANSFERRED, S.NOT_TAKEN, S.MERGED},
    # Undoing a wrong merge makes the submission a petition of its own.
    S.MERGED: {S.RECEIVED},
    # The receiving unit accepts, or objects within 5 working days (back to the sender).
    S.TRANSFERRED: {S.ACCEPTED, S.RECEIVED},
    S.ACCEPTED: {S.IN_HANDLING, S.EXTENDED, S.REPLIED},
    S.IN_HANDLING: {S.EXTENDED, S.REPLIED},
    S.EXTENDED: {S.REPLIED},
    S.REPLIED: {S.REVIEW_REQUESTED, S.CLOSED},
    S.REVIEW_REQUESTED: {S.REVIEWED},
    S.REVIEWED: {S.REEXAM_REQUESTED, S.CLOSED},
    S.REEXAM_REQUESTED: {S.REEXAMINED},
    S.REEXAMINED: {S.CLOSED},
    S.NOT_TAKEN: set(),
    S.CLOSED: set(),
}
# The same graph for core.workflow (check/move): every action may take any of these edges; the
# services name the action (PetitionAction) they record with each move.
GRAPH = Graph(transitions=TRANSITIONS)
FINAL_STATES = [S.NOT_TAKEN, S.CLOSED, S.MERGED]
OPEN_STATES = [s for s in PetitionState.values if s not in FINAL_STATES]
HANDLING_STATES = [S.ACCEPTED, S.IN_HANDLING, S.EXTENDED]
# States in which the unit has given its reply (处理意见书) or more.
REPLIED_OR_LATER = [
    S.REPLIED,
    S.REVIEW_REQUESTED,
    S.REVIEWED,
    S.REEXAM_REQUESTED,
    S.REEXAMINED,
    S.CLOSED,
]


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    DISSATISFIED = "dissatisfied", _("dissatisfied")


SATISFIED_VALUES = [Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED]


class BacklogReason(models.TextChoices):
    OVERDUE = "overdue", _("open past its deadline")
    REPEATED = "repeated", _("raised again repeatedly")


class OpinionKind(models.TextChoices):
    REPLY = "reply", _("handling opinion")
    REVIEW = "review", _("review opinion")
    REEXAMINATION = "reexamination", _("re-examination opinion")


class Outcome(models.TextChoices):
    """Art. 32."""

    SUPPORT = "support", _("supported")
    EXPLAIN = "explain", _("explained")
    NOT_SUPPORT = "not_support", _("not supported")


class DeliveryManner(models.TextChoices):
    """How the written opinion reached the petitioner (Art. 35/36 count from receipt)."""

    ONLINE = "online", _("online (portal account)")
    IN_PERSON = "in_person", _("handed over in person")
    POST = "post", _("by post")
    OTHER = "other", _("other means")


# Delivered when issued: online (the petitioner's portal account) and in person at the desk.
DELIVERED_ON_ISSUE = [DeliveryManner.ONLINE, DeliveryManner.IN_PERSON]


class PetitionAction(models.TextChoices):
    """What a timeline event records (PetitionEvent.action): the stored values are the event
    names the services have always written (past tense: what happened), so no data moves.
    Pages and the API name their moves in the imperative (petitions.moves maps each to the
    event it records)."""

    RECEIVED = "received", _("received")
    MERGED = "merged", _("merged into an open petition of the same matter")
    DUPLICATE_MERGED = "duplicate_merged", _("the same matter was raised again and merged here")
    DUPLICATE_UNMERGED = "duplicate_unmerged", _("a wrong merge was undone")
    MERGE_UNDONE = "merge_undone", _("merge undone: handled on its own")
    REFUSED_AFTER_REEXAMINATION = (
        "refused_after_reexamination",
        _("not taken: settled by re-examination (Art. 36)"),
    )
    ACCEPTED = "accepted", _("accepted")
    TRANSFERRED = "transferred", _("transferred")
    TRANSFER_OBJECTED = "transfer_objected", _("the receiving unit objected to the transfer")
    NOT_TAKEN = "not_taken", _("not taken")
    HANDLING_STARTED = "handling_started", _("handling started")
    EXTENSION_REQUESTED = "extension_requested", _("extension requested")
    EXTENSION_REFUSED = "extension_refused", _("extension refused")
    EXTENDED = "extended", _("handling time extended")
    REPLIED = "replied", _("reply issued")
    RATED = "rated", _("rated by the petitioner")
    REVIEW_REQUESTED = "review_requested", _("review requested")
    REVIEWED = "reviewed", _("review opinion issued")
    REEXAM_REQUESTED = "reexam_requested", _("re-examination requested")
    HEARING = "hearing", _("hearing held (time not counted)")
    REEXAMINED = "reexamined", _("re-examination opinion issued")
    CLOSED = "closed", pgettext_lazy("petition state", "closed")
    OVERDUE = "overdue", _("deadline passed")
    REFERRED_TO_MEDIATION = "referred_to_mediation", _("referred to mediation")
    TURNED_INTO_INCIDENT = "turned_into_incident", _("turned into an incident")
    MERGE_SUGGESTED = (
        "merge_suggested",
        _("possible repeat of an earlier petition: an officer decides"),
    )
    MERGE_CONFIRMED = "merge_confirmed", _("an officer confirmed the repeat")
    MERGE_DISMISSED = "merge_dismissed", _("an officer found it is not a repeat")
    OPINION_DELIVERED = "opinion_delivered", _("written opinion received by the petitioner")


# The label of each event action (kept for old imports; PetitionAction is the vocabulary).
EVENT_LABELS = dict(PetitionAction.choices)

MERGE_REASON_LABELS = {
    "same_account": _("same petitioner (the same signed-in account)"),
    "same_id_number": _("same petitioner (ID number)"),
    "same_phone": _("same petitioner (phone)"),
    "same_category": _("same category"),
    "same_region": _("same region"),
}
