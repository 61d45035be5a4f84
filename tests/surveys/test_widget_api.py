"""The widget API end to end: decide → shown → responses, the throttle in practice, CORS,
validation, idempotency and the Feedback tab."""

import json
import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.answering.models import Answer, Feedback, Response
from surveys.contacts.models import Contact, VisitorId
from surveys.delivery.models import Display
from surveys.design.services import QuestionIn
from tests.factories import (
    ProjectFactory,
    TouchpointFactory,
    decisions_counted,
    published_survey,
    signed,
)
from tests.widget_texts import EN_WIDGET_TEXTS, ZH_WIDGET_TEXTS

pytestmark = pytest.mark.django_db


@pytest.fixture
def survey(project, touchpoint):
    return published_survey(project, touchpoints=[touchpoint], delay_seconds=2)


def decide(widget, project, touchpoint="checkout_completed", visitor="v-1", **extra):
    if extra.get("user_id") and "user_hash" not in extra:
        extra = {**extra, **signed(project, extra["user_id"])}
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
        "theme": {"primary_color": "#2563eb", "text_color": "#ffffff"},
        "feedback_tab": {"enabled": True, "label": {}},
        "texts": {"en": EN_WIDGET_TEXTS, "zh": ZH_WIDGET_TEXTS},
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
        "texts": ZH_WIDGET_TEXTS,
        "theme": {"primary_color": "#2563eb", "text_color": "#ffffff"},
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
    assert decisions_counted(project) == {"no_survey": 1, "shown": 1, "survey_cooldown": 1}


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
    assert decisions_counted().total() == 0


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


# ---------------------------------------------------------------- the decide hot path


def _history(project, survey, contact, displays):
    old = timezone.now() - timedelta(days=400)
    Display.objects.bulk_create(
        [
            Display(
                project=project,
                contact=contact,
                survey=survey,
                version=survey.current_version,
                status="responded",
                claimed_at=old - timedelta(days=i),
            )
            for i in range(displays)
        ]
    )


def test_decide_query_count_does_not_grow_with_history(
    widget, project, touchpoint, django_assert_max_num_queries
):
    """The whole request takes the same number of queries with 1 and with 200 displays in the
    contact's history. A refusal: key, the visitor's contact with its ledger (one query),
    touchpoint, surveys (memory in production), the decision's count and the origin's note
    (both batched in production) — no lock, no transaction. A claim: the same, and its write:
    on PostgreSQL one statement (the claim count's compare-and-set UPDATE and the display's
    INSERT; in production outside a transaction, so no BEGIN/COMMIT), on SQLite a savepoint
    with the UPDATE and the INSERT."""
    survey = published_survey(project, touchpoints=[touchpoint], display_option="always")
    claim_statements = 1 if connection.vendor == "postgresql" else 4
    counts = {}
    for history in (1, 200):
        contact = Contact.objects.create(project=project, last_seen_at=timezone.now())
        VisitorId.objects.create(project=project, visitor_id=f"v-{history}", contact=contact)
        _history(project, survey, contact, history)
        with django_assert_max_num_queries(6 + claim_statements) as shown:
            assert decide(widget, project, visitor=f"v-{history}").json()["show"] is True
        with django_assert_max_num_queries(6) as refused:
            body = decide(widget, project, visitor=f"v-{history}").json()
            assert body["reason"] == "survey_cooldown"
        assert not any("SAVEPOINT" in q["sql"] or "BEGIN" in q["sql"] for q in refused)
        counts[history] = (len(shown), len(refused))
    assert counts == {1: (6 + claim_statements, 6), 200: (6 + claim_statements, 6)}


def test_identify_costs_its_merge_once_then_decide_is_back_to_normal(
    widget, project, touchpoint, django_assert_max_num_queries
):
    published_survey(project, touchpoints=[touchpoint])
    decide(widget, project, visitor="v-id")
    with django_assert_max_num_queries(30):  # the merge moves each related table once
        body = decide(widget, project, visitor="v-id", user_id="u-1", attributes={"plan": "pro"})
    assert body.json() == {"show": False, "reason": "survey_cooldown"}
    # Back to a refusal's six queries: the signed-in user's link comes with the contact's
    # ledger in one query, as an anonymous visitor's does.
    with django_assert_max_num_queries(6) as queries:
        body = decide(widget, project, visitor="v-id", user_id="u-1", attributes={"plan": "pro"})
    assert body.json() == {"show": False, "reason": "survey_cooldown"}
    assert len(queries) == 6


# ---------------------------------------------------------------- displays


