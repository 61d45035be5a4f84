"""feedback.answering.widget_api."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from feedback.answering.services import (
    AnswerIn,
    feedback_submit,
    response_submit,
    response_submit_first,
)
from surveys.delivery import ledger
from surveys.delivery.widget_api import (
    CONFLICT,
    NOT_FOUND,
    WIDGET_ERRORS,
    Identity,
    StrictBoolean,
    StrictInteger,
    Text,
    WidgetApi,
    _plain_text,
    _resolve_contact,
    verified,
)

FEEDBACK_CATEGORIES = ("idea", "problem", "praise", "question", "other")


class ResponseSubmitApi(WidgetApi):
    """Answers to a shown survey; the same submission_id is the same response (retries)."""

    class InputSerializer(serializers.Serializer):
        class AnswerInput(serializers.Serializer):
            question_id = StrictInteger(min_value=1, max_value=2**63 - 1)
            value = serializers.JSONField(
                allow_null=True,
                help_text="int for scores and yes_no (0/1), string for text, a choice id for "
                "single_choice, a list of choice ids for multi_choice; null clears",
            )

        key = Text(max_length=64)
        display_id = serializers.UUIDField()
        submission_id = serializers.UUIDField()
        answers = AnswerInput(many=True, max_length=50)
        finished = StrictBoolean()

    class OutputSerializer(serializers.Serializer):
        response_id = serializers.IntegerField()

    @extend_schema(
        operation_id="widget_response_submit",
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            200: OutputSerializer,
            **NOT_FOUND,
            **CONFLICT,
            **WIDGET_ERRORS,
        },
    )
    def post(self, request):
        values = plainly_valid_response(request.data)
        if values is None:  # anything unusual: the serializer decides, and words the errors
            data = self.InputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            values = data.validated_data
        reply, created = submit_response(
            request.access.project, values, request.META.get("HTTP_USER_AGENT", "")
        )
        return Response(reply, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def submit_response(project, values: dict[str, Any], user_agent: str) -> tuple[dict, bool]:
    """The reply to valid answers, and whether they made a new response (else a retry)."""
    answers = [AnswerIn(a["question_id"], a["value"]) for a in values["answers"]]
    user_agent = user_agent[:300]
    first = response_submit_first(
        project=project,
        display_id=values["display_id"],
        submission_id=values["submission_id"],
        answers=answers,
        finished=values["finished"],
        user_agent=user_agent,
    )
    if first is not None:
        return {"response_id": first}, True
    display = ledger.display_get(project=project, display_id=values["display_id"])
    result = response_submit(
        project=project,
        display=display,
        submission_id=values["submission_id"],
        answers=answers,
        finished=values["finished"],
        meta={"user_agent": user_agent, "url": display.url},
    )
    return {"response_id": result.response.pk}, result.created


_MAX_QUESTION_ID = 2**63 - 1


def _plain_uuid(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)  # the forms UUIDField reads: UUID(hex=…) is the same parse
    except ValueError:
        return None


def plainly_valid_response(data: Any) -> dict[str, Any] | None:
    """ResponseSubmitApi.InputSerializer's validated data for a plainly valid body, or None
    for the serializer to look at (and word the errors) — as `plainly_valid_decide`, and
    held to the serializer by the same kind of property test: building the nested answer
    serializers cost more than the rest of the checks (py-spy at full ingest load)."""
    if not isinstance(data, dict) or not _plain_text(data.get("key"), 64, False):
        return None
    display_id, submission_id = (
        _plain_uuid(data.get("display_id")),
        _plain_uuid(data.get("submission_id")),
    )
    answers, finished = data.get("answers"), data.get("finished")
    if display_id is None or submission_id is None or not isinstance(finished, bool):
        return None
    if not isinstance(answers, list) or len(answers) > 50:
        return None
    plain_answers = []
    for answer in answers:
        if not isinstance(answer, dict) or "value" not in answer:
            return None
        question_id = answer.get("question_id")
        if type(question_id) is not int or not 1 <= question_id <= _MAX_QUESTION_ID:
            return None
        plain_answers.append({"question_id": question_id, "value": answer["value"]})
    return {
        "key": data["key"],
        "display_id": display_id,
        "submission_id": submission_id,
        "answers": plain_answers,
        "finished": finished,
    }


class FeedbackSubmitApi(WidgetApi):
    """The always-there Feedback tab: never throttled by the survey rules, only rate-limited."""

    class InputSerializer(Identity):
        submission_id = serializers.UUIDField()
        category = serializers.ChoiceField(
            choices=FEEDBACK_CATEGORIES, required=False, allow_blank=True
        )
        rating = StrictInteger(min_value=1, max_value=5, required=False, allow_null=True)
        text = Text(max_length=5000)
        url = Text(max_length=2000, required=False, allow_blank=True)

    class OutputSerializer(serializers.Serializer):
        feedback_id = serializers.IntegerField()

    @extend_schema(
        operation_id="widget_feedback_submit",
        request=InputSerializer,
        responses={201: OutputSerializer, 200: OutputSerializer, **CONFLICT, **WIDGET_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = verified(request.access.project, data.validated_data)
        result = feedback_submit(
            project=request.access.project,
            contact=_resolve_contact(request.access.project, values),
            submission_id=values["submission_id"],
            text=values["text"],
            category=values.get("category") or "",
            rating=values.get("rating"),
            url=values.get("url") or "",
            meta={"user_agent": request.headers.get("User-Agent", "")[:300]},
        )
        return Response(
            {"feedback_id": result.feedback.pk},
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )
