"""feedback.answering.services: per-type validation, required and show_if, partial merges,
idempotency (a second attempt merging into the first inside the caller's transaction), version
binding, the frozen segment, the display's status, processing enqueued inside the transaction,
and the Feedback tab's idempotent submit."""

import uuid
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

import feedback.answering.services as responses_module
from feedback.answering.models import Answer, Feedback, Response
from feedback.answering.services import (
    AnswerIn,
    feedback_submit,
    response_store,
    response_submit,
)
from surveys.delivery.ledger import (
    contact_resolve,
    display_claim,
    display_mark_dismissed,
    display_mark_shown,
)
from surveys.delivery.models import Display
from surveys.design.services import QuestionIn, survey_publish, survey_update
from tests.factories import ProjectFactory, published_survey
from vocsite.errors import ApplicationError

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)


@pytest.fixture
def enqueued(monkeypatch):
    """Record enqueue calls and whether they happened inside the service's transaction."""
    calls = []

    def record(kind):
        def enqueue(object_id):
            calls.append((kind, object_id, transaction.get_connection().in_atomic_block))

        return enqueue

    monkeypatch.setattr(responses_module, "enqueue_processing", record("response"))
    monkeypatch.setattr(responses_module, "enqueue_feedback_processing", record("feedback"))
    return calls


def shown(project, touchpoint, questions=None, visitor="v-1", **settings):
    published_survey(project, touchpoints=[touchpoint], questions=questions, **settings)
    contact = contact_resolve(project=project, visitor_id=visitor)
    display = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key)
    assert display.verdict.show
    display = Display.objects.select_related("contact", "version").get(pk=display.display.pk)
    return display, [q["id"] for q in display.version.snapshot["questions"]]


def submit(project, display, answers, finished=True, submission_id=None):
    return response_submit(
        project=project,
        display=display,
        submission_id=submission_id or uuid.uuid4(),
        answers=[AnswerIn(qid, value) for qid, value in answers],
        finished=finished,
    )


def store(project, display, answers, finished=True, submission_id=None):
    """The same answers through the ORM path alone."""
    return response_store(
        project=project,
        display=display,
        submission_id=submission_id or uuid.uuid4(),
        answers=[AnswerIn(qid, value) for qid, value in answers],
        finished=finished,
    )


def refused(project, display, answers, finished=True):
    with pytest.raises(ApplicationError) as error:
        submit(project, display, answers, finished)
    return error.value.fields


# ---------------------------------------------------------------- values per question type

SCALES = [
    ("nps", None, [0, 10], [-1, 11, 7.0, "7", True]),
    ("csat", {"max": 3}, [1, 3], [0, 4]),
    ("csat", {"max": 7}, [1, 7], [0, 8]),
    ("ces", {"max": 5}, [1, 5], [0, 6]),
    ("ces", None, [1, 7], [0, 8]),
    ("rating", {"max": 10}, [1, 10], [0, 11]),
    ("yes_no", None, [0, 1, True, False], [2, -1, "yes"]),
]


@pytest.mark.parametrize(("kind", "scale", "good", "bad"), SCALES)
def test_scored_answers_must_be_whole_numbers_inside_the_questions_scale(
    project, touchpoint, kind, scale, good, bad
):
    display, ids = shown(
        project, touchpoint, [QuestionIn(type=kind, text={"en": "?"}, scale=scale)]
    )
    for value in bad:
        fields = refused(project, display, [(ids[0], value)])
        assert list(fields) == ["answers.0.value"], value
    for value in good:
        result = submit(project, display, [(ids[0], value)], finished=False)
        Response.objects.filter(pk=result.response.pk).delete()
        assert result.created
    assert Response.objects.count() == 0


def test_stored_score_values(project, touchpoint):
    display, ids = shown(
        project,
        touchpoint,
        [QuestionIn(type="nps", text={"en": "?"}), QuestionIn(type="yes_no", text={"en": "?"})],
    )
    result = submit(project, display, [(ids[0], 0), (ids[1], True)])
    assert sorted(result.response.answers.values_list("question_type", "value_int")) == [
        ("nps", 0),
        ("yes_no", 1),
    ]


CHOICES = [
    QuestionIn(type="single_choice", text={"en": "One"}, choices=[{"en": "A"}, {"en": "B"}]),
    QuestionIn(
        type="multi_choice",
        text={"en": "Many"},
        choices=[{"en": "A"}, {"en": "B"}, {"en": "C"}],
        required=False,
    ),
]


