"""The factor → colour mapping: the pure rule function, and the default rules the data
migration loads (admins edit them afterwards)."""

import pytest

from screening.models import RiskLevel, RiskRule
from screening.rules import Rule, level_for_factors, level_from_rules


def test_no_rule_matches_gives_blue():
    assert level_from_rules(["x"], [Rule(level="red", factors=frozenset({"y"}))]) == "blue"
    assert level_from_rules([], []) == "blue"


def test_most_serious_matching_rule_wins():
    rules = [
        Rule(level="yellow", factors=frozenset({"a"})),
        Rule(level="red", factors=frozenset({"a", "b"})),
        Rule(level="orange", factors=frozenset(), min_factors=2),
    ]
    assert level_from_rules(["a"], rules) == "yellow"
    assert level_from_rules(["a", "c"], rules) == "orange"
    assert level_from_rules(["a", "b"], rules) == "red"


def test_a_rule_needs_all_its_factors_and_its_minimum():
    rule = Rule(level="orange", factors=frozenset({"a"}), min_factors=3)
    assert not rule.matches(frozenset({"a", "b"}))
    assert rule.matches(frozenset({"a", "b", "c"}))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("factors", "level"),
    [
        ([], RiskLevel.BLUE),
        (["weapon"], RiskLevel.RED),
        (["violence_threat"], RiskLevel.ORANGE),
        (["violence_threat", "group"], RiskLevel.RED),
        (["key_person"], RiskLevel.ORANGE),
        (["group"], RiskLevel.ORANGE),
        (["extreme_words"], RiskLevel.ORANGE),
        (["repeated"], RiskLevel.YELLOW),
        (["vulnerable"], RiskLevel.YELLOW),
        (["repeated", "vulnerable"], RiskLevel.ORANGE),
        (["repeated", "vulnerable", "key_person"], RiskLevel.RED),
    ],
)
def test_default_rules(factors, level):
    assert level_for_factors(factors) == level


@pytest.mark.django_db
def test_admins_edit_the_rules():
    RiskRule.objects.filter(name="提及凶器").update(level=RiskLevel.ORANGE)
    assert level_for_factors(["weapon"]) == RiskLevel.ORANGE
    RiskRule.objects.filter(name="提及凶器").update(active=False)
    assert level_for_factors(["weapon"]) == RiskLevel.BLUE
