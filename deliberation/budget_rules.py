"""The results of a participatory budget round: the most-voted projects that fit the budget.

Greedy by votes: the projects are taken in order of votes (most first); each is selected when
its cost fits what is left of the total, else skipped (and the next, cheaper one may still fit).
The order among equal votes (the tie-break) is, deterministically:
  1. the lower cost first (it leaves more of the budget to the others),
  2. then the earlier submission (the lower id).
A project with no votes is never selected. Pure function: no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Candidate:
    id: int
    votes: int
    cost: Decimal


@dataclass(frozen=True)
class Outcome:
    id: int
    votes: int
    cost: Decimal
    rank: int  # 1 = most votes (after the tie-break)
    selected: bool
    left_after: Decimal  # the budget left after this one was considered


def select(candidates: list[Candidate], total: Decimal) -> list[Outcome]:
    ordered = sorted(candidates, key=lambda c: (-c.votes, c.cost, c.id))
    left = Decimal(total)
    outcomes = []
    for rank, candidate in enumerate(ordered, start=1):
        selected = candidate.votes > 0 and candidate.cost <= left
        if selected:
            left -= candidate.cost
        outcomes.append(
            Outcome(
                id=candidate.id,
                votes=candidate.votes,
                cost=candidate.cost,
                rank=rank,
                selected=selected,
                left_after=left,
            )
        )
    return outcomes