@pytest.mark.parametrize(
    ("position", "value"),
    [(0, "c3"), (0, ["c1"]), (0, 1), (1, []), (1, ["c1", "c1"]), (1, ["c4"]), (1, "c1")],
)
def test_choices_must_come_from_the_questions_list(project, touchpoint, position, value):
    display, ids = shown(project, touchpoint, CHOICES)
    answers = [(ids[0], "c1")] if position else []
    answers.append((ids[position], value))
    assert list(refused(project, display, answers)) == [f"answers.{len(answers) - 1}.value"]


def test_choice_answers_are_stored_as_choice_ids(project, touchpoint):
    display, ids = shown(project, touchpoint, CHOICES)
    result = submit(project, display, [(ids[0], "c2"), (ids[1], ["c3", "c1"])])
    assert sorted(result.response.answers.values_list("value_choices", flat=True), key=len) == [
        ["c2"],
        ["c3", "c1"],
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("x" * 5001, "At most 5000 characters."),
        ("a\x00b", "Null characters are not allowed."),
        (42, "Text is required."),
        (["a"], "Text is required."),
    ],
)
def test_text_answers_are_strings_of_at_most_5000_characters(project, touchpoint, value, message):
    display, ids = shown(project, touchpoint, [QuestionIn(type="text", text={"en": "Why?"})])
    assert refused(project, display, [(ids[0], value)]) == {"answers.0.value": [message]}


def test_a_5000_character_text_is_kept(project, touchpoint):
    display, ids = shown(project, touchpoint, [QuestionIn(type="text", text={"en": "Why?"})])
    submit(project, display, [(ids[0], "é" * 5000)])
    assert Answer.objects.get().value_text == "é" * 5000


def test_unknown_and_repeated_question_ids_are_refused(project, touchpoint):
    display, ids = shown(project, touchpoint)
    assert refused(project, display, [(ids[0], 5), (ids[0], 6)]) == {
        "answers.1.question_id": ["Answered twice in one request."]
    }
    assert refused(project, display, [(999_999, 5)]) == {
        "answers.0.question_id": ["Not a question of the survey that was shown."]
    }


# ---------------------------------------------------------------- required, show_if, merging


def test_required_questions_are_needed_only_to_finish(project, touchpoint):
    display, ids = shown(project, touchpoint)
    assert refused(project, display, []) == {f"questions.{ids[0]}": ["This question is required."]}
    assert submit(project, display, [], finished=False).response.finished is False


def test_answers_to_hidden_questions_are_refused(project, touchpoint):
    display, ids = shown(project, touchpoint)  # follow-up shown only for 0–6
    assert refused(project, display, [(ids[0], 9), (ids[1], "why not")]) == {
        "answers.1.question_id": ["This question is not shown for the earlier answer."]
    }
    assert refused(project, display, [(ids[1], "no score yet")], finished=False) == {
        "answers.0.question_id": ["This question is not shown for the earlier answer."]
    }


def test_partial_answers_merge_until_finished_then_freeze(project, touchpoint, enqueued):
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    first = submit(project, display, [(ids[0], 3)], finished=False, submission_id=submission)
    second = submit(project, display, [(ids[1], "Slow")], finished=False, submission_id=submission)
    assert (first.created, second.created) == (True, False)
    assert enqueued == []
    final = submit(project, display, [(ids[0], 4)], finished=True, submission_id=submission)
    assert final.response.pk == first.response.pk
    assert sorted(Answer.objects.values_list("question_id", "value_int", "value_text")) == [
        (ids[0], 4, ""),
        (ids[1], None, "Slow"),
    ]
    assert enqueued == [("response", first.response.pk, True)]
    # After finishing, a retry only gets the id back: nothing changes, nothing re-enqueued.
    again = submit(project, display, [(ids[0], 10)], finished=True, submission_id=submission)
    assert (again.response.pk, again.created) == (first.response.pk, False)
    assert Answer.objects.get(question_id=ids[0]).value_int == 4
    assert len(enqueued) == 1


def test_a_new_score_that_hides_a_stored_follow_up_drops_it(project, touchpoint):
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    submit(project, display, [(ids[0], 2), (ids[1], "Bad")], False, submission)
    submit(project, display, [(ids[0], 9)], True, submission)
    assert list(Answer.objects.values_list("question_id", "value_int")) == [(ids[0], 9)]


def test_null_clears_a_partial_answer(project, touchpoint):
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    submit(project, display, [(ids[0], 2), (ids[1], "Bad")], False, submission)
    submit(project, display, [(ids[1], None)], False, submission)
    assert list(Answer.objects.values_list("question_id", flat=True)) == [ids[0]]


