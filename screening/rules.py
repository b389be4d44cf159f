"""The factor → colour mapping: admin-edited RiskRule rows read here, and the pure function the
rule test checks (`level_from_rules`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from screening.models import LEVEL_RANK, RiskLevel, RiskRule


@dataclass(frozen=True)
class Rule:
    level: str
    factors: frozenset[str]
    min_factors: int = 0

    def matches(self, ticked: frozenset[str]) -> bool:
        return self.factors <= ticked and len(ticked) >= self.min_factors


def level_from_rules(ticked: Iterable[str], rules: Iterable[Rule]) -> str:
    """The most serious colour among the rules that match the ticked factor codes; blue (隐患)
    when none does. A rule with no factors and no minimum matches everything."""
    codes = frozenset(ticked)
    best = RiskLevel.BLUE
    for rule in rules:
        if rule.matches(codes) and LEVEL_RANK[RiskLevel(rule.level)] > LEVEL_RANK[best]:
            best = RiskLevel(rule.level)
    return str(best)


def rules_active() -> list[Rule]:
    """The active rules, as admins left them (read on every assessment: a few rows)."""
    rules = RiskRule.objects.filter(active=True).prefetch_related("factors")
    return [
        Rule(
            level=rule.level,
            factors=frozenset(f.code for f in rule.factors.all()),
            min_factors=rule.min_factors,
        )
        for rule in rules
    ]


def level_for_factors(codes: Iterable[str]) -> str:
    return level_from_rules(codes, rules_active())
