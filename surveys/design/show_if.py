"""Conditional questions (`show_if`): a question is shown only while the score given to an
earlier question lies in [min, max]; unanswered or not a whole number, it stays hidden.

The one server-side reading of the rule: response validation, the hosted page and the demo seed
call `shown`. A rule names its earlier question by position in the designer's input and on
`Question` rows (`{"question": 0, …}`), by question id in published snapshots and the widget
payload (`{"question_id": 17, …}`); the comparison is the same. The widget script
(widget/src/voc.js, `visible`) applies the same rule in the browser, as the person answers;
tests/surveys/test_widget_script.py holds it to `BOUNDS` and to `shown`."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

# A rule's bounds, and how the earlier score is compared with each: all must hold.
BOUNDS: dict[str, Callable[[int, int], bool]] = {"min": operator.ge, "max": operator.le}
# What names the earlier question in a published snapshot and in the widget's payload.
PAYLOAD_TARGET = "question_id"


def shown(rule: Mapping[str, Any] | None, score: Any) -> bool:
    """Whether a question with this `show_if` rule is shown, given the earlier question's
    score (None when it was not answered). No rule: always shown."""
    if not rule:
        return True
    if not isinstance(score, int) or isinstance(score, bool):
        return False
    return all(compare(score, rule[bound]) for bound, compare in BOUNDS.items())


def visible_questions(
    questions: Iterable[Mapping[str, Any]], scores: Mapping[int, Any]
) -> list[Mapping[str, Any]]:
    """The snapshot or payload questions whose rule holds for `scores` (question id → value)."""
    return [
        question
        for question in questions
        if shown(
            question.get("show_if"),
            scores.get((question.get("show_if") or {}).get(PAYLOAD_TARGET)),
        )
    ]