def test_dismissed_snoozes_and_shown_confirms(widget, project, touchpoint):
    published_survey(
        project, touchpoints=[touchpoint], display_option="always", snooze_days_after_dismiss=30
    )
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        display_id = decide(widget, project).json()["display_id"]
        key = {"key": project.public_key}
        base = f"/api/widget/v1/displays/{display_id}"
        assert widget.post(f"{base}/shown", key, format="json").status_code == 204
        assert widget.post(f"{base}/dismissed", key, format="json").status_code == 204
    display = Display.objects.get(pk=display_id)
    assert (display.status, display.shown_at, display.dismissed_at) == ("dismissed", start, start)
    with time_machine.travel(start + timedelta(days=29), tick=False):
        assert decide(widget, project).json() == {"show": False, "reason": "snoozed"}
    with time_machine.travel(start + timedelta(days=30), tick=False):
        assert decide(widget, project).json()["show"] is True


def test_responses_to_another_projects_display_are_not_found(widget, project, survey):
    display_id = decide(widget, project).json()["display_id"]
    other = ProjectFactory(allowed_origins=["http://shop.example"])
    q = survey.current_version.snapshot["questions"]
    response = submit(widget, other, display_id, [{"question_id": q[0]["id"], "value": 9}])
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert Response.objects.count() == 0


# ---------------------------------------------------------------- CORS


def test_cors_headers_on_allowed_requests_and_errors(widget, project, survey):
    ok = decide(widget, project)
    assert ok["Access-Control-Allow-Origin"] == "http://shop.example"
    assert "Origin" in ok["Vary"]
    bad = decide(widget, project, touchpoint="not a slug")
    assert bad.status_code == 400
    assert bad["Access-Control-Allow-Origin"] == "http://shop.example"  # readable by the widget


def test_no_origin_is_allowed_without_cors_headers(project, survey):
    response = APIClient().post(
        "/api/widget/v1/decide",
        {"key": project.public_key, "visitor_id": "srv", "touchpoint": "checkout_completed"},
        format="json",
    )
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response


def test_an_origin_allowed_for_another_project_is_refused(project, survey):
    ProjectFactory(allowed_origins=["http://other.example"])
    client = APIClient()
    preflight = client.options("/api/widget/v1/responses", HTTP_ORIGIN="http://other.example")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "http://other.example"
    assert preflight["Access-Control-Allow-Methods"] == "GET, POST, OPTIONS"
    assert preflight["Access-Control-Max-Age"] == "600"
    for path, body in [
        ("/api/widget/v1/decide", {"visitor_id": "v", "touchpoint": "checkout_completed"}),
        (
            "/api/widget/v1/feedback",
            {"visitor_id": "v", "submission_id": str(uuid.uuid4()), "text": "hi"},
        ),
        ("/api/widget/v1/opt-out", {"visitor_id": "v"}),
    ]:
        response = client.post(
            path,
            {"key": project.public_key, **body},
            format="json",
            HTTP_ORIGIN="http://other.example",
        )
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "origin_not_allowed"
        # Readable by the page, so the widget can say why it is held back; it carries no data.
        assert response["Access-Control-Allow-Origin"] == "http://other.example"
    assert (Contact.objects.count(), Feedback.objects.count(), decisions_counted().total()) == (
        0,
        0,
        0,
    )


def test_a_newly_allowed_origin_is_preflighted_at_once(project):
    client = APIClient()
    assert "Access-Control-Allow-Origin" not in client.options(
        "/api/widget/v1/decide", HTTP_ORIGIN="https://new.example"
    )
    project.allowed_origins = [*project.allowed_origins, "https://new.example/"]
    project.save(update_fields=["allowed_origins"])
    response = client.options("/api/widget/v1/decide", HTTP_ORIGIN="https://new.example")
    assert response["Access-Control-Allow-Origin"] == "https://new.example"


# ---------------------------------------------------------------- no input yields a 5xx


