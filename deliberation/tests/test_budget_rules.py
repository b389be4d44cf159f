"""The budget-fitting selection on hand-made cases (pure function)."""

from decimal import Decimal

from deliberation.budget_rules import Candidate, select


def _picked(candidates, total):
    return [o.id for o in select(candidates, Decimal(total)) if o.selected]


def c(pk, votes, cost):
    return Candidate(id=pk, votes=votes, cost=Decimal(cost))


def test_highest_votes_that_fit():
    assert _picked([c(1, 10, 50), c(2, 8, 30), c(3, 5, 20)], 100) == [1, 2, 3]


def test_a_project_larger_than_what_is_left_is_skipped_and_a_smaller_one_still_fits():
    # 1 takes 60 of 100; 2 (50) no longer fits; 3 (40) does.
    assert _picked([c(1, 10, 60), c(2, 9, 50), c(3, 3, 40)], 100) == [1, 3]


def test_a_project_larger_than_the_whole_budget_is_never_selected():
    assert _picked([c(1, 99, 150), c(2, 1, 10)], 100) == [2]


def test_ties_the_cheaper_first_then_the_earlier():
    outcomes = select([c(5, 7, 40), c(3, 7, 60), c(4, 7, 40)], Decimal(80))
    assert [o.id for o in outcomes] == [4, 5, 3]  # 40 (id 4), 40 (id 5), then 60
    assert [o.selected for o in outcomes] == [True, True, False]
    assert [o.rank for o in outcomes] == [1, 2, 3]


def test_exact_fit_and_left_after():
    outcomes = select([c(1, 3, "33.33"), c(2, 2, "66.67")], Decimal(100))
    assert all(o.selected for o in outcomes)
    assert outcomes[-1].left_after == Decimal("0")


def test_no_votes_no_selection():
    assert _picked([c(1, 0, 10)], 100) == []
