"""surveys.design.scales."""

from __future__ import annotations

from surveys.design.models import Question, QuestionType

# Allowed scales per question type: (min, default max, allowed maxima). DESIGN.md §4.
SCALES: dict[str, tuple[int, int, tuple[int, ...]]] = {
    QuestionType.NPS: (0, 10, (10,)),
    QuestionType.CSAT: (1, 5, (3, 5, 7)),
    QuestionType.CES: (1, 7, (5, 7)),
    QuestionType.RATING: (1, 5, (3, 4, 5, 6, 7, 8, 9, 10)),
    QuestionType.YES_NO: (0, 1, (1,)),
}


CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE)


# How a scale is worded (Question.scale_wording): agreement, high is good — or effort ("how much
# effort did it take", 1 = very low), which DESIGN.md §7 defines for a 1–5 CES only.
SCALE_WORDINGS = tuple(value for value, _ in Question._meta.get_field("scale_wording").choices)


EFFORT_WORDED_SCALES = {QuestionType.CES: (5,)}