# ---------------------------------------------------------------- idempotency


def test_the_same_submission_id_is_one_response(project, touchpoint):
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    first = submit(project, display, [(ids[0], 8)], submission_id=submission)
    again = submit(project, display, [(ids[0], 8)], submission_id=submission)
    assert (first.created, again.created) == (True, False)
    assert first.response.pk == again.response.pk
    assert (Response.objects.count(), Answer.objects.count()) == (1, 1)


def test_a_second_attempt_merges_into_the_first_attempts_row_inside_the_callers_transaction(
    project, touchpoint
):
    """A first attempt's partial answers are stored; the second attempt of the same submission
    (a retry that finishes it) merges into that row, in the caller's own transaction, which
    stays usable. Two attempts racing on their own connections are the integration run's
    (tests/integration/test_concurrency.py, PostgreSQL): SQLite takes the write lock at the
    start of each transaction, so they cannot interleave here."""
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    first = submit(project, display, [(ids[0], 8)], False, submission)
    with transaction.atomic():
        second = submit(project, display, [(ids[0], 9)], True, submission)
        assert Response.objects.count() == 1  # the caller's transaction is not poisoned
    assert (second.response.pk, second.created) == (first.response.pk, False)
    response = Response.objects.get()
    assert (response.finished, response.answers.get().value_int) == (True, 9)


def test_a_submission_id_cannot_be_reused_for_another_display(project, touchpoint):
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    submit(project, display, [(ids[0], 8)], submission_id=submission)
    other_display, other_ids = shown(project, touchpoint, visitor="v-2", name="Other")
    with pytest.raises(ApplicationError) as error:
        submit(project, other_display, [(other_ids[0], 8)], submission_id=submission)
    assert (error.value.status_code, error.value.code) == (409, "conflict")


def test_a_display_takes_one_response(project, touchpoint):
    display, ids = shown(project, touchpoint)
    submit(project, display, [(ids[0], 8)])
    with pytest.raises(ApplicationError) as error:
        submit(project, display, [(ids[0], 2)])
    assert error.value.status_code == 409
    assert Response.objects.count() == 1


# ---------------------------------------------------------------- the one-statement path

ONE_STATEMENT = connection.vendor == "postgresql"  # data-modifying WITH: PostgreSQL only

CHOICES_AND_TEXT = [
    QuestionIn(type="nps", text={"en": "NPS"}),
    QuestionIn(type="multi_choice", text={"en": "What?"}, choices=[{"en": "A"}, {"en": "B"}]),
    QuestionIn(type="text", text={"en": "Why?"}, required=False),
]


def _writes(queries) -> list[str]:
    return [
        q["sql"].split(" ", 1)[0]
        for q in queries
        if q["sql"].split(" ", 1)[0] in ("WITH", "INSERT", "UPDATE", "DELETE")
    ]


def _columns(obj, skip=()) -> dict:
    return {
        f.attname: getattr(obj, f.attname)
        for f in type(obj)._meta.concrete_fields
        if f.attname not in skip
    }


def _written_alike(fast, slow) -> tuple[dict, list[dict], dict]:
    """The rows written for answers to two displays of two surveys are equal column for
    column, but for what is per survey or per row (ids, choice ids); returns the response's,
    the answers' and the display's columns."""
    per_survey = ("id", "survey_id", "version_id", "display_id", "contact_id", "submission_id")
    stored = [_columns(Response.objects.get(display=d), per_survey) for d in (fast, slow)]
    assert stored[0] == stored[1]
    per_answer = ("id", "response_id", "question_id", "value_choices")
    answers = [
        [
            _columns(a, per_answer)
            for a in Answer.objects.filter(response__display=d).order_by("question__position")
        ]
        for d in (fast, slow)
    ]
    assert answers[0] == answers[1]
    return stored[0], answers[0], _display_alike(fast, slow)


def _display_alike(fast, slow) -> dict:
    """The two displays' rows are equal but for what is per survey and contact; returns one."""
    displays = [
        _columns(
            Display.objects.get(pk=d.pk),
            ("id", "survey_id", "version_id", "contact_id", "claimed_at", "created_at"),
        )
        for d in (fast, slow)
    ]
    assert displays[0] == displays[1]
    return displays[0]


