"""Petitions (信访): intake, "file once" merging, statutory deadlines, opinions and reviews.

The state graph is declared once (TRANSITIONS, as core.workflow's GRAPH, in `choices`);
petitions.services is the only code that moves a petition along it, and every move writes an
append-only PetitionEvent (its action a PetitionAction).

- `choices`: the vocabularies (channels, kinds, levels, states and the graph, event actions,
  opinion kinds, outcomes, delivery manners);
- `petition`: PetitionCategory, Petition, Petitioner;
- `records`: PetitionMerge, PetitionMergeSuggestion, PetitionPolicy, PetitionOpinion,
  PetitionAttachment (and `attachment_path`, named by migration 0004), PetitionEvent.
"""

from petitions.models.choices import (
    DELIVERED_ON_ISSUE,
    EVENT_LABELS,
    FINAL_STATES,
    GRAPH,
    HANDLING_STATES,
    MERGE_REASON_LABELS,
    OFFICER_CHANNELS,
    OPEN_STATES,
    REGION_LEVEL_TO_PETITION_LEVEL,
    REPLIED_OR_LATER,
    SATISFIED_VALUES,
    TRANSITIONS,
    BacklogReason,
    DeliveryManner,
    OpinionKind,
    Outcome,
    PetitionAction,
    PetitionChannel,
    PetitionKind,
    PetitionLevel,
    PetitionState,
    S,
    Satisfaction,
)
from petitions.models.petition import (
    Petition,
    PetitionCategory,
    Petitioner,
)
from petitions.models.records import (
    PetitionAttachment,
    PetitionEvent,
    PetitionMerge,
    PetitionMergeSuggestion,
    PetitionOpinion,
    PetitionPolicy,
    attachment_path,
)

__all__ = [
    "DELIVERED_ON_ISSUE",
    "EVENT_LABELS",
    "FINAL_STATES",
    "GRAPH",
    "HANDLING_STATES",
    "MERGE_REASON_LABELS",
    "OFFICER_CHANNELS",
    "OPEN_STATES",
    "REGION_LEVEL_TO_PETITION_LEVEL",
    "REPLIED_OR_LATER",
    "SATISFIED_VALUES",
    "TRANSITIONS",
    "BacklogReason",
    "DeliveryManner",
    "OpinionKind",
    "Outcome",
    "Petition",
    "PetitionAction",
    "PetitionAttachment",
    "PetitionCategory",
    "PetitionChannel",
    "PetitionEvent",
    "PetitionKind",
    "PetitionLevel",
    "PetitionMerge",
    "PetitionMergeSuggestion",
    "PetitionOpinion",
    "PetitionPolicy",
    "PetitionState",
    "Petitioner",
    "S",
    "Satisfaction",
    "attachment_path",
]
