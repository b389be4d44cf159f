"""Explainable similar-matter detection for "最多投一次" (file once).

A new submission matches an earlier petition when they share a petitioner (same ID number, or
the same phone when no ID number was given) and the matter is the same: text similarity of the
matter and request at or above a threshold that is lowest for the same category in the same
region (0.35), then the same category (0.45), and highest across categories (0.75): local
practice, edited by admins in `PetitionPolicy` (these are its defaults). Each match carries its
reasons, stored on the merge record and shown to officers.
"""

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_IGNORED = re.compile(r"[\s\W_]+", re.UNICODE)


def _policy():
    from petitions.models import PetitionPolicy

    return PetitionPolicy.current()


def same_category_threshold(policy=None) -> float:
    return float((policy or _policy()).match_same_category)


def same_category_and_region_threshold(policy=None) -> float:
    return float((policy or _policy()).match_same_region)


def any_category_threshold(policy=None) -> float:
    return float((policy or _policy()).match_any_category)


def _normalise(text: str) -> str:
    return _IGNORED.sub("", (text or "").lower())


def _bigrams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


def text_similarity(a: str, b: str) -> float:
    """The larger of difflib's ratio and the character-bigram Jaccard index (0..1)."""
    a, b = _normalise(a), _normalise(b)
    if not a or not b:
        return 0.0
    ratio = SequenceMatcher(None, a, b, autojunk=False).ratio()
    bigrams_a, bigrams_b = _bigrams(a), _bigrams(b)
    jaccard = len(bigrams_a & bigrams_b) / len(bigrams_a | bigrams_b)
    return round(max(ratio, jaccard), 3)


@dataclass
class Match:
    petition_id: int
    score: float
    matched_by: str  # "account", "id_number" or "phone"
    reasons: list[dict] = field(default_factory=list)


def evaluate(
    *,
    candidate_id: int,
    matched_by: str,
    new_text: str,
    old_text: str,
    same_category: bool,
    same_region: bool,
    policy=None,
) -> Match | None:
    """The match between a new submission and one earlier petition of the same petitioner, or
    None. `reasons` are codes with values, rendered (translated) by the pages. `policy` is the
    PetitionPolicy read once by the caller (read here when not given)."""
    policy = policy or _policy()
    score = text_similarity(new_text, old_text)
    reasons: list[dict] = [{"code": f"same_{matched_by}"}]
    if same_category:
        reasons.append({"code": "same_category"})
    if same_region:
        reasons.append({"code": "same_region"})
    if same_category and same_region:
        threshold = same_category_and_region_threshold(policy)
    elif same_category:
        threshold = same_category_threshold(policy)
    else:
        threshold = any_category_threshold(policy)
    reasons.append({"code": "text_similarity", "score": score, "threshold": threshold})
    if score < threshold:
        return None
    return Match(petition_id=candidate_id, score=score, matched_by=matched_by, reasons=reasons)