@pytest.mark.parametrize("finished", [True, False])
def test_a_first_submission_writes_what_the_orm_path_writes(project, touchpoint, finished):
    """On PostgreSQL a new response, its answers and the display's new state are one
    statement (feedback.answering.sql); the rows are column for column what the ORM path
    (`response_store`, taken here for a second display) writes."""
    fast, fast_ids = shown(project, touchpoint, CHOICES_AND_TEXT)
    slow, slow_ids = shown(project, touchpoint, CHOICES_AND_TEXT, visitor="v-2", name="Two")
    choice = fast.version.snapshot["questions"][1]["choices"][1]["id"]
    with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as queries:
        made = submit(
            project,
            fast,
            [(fast_ids[0], 3), (fast_ids[1], [choice]), (fast_ids[2], " Slow ")],
            finished,
        )
    assert _writes(queries) == (["WITH"] if ONE_STATEMENT else ["INSERT", "INSERT", "UPDATE"])
    slow_choice = slow.version.snapshot["questions"][1]["choices"][1]["id"]
    with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as queries:
        other = store(
            project,
            slow,
            [(slow_ids[0], 3), (slow_ids[1], [slow_choice]), (slow_ids[2], " Slow ")],
            finished,
        )
    assert _writes(queries) == ["INSERT", "INSERT", "UPDATE"]
    assert made.created is other.created is True
    assert made.response.pk == Response.objects.get(display=fast).pk
    response, _, display = _written_alike(fast, slow)
    assert (response["finished"], response["finished_at"]) == (finished, T0 if finished else None)
    # The choice ids are per survey version; the rest is equal.
    for shown_display, picked in ((fast, choice), (slow, slow_choice)):
        assert list(
            Answer.objects.filter(response__display=shown_display)
            .order_by("question__position")
            .values_list("value_int", "value_text", "value_choices")
        ) == [(3, "", None), (None, "", [picked]), (None, "Slow", None)]
    assert display["status"] == ("responded" if finished else "shown")
    assert (fast.status, fast.updated_at) == (display["status"], T0)  # the instance follows


def test_a_retry_a_second_submission_and_a_completion_take_the_transaction_path(
    project, touchpoint, enqueued
):
    """What the one statement does not write — its response exists, the display is taken,
    or the answers are only complete with the stored ones — goes the transaction path."""
    display, ids = shown(
        project,
        touchpoint,
        [
            QuestionIn(type="nps", text={"en": "NPS"}),
            QuestionIn(type="text", text={"en": "Why?"}),  # required too
        ],
    )
    submission = uuid.uuid4()
    first = submit(project, display, [(ids[0], 8)], finished=False, submission_id=submission)
    done = submit(project, display, [(ids[1], "Because")], finished=True, submission_id=submission)
    assert (first.created, done.created, done.response.pk) == (True, False, first.response.pk)
    assert list(
        done.response.answers.order_by("question__position").values_list("value_int", "value_text")
    ) == [(8, ""), (None, "Because")]
    again = submit(project, display, [(ids[0], 1), (ids[1], "x")], submission_id=submission)
    assert (again.created, again.response.pk) == (False, first.response.pk)
    with pytest.raises(ApplicationError) as error:
        submit(project, display, [(ids[0], 1), (ids[1], "x")])
    assert (error.value.status_code, error.value.code) == (409, "conflict")
    assert Response.objects.count() == 1
    assert enqueued == [("response", first.response.pk, True)]


@pytest.mark.parametrize("earlier", ["shown", "dismissed", "expired"])
@pytest.mark.parametrize("finished", [True, False])
def test_a_first_answer_moves_the_display_as_the_orm_path_does(
    project, touchpoint, earlier, finished
):
    """From each state a display can be answered in, the one statement leaves it as
    `response_store` does: a finished answer keeps an earlier shown_at, a partial one does
    not move a shown or dismissed display."""
    displays = []
    for visitor in ("v-1", "v-2"):
        display, ids = shown(project, touchpoint, visitor=visitor, name=visitor)
        with time_machine.travel(T0, tick=False):
            if earlier == "shown":
                display_mark_shown(display=display)
            elif earlier == "dismissed":
                display_mark_dismissed(display=display)
            else:
                Display.objects.filter(pk=display.pk).update(status="expired", expired_at=T0)
        displays.append((Display.objects.get(pk=display.pk), ids))
    (fast, fast_ids), (slow, slow_ids) = displays
    later = T0.replace(minute=45)
    with time_machine.travel(later, tick=False):
        submit(project, fast, [(fast_ids[0], 9)], finished)
        store(project, slow, [(slow_ids[0], 9)], finished)
    state = _display_alike(fast, slow)
    moved = finished or earlier == "expired"
    assert (state["status"], state["shown_at"], state["responded_at"]) == (
        "responded" if finished else ("shown" if moved else earlier),
        later if earlier == "expired" else T0,
        later if finished else None,
    )


