"""Accepting answers: survey responses (idempotent by submission_id, merged until finished)
and Feedback-tab messages.

Retries are the normal case on flaky mobile networks, so the same `submission_id` always maps
to one row: concurrent first attempts race on the unique constraint and the loser re-reads
the winner's row. Partial answers merge into the response until it is finished; after that
the response is frozen and a retry only gets its id back.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from feedback.answering import sql
from feedback.answering.batch import ResponseBatch, finished_response
from feedback.answering.models import Answer, Feedback, Response
from feedback.answering.pipeline import enqueue_feedback_processing, enqueue_processing
from surveys.contacts.models import Contact
from surveys.delivery.models import Display, DisplayStatus
from surveys.design.models import Question, QuestionType
from surveys.design.scales import SCALES
from surveys.design.show_if import shown
from surveys.tenancy.models import Project
from vocsite import caches
from vocsite.errors import ApplicationError

MAX_TEXT = 5000


@dataclass(frozen=True)
class AnswerIn:
    question_id: int
    value: Any


@dataclass(frozen=True)
class SubmitResult:
    response: Response
    created: bool


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError("invalid", message, {field: [message]})


def _coerce(question: Question, value: Any, field: str) -> dict[str, Any]:
    """One answer's value as the columns it is stored in, or a 400 naming the field."""
    kind = question.type
    if kind in SCALES:
        if isinstance(value, bool) and kind == QuestionType.YES_NO:
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _invalid(field, gettext("A whole number is required."))
        low, high = question.scale_min, question.scale_max
        if not low <= value <= high:
            raise _invalid(
                field, gettext("Must be between %(low)s and %(high)s.") % {"low": low, "high": high}
            )
        return {"value_int": value}
    if kind == QuestionType.TEXT:
        if not isinstance(value, str):
            raise _invalid(field, gettext("Text is required."))
        if len(value) > MAX_TEXT:
            raise _invalid(
                field,
                ngettext("At most %(n)s character.", "At most %(n)s characters.", MAX_TEXT)
                % {"n": MAX_TEXT},
            )
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            raise _invalid(field, gettext("Null characters are not allowed."))
        return {"value_text": value.strip()}
    choice_ids = {c["id"] for c in question.choices}
    if kind == QuestionType.SINGLE_CHOICE:
        if not isinstance(value, str) or value not in choice_ids:
            raise _invalid(field, gettext("Pick one of the question's choices."))
        return {"value_choices": [value]}
    if kind == QuestionType.MULTI_CHOICE:
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, str) and v in choice_ids for v in value)
            or len(set(value)) != len(value)
        ):
            raise _invalid(field, gettext("Pick one or more of the question's choices."))
        return {"value_choices": value}
    raise _invalid(field, gettext("Unsupported question type."))


def _is_blank(columns: Mapping[str, Any]) -> bool:
    return (
        columns.get("value_int") is None
        and not columns.get("value_text")
        and not columns.get("value_choices")
    )


def _visible(
    question: Question, by_position: Mapping[int, Question], values: Mapping[int, dict]
) -> bool:
    """The question's show_if rule (surveys.design.show_if) over the merged answers: the rule
    names its earlier question by position on `Question` rows."""
    rule = question.show_if
    target = by_position.get(rule["question"]) if rule else None
    return shown(rule, values.get(target.pk, {}).get("value_int") if target else None)


def _validate(
    questions: Sequence[Question],
    merged: dict[int, dict[str, Any]],
    submitted: Mapping[int, int],
    finished: bool,
) -> set[int]:
    """Apply show_if and `required` to the merged answers, in question order.

    An answer sent in this request to a hidden question is refused. An answer stored by an
    earlier partial submission that a new score now hides (3 → 9 after "what went wrong?")
    is dropped instead, and its id returned so the row is deleted. `submitted` maps question
    ids of this request to their index in `answers`, so errors name the field that was sent."""
    by_position = {q.position: q for q in questions}
    errors: dict[str, list[str]] = {}
    dropped: set[int] = set()
    for question in questions:
        answered = question.pk in merged and not _is_blank(merged[question.pk])
        visible = _visible(question, by_position, merged)
        if answered and not visible:
            if question.pk in submitted:
                errors[f"answers.{submitted[question.pk]}.question_id"] = [
                    gettext("This question is not shown for the earlier answer.")
                ]
            else:
                dropped.add(question.pk)
                merged.pop(question.pk)  # later show_if rules must not see it either
        elif finished and visible and question.required and not answered:
            errors[f"questions.{question.pk}"] = [gettext("This question is required.")]
    if errors:
        raise ApplicationError("invalid", gettext("The answers are not valid."), errors)
    return dropped


