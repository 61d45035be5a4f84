"""Reads about answers: the response list behind the API and exports, unhappy scores, and the
finished-answer counts decide's response caps use (registered with surveys.delivery)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q, QuerySet

from feedback.answering.models import Response
from surveys.design.scales import UNHAPPY_AT_MOST
from surveys.tenancy.models import Project


@dataclass(frozen=True)
class ResponseFilters:
    survey_id: int | None = None
    touchpoint: str = ""  # touchpoint key
    since: date | None = None  # day of finishing (UTC), inclusive
    until: date | None = None
    include_partial: bool = False


def responses_list(*, project: Project, filters: ResponseFilters) -> QuerySet[Response]:
    """Responses of one project for the management API and exports: finished ones by default
    (partial ones on request, dated by when they were started), newest first."""
    responses = Response.objects.filter(project=project)
    day = "created_at__date" if filters.include_partial else "finished_at__date"
    if not filters.include_partial:
        responses = responses.filter(finished=True)
    if filters.survey_id is not None:
        responses = responses.filter(survey_id=filters.survey_id)
    if filters.touchpoint:
        responses = responses.filter(touchpoint__key=filters.touchpoint)
    if filters.since:
        responses = responses.filter(**{f"{day}__gte": filters.since})
    if filters.until:
        responses = responses.filter(**{f"{day}__lte": filters.until})
    return responses


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
    query |= effort & Q(**{f"{prefix}question_type": "ces", f"{prefix}value_int__gte": 4})
    return query


def finished_response_counts(survey_ids: Sequence[int]) -> dict[int, int]:
    """Finished responses per survey (registered for decide's response caps)."""
    rows = (
        Response.objects.filter(survey_id__in=list(survey_ids), finished=True)
        .values("survey_id")
        .annotate(n=Count("id"))
    )
    return {row["survey_id"]: row["n"] for row in rows}
