"""Which alert rules an answered survey or a Feedback-tab message matches — pure, no Django.

The case services load rows into these plain values and ask `rule_matches_*`; keeping the
decision here makes every condition testable on its own, the same way the throttle is.

A rule's conditions all have to hold (AND); a condition left empty holds for everything:
- score: some answer of `question_type` lies in [score_min, score_max];
- keywords: some open-text answer contains one of them (case-insensitive, so Chinese
  words match as substrings and English ones regardless of case);
- topics: some answer (or the message) is tagged with one of the rule's topics;
- touchpoints: the response came from one of them;
- segment: every `attribute: value` pair equals the respondent's frozen segment value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

# Feedback-tab ratings are 1–5; 1 and 2 are unhappy.
FEEDBACK_NEGATIVE_RATING_MAX = 2


@dataclass(frozen=True)
class RuleIn:
    rule_id: int
    question_type: str = ""
    score_min: int | None = None
    score_max: int | None = None
    keywords: Sequence[str] = ()
    topic_ids: frozenset[int] = frozenset()
    touchpoint_ids: frozenset[int] = frozenset()
    segment: Mapping[str, str] = field(default_factory=dict)
    applies_to_feedback: bool = False


@dataclass(frozen=True)
class ScoreIn:
    question_type: str
    value: int


@dataclass(frozen=True)
class ResponseIn:
    scores: Sequence[ScoreIn] = ()
    texts: Sequence[str] = ()
    topic_ids: frozenset[int] = frozenset()
    touchpoint_id: int | None = None
    segment: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedbackIn:
    text: str
    rating: int | None = None
    sentiment: str = ""
    topic_ids: frozenset[int] = frozenset()
    segment: Mapping[str, object] = field(default_factory=dict)


def _has_score_condition(rule: RuleIn) -> bool:
    return bool(rule.question_type) or rule.score_min is not None or rule.score_max is not None


def _score_matches(rule: RuleIn, scores: Iterable[ScoreIn]) -> bool:
    for score in scores:
        if rule.question_type and score.question_type != rule.question_type:
            continue
        if rule.score_min is not None and score.value < rule.score_min:
            continue
        if rule.score_max is not None and score.value > rule.score_max:
            continue
        return True
    return False


def keywords_found(keywords: Iterable[str], texts: Iterable[str]) -> list[str]:
    """The rule's keywords that occur in any of the texts, in the rule's order."""
    haystacks = [text.casefold() for text in texts if text]
    return [
        keyword
        for keyword in keywords
        if keyword.strip() and any(keyword.strip().casefold() in text for text in haystacks)
    ]


def _segment_matches(wanted: Mapping[str, str], segment: Mapping[str, object]) -> bool:
    return all(str(segment.get(attribute, "")) == str(value) for attribute, value in wanted.items())


def _common_conditions(
    rule: RuleIn, texts: Sequence[str], topic_ids: frozenset[int], segment: Mapping[str, object]
) -> bool:
    if rule.keywords and not keywords_found(rule.keywords, texts):
        return False
    if rule.topic_ids and not (rule.topic_ids & topic_ids):
        return False
    return _segment_matches(rule.segment, segment)


def rule_matches_response(rule: RuleIn, response: ResponseIn) -> bool:
    """A rule with no condition at all matches nothing: it would open a case per answer."""
    if not (_has_score_condition(rule) or rule.keywords or rule.topic_ids):
        return False
    if _has_score_condition(rule) and not _score_matches(rule, response.scores):
        return False
    if rule.touchpoint_ids and response.touchpoint_id not in rule.touchpoint_ids:
        return False
    return _common_conditions(rule, response.texts, response.topic_ids, response.segment)


def feedback_is_negative(feedback: FeedbackIn) -> bool:
    """Unhappy passive feedback: a low rating, or negative sentiment when there is no rating."""
    if feedback.rating is not None:
        return feedback.rating <= FEEDBACK_NEGATIVE_RATING_MAX
    return feedback.sentiment == "negative"


def rule_matches_feedback(rule: RuleIn, feedback: FeedbackIn) -> bool:
    """Feedback-tab messages open cases only through rules that opt in, and only when unhappy
    (or when the rule names keywords/topics the message is about: "any mention of refunds")."""
    if not rule.applies_to_feedback:
        return False
    if not (feedback_is_negative(feedback) or rule.keywords or rule.topic_ids):
        return False
    return _common_conditions(rule, [feedback.text], feedback.topic_ids, feedback.segment)


def matching_rule_ids(rules: Iterable[RuleIn], response: ResponseIn) -> list[int]:
    return [rule.rule_id for rule in rules if rule_matches_response(rule, response)]