def _parse_answers(
    questions: Sequence[Question], answers: Sequence[AnswerIn]
) -> dict[int, dict[str, Any]]:
    by_id = {q.pk: q for q in questions}
    parsed: dict[int, dict[str, Any]] = {}
    for index, answer in enumerate(answers):
        question = by_id.get(answer.question_id)
        if question is None:
            raise _invalid(
                f"answers.{index}.question_id",
                gettext("Not a question of the survey that was shown."),
            )
        if answer.question_id in parsed:
            raise _invalid(
                f"answers.{index}.question_id", gettext("Answered twice in one request.")
            )
        if answer.value is None:
            parsed[question.pk] = {}
            continue
        parsed[question.pk] = _coerce(question, answer.value, f"answers.{index}.value")
    return parsed


def _existing(submission_id: uuid.UUID, display: Display) -> tuple[Response | None, bool]:
    """The response stored under this submission_id, locked; and whether the display already
    has a response under *another* submission_id (a conflict). One query for both."""
    rows = list(
        Response.objects.select_for_update().filter(
            Q(submission_id=submission_id) | Q(display_id=display.pk)
        )
    )
    mine = next((r for r in rows if r.submission_id == submission_id), None)
    return mine, any(r.submission_id != submission_id for r in rows)


def response_submit(
    *,
    project: Project,
    display: Display,
    submission_id: uuid.UUID,
    answers: Sequence[AnswerIn],
    finished: bool,
    meta: Mapping[str, Any] | None = None,
    segment: Mapping[str, str] | None = None,
) -> SubmitResult:
    """Store (or merge) the answers to the survey version `display` showed: the common case
    — the first request for a submission, on a display without a response, with answers
    valid on their own — through the one fast path (`sql.response_insert_new`, a single
    statement on PostgreSQL); whatever it declines through `response_store`.

    `segment`: breakdown values the answer itself brings (a survey link's hidden fields, such
    as the store a receipt came from), kept over the contact's when the response is created."""
    result = _submit_new(
        project, display, submission_id, answers, finished, meta or {}, segment or {}
    )
    if result is not None:
        return result
    return response_store(
        project=project,
        display=display,
        submission_id=submission_id,
        answers=answers,
        finished=finished,
        meta=meta,
        segment=segment,
    )


def response_store(
    *,
    project: Project,
    display: Display,
    submission_id: uuid.UUID,
    answers: Sequence[AnswerIn],
    finished: bool,
    meta: Mapping[str, Any] | None = None,
    segment: Mapping[str, str] | None = None,
) -> SubmitResult:
    """`response_submit` through the ORM, for every case: a new response, a retry, a merge
    of partial answers, a conflict. Writes the same rows as the fast path."""
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _submit_once(
                    project, display, submission_id, answers, finished, meta or {}, segment or {}
                )
        except IntegrityError:
            # A concurrent first attempt with the same submission_id won; merge into its row.
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


def _submit_new(
    project: Project,
    display: Display,
    submission_id: uuid.UUID,
    answers: Sequence[AnswerIn],
    finished: bool,
    meta: Mapping[str, Any],
    segment: Mapping[str, str],
) -> SubmitResult | None:
    """The common case through `sql.response_insert_new`; None when it is not that case or
    the fast path declines it (not PostgreSQL), for `response_store` to handle."""
    if not sql.fast_path_available():
        return None
    questions = version_questions(display.version_id)
    parsed = _parse_answers(questions, answers)
    submitted = {a.question_id: index for index, a in enumerate(answers)}
    try:
        dropped = _validate(questions, parsed, submitted, finished)
    except ApplicationError:
        return None  # answers stored earlier may make them valid: the ORM path words it
    now = timezone.now()
    response = _new_response(project, display, submission_id, finished, meta, segment, now)
    rows = _new_answers(response, questions, parsed, dropped)
    display_values = _display_answered_values(display, finished, now)
    if not sql.response_insert_new(response, rows, display, display_values):
        return None
    for name, value in display_values.items():
        setattr(display, name, value)
    if finished:
        enqueue_processing(response.pk)
    return SubmitResult(response, created=True)