def _bodies(key, display_id, question_id):
    uid = str(uuid.uuid4())
    base_response = {"key": key, "display_id": display_id, "submission_id": uid}
    return [
        ("decide", None),
        ("decide", []),
        ("decide", "text"),
        ("decide", {"key": [key]}),
        ("decide", {"key": key, "visitor_id": 5, "touchpoint": "t"}),
        ("decide", {"key": key, "visitor_id": "v", "touchpoint": 5}),
        ("decide", {"key": key, "visitor_id": "v", "touchpoint": "t", "attributes": {"": 1}}),
        ("decide", {"key": key, "visitor_id": "v", "touchpoint": "t", "attributes": {"a": "\x00"}}),
        ("decide", {"key": key, "visitor_id": "v", "touchpoint": "t", "locale": 7}),
        ("decide", {"key": key, "visitor_id": "v", "touchpoint": "t", "url": "u" * 2001}),
        ("decide", {"key": key, "user_id": "u" * 201, "touchpoint": "t"}),
        ("decide", {"key": key, "visitor_id": "v\x00", "touchpoint": "t"}),
        ("responses", {**base_response, "answers": "x", "finished": True}),
        ("responses", {**base_response, "answers": [1], "finished": True}),
        ("responses", {**base_response, "answers": [], "finished": "yes"}),
        ("responses", {**base_response, "answers": [], "finished": 1}),
        (
            "responses",
            {**base_response, "display_id": "not-a-uuid", "answers": [], "finished": True},
        ),
        ("responses", {**base_response, "submission_id": 12, "answers": [], "finished": True}),
        (
            "responses",
            {**base_response, "answers": [{"question_id": 10**30, "value": 1}], "finished": True},
        ),
        (
            "responses",
            {
                **base_response,
                "answers": [{"question_id": question_id, "value": 10**30}],
                "finished": True,
            },
        ),
        (
            "responses",
            {
                **base_response,
                "answers": [{"question_id": question_id, "value": {"deep": [[[1]]]}}],
                "finished": True,
            },
        ),
        (
            "responses",
            {**base_response, "answers": [{"question_id": question_id}] * 51, "finished": True},
        ),
        ("feedback", {"key": key, "visitor_id": "v", "submission_id": uid, "text": ""}),
        ("feedback", {"key": key, "visitor_id": "v", "submission_id": uid, "text": "t" * 5001}),
        ("feedback", {"key": key, "visitor_id": "v", "submission_id": uid, "text": "a\x00"}),
        (
            "feedback",
            {"key": key, "visitor_id": "v", "submission_id": uid, "text": "a", "rating": 6},
        ),
        (
            "feedback",
            {"key": key, "visitor_id": "v", "submission_id": uid, "text": "a", "rating": "5"},
        ),
        (
            "feedback",
            {"key": key, "visitor_id": "v", "submission_id": uid, "text": "a", "category": "rant"},
        ),
        ("feedback", {"key": key, "visitor_id": "v", "submission_id": "x", "text": "a"}),
        ("opt-out", {"key": key}),
        ("opt-out", {"key": key, "visitor_id": ""}),
        (f"displays/{display_id}/shown", {}),
        (f"displays/{display_id}/shown", [key]),
        ("displays/not-a-uuid/shown", {"key": key}),
        (f"displays/{uuid.uuid4()}/dismissed", {"key": key}),
    ]


def test_no_input_yields_a_5xx(widget, project, survey):
    display_id = decide(widget, project).json()["display_id"]
    question_id = survey.current_version.snapshot["questions"][0]["id"]
    for path, body in _bodies(project.public_key, display_id, question_id):
        response = widget.post(
            f"/api/widget/v1/{path}", json.dumps(body), content_type="application/json"
        )
        assert 400 <= response.status_code < 500, (path, body, response.status_code)
        assert set(response.json()["error"]) == {"code", "message", "fields"}, (path, body)
    for raw in (b"", b"{", b"\xff\xfe", b"null", b"[" * 5000 + b"]" * 5000):
        response = widget.generic(
            "POST", "/api/widget/v1/decide", raw, content_type="application/json"
        )
        assert 400 <= response.status_code < 500, raw[:10]
    form = widget.post("/api/widget/v1/decide", {"key": project.public_key})
    assert form.status_code == 415
    too_big = widget.generic(
        "POST",
        "/api/widget/v1/feedback",
        json.dumps({"key": project.public_key, "text": "x" * 3_000_000}),
        content_type="application/json",
    )
    assert too_big.status_code == 413
    assert Response.objects.count() == 0
    assert Feedback.objects.count() == 0


def test_wrong_types_are_named_in_the_error(widget, project, survey):
    response = decide(widget, project, visitor=5)
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"visitor_id": ["Not a valid string."]}


def test_the_widget_api_answers_json_whatever_the_accept_header(widget, project, survey):
    for accept in ("*/*", "text/html", "application/xml;q=0.9"):
        response = widget.post(
            "/api/widget/v1/decide",
            json.dumps({"key": project.public_key, "visitor_id": "v-accept", "touchpoint": "x"}),
            content_type="application/json",
            HTTP_ACCEPT=accept,
        )
        assert (response.status_code, response["Content-Type"]) == (200, "application/json")
        assert response.json() == {"show": False, "reason": "no_survey"}
