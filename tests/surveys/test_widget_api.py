"""The widget API end to end: decide → shown → responses, the throttle in practice, CORS,
validation, idempotency and the Feedback tab."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.models import Answer, Feedback, Response
from surveys.models import Contact, Decision, Display, VisitorId
from surveys.services import QuestionIn
from tests.factories import ProjectFactory, TouchpointFactory, published_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(project):
    client = APIClient()
    client.defaults["HTTP_ORIGIN"] = "http://shop.example"
    return client


@pytest.fixture
def survey(project, touchpoint):
    return published_survey(project, touchpoints=[touchpoint], delay_seconds=2)


def decide(widget, project, touchpoint="checkout_completed", visitor="v-1", **extra):
    body = {"key": project.public_key, "visitor_id": visitor, "touchpoint": touchpoint, **extra}
    return widget.post("/api/widget/v1/decide", body, format="json")


def submit(widget, project, display_id, answers, finished=True, submission_id=None):
    return widget.post(
        "/api/widget/v1/responses",
        {
            "key": project.public_key,
            "display_id": display_id,
            "submission_id": submission_id or str(uuid.uuid4()),
            "answers": answers,
            "finished": finished,
        },
        format="json",
    )


def test_config_is_public_and_cacheable(widget, project):
    response = widget.get(f"/api/widget/v1/config?key={project.public_key}")
    assert response.status_code == 200
    assert response.json() == {
        "project": {"name": project.name, "languages": ["en", "zh"], "default_language": "en"},
        "theme": {},
        "feedback_tab": {"enabled": True, "label": {}},
    }
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Access-Control-Allow-Origin"] == "http://shop.example"


def test_decide_shows_the_survey_in_the_locale_language(widget, project, survey):
    response = decide(widget, project, locale="zh-CN", url="http://shop.example/cart")
    assert response.status_code == 200
    body = response.json()
    assert body["show"] is True
    questions = survey.current_version.snapshot["questions"]
    assert body["survey"] == {
        "id": survey.pk,
        "version": 1,
        "language": "zh",
        "delay_seconds": 2,
        "auto_close_seconds": None,
        "questions": [
            {
                "id": questions[0]["id"],
                "type": "nps",
                "text": "您推荐我们的可能性有多大？",
                "required": True,
                "scale": {"min": 0, "max": 10},
            },
            {
                "id": questions[1]["id"],
                "type": "text",
                "text": "我们可以在哪些方面做得更好？",
                "required": False,
                "show_if": {"question_id": questions[0]["id"], "min": 0, "max": 6},
            },
        ],
        "thank_you": None,
    }
    display = Display.objects.get(pk=body["display_id"])
    assert (display.status, display.language, display.url) == (
        "claimed",
        "zh",
        "http://shop.example/cart",
    )


def test_full_flow_then_cooldown_holds_the_next_touchpoint(widget, project, survey, touchpoint):
    other_tp = TouchpointFactory(project=project, key="product_viewed")
    published_survey(project, touchpoints=[other_tp], name="Other")
    display_id = decide(widget, project).json()["display_id"]
    assert (
        widget.post(
            f"/api/widget/v1/displays/{display_id}/shown",
            {"key": project.public_key},
            format="json",
        ).status_code
        == 204
    )
    q = survey.current_version.snapshot["questions"]
    created = submit(
        widget,
        project,
        display_id,
        [{"question_id": q[0]["id"], "value": 3}, {"question_id": q[1]["id"], "value": "Too slow"}],
    )
    assert created.status_code == 201
    response = Response.objects.get(pk=created.json()["response_id"])
    assert response.finished is True
    assert set(Answer.objects.filter(response=response).values_list("value_int", "value_text")) == {
        (None, "Too slow"),
        (3, ""),
    }
    assert Display.objects.get(pk=display_id).status == "responded"
    # Another survey at another touchpoint inside the 7-day global cooldown: nothing.
    assert decide(widget, project, touchpoint="product_viewed").json() == {
        "show": False,
        "reason": "global_cooldown",
    }
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert decide(widget, project, touchpoint="product_viewed").json()["show"] is True


def test_decisions_are_counted_by_reason(widget, project, survey):
    decide(widget, project)
    decide(widget, project)
    decide(widget, project, touchpoint="nowhere")
    reasons = sorted(Decision.objects.filter(project=project).values_list("reason", flat=True))
    assert reasons == ["no_survey", "shown", "survey_cooldown"]


def test_retry_with_the_same_submission_id_returns_the_same_response(widget, project, survey):
    display_id = decide(widget, project).json()["display_id"]
    q = survey.current_version.snapshot["questions"]
    submission = str(uuid.uuid4())
    first = submit(
        widget,
        project,
        display_id,
        [{"question_id": q[0]["id"], "value": 9}],
        submission_id=submission,
    )
    again = submit(
        widget,
        project,
        display_id,
        [{"question_id": q[0]["id"], "value": 9}],
        submission_id=submission,
    )
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Response.objects.count() == 1
    assert Answer.objects.count() == 1


def test_partial_answers_merge_until_finished(widget, project, survey):
    display_id = decide(widget, project).json()["display_id"]
    q = survey.current_version.snapshot["questions"]
    submission = str(uuid.uuid4())
    partial = submit(
        widget,
        project,
        display_id,
        [{"question_id": q[0]["id"], "value": 2}],
        finished=False,
        submission_id=submission,
    )
    assert partial.status_code == 201
    assert Response.objects.get().finished is False
    final = submit(
        widget,
        project,
        display_id,
        [{"question_id": q[1]["id"], "value": "Shipping"}],
        submission_id=submission,
    )
    assert final.status_code == 200
    response = Response.objects.get()
    assert response.finished is True
    assert set(response.answers.values_list("question_id", "value_int", "value_text")) == {
        (q[0]["id"], 2, ""),
        (q[1]["id"], None, "Shipping"),
    }


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (lambda q: [{"question_id": q[0]["id"], "value": 11}], "answers.0.value"),
        (lambda q: [{"question_id": q[0]["id"], "value": "9"}], "answers.0.value"),
        (lambda q: [{"question_id": q[0]["id"], "value": 7.5}], "answers.0.value"),
        (lambda q: [{"question_id": 999999, "value": 5}], "answers.0.question_id"),
        (
            lambda q: [
                {"question_id": q[0]["id"], "value": 9},
                {"question_id": q[1]["id"], "value": "hidden for promoters"},
            ],
            "answers.1.question_id",
        ),
        (lambda q: [{"question_id": q[1]["id"], "value": "x" * 5001}], "answers.0.value"),
        (lambda q: [], "questions.{q0}"),
    ],
)
def test_answer_validation(widget, project, survey, answers, field):
    q = survey.current_version.snapshot["questions"]
    display_id = decide(widget, project).json()["display_id"]
    response = submit(widget, project, display_id, answers(q))
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field.format(q0=q[0]["id"], q1=q[1]["id"])]
    assert Response.objects.count() == 0


def test_choice_questions_accept_only_their_choices(widget, project, touchpoint):
    survey = published_survey(
        project,
        touchpoints=[touchpoint],
        questions=[
            QuestionIn(
                type="single_choice",
                text={"en": "Why?"},
                choices=[{"en": "Price"}, {"en": "Speed"}],
            ),
            QuestionIn(
                type="multi_choice",
                text={"en": "What?"},
                choices=[{"en": "A"}, {"en": "B"}],
                required=False,
            ),
        ],
    )
    q = survey.current_version.snapshot["questions"]
    display_id = decide(widget, project).json()["display_id"]
    bad = submit(widget, project, display_id, [{"question_id": q[0]["id"], "value": "c9"}])
    assert bad.json()["error"]["fields"] == {
        "answers.0.value": ["Pick one of the question's choices."]
    }
    good = submit(
        widget,
        project,
        display_id,
        [
            {"question_id": q[0]["id"], "value": "c2"},
            {"question_id": q[1]["id"], "value": ["c1", "c2"]},
        ],
    )
    assert good.status_code == 201
    assert sorted(Answer.objects.values_list("value_choices", flat=True), key=len) == [
        ["c2"],
        ["c1", "c2"],
    ]


def test_answers_are_stored_against_the_version_that_was_shown(
    widget, project, survey, server_client
):
    display_id = decide(widget, project).json()["display_id"]
    old_q = survey.current_version.snapshot["questions"][0]["id"]
    server_client.patch(
        f"/api/v1/surveys/{survey.pk}",
        {"questions": [{"type": "csat", "text": {"en": "?"}}]},
        format="json",
    )
    server_client.post(f"/api/v1/surveys/{survey.pk}/publish")
    response = submit(widget, project, display_id, [{"question_id": old_q, "value": 10}])
    assert response.status_code == 201
    assert Response.objects.get().version.number == 1


def test_feedback_tab_is_never_throttled_and_is_idempotent(widget, project, survey):
    decide(widget, project)  # surveyed just now
    body = {
        "key": project.public_key,
        "visitor_id": "v-1",
        "submission_id": str(uuid.uuid4()),
        "text": "Love it",
        "category": "praise",
        "rating": 5,
    }
    first = widget.post("/api/widget/v1/feedback", body, format="json")
    again = widget.post("/api/widget/v1/feedback", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    feedback = Feedback.objects.get()
    assert (feedback.text, feedback.category, feedback.rating) == ("Love it", "praise", 5)
    assert feedback.contact == VisitorId.objects.get(visitor_id="v-1").contact


def test_opt_out_stops_surveys(widget, project, survey):
    assert (
        widget.post(
            "/api/widget/v1/opt-out",
            {"key": project.public_key, "visitor_id": "v-9"},
            format="json",
        ).status_code
        == 204
    )
    assert decide(widget, project, visitor="v-9").json() == {"show": False, "reason": "opted_out"}


def test_origin_not_allowed_is_refused_before_any_write(project, survey):
    client = APIClient()
    response = client.post(
        "/api/widget/v1/decide",
        {"key": project.public_key, "visitor_id": "v-1", "touchpoint": "checkout_completed"},
        format="json",
        HTTP_ORIGIN="http://evil.example",
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert Contact.objects.count() == 0
    assert Decision.objects.count() == 0


def test_preflight_answers_origins_that_some_project_allows(project):
    client = APIClient()
    ok = client.options(
        "/api/widget/v1/decide",
        HTTP_ORIGIN="http://shop.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    assert ok.status_code == 204
    assert ok["Access-Control-Allow-Origin"] == "http://shop.example"
    assert ok["Access-Control-Allow-Headers"] == "Content-Type"
    denied = client.options("/api/widget/v1/decide", HTTP_ORIGIN="http://evil.example")
    assert "Access-Control-Allow-Origin" not in denied


def test_a_key_only_reaches_its_own_projects_displays(widget, project, survey):
    display_id = decide(widget, project).json()["display_id"]
    other = ProjectFactory()
    response = widget.post(
        f"/api/widget/v1/displays/{display_id}/shown", {"key": other.public_key}, format="json"
    )
    assert response.status_code == 404
    assert Display.objects.get(pk=display_id).status == "claimed"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"key": "pk_nope", "visitor_id": "v", "touchpoint": "t"},
        {"key": 5, "visitor_id": "v", "touchpoint": "t"},
        {"key": "{key}", "touchpoint": "t"},
        {"key": "{key}", "visitor_id": ["a"], "touchpoint": "t"},
        {"key": "{key}", "visitor_id": "v", "touchpoint": "bad key!"},
        {"key": "{key}", "visitor_id": "v" * 101, "touchpoint": "t"},
        {"key": "{key}", "visitor_id": "v", "touchpoint": "t", "attributes": {"x": {"nested": 1}}},
        {"key": "{key}", "visitor_id": "v", "touchpoint": "t", "attributes": "plan=pro"},
    ],
)
def test_bad_decide_input_is_4xx_and_writes_nothing(widget, project, survey, body):
    body = {
        k: (v.format(key=project.public_key) if isinstance(v, str) else v) for k, v in body.items()
    }
    response = widget.post("/api/widget/v1/decide", body, format="json")
    assert 400 <= response.status_code < 500
    assert set(response.json()["error"]) == {"code", "message", "fields"}
    assert Display.objects.count() == 0


def test_malformed_json_on_the_widget_api(widget, project):
    response = widget.generic(
        "POST", "/api/widget/v1/responses", b"{not json", content_type="application/json"
    )
    assert response.status_code in (400, 401)
    assert "error" in response.json()