def _new_response(project, display, submission_id, finished, meta, segment, now) -> Response:
    return Response(
        project=project,
        survey_id=display.survey_id,
        version_id=display.version_id,
        display=display,
        contact_id=display.contact_id,
        touchpoint_id=display.touchpoint_id,
        channel=display.channel,
        submission_id=submission_id,
        language=display.language,
        meta=dict(meta),
        segment={**_segment(project, display.contact_id), **segment},
        finished=finished,
        finished_at=now if finished else None,
    )


def _new_answers(
    response: Response,
    questions: Sequence[Question],
    merged: Mapping[int, dict[str, Any]],
    dropped: set[int],
) -> list[Answer]:
    by_id = {q.pk: q for q in questions}
    return [
        Answer(
            response=response,
            question_id=question_id,
            question_type=by_id[question_id].type,
            value_int=columns.get("value_int"),
            value_text=columns.get("value_text", ""),
            value_choices=columns.get("value_choices"),
        )
        for question_id, columns in merged.items()
        if question_id not in dropped and not _is_blank(columns)
    ]


def _submit_once(
    project: Project,
    display: Display,
    submission_id: uuid.UUID,
    answers: Sequence[AnswerIn],
    finished: bool,
    meta: Mapping[str, Any],
    segment: Mapping[str, str],
) -> SubmitResult:
    questions = version_questions(display.version_id)
    parsed = _parse_answers(questions, answers)
    # A concurrent retry may have committed its row between an earlier read and this one:
    # then it is ours (same submission_id), not a conflict.
    response, taken = _existing(submission_id, display)
    if response is None and taken:
        raise ApplicationError(
            "conflict",
            gettext("This display already has a response with another submission_id."),
            status_code=409,
        )
    if response is not None:
        if response.project_id != project.pk or response.display_id != display.pk:
            raise ApplicationError(
                "conflict",
                gettext("This submission_id belongs to another display."),
                status_code=409,
            )
        if response.finished:
            return SubmitResult(response, created=False)

    stored = {}
    if response is not None:
        for answer in response.answers.all():
            stored[answer.question_id] = {
                "value_int": answer.value_int,
                "value_text": answer.value_text,
                "value_choices": answer.value_choices,
            }
    merged = {**stored, **parsed}
    submitted = {a.question_id: index for index, a in enumerate(answers)}
    dropped = _validate(questions, merged, submitted, finished)

    now = timezone.now()
    created = response is None
    by_id = {q.pk: q for q in questions}
    if created:
        response = _new_response(project, display, submission_id, finished, meta, segment, now)
        response.save(force_insert=True)
        Answer.objects.bulk_create(_new_answers(response, questions, merged, dropped))
        _display_answered(display, finished, now)
        if finished:
            enqueue_processing(response.pk)
        return SubmitResult(response, created=True)
    if dropped:
        Answer.objects.filter(response=response, question_id__in=dropped).delete()
    for question_id, columns in parsed.items():
        if _is_blank(columns):
            Answer.objects.filter(response=response, question_id=question_id).delete()
            continue
        Answer.objects.update_or_create(
            response=response,
            question_id=question_id,
            defaults={
                "question_type": by_id[question_id].type,
                "value_int": columns.get("value_int"),
                "value_text": columns.get("value_text", ""),
                "value_choices": columns.get("value_choices"),
            },
        )
    if finished:
        response.finished = True
        response.finished_at = now
        response.save(update_fields=["finished", "finished_at", "updated_at"])
        enqueue_processing(response.pk)
    _display_answered(display, finished, now)
    return SubmitResult(response, created=False)


def _display_answered_values(display: Display, finished: bool, now) -> dict[str, Any]:
    """The display's columns that answering changes, and their new values."""
    if finished:
        return {
            "status": DisplayStatus.RESPONDED,
            "responded_at": now,
            "shown_at": display.shown_at or now,
            "updated_at": now,
        }
    if display.status in (DisplayStatus.CLAIMED, DisplayStatus.EXPIRED):
        # Answering proves the survey was on screen even if `shown` never arrived.
        return {"status": DisplayStatus.SHOWN, "shown_at": now, "updated_at": now}
    return {}


def _display_answered(display: Display, finished: bool, now) -> None:
    values = _display_answered_values(display, finished, now)
    if values:
        for name, value in values.items():
            setattr(display, name, value)
        display.save(update_fields=list(values))


# Questions of a published version never change, so each web process keeps them in memory.
_questions_by_version = caches.QUESTIONS_BY_VERSION


def version_questions(version_id: int) -> list[Question]:
    return _questions_by_version.get(
        version_id,
        lambda: list(Question.objects.filter(version_id=version_id).order_by("position")),
    )


