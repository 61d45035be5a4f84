"""Reads about answers: unhappy scores, the finished-answer counts decide's response caps use
(registered with surveys.delivery), and the processing backlog operators watch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q

from feedback.answering.models import ProcessingFailure, Response
from surveys.design.scales import UNHAPPY_AT_MOST, UNHAPPY_EFFORT_FROM


def unhappy_scores(prefix: str = "") -> Q:
    """Answers (or, with a prefix, rows reaching answers) that are unhappy scores."""

    query = Q()
    effort = Q(**{f"{prefix}question__scale_wording": "effort"})
    for question_type, at_most in UNHAPPY_AT_MOST.items():
        unhappy = Q(**{f"{prefix}question_type": question_type, f"{prefix}value_int__lte": at_most})
        if question_type == "ces":
            unhappy &= ~effort
        query |= unhappy
    # A 1–5 CES worded as effort reads the other way: much effort (4–5) is unhappy.
    query |= effort & Q(
        **{f"{prefix}question_type": "ces", f"{prefix}value_int__gte": UNHAPPY_EFFORT_FROM}
    )
    return query


def finished_response_counts(survey_ids: Sequence[int]) -> dict[int, int]:
    """Finished responses per survey (registered for decide's response caps)."""
    rows = (
        Response.objects.filter(survey_id__in=list(survey_ids), finished=True)
        .values("survey_id")
        .annotate(n=Count("id"))
    )
    return {row["survey_id"]: row["n"] for row in rows}


@dataclass(frozen=True)
class ProcessingBacklog:
    waiting: int  # finished answers not processed yet (quarantined ones apart)
    oldest_finished_at: datetime | None
    quarantined: int  # answers and Feedback-tab messages waiting for `replay_quarantined`


def processing_quarantined_total() -> int:
    """Answers and messages of every project whose processing is quarantined."""
    return ProcessingFailure.objects.filter(quarantined_at__isnull=False).count()


def processing_backlog() -> ProcessingBacklog:
    """What the worker and the sweeper still have to do (`manage.py sweeper_backlog`)."""
    waiting = Response.objects.filter(
        finished=True,
        processed_at__isnull=True,
        processing_failure__quarantined_at__isnull=True,
    ).aggregate(n=Count("id"), oldest=Min("finished_at"))
    return ProcessingBacklog(
        waiting=waiting["n"],
        oldest_finished_at=waiting["oldest"],
        quarantined=processing_quarantined_total(),
    )