# ---------------------------------------------------------------- what is stored with it


def test_stored_against_the_version_that_was_shown(project, touchpoint):
    display, ids = shown(project, touchpoint)
    survey = display.survey
    survey_update(survey=survey, questions=[QuestionIn(type="csat", text={"en": "New?"})])
    survey_publish(survey=survey)
    survey.refresh_from_db()
    new_id = survey.current_version.snapshot["questions"][0]["id"]
    assert refused(project, display, [(new_id, 5)]) == {
        "answers.0.question_id": ["Not a question of the survey that was shown."]
    }
    response = submit(project, display, [(ids[0], 6)]).response
    assert (response.version.number, response.answers.get().question_id) == (1, ids[0])


def test_display_status_follows_the_answers(project, touchpoint):
    display, ids = shown(project, touchpoint)
    submission = uuid.uuid4()
    with time_machine.travel(T0, tick=False):
        submit(project, display, [(ids[0], 5)], False, submission)
    display.refresh_from_db()
    assert (display.status, display.shown_at) == ("shown", T0)  # answering proves it was shown
    with time_machine.travel(T0.replace(minute=31), tick=False):
        submit(project, display, [], True, submission)
    display.refresh_from_db()
    assert (display.status, display.shown_at, display.responded_at) == (
        "responded",
        T0,
        T0.replace(minute=31),
    )
    response = Response.objects.get()
    assert (response.finished, response.finished_at) == (True, T0.replace(minute=31))


def test_the_segment_is_frozen_from_breakdown_attributes_only(project, touchpoint):
    project.breakdown_attributes = ["plan", "region", "team_size"]
    project.save(update_fields=["breakdown_attributes"])
    contact = contact_resolve(
        project=project,
        visitor_id="v-seg",
        attributes={"plan": "pro", "region": "", "team_size": 12, "email": "a@b.c"},
    )
    published_survey(project, touchpoints=[touchpoint])
    display = display_claim(project=project, contact=contact, touchpoint_key=touchpoint.key)
    qid = display.survey.current_version.snapshot["questions"][0]["id"]
    response = submit(project, display.display, [(qid, 9)]).response
    contact_resolve(project=project, visitor_id="v-seg", attributes={"plan": "enterprise"})
    response.refresh_from_db()
    assert response.segment == {"plan": "pro", "team_size": "12"}
    assert (response.contact_id, response.language, response.touchpoint_id) == (
        contact.pk,
        "en",
        touchpoint.pk,
    )


# ---------------------------------------------------------------- the Feedback tab


def test_feedback_is_idempotent_and_enqueued_once(project, enqueued):
    contact = contact_resolve(project=project, visitor_id="v-fb")
    submission = uuid.uuid4()
    first = feedback_submit(
        project=project,
        contact=contact,
        submission_id=submission,
        text="  The search is great  ",
        category="praise",
        rating=5,
        url="http://shop.example/search",
    )
    again = feedback_submit(project=project, contact=contact, submission_id=submission, text="x")
    assert (first.created, again.created) == (True, False)
    assert first.feedback.pk == again.feedback.pk
    stored = Feedback.objects.get()
    assert (stored.text, stored.category, stored.rating, stored.url, stored.contact) == (
        "The search is great",
        "praise",
        5,
        "http://shop.example/search",
        contact,
    )
    assert enqueued == [("feedback", stored.pk, True)]


def test_feedback_refuses_blank_text_and_foreign_submission_ids(project):
    contact = contact_resolve(project=project, visitor_id="v-fb")
    with pytest.raises(ApplicationError) as blank:
        feedback_submit(project=project, contact=contact, submission_id=uuid.uuid4(), text="  ")
    assert blank.value.fields == {"text": ["Tell us what's on your mind."]}
    submission = uuid.uuid4()
    feedback_submit(project=project, contact=contact, submission_id=submission, text="Hi")
    other = ProjectFactory()
    with pytest.raises(ApplicationError) as foreign:
        feedback_submit(
            project=other,
            contact=contact_resolve(project=other, visitor_id="v"),
            submission_id=submission,
            text="Hi",
        )
    assert foreign.value.status_code == 409
    assert Feedback.objects.count() == 1
