"""The widget API of answering: survey responses and Feedback-tab messages, one plain view each
(surveys.delivery.widget_http), each payload declared once as a `msgspec.Struct`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec
from django.http import HttpRequest

from feedback.answering.services import AnswerIn, feedback_submit, response_submit
from surveys.delivery import ledger
from surveys.delivery.widget_api import Identity, Url, verified
from surveys.delivery.widget_http import CONFLICT, NOT_FOUND, widget_view
from surveys.tenancy.models import Project
from vocsite.json_api import Response


class AnswerInput(msgspec.Struct):
    question_id: Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]
    value: Annotated[
        Any,
        msgspec.Meta(
            description="int for scores and yes_no (0/1), string for text, a choice id for "
            "single_choice, a list of choice ids for multi_choice; null clears"
        ),
    ]


class ResponseInput(msgspec.Struct):
    key: Annotated[str, msgspec.Meta(max_length=64)]
    display_id: uuid.UUID
    submission_id: uuid.UUID
    answers: Annotated[list[AnswerInput], msgspec.Meta(max_length=50)]
    finished: bool


class ResponseOutput(msgspec.Struct):
    response_id: int


class FeedbackInput(Identity, kw_only=True):
    submission_id: uuid.UUID
    category: Literal["idea", "problem", "praise", "question", "other", ""] = ""
    rating: Annotated[int, msgspec.Meta(ge=1, le=5)] | None = None
    text: Annotated[str, msgspec.Meta(max_length=5000, min_length=1)]
    url: Url | None = None


class FeedbackOutput(msgspec.Struct):
    feedback_id: int


@widget_view(
    operation_id="widget_response_submit",
    method="POST",
    payload=ResponseInput,
    responses={
        201: Response(ResponseOutput),
        200: Response(ResponseOutput),
        **NOT_FOUND,
        **CONFLICT,
    },
)
def response_submit_view(
    request: HttpRequest, project: Project, values: ResponseInput
) -> tuple[int, Any]:
    """Answers to a shown survey; the same submission_id is the same response (retries)."""
    display = ledger.display_get(project=project, display_id=values.display_id)
    result = response_submit(
        project=project,
        display=display,
        submission_id=values.submission_id,
        answers=[AnswerIn(a.question_id, a.value) for a in values.answers],
        finished=values.finished,
        meta={"user_agent": request.META.get("HTTP_USER_AGENT", "")[:300], "url": display.url},
    )
    return (201 if result.created else 200), {"response_id": result.response.pk}


@widget_view(
    operation_id="widget_feedback_submit",
    method="POST",
    payload=FeedbackInput,
    responses={201: Response(FeedbackOutput), 200: Response(FeedbackOutput), **CONFLICT},
)
def feedback_submit_view(
    request: HttpRequest, project: Project, values: FeedbackInput
) -> tuple[int, Any]:
    """The always-there Feedback tab: never throttled by the survey rules, only rate-limited."""
    verified(project, values)
    contact = ledger.contact_resolve(
        project=project, visitor_id=values.visitor_id, user_id=values.user_id or None
    )
    result = feedback_submit(
        project=project,
        contact=contact,
        submission_id=values.submission_id,
        text=values.text,
        category=values.category,
        rating=values.rating,
        url=values.url or "",
        meta={"user_agent": request.META.get("HTTP_USER_AGENT", "")[:300]},
    )
    return (201 if result.created else 200), {"feedback_id": result.feedback.pk}