def _segment(project: Project, contact_id: int | None) -> dict[str, str]:
    """Breakdown attribute values frozen at answer time, as strings (the contact is read only
    when the project breaks results down by attributes)."""
    names = project.breakdown_attributes or []
    if contact_id is None or not names:
        return {}
    attributes = (
        Contact.objects.filter(pk=contact_id).values_list("attributes", flat=True).first() or {}
    )
    return {
        name: str(attributes[name])[:200]
        for name in names
        if attributes.get(name) not in (None, "")
    }


@dataclass(frozen=True)
class FeedbackResult:
    feedback: Feedback
    created: bool


def feedback_submit(
    *,
    project: Project,
    contact: Contact | None,
    submission_id: uuid.UUID,
    text: str,
    category: str = "",
    rating: int | None = None,
    url: str = "",
    meta: Mapping[str, Any] | None = None,
) -> FeedbackResult:
    """A Feedback-tab message. Never throttled; a retry with the same submission_id is a no-op."""
    existing = Feedback.objects.filter(submission_id=submission_id).first()
    if existing is not None:
        if existing.project_id != project.pk:
            raise ApplicationError(
                "conflict", gettext("This submission_id is already used."), status_code=409
            )
        return FeedbackResult(existing, created=False)
    text = text.strip()
    if not text:
        raise _invalid("text", gettext("Tell us what's on your mind."))
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                project=project,
                contact=contact,
                submission_id=submission_id,
                category=category,
                rating=rating,
                text=text,
                url=url,
                meta=dict(meta or {}),
            )
            enqueue_feedback_processing(feedback.pk)
    except IntegrityError:
        feedback = Feedback.objects.get(submission_id=submission_id)
        return FeedbackResult(feedback, created=False)
    return FeedbackResult(feedback, created=True)


def feedback_mark_handled(
    *, feedback: Feedback, actor: AbstractBaseUser | None, handled: bool = True
) -> Feedback:
    """The Feedback inbox's "mark handled" (and its undo). Marking a handled message again
    keeps who handled it first and when."""
    if handled == (feedback.handled_at is not None):
        return feedback
    who = actor if actor is not None and actor.is_authenticated else None
    feedback.handled_at = timezone.now() if handled else None
    feedback.handled_by = who if handled else None
    feedback.save(update_fields=["handled_at", "handled_by", "updated_at"])
    return feedback


def contact_last_nps_update(response_id: int, batch: ResponseBatch | None = None) -> bool:
    """Pipeline hook: remember the contact's latest NPS answer on the contact (only if this
    response is newer than the one remembered, so a late or repeated run changes nothing)."""
    response = finished_response(response_id, batch)
    if response is None or response.contact_id is None:
        return False
    nps = [a for a in response.answers.all() if a.question_type == "nps"]
    if not nps or nps[0].value_int is None:
        return False
    finished_at = response.finished_at
    updated = Contact.objects.filter(
        Q(last_nps_at__isnull=True) | Q(last_nps_at__lt=finished_at), pk=response.contact_id
    ).update(last_nps=nps[0].value_int, last_nps_at=finished_at)
    return updated == 1


def contacts_backfill_last_nps(*, project: Project) -> int:
    """Set every contact's latest NPS from the answers (for data loaded outside the pipeline).

    One ordered read of the project's NPS answers and batched updates: a correlated subquery
    per contact ran for more than ten minutes on a fresh PostgreSQL database (no statistics
    yet) for the demo's 3,000 contacts. Returns how many contacts have an NPS."""
    rows = (
        Answer.objects.filter(
            response__project=project,
            response__finished=True,
            response__contact__isnull=False,
            question_type="nps",
            value_int__isnull=False,
        )
        .order_by("response__contact_id", "-response__finished_at", "-pk")
        .values_list("response__contact_id", "value_int", "response__finished_at")
    )
    latest: dict[int, tuple[int, Any]] = {}
    for contact_id, score, finished_at in rows:
        latest.setdefault(contact_id, (score, finished_at))
    contacts = [
        Contact(pk=contact_id, last_nps=score, last_nps_at=finished_at)
        for contact_id, (score, finished_at) in latest.items()
    ]
    with transaction.atomic():
        Contact.objects.filter(project=project).exclude(pk__in=list(latest)).update(
            last_nps=None, last_nps_at=None
        )
        Contact.objects.bulk_update(contacts, ["last_nps", "last_nps_at"], batch_size=500)
    return len(contacts)
