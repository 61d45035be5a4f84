"""Scales: the ranges each question type allows, how a scale is worded, and the thresholds that
read a score as satisfied, easy or unhappy. One home for them: the designer, the widget, alert
rules, the frontline lists and the metrics all read them here (DESIGN.md §4, §7)."""

from __future__ import annotations

from collections.abc import Mapping

from django.db.models import Case, CharField, Value, When

from surveys.design.models import Question, QuestionType

# Allowed scales per question type: (min, default max, allowed maxima). DESIGN.md §4.
SCALES: dict[str, tuple[int, int, tuple[int, ...]]] = {
    QuestionType.NPS: (0, 10, (10,)),
    QuestionType.CSAT: (1, 5, (3, 5, 7)),
    QuestionType.CES: (1, 7, (5, 7)),
    QuestionType.RATING: (1, 5, (3, 4, 5, 6, 7, 8, 9, 10)),
    QuestionType.YES_NO: (0, 1, (1,)),
}

SCALE_MINIMA = sorted({low for low, _default, _maxima in SCALES.values()})  # [0, 1]
SCALE_MAXIMA = sorted({top for _low, _default, maxima in SCALES.values() for top in maxima})
# The range any score can take, whatever its question (a show_if range lies within it).
LOWEST_SCORE, HIGHEST_SCORE = SCALE_MINIMA[0], SCALE_MAXIMA[-1]


CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTI_CHOICE)


def default_scale_max(question_type: str) -> int | None:
    """The top of a new question's scale when none is given (CES 1–7, CSAT 1–5, NPS 0–10)."""
    return SCALES[question_type][1] if question_type in SCALES else None


def scale_bounds(question_type: str, scale: Mapping[str, int] | None = None) -> tuple[int, int]:
    """(lowest, highest) score of a scored question: its own scale where it has one, else the
    type's default. Raises KeyError for a type without a scale."""
    low, default_max, _maxima = SCALES[question_type]
    scale = scale or {}
    return scale.get("min", low), scale.get("max", default_max)


def default_scale(question_type: str) -> dict[str, int] | None:
    """{"min", "max"} of the type's default scale, or None for a type without one."""
    if question_type not in SCALES:
        return None
    low, high = scale_bounds(question_type)
    return {"min": low, "max": high}


# How a scale is worded (Question.scale_wording): agreement, high is good — or effort ("how much
# effort did it take", 1 = very low), which DESIGN.md §7 defines for a 1–5 CES only.
SCALE_WORDINGS = tuple(value for value, _ in Question._meta.get_field("scale_wording").choices)


EFFORT_WORDED_SCALES = {QuestionType.CES: (5,)}


# How a CES question is worded: agreement ("it was easy", high is good) or effort ("how much
# effort did it take", 1 = very low, low is good). Only a 1–5 CES may be worded as effort.
AGREE, EFFORT = "agree", "effort"
# The top of each allowed scale → the lowest score counted as satisfied / agree.
CSAT_SATISFIED_FROM = {3: 3, 5: 4, 7: 6}
CES_AGREE_FROM = {5: 4, 7: 5}
# An effort-worded scale → the highest score counted as easy (DESIGN.md §7: 1–2 of 5).
CES_EASY_EFFORT_AT_MOST = {5: 2}
# NPS buckets: promoters 9–10, passives 7–8, detractors 0–6 (DESIGN.md §7).
NPS_PROMOTER_FROM = 9
NPS_DETRACTOR_AT_MOST = 6


def nps_category(score: int) -> str:
    """ "promoter", "passive" or "detractor" for a 0–10 score."""
    if score >= NPS_PROMOTER_FROM:
        return "promoter"
    return "detractor" if score <= NPS_DETRACTOR_AT_MOST else "passive"


def nps_category_sql(score_field: str) -> Case:
    """`nps_category` as a database expression over an integer field (a null score reads as
    passive: filter nulls out first)."""
    return Case(
        When(**{f"{score_field}__lte": NPS_DETRACTOR_AT_MOST}, then=Value("detractor")),
        When(**{f"{score_field}__gte": NPS_PROMOTER_FROM}, then=Value("promoter")),
        default=Value("passive"),
        output_field=CharField(),
    )


# What the frontline and the topic suggestions treat as an unhappy answer: detractors (NPS
# 0–6), CSAT 1–2, CES 1–3 — the thresholds of the default alert rules.
UNHAPPY_AT_MOST = {"nps": NPS_DETRACTOR_AT_MOST, "csat": 2, "ces": 3}
# A 1–5 CES worded as effort reads the other way: much effort (4–5) is unhappy.
UNHAPPY_EFFORT_FROM = 4
