"""Conditional questions (`show_if`): a question is shown only while the score given to an
earlier question lies in [min, max]; unanswered or not a whole number, it stays hidden.

The one server-side reading of the rule: response validation, the hosted page and the demo seed
call `shown`. A rule names its earlier question by position in the designer's input and on
`Question` rows (`{"question": 0, …}`), by question id in published snapshots and the widget
payload (`{"question_id": 17, …}`); the comparison is the same. The widget script
(widget/src/voc.js, `visible`) applies the same rule in the browser."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def shown(rule: Mapping[str, Any] | None, score: Any) -> bool:
    """Whether a question with this `show_if` rule is shown, given the earlier question's
    score (None when it was not answered). No rule: always shown."""
    if not rule:
        return True
    if not isinstance(score, int) or isinstance(score, bool):
        return False
    return rule["min"] <= score <= rule["max"]


def visible_questions(
    questions: Iterable[Mapping[str, Any]], scores: Mapping[int, Any]
) -> list[Mapping[str, Any]]:
    """The snapshot or payload questions whose rule holds for `scores` (question id → value)."""
    return [
        question
        for question in questions
        if shown(
            question.get("show_if"), scores.get((question.get("show_if") or {}).get("question_id"))
        )
    ]
